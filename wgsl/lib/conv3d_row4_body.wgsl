// conv3d_causal's row-window body (conv3d_causal_row4, _row4_f16): 3 columns, stride 1, one
// column of zero padding each side, W a multiple of 4. Each invocation owns RM channels x 4
// adjacent positions of one output row, so the 6 input columns its 3 column taps read are one
// aligned vec4 and a neighbour's edge on each side: 3 loads per (ci, time tap, row tap) instead of
// 12 scalar ones (figures: bench/README.md, Design measurements: conv3d_causal). The including
// shader binds the weights and defines weights_of / weight4 as for lib/conv3d_body.wgsl.
// Summation order per output: time tap, row tap, ci, column tap (fixed, grid-independent).

// #include "lib/conv3d_common.wgsl"

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> past: array<vec4<f32>>;

// One (time, row) tap over every input channel: the row's window at vec4 m + ci cs4 (centre valid
// where okc, left / right neighbours where okl / okr; zero elsewhere), weights of ci's first
// column tap at w[wk0 + ci wstep].
fn accumulate_row(src: ptr<storage, array<vec4<f32>>, read>, acc: ptr<function, array<f32, 256>>,
                  m: u32, okc: bool, okl: bool, okr: bool, cs4: u32, wk0: u32, wstep: u32, lane: u32) {
  for (var ci = 0u; ci < params.cin; ci++) {
    let mc = m + ci * cs4;
    let c = select(vec4(0.0), (*src)[select(0u, mc, okc)], okc);
    let l = select(0.0, (*src)[select(0u, mc - 1u, okl)].w, okl);
    let r = select(0.0, (*src)[select(0u, mc + 1u, okr)].x, okr);
    let v = array<f32, 6>(l, c.x, c.y, c.z, c.w, r);
    for (var dx = 0u; dx < 3u; dx++) {
      let wk = wk0 + ci * wstep + dx * R4;
      let wl = weights_of(wk, lane);
      for (var i4 = 0u; i4 < R4; i4++) {
        let w4 = weight4(wl, wk, i4);
        for (var i = 0u; i < 4u; i++) {
          for (var j = 0u; j < 4u; j++) {
            (*acc)[(i4 * 4u + i) * 4u + j] = fma(w4[i], v[j + dx], (*acc)[(i4 * 4u + i) * 4u + j]);
          }
        }
      }
    }
  }
}

fn conv_row4_main(wid: vec3<u32>, lid: u32, lane: u32) {
  let cin = params.cin;
  let nt = params.t;
  let w4n = params.w / 4u;
  let hw4 = params.h * w4n;
  let kvol = params.kt * params.kh * 3u;
  let b = wid.z / nt;
  let t = wid.z % nt;
  let co0 = wid.y * RM;
  let q = wid.x * WG + lid;
  let qok = q < params.ho * w4n;
  let oy = q / w4n;
  let ox4 = q % w4n;
  let wblk = wid.y * cin * kvol * R4;
  var acc: array<f32, 256>;
  for (var k = 0u; k < RM * 4u; k++) {
    acc[k] = 0.0;
  }

  for (var a = 0u; a < params.kt; a++) {
    let ti = i32(t + a) - i32(params.kt - 1u);
    if (ti < -i32(params.past)) {
      continue;  // causal zero padding: no contribution
    }
    let from_past = ti < 0;
    let nf = select(nt, params.past, from_past);
    let cs4 = nf * hw4;
    let fbase4 = (b * cin * nf + u32(select(ti, ti + i32(params.past), from_past))) * hw4;
    for (var dy = 0u; dy < params.kh; dy++) {
      let iy = i32(oy) + i32(dy) - params.ph;
      let okc = qok && iy >= 0 && iy < i32(params.h);
      let m = fbase4 + select(0u, u32(iy) * w4n + ox4, okc);
      let okl = okc && ox4 > 0u;
      let okr = okc && ox4 + 1u < w4n;
      let wk0 = wblk + (a * params.kh + dy) * 3u * R4;
      if (STREAM == 1u && from_past) {
        accumulate_row(&past, &acc, m, okc, okl, okr, cs4, wk0, kvol * R4, lane);
      } else {
        accumulate_row(&x, &acc, m, okc, okl, okr, cs4, wk0, kvol * R4, lane);
      }
    }
  }

  var pos: array<u32, 16>;
  var pok: array<bool, 16>;
  for (var j = 0u; j < 4u; j++) {
    pos[j] = oy * params.wo + ox4 * 4u + j;
    pok[j] = qok;
  }
  conv_store(&acc, 4u, pos, pok, co0, b, t);
}
