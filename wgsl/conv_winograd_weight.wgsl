// conv_winograd_weight: the weight transform of a Winograd F(m x m, 3x3) convolution (m = TILE,
// 2, 4 or 6, alpha = m + 2), from a PackedConvWeight's blocks: for input channel ci and output
// channel co, the 3x3 kernel g becomes U = G g G^T (lib/winograd.wgsl), written as the batched
// GEMM's B [alpha^2][Cin][Cout] (xi = alpha i + j) in the packed matmul's layout of 16-column
// blocks (PackedMatmulWeight.fromPacked): no separate packing pass.
//
// w: array<u32>  the packed blocks [ceil(Cout / rm)][Cin 9][rm]: f32 bits, or (F16) halves in pairs
// u: array<f32>  [alpha^2][ceil(Cout / 16)][Cin][16]
// Dispatch: ceil(Cin Cout / WG) workgroups, one invocation per (ci, co), folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/winograd.wgsl"

override WG: u32 = 64;
override F16: bool = false;
override TILE: u32 = 2;
override ALPHA: u32 = TILE + 2u;

struct Params {
  cin: u32,
  cout: u32,
  rm: u32,
  nblk: u32,
  // ALPHA again, as a runtime value: the U store loop bounded by it stays rolled (unrolled, its
  // alpha^2 lane-by-lane stores took 2-3x the compile on lavapipe; the run time is the same).
  alpha: u32,
}

@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn weight(co: u32, r: u32) -> f32 {
  let i = ((co / params.rm) * params.cin * 9u + r) * params.rm + co % params.rm;
  if (F16) {
    return unpack2x16float(w[i >> 1u])[i & 1u];
  }
  return bitcast<f32>(w[i]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let cout = params.cout;
  if (e >= params.cin * cout) {
    return;
  }
  let ci = e / cout;
  let co = e % cout;
  var g: array<array<f32, 3>, 3>;
  for (var i = 0u; i < 3u; i++) {
    for (var j = 0u; j < 3u; j++) {
      g[i][j] = weight(co, ci * 9u + 3u * i + j);
    }
  }
  // s = G g (alpha x 3), then U = s G^T (alpha x alpha).
  var s: array<array<f32, 3>, 8>;
  for (var i = 0u; i < ALPHA; i++) {
    for (var j = 0u; j < 3u; j++) {
      s[i][j] = wino_g(i, 0u) * g[0][j] + wino_g(i, 1u) * g[1][j] + wino_g(i, 2u) * g[2][j];
    }
  }
  let o = ((co / 16u) * params.cin + ci) * 16u + co % 16u;
  let plane = params.nblk * params.cin * 16u;
  for (var i = 0u; i < params.alpha; i++) {
    for (var j = 0u; j < ALPHA; j++) {
      u[(ALPHA * i + j) * plane + o] = s[i][0] * wino_g(j, 0u) + s[i][1] * wino_g(j, 1u) + s[i][2] * wino_g(j, 2u);
    }
  }
}
