enable subgroups;

// matmul_packed_sg_f16: matmul_packed_sg.wgsl with packed B stored as f16 (a PackedMatmulWeight of
// dtype f16, pack_blocks_f16): half the weight bytes, f32 products and sums in the same order.

// #include "lib/packed_b_f16.wgsl"
// #include "lib/matmul_packed_sg_main.wgsl"
