// Fused epilogue activations of the matmul kernels. Codes match MATMUL_ACTIVATIONS in
// kernels/matmul.ts: 0 none, 1 silu x/(1+e^-x), 2 relu, 3 gelu (erf form, torch's default).
// #include "lib/erf.wgsl"

fn act4(v: vec4<f32>, code: u32) -> vec4<f32> {
  switch code {
    case 1u: { return v / (1.0 + exp(-v)); }
    case 2u: { return max(v, vec4(0.0)); }
    case 3u: { return 0.5 * v * (1.0 + erf4(v * 0.70710678118654752)); }
    default: { return v; }
  }
}
