// matmul_packed_wg: the GEMM of matmul_packed.wgsl (same bindings, packed B and A^T layouts, same
// epilogue) with A and B staged in workgroup memory, for GPUs, the classic shape of the WebGPU
// GEMMs (TF.js, ONNX Runtime Web: ../shared/design/kernel-anchors.md): 8 x 8 invocations each own 4
// rows x 4 columns of a 32 x 32 output tile, and per step of TK k-rows each loads TK / 8 vec4s of
// A^T and of B into workgroup memory, which every invocation of the tile then reads.
//   out[z, m, n_off + n] = act(sum_k A[z, m, k] * B[z, k, n] + bias[n_off + n]) + res[z, m, n_off + n]
// Sums run over k in order, as in matmul_packed, so the two agree to a few ulps (fma contraction
// is the compiler's). CPU adapters keep matmul_packed(_sg): lavapipe gains nothing from workgroup
// memory (its loads are per-lane loops either way) and pays for every barrier.
//
// a:    array<vec4<f32>>  A^T [batch_a][K][ceil(M / 4)] (matmul_packed.wgsl's layout), a_batch in floats
// b:    array<vec4<f32>>  packed B [batch_b][ceil(N / 16)][K][16], b_batch in vec4s
//                         (matmul_packed_wg_f16: f16 pairs, vec2<u32> per vec4)
// bias, res, out, params: as in matmul_packed.wgsl
// Dispatch: (ceil(N / 32), ceil(M / 32), batch) workgroups of 8 x 8 invocations.

// #include "lib/packed_b_f32.wgsl"
// #include "lib/matmul_packed_wg_main.wgsl"
