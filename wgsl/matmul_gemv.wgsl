// matmul_gemv: out[n_off + n] = act(sum_k x[k] * B(k, n) + bias[n_off + n]) + res[n_off + n]
// One row times a packed B (pack_blocks' [ceil(N / RN)][K][RN] blocks: a PackedMatmulWeight, as
// the model's layers and output projection hold theirs): a transformer decode step. Invocation e
// owns the 8 columns of slot e % R8 of block e / R8 and walks k, x read 4 values at a time: on
// lavapipe every load in the loop runs lane by lane, so 8 columns per weight load (f16: one
// vec4<u32>) and a vec4 of x per 4 k cut the loads per FMA 3x against 4 columns and scalar x
// (figures: bench/README.md, Design measurements: matmul). The weight is read once; a weight
// over maxStorageBufferBindingSize is bound as block chunks (one launch per chunk, n_off = first
// column of the chunk, n = its columns). Sums run over k in order, as in the other matmuls.
// GLU (linearSwiGLU): the binding holds gate's blocks, then up's up_off b8 entries later; each
// invocation sums both for its 8 columns and stores silu(gate) * up (no bias, no residual).
//
// x:    array<f32>        [K] (also bound as x4: array<vec4<f32>>, the same buffer)
// b:    array<vec4<f32>>  this chunk's packed blocks (matmul_gemv_f16: f16, vec4<u32> per 8)
// bias: array<f32>        [N_total]  read only when has_bias != 0
// res:  array<f32>        [N_total]  read only when has_res != 0
// out:  array<f32>        [N_total]
// ACT: 0 none, 1 silu, 2 relu, 3 gelu (lib/act.wgsl).
// Dispatch: ceil(blocks RN / 8 / WG) workgroups, folded into (x, y).

// #include "lib/packed_b8_f32.wgsl"
// #include "lib/matmul_gemv_main.wgsl"
