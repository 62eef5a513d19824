// unary: out[i] = f(x[i]), 4 elements (one vec4) per invocation.
//   OP 0 silu:  x / (1 + exp(-x))
//   OP 1 relu:  max(x, 0)
//   OP 2 gelu:  0.5 x (1 + erf(x / sqrt 2))   (exact erf form, torch's default GELU)
//   OP 3 scale: x * alpha + beta
//   OP 4 clamp: min(max(x, alpha), beta)
//
// x:   array<vec4<f32>>  [n4]  (the tensor's binding is rounded up to 16 bytes; the tail lanes
//                              of the last vec4 are pool padding and their results are ignored)
// out: array<vec4<f32>>  [n4]
// Dispatch: ceil(n4 / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override OP: u32 = 0;

struct Params {
  n4: u32,
  alpha: f32,
  beta: f32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

// erf in f32 to within 1 ulp (max abs error 6e-8 on [-6, 6] in f32 arithmetic): N. Juffa's
// minimax fits, a polynomial in x^2 below |x| = 0.9277 and 1 - exp(poly(|x|)) above. Abramowitz-
// Stegun 7.1.26 (error 1.5e-7 relative to 1, more after cancellation) is not enough for 1e-6.
fn erf4(a: vec4<f32>) -> vec4<f32> {
  let t = abs(a);
  let s = a * a;
  var r = fma(vec4(-1.72853470e-5), t, vec4(3.83197126e-4));
  let u = fma(vec4(-3.88396438e-3), t, vec4(2.42546219e-2));
  r = fma(r, s, u);
  r = fma(r, t, vec4(-1.06777877e-1));
  r = fma(r, t, vec4(-6.34846687e-1));
  r = fma(r, t, vec4(-1.28717512e-1));
  r = fma(r, t, -t);
  let big = sign(a) * (1.0 - exp(r));
  var p = fma(vec4(-5.96761703e-4), s, vec4(4.99119423e-3));
  p = fma(p, s, vec4(-2.67681349e-2));
  p = fma(p, s, vec4(1.12819925e-1));
  p = fma(p, s, vec4(-3.76125336e-1));
  p = fma(p, s, vec4(1.28379166e-1));
  let small = fma(p, a, a);
  return select(small, big, t > vec4(0.927734375));
}

fn apply(v: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 0u: { return v / (1.0 + exp(-v)); }
    case 1u: { return max(v, vec4(0.0)); }
    case 2u: { return 0.5 * v * (1.0 + erf4(v * 0.70710678118654752)); }
    case 3u: { return fma(v, vec4(params.alpha), vec4(params.beta)); }
    default: { return min(max(v, vec4(params.alpha)), vec4(params.beta)); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i < params.n4) {
    out[i] = apply(x[i]);
  }
}
