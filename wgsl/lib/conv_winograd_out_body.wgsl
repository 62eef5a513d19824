// What conv_winograd_out.wgsl, conv_winograd_out_vec2.wgsl and conv_winograd_out_sg.wgsl share:
// Params, the bias binding and store_tile (the transform of one (tile, channel) and the epilogue).
// The including shader declares `const V: u32` (outputs per store: 1, or 2 where W is even), the
// `res` and `out` bindings as arrays of f32 or vec2<f32>, `fn out_vals(bv, yr, j)` (bv +
// yr[j .. j + V - 1] as their element type), the `m` binding and the entry point.

// #include "lib/grid.wgsl"
// #include "lib/winograd.wgsl"

override ACT: u32 = 0;
override TILE: u32 = 2;
override ALPHA: u32 = TILE + 2u;

struct Params {
  cout: u32,
  h: u32,
  w: u32,
  t: u32,
  th: u32,
  tw: u32,
  p0: u32,
  pc: u32,
  pp: u32,
  has_bias: u32,
  has_res: u32,
}

@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// Tile p0 + q, channel co from its alpha x alpha products mv: r = A^T M (rows: m x alpha), then
// Y = r A (columns), then the epilogue, outputs past H or W not stored.
fn store_tile(mv: array<WVec, 8>, q: u32, co: u32) {
  var r: array<WVec, 6>;
  for (var j = 0u; j < ALPHA; j++) {
    let c = wino_at_vec(WVec(mv[0][j], mv[1][j], mv[2][j], mv[3][j], mv[4][j], mv[5][j], mv[6][j], mv[7][j]));
    for (var i = 0u; i < TILE; i++) {
      r[i][j] = c[i];
    }
  }
  var bv = 0.0;
  if (params.has_bias != 0u) {
    bv = bias[co];
  }
  let tile = wino_tile(params.p0 + q, params.th, params.tw);
  let ty = tile.y;
  let tx = tile.z;
  // Image tile.x is frame tile.x % t of batch row tile.x / t.
  let base = ((tile.x / params.t * params.cout + co) * params.t + tile.x % params.t) * params.h * params.w;
  for (var i = 0u; i < TILE; i++) {
    let y = TILE * ty + i;
    let yr = wino_at_vec(r[i]);
    for (var j = 0u; j < TILE; j += V) {
      let xx = TILE * tx + j;
      if (y < params.h && xx < params.w) {
        var val = out_vals(bv, yr, j);
        if (ACT == 1u) {
          val = val / (1.0 + exp(-val));
        }
        let o = (base + y * params.w + xx) / V;
        if (params.has_res != 0u) {
          val += res[o];
        }
        out[o] = val;
      }
    }
  }
}
