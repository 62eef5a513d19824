// matmul_gemv: out[n_off + n] = act(sum_k x[k] * B(k, n) + bias[n_off + n]) + res[n_off + n]
// One row times a packed B (pack_blocks' [ceil(N / RN)][K][RN] blocks: a PackedMatmulWeight, as
// the model's layers and output projection hold theirs): a transformer decode step. Invocation e
// owns the 4 columns of vec4 slot e % R4 of block e / R4 and walks k with x(k) a uniform load; the
// 8 lanes of a SIMD row read 2 blocks' 64 contiguous bytes per k. Memory-bound: the weight is read
// once; a weight over maxStorageBufferBindingSize is bound as block chunks (one launch per chunk,
// n_off = first column of the chunk, n = its columns).
//
// x:    array<f32>        [K]
// b:    array<vec4<f32>>  this chunk's packed blocks (matmul_gemv_f16: f16, vec2<u32> per vec4)
// bias: array<f32>        [N_total]  read only when has_bias != 0
// res:  array<f32>        [N_total]  read only when has_res != 0
// out:  array<f32>        [N_total]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: ceil(blocks RN / 4 / WG) workgroups, folded into (x, y).

// #include "lib/packed_b_f32.wgsl"
// #include "lib/matmul_gemv_main.wgsl"
