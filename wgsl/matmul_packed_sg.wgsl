enable subgroups;

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
//                         (matmul_packed_sg_f16: packed f16, vec2<u32> per vec4, never plain)
// bias, params: as in matmul_packed.wgsl; res, out: as there, read and written as vec4s of 4
//       columns of a row (N % 4 == 0: kernels/matmul.ts takes matmul_packed otherwise)
// Dispatch: (ceil(N / 32), ceil(M / (4 WG)), batch) workgroups of WG invocations.

// #include "lib/packed_b_f32.wgsl"
// #include "lib/matmul_packed_sg_main.wgsl"
