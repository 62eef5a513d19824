// The epilogue of the packed GEMM kernels (matmul_packed, matmul_packed_sg): stores one output,
// out[z, r, c] = act(v + bias[c]) + res[z, r, c], c counting the output's columns (n_off included).
// Uses the including shader's bias, res, out, params and ACT.
// #include "lib/act.wgsl"

fn store_out(z: u32, r: u32, c: u32, v: f32) {
  var y = v;
  if (params.has_bias != 0u) {
    y += bias[c];
  }
  y = act4(vec4(y), ACT).x;
  let o = (z * params.m + r) * params.out_cols + c;
  if (params.has_res != 0u) {
    y += res[o];
  }
  out[o] = y;
}
