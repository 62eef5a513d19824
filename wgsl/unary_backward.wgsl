// unary_backward: dx = g * f'(x) elementwise, x the forward input, 4 elements (one vec4) per invocation.
//   OP 0 silu:  f' = s (1 + x (1 - s)),  s = 1 / (1 + e^-x), 1 - s = 1 / (1 + e^x)
//   OP 1 relu:  f' = 1 where x > 0, else 0 (torch's threshold_backward: 0 at x = 0)
//   OP 2 gelu:  f' = Phi(x) + x phi(x)   (exact erf form, torch's default GELU)
//   OP 3 scale: f' = alpha
//   OP 4 tanh:  f' = 1 - tanh(x)^2 = 4u / (1 + u)^2,  u = e^(-2|x|)
//   OP 5 silu_mul: y = silu(x) * up (SwiGLU): out = g * up * silu'(x) (dgate), out2 = g * silu(x) (dup)
// 1 - s and sech^2 are formed without subtracting from 1, so they keep full relative accuracy in
// the tails; every exp argument that overflows to +inf only drives a factor to 0 (no inf * 0).
//
// x:    array<vec4<f32>>  [n4]  (every binding is rounded up to 16 bytes; the tail lanes of the
// g:    array<vec4<f32>>  [n4]   last vec4 are pool padding and their results are ignored)
// up:   array<vec4<f32>>  [n4]  (OP 5 only; otherwise bound to x)
// out:  array<vec4<f32>>  [n4]
// out2: array<vec4<f32>>  [n4]  (OP 5 only; otherwise a 16-byte stand-in)
// Dispatch: ceil(n4 / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override OP: u32 = 0;

struct Params {
  n4: u32,
  alpha: f32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out2: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/erf.wgsl"

fn sigmoid(v: vec4<f32>) -> vec4<f32> {
  return 1.0 / (1.0 + exp(-v));
}

fn dsilu(v: vec4<f32>) -> vec4<f32> {
  return sigmoid(v) * (1.0 + v * sigmoid(-v));
}

fn deriv(v: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 0u: { return dsilu(v); }
    case 1u: { return select(vec4(0.0), vec4(1.0), v > vec4(0.0)); }
    case 2u: {
      let cdf = 0.5 * (1.0 + erf4(v * 0.70710678118654752));
      return fma(v, exp(-0.5 * v * v) * 0.39894228040143268, cdf);
    }
    case 3u: { return vec4(params.alpha); }
    default: {
      let u = exp(-2.0 * abs(v));
      return 4.0 * u / ((1.0 + u) * (1.0 + u));
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= params.n4) {
    return;
  }
  let v = x[i];
  if (OP == 5u) {
    let gi = g[i];
    out[i] = gi * up[i] * dsilu(v);
    out2[i] = gi * v * sigmoid(v);
  } else {
    out[i] = g[i] * deriv(v);
  }
}
