// matmul_packed_wg_f16: matmul_packed_wg.wgsl with B stored as f16 (a PackedMatmulWeight of dtype
// f16, pack_blocks_f16): half the weight bytes, widened to f32 as it is staged; f32 products and sums.

// #include "lib/packed_b_f16.wgsl"
// #include "lib/matmul_packed_wg_main.wgsl"
