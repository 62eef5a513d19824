// matmul_packed_f16: matmul_packed.wgsl with B stored as f16 (a PackedMatmulWeight of dtype f16,
// pack_blocks_f16): half the weight bytes, f32 products and sums in the same order.

// #include "lib/packed_b_f16.wgsl"
// #include "lib/matmul_packed_main.wgsl"
