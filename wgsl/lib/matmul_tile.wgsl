// The epilogue of matmul_packed's register tile (matmul_packed_sg stores vec4s instead): each
// invocation owns RM row slots x CB RN columns in acc[(c RN + i) RM + j] = out(row slot j, column
// c RN + i) (lib/tile_fma.wgsl); RM, RN, CB, ACT, params and the bias, res, out bindings are the
// including shader's.
// #include "lib/act.wgsl"

// out[z, r, n_off + col] = act(y + bias) + res.
fn tile_store_one(y0: f32, z: u32, r: u32, col: u32) {
  let c = params.n_off + col;
  var y = y0;
  if (params.has_bias != 0u) {
    y += bias[c];
  }
  y = act4(vec4(y), ACT).x;
  let o = (z * params.m + r) * params.out_cols + c;
  if (params.has_res != 0u) {
    y += res[o];
  }
  out[o] = y;
}

// tile_store_one for the tile's columns col0 + i < params.n and rows r = r0 + j rstep < params.m.
fn tile_store(acc: ptr<function, array<f32, 256>>, z: u32, col0: u32, r0: u32, rstep: u32) {
  for (var i = 0u; i < RN * CB; i++) {
    let col = col0 + i;
    if (col >= params.n) {
      break;
    }
    for (var j = 0u; j < RM; j++) {
      let r = r0 + j * rstep;
      if (r < params.m) {
        tile_store_one((*acc)[i * RM + j], z, r, col);
      }
    }
  }
}
