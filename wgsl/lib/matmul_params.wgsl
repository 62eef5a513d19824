// Shape uniforms shared by the GEMM shaders (matmul, matmul_vec4, matmul_packed, matmul_packed_sg);
// kernels/matmul.ts fills them the same way for all four.
struct Params {
  m: u32,
  n: u32,
  k: u32,
  a_batch: u32,
  b_batch: u32,
  out_cols: u32,
  n_off: u32,
  has_bias: u32,
  has_res: u32,
}
