// pack_transposed: A^T with its rows padded to a multiple of 4, the A layout of matmul_packed*
// and vq_lookup_sg (lanes own rows, so A^T puts the rows of one k side by side).
//   out[z][k][m] = A(z, m, k) for m < M, 0 for M <= m < MP = M rounded up to 4,
//   A [batch][M, K] (TRANS: [batch][K, M])
//
// src: array<f32>  [batch][M][K] (TRANS: [batch][K][M])
// out: array<f32>  [batch][K][MP]
// Dispatch: one invocation per output element, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override TRANS: bool = false;

struct Params {
  batch: u32,
  m: u32,
  k: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let M = params.m;
  let MP = (M + 3u) / 4u * 4u;
  let K = params.k;
  if (e >= params.batch * K * MP) {
    return;
  }
  let z = e / (K * MP);
  let k = (e / MP) % K;
  let m = e % MP;
  var v = 0.0;
  if (m < M) {
    if (TRANS) {
      v = src[(z * K + k) * M + m];
    } else {
      v = src[(z * M + m) * K + k];
    }
  }
  out[e] = v;
}
