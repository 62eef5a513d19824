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

// #include "lib/erf.wgsl"

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
