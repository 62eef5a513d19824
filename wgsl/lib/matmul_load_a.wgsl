// A(m, k) of batch offset `base` for matmul and matmul_vec4: A is [M, K], or [K, M] with TRANS_A.
// Uses the including shader's `a`, TRANS_A and params.
fn ld_a(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) {
    return a[base + k * params.m + m];
  }
  return a[base + m * params.k + k];
}
