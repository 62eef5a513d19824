// matmul_packed: out[z, m, n_off + n] = act(sum_k A[z, m, k] * B[z, k, n] + bias[n_off + n]) + res[z, m, n_off + n]
// with A read as A^T (made by pack_transposed) and B from a packed copy (pack_blocks: a
// PackedMatmulWeight, or packed per call); matmul_gemv.wgsl is its M = 1 product and
// matmul_packed_sg.wgsl the faster GEMM for adapters with subgroups (B loaded once per subgroup, not once per lane).
//
// The micro-kernel of conv3d_causal applied to GEMM: a workgroup owns RN columns of B (one packed
// block), so every B load has a lane-uniform address (one load per SIMD row on GPUs; lavapipe
// (Mesa 25.0) still runs each load in a loop as a branchy lane-by-lane loop, which is what the
// subgroup kernel saves); lanes own rows (lane l, slot j -> row m0 + j WG + l), RM per-lane A
// loads per k for RM x RN FMAs.
// A is read transposed so the 8 lanes of a SIMD row load 32 contiguous bytes: rows of a plain
// [M, K] A are K floats apart (4 KiB at K = 1024), which puts every lane's load in the same L1
// set. RM x RN scalar accumulators per invocation (vec4 accumulators spill); RM, RN are override
// constants so the compiler unrolls the block (RM = 16, 256 accumulators, is not unrolled).
// Measured and dropped: 4 k-steps per trip from a [K/4, M] vec4 A (fewer per-lane loads but a
// 512-FMA body). Figures: bench/README.md, Design measurements: matmul.
// Rows past M are clamped on load and skipped on store; packed columns past N repeat column N-1
// and are skipped on store. Per output, the sum runs over k in order (fma), as in matmul.wgsl.
//
// a:    array<f32>        A^T [batch_a][K][MP], MP = M rounded up to a multiple of 4 (rows past M
//                         are zero; matmul_packed_sg reads it as vec4s), batch stride a_batch (0 = broadcast)
// b:    array<vec4<f32>>  packed B [batch_b][ceil(N / RN)][K][RN] (matmul_packed_f16: f16, vec2<u32>
//                         per vec4): B(k, blk RN + i) at
//                         (blk K + k) RN + i (batch stride b_batch in vec4s); a chunked launch
//                         binds blocks from column n_off = blk0 RN on
// bias: array<f32>        [out_cols]              read only when has_bias != 0
// res:  array<f32>        [batch, M, out_cols]    read only when has_res != 0
// out:  array<f32>        [batch, M, out_cols]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: (ceil(N / (CB RN)), ceil(M / (WG RM)), batch) workgroups of WG invocations (column blocks
// fastest).

// #include "lib/packed_b_f32.wgsl"
// #include "lib/matmul_packed_main.wgsl"
