// matmul_packed_sg: the GEMM of matmul_packed.wgsl (same bindings, packed B and A^T layouts, same
// result and summation order) for adapters with subgroups of at least 8 invocations.
//   out[z, m, n_off + n] = act(sum_k A[z, m, k] * B[z, k, n] + bias[n_off + n]) + res[z, m, n_off + n]
//
// Why a second kernel: on lavapipe (Mesa 25.0) every storage load inside a loop runs as a branchy
// loop over the 8 SIMD lanes (a mask test, a bounds check and a scalar load per lane), even when
// every lane reads the same address, and matmul_packed's lane-uniform B loads took a large share
// of its time (measured by removing each load; figures: bench/README.md). Here the
// 8 vec4s of B that one step needs are loaded once per subgroup, one vec4 per lane, and handed to
// every lane with subgroupBroadcast (a register extract and splat): 8x fewer B loads.
// Each lane owns 4 rows (one vec4 of A^T: rows 4 (wid.y WG + l) + q) and the workgroup's 32
// columns (two packed 16-column blocks; lane L loads block L / 4, slot L % 4 of each k-row):
// 128 scalar accumulators, in loops with constant trip counts that unroll. Measured against
// 8 rows x 16 columns (two k-rows of one block per load, slower) and 4 x 64 (256 accumulators,
// not unrolled, far slower): bench/README.md, Design measurements: matmul.
// Edges: A^T rows past M are zero and rows past MP are clamped (stores skip both); packed columns
// past N repeat column N-1 (stores skip them).
//
// a:    array<vec4<f32>>  A^T [batch_a][K][MP / 4] (matmul_packed.wgsl's layout), a_batch in floats
// b:    array<vec4<f32>>  packed B [batch_b][ceil(N / 16)][K][16] (b_batch in vec4s), or with
//                         PLAIN_B the plain B [batch_b][K, N], N % 4 == 0: a k-row's 32 columns
//                         are contiguous there too, so a per-call matmul skips the packing pass
// bias, res, out, params: as in matmul_packed.wgsl
// Dispatch: (ceil(N / 32), ceil(M / (4 WG)), batch) workgroups of WG invocations.

enable subgroups;

// #include "lib/matmul_params.wgsl"

override WG: u32 = 32;
override ACT: u32 = 0;
override PLAIN_B: bool = false;
const RM = 4u;  // rows per invocation
const CB = 2u;  // packed 16-column blocks per workgroup
const RN = 16u;
const R4 = 4u;  // vec4s per packed row

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
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
    tile_step_sg(&acc, b[lb + k * bs], a[za + k * M4 + g]);
  }

  tile_store(&acc, wid.z, wid.x * RN * CB, 4u * (wid.y * WG + lid), 1u);
}
