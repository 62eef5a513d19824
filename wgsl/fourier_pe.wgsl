// fourier_pe: the random-Fourier positional encoding of the LDM (SAM's PositionEmbeddingRandom):
//   x = (j + 0.5) / W,  y = (i + 0.5) / H  (as products with fround(1/W), fround(1/H)),  c = 2 * (x, y) - 1        (x first)
//   t_k = c_x * G[0, k] + c_y * G[1, k]       (phase in turns),  p_k = 2 * pi * t_k
//   out[k, i, j] = sin(p_k),  out[F + k, i, j] = cos(p_k)
// |p| reaches 20-40, where sin/cos of an f32 argument inherit the argument's rounding
// (ulp(40) = 3.8e-6) and may lose accuracy outside [-pi, pi]. With RANGE_REDUCE the phase is
// reduced in turns instead: the products are split into exact partial products whose integer
// parts are dropped one by one, so r = t - round(t) is accurate to ~1e-7 turns whatever |t|,
// and sin/cos only see 2*pi*r in [-pi, pi] (robust on GPUs whose sin degrades outside it).
//
// g:   array<f32>  [2, F] row-major (positional_encoding_gaussian_matrix)
// out: array<f32>  [2F, H, W]
// One invocation per (k, i, j); ceil(F * H * W / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override RANGE_REDUCE: bool = true;

struct Params {
  f: u32,
  h: u32,
  w: u32,
  // fround(1 / H), fround(1 / W): exact for power-of-two grids, where a WGSL division may not be.
  inv_h: f32,
  inv_w: f32,
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const TWO_PI = 6.28318530717958647692f;

// The top 12 significant bits of a (mantissa masked): a = hi(a) + (a - hi(a)) exactly, and the
// product of two such halves fits f32's 24 bits. Masking bits, unlike Dekker's 4097 split or
// TwoSum, leaves a compiler nothing to simplify away (lavapipe folds TwoSum's error term to 0).
fn hi12(a: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
}

// x minus the nearest integer: exact for |x| < 2^23 (Sterbenz), result in [-0.5, 0.5].
fn frac_turns(x: f32) -> f32 {
  return x - round(x);
}

// The phase t = cx * g0 + cy * g1 in turns, reduced to [-0.5, 0.5]. The two large partial
// products are exact and are reduced one at a time, so no sum ever exceeds 1 (rounding <= 2^-25
// turns per step); the cross terms are below ~2^-10 in magnitude and add ~1e-10 of error.
fn reduced_turns(cx: f32, g0: f32, cy: f32, g1: f32) -> f32 {
  let xh = hi12(cx);
  let xl = cx - xh;
  let yh = hi12(cy);
  let yl = cy - yh;
  let gh0 = hi12(g0);
  let gl0 = g0 - gh0;
  let gh1 = hi12(g1);
  let gl1 = g1 - gh1;
  var r = frac_turns(xh * gh0);
  r = frac_turns(r + frac_turns(yh * gh1));
  let small = (xh * gl0 + xl * gh0 + xl * gl0) + (yh * gl1 + yl * gh1 + yl * gl1);
  return frac_turns(r + small);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let hw = params.h * params.w;
  let idx = flat_workgroup(wid, nwg) * WG + lid;
  if (idx >= params.f * hw) {
    return;
  }
  let k = idx / hw;
  let pix = idx % hw;
  let i = pix / params.w;
  let j = pix % params.w;
  let cx = 2.0 * ((f32(j) + 0.5) * params.inv_w) - 1.0;
  let cy = 2.0 * ((f32(i) + 0.5) * params.inv_h) - 1.0;
  let g0 = g[k];
  let g1 = g[params.f + k];
  var p: f32;
  if (RANGE_REDUCE) {
    p = TWO_PI * reduced_turns(cx, g0, cy, g1);
  } else {
    p = TWO_PI * (cx * g0 + cy * g1);
  }
  out[idx] = sin(p);
  out[params.f * hw + idx] = cos(p);
}
