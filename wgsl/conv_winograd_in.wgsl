// conv_winograd_in: the input transform of a Winograd F(2x2, 3x3) convolution (3x3, stride 1,
// padding 1): each 4x4 input patch d at rows 2 ty - 1 .., columns 2 tx - 1 .. (zeros outside the
// image) becomes V = B^T d B,
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (additions only: exact up to one rounding each)
// for tiles p0 .. p0 + pc - 1 of the flat tile index p = (b th + ty) tw + tx (a chunk of them).
//
// x: array<f32>  [B][Cin][H][W]
// v: array<f32>  [16][Cin][pp]: element xi = 4 i + j of V for channel ci, tile p0 + q at q
//                (pp = pc rounded up to 4; the GEMM reads it as A^T with M = pp; rows q >= pc zero)
// Dispatch: ceil(Cin pp / WG) workgroups, one invocation per (channel, tile), folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;

struct Params {
  cin: u32,
  h: u32,
  w: u32,
  th: u32,
  tw: u32,
  p0: u32,
  pc: u32,
  pp: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let pp = params.pp;
  if (e >= params.cin * pp) {
    return;
  }
  let ci = e / pp;
  let q = e % pp;
  var d: array<array<f32, 4>, 4>;
  if (q < params.pc) {
    let p = params.p0 + q;
    let tiles = params.th * params.tw;
    let b = p / tiles;
    let ty = (p % tiles) / params.tw;
    let tx = p % params.tw;
    let base = (b * params.cin + ci) * params.h * params.w;
    for (var i = 0u; i < 4u; i++) {
      let y = i32(2u * ty + i) - 1;
      for (var j = 0u; j < 4u; j++) {
        let xx = i32(2u * tx + j) - 1;
        var val = 0.0;
        if (y >= 0 && y < i32(params.h) && xx >= 0 && xx < i32(params.w)) {
          val = x[base + u32(y) * params.w + u32(xx)];
        }
        d[i][j] = val;
      }
    }
  }
  // t = B^T d (rows), then V = t B (columns).
  var t: array<array<f32, 4>, 4>;
  for (var j = 0u; j < 4u; j++) {
    t[0][j] = d[0][j] - d[2][j];
    t[1][j] = d[1][j] + d[2][j];
    t[2][j] = d[2][j] - d[1][j];
    t[3][j] = d[1][j] - d[3][j];
  }
  let plane = params.cin * pp;
  let o = ci * pp + q;
  for (var i = 0u; i < 4u; i++) {
    v[(4u * i) * plane + o] = t[i][0] - t[i][2];
    v[(4u * i + 1u) * plane + o] = t[i][1] + t[i][2];
    v[(4u * i + 2u) * plane + o] = t[i][2] - t[i][1];
    v[(4u * i + 3u) * plane + o] = t[i][1] - t[i][3];
  }
}
