// conv_winograd_out: the output transform of a Winograd F(2x2, 3x3) convolution and the conv
// epilogue: for tile p0 + q and output channel co, the 16 products m (the batched GEMM's
// M[xi][q][co] = sum_ci V[xi][ci][q] U[xi][ci][co]) become the 2x2 outputs
//   Y = A^T m A,  A^T = [1 1 1 0; 0 1 -1 -1]
// then out = act(Y + bias[co]) + res, as conv3d_causal's epilogue (ACT 1: SiLU); outputs past
// H or W (odd sizes) are not stored.
//
// m:    array<f32>  [16][pp][Cout]
// bias: array<f32>  [Cout]        read when has_bias != 0
// res:  array<f32>  [B][Cout][H][W]  read when has_res != 0
// out:  array<f32>  [B][Cout][H][W]
// Dispatch: ceil(pc Cout / WG) workgroups, one invocation per (tile, channel), folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override ACT: u32 = 0;

struct Params {
  cout: u32,
  h: u32,
  w: u32,
  th: u32,
  tw: u32,
  p0: u32,
  pc: u32,
  pp: u32,
  has_bias: u32,
  has_res: u32,
}

@group(0) @binding(0) var<storage, read> m: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> res: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let cout = params.cout;
  if (e >= params.pc * cout) {
    return;
  }
  let q = e / cout;
  let co = e % cout;
  let plane = params.pp * cout;
  let at = q * cout + co;
  // r = A^T m (rows), then Y = r A (columns).
  var r: array<array<f32, 4>, 2>;
  for (var j = 0u; j < 4u; j++) {
    let m0 = m[j * plane + at];
    let m1 = m[(4u + j) * plane + at];
    let m2 = m[(8u + j) * plane + at];
    let m3 = m[(12u + j) * plane + at];
    r[0][j] = m0 + m1 + m2;
    r[1][j] = m1 - m2 - m3;
  }
  var bv = 0.0;
  if (params.has_bias != 0u) {
    bv = bias[co];
  }
  let p = params.p0 + q;
  let tiles = params.th * params.tw;
  let b = p / tiles;
  let ty = (p % tiles) / params.tw;
  let tx = p % params.tw;
  let base = (b * cout + co) * params.h * params.w;
  for (var i = 0u; i < 2u; i++) {
    let y = 2u * ty + i;
    for (var j = 0u; j < 2u; j++) {
      let xx = 2u * tx + j;
      if (y < params.h && xx < params.w) {
        var val = select(r[i][1] - r[i][2] - r[i][3], r[i][0] + r[i][1] + r[i][2], j == 0u) + bv;
        if (ACT == 1u) {
          val = val / (1.0 + exp(-val));
        }
        let o = base + y * params.w + xx;
        if (params.has_res != 0u) {
          val += res[o];
        }
        out[o] = val;
      }
    }
  }
}
