// The 4-column epilogue of matmul, matmul_vec4 and matmul_gemv: columns
// col0 + j < params.n (j < 4) of one output row starting at out[o]:
//   out[o + j] = act(acc[j] + bias[c + j]) + res[o + j],  c = params.n_off + col0.
// Uses the including shader's bias, res, out, params (n, n_off, has_bias, has_res), ACT and act4
// (lib/act.wgsl).
fn store4(o: u32, col0: u32, acc: vec4<f32>) {
  let c = params.n_off + col0;
  var bv = vec4(0.0);
  if (params.has_bias != 0u) {
    let last = params.n_off + params.n - 1u;
    bv = vec4(bias[c], bias[min(c + 1u, last)], bias[min(c + 2u, last)], bias[min(c + 3u, last)]);
  }
  let v = act4(acc + bv, ACT);
  for (var j = 0u; j < 4u; j++) {
    if (col0 + j < params.n) {
      var y = v[j];
      if (params.has_res != 0u) {
        y += res[o + j];
      }
      out[o + j] = y;
    }
  }
}
