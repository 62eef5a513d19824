// matmul_gemv_f16: matmul_gemv.wgsl with the packed weight stored as f16 (a PackedMatmulWeight of
// dtype f16): a decode step reads half the bytes; f32 products and sums in the same order.

// #include "lib/packed_b8_f16.wgsl"
// #include "lib/matmul_gemv_main.wgsl"
