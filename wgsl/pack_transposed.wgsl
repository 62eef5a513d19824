// pack_transposed: A^T with its rows padded to a multiple of 4, the A layout of matmul_packed*
// and vq_lookup_sg (lanes own rows, so A^T puts the rows of one k side by side).
//   out[z][k][m] = A(z, m, k) for m < M, 0 for M <= m < MP = M rounded up to 4,
//   A [batch][M, K] (TRANS: [batch][K, M])
//
// src: array<f32>        [batch][M][K] (TRANS: [batch][K][M])
// out: array<vec4<f32>>  [batch][K][MP / 4]
// Dispatch: one invocation per 4 x 4 block (4 m, 4 k), m-blocks fastest, folded into (x, y).
// Blocks, not elements: the index arithmetic (integer divisions, scalar on CPU adapters) is paid
// once per 16 elements, and a lane's four stores are whole vec4 rows of the output.

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override TRANS: bool = false;

struct Params {
  batch: u32,
  m: u32,
  k: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

fn at(z: u32, m: u32, k: u32) -> f32 {
  if (m >= params.m || k >= params.k) {
    return 0.0;
  }
  if (TRANS) {
    return src[(z * params.k + k) * params.m + m];
  }
  return src[(z * params.m + m) * params.k + k];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flat_workgroup(wid, nwg) * WG + lid;
  let mblocks = (params.m + 3u) / 4u;
  let kblocks = (params.k + 3u) / 4u;
  if (e >= params.batch * kblocks * mblocks) {
    return;
  }
  let z = e / (kblocks * mblocks);
  let r = e % (kblocks * mblocks);
  let k0 = (r / mblocks) * 4u;
  let mb = r % mblocks;
  let m0 = mb * 4u;
  for (var j = 0u; j < 4u; j++) {
    let k = k0 + j;
    if (k < params.k) {
      out[(z * params.k + k) * mblocks + mb] = vec4<f32>(at(z, m0, k), at(z, m0 + 1u, k), at(z, m0 + 2u, k), at(z, m0 + 3u, k));
    }
  }
}
