// optimizer: one in-place optimizer step per element, torch 1.13 single-tensor semantics in f32.
//   OPT 0 AdamW:  g = grad * grad_scale
//                 p = p * decay                                  (decay = 1 - lr * weight_decay)
//                 m = fma(g, omb1, m * beta1)                    (add_ with alpha; omb1 = 1 - beta1)
//                 v = fma(omb2 * g, g, v * beta2)                (addcmul; omb2 = 1 - beta2)
//                 p = p + (neg_step * m) / (sqrt(v) / bc2_sqrt + eps)   (addcdiv; neg_step = -lr / bc1)
//   OPT 1 SGD:    g = grad * grad_scale;  g = fma(p, decay, g) when decay != 0 (decay = weight_decay)
//                 MOMENTUM: m = m * momentum + g; g = m          (dampening 0, not nesterov)
//                 p = fma(g, neg_step, p)                        (neg_step = -lr)
// The host computes every scalar in float64 and passes it rounded to f32, as torch's Python
// scalars reach its f32 kernels. The explicit fmas are where torch's CPU kernels fuse (its add
// with alpha and addcmul: the golden AdamW run matches fused, not unfused, rounding).
//
// param: array<f32>  [n]  read_write
// grad:  array<f32>  [n]
// m:     array<f32>  [n]  read_write: AdamW exp_avg, SGD momentum buffer (unused without MOMENTUM)
// v:     array<f32>  [n]  read_write: AdamW exp_avg_sq (unused by SGD)
// Dispatch: ceil(n / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override OPT: u32 = 0;
override MOMENTUM: bool = false;

struct Params {
  n: u32,
  grad_scale: f32,
  decay: f32,
  beta1: f32,
  omb1: f32,
  beta2: f32,
  omb2: f32,
  neg_step: f32,
  bc2_sqrt: f32,
  eps: f32,
  momentum: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= params.n) {
    return;
  }
  var g = grad[i] * params.grad_scale;
  var p = param[i];
  if (OPT == 0u) {
    p = p * params.decay;
    let mi = fma(g, params.omb1, m[i] * params.beta1);
    let vi = fma(params.omb2 * g, g, v[i] * params.beta2);
    m[i] = mi;
    v[i] = vi;
    param[i] = p + (params.neg_step * mi) / (sqrt(vi) / params.bc2_sqrt + params.eps);
  } else {
    // torch skips the weight-decay add when it is 0, so an inf / NaN p does not leak into g.
    if (params.decay != 0.0) {
      g = fma(p, params.decay, g);
    }
    if (MOMENTUM) {
      g = m[i] * params.momentum + g;
      m[i] = g;
    }
    param[i] = fma(g, params.neg_step, p);
  }
}
