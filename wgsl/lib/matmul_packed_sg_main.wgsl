// The body of matmul_packed_sg.wgsl and matmul_packed_sg_f16.wgsl; B comes from the including
// shader's b4() (lib/packed_b_f32.wgsl, lib/packed_b_f16.wgsl).
// #include "lib/matmul_params.wgsl"

override WG: u32 = 32;
override ACT: u32 = 0;
override PLAIN_B: bool = false;
const RM = 4u;  // rows per invocation
const CB = 2u;  // packed 16-column blocks per workgroup
const RN = 16u;
const R4 = 4u;  // vec4s per packed row

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/tile_step_sg.wgsl"
// #include "lib/matmul_tile.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32) {
  let M = params.m;
  let N = params.n;
  let K = params.k;
  let M4 = (M + 3u) / 4u;
  let za = wid.z * params.a_batch / 4u;
  let g = min(wid.y * WG + lid, M4 - 1u);  // this lane's vec4 of each A^T row
  let lane = sid % 8u;
  let nblk = (N + RN - 1u) / RN;
  // Lane L's vec4 of k-row k is b[lb + k bs]: columns 4 L .. 4 L + 3 of the workgroup's 32.
  var lb = wid.z * params.b_batch + min(wid.x * CB + lane / 4u, nblk - 1u) * K * R4 + lane % 4u;
  var bs = R4;
  if (PLAIN_B) {
    bs = N / 4u;
    lb = wid.z * params.b_batch + min(wid.x * 8u + lane, bs - 1u);
  }
  var acc: array<f32, 256>;  // row slot j: row 4 g + j (lib/matmul_tile.wgsl)
  for (var e = 0u; e < RM * RN * CB; e++) {
    acc[e] = 0.0;
  }

  for (var k = 0u; k < K; k++) {
    tile_step_sg(&acc, b4(lb + k * bs), a[za + k * M4 + g]);
  }

  tile_store(&acc, wid.z, wid.x * RN * CB, 4u * (wid.y * WG + lid), 1u);
}
