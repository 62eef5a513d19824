// fourier_pe: the random-Fourier positional encoding of the LDM (SAM's PositionEmbeddingRandom):
//   x = (j + 0.5) / W,  y = (i + 0.5) / H  (as products with fround(1/W), fround(1/H)),  c = 2 * (x, y) - 1        (x first)
//   t_k = c_x * G[0, k] + c_y * G[1, k]       (phase in turns),  p_k = 2 * pi * t_k
//   out[k, i, j] = sin(p_k),  out[F + k, i, j] = cos(p_k)
// |p| reaches 20-40, where sin/cos of an f32 argument inherit the argument's rounding
// (ulp(40) = 3.8e-6). With RANGE_REDUCE the phase is reduced in turns instead: the products are
// split into exact partial products whose integer parts are dropped one by one, so
// r = t - round(t) is accurate to ~1e-7 turns whatever |t|. Without it, p = 2*pi*t is formed in
// f32 as PyTorch float32 does and reduced by pi/2 in three parts (Cody-Waite).
// sin/cos are then polynomials on [-pi/4, pi/4] by quadrant, not the builtins: WGSL bounds the
// builtins only to 2^-11 absolute on [-pi, pi] (SwiftShader's err by up to 1.9e-4), while the
// polynomials use only f32 + and * (correctly rounded in WGSL), so the result is the same
// to ~1e-7 on every implementation.
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
const TWO_OVER_PI = 0.63661977236758134308f;
// pi/2 = PIO2_A + PIO2_B + PIO2_C (Cephes' split): PIO2_A has 8 significant bits and PIO2_B 12,
// so q * PIO2_A and q * PIO2_B are exact for |q| < 2^12 (|p| < ~6400).
const PIO2_A = 1.5703125f;
const PIO2_B = 4.837512969970703125e-4f;
const PIO2_C = 7.54978995489188216e-8f;

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

// (sin, cos) of x + q * pi/2 for |x| <= pi/4: Cephes' sinf/cosf minimax polynomials (degree 7
// and 8), abs error <= 6e-8 on that range with f32 evaluation.
fn sincos_quadrant(x: f32, q: i32) -> vec2<f32> {
  let z = x * x;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * x + x;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  // + pi/2: (sin, cos) -> (cos, -sin); + pi: both negated.
  let r = select(vec2<f32>(s, c), vec2<f32>(c, -s), (q & 1) != 0);
  return select(r, -r, (q & 2) != 0);
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
  var x: f32;
  var q: f32;
  if (RANGE_REDUCE) {
    // r - q / 4 is exact (Sterbenz), so x only carries TWO_PI's product rounding.
    let r = reduced_turns(cx, g0, cy, g1);
    q = round(4.0 * r);
    x = TWO_PI * (r - 0.25 * q);
  } else {
    let p = TWO_PI * (cx * g0 + cy * g1);
    q = round(p * TWO_OVER_PI);
    x = ((p - q * PIO2_A) - q * PIO2_B) - q * PIO2_C;
  }
  let sc = sincos_quadrant(x, i32(q));
  out[idx] = sc.x;
  out[params.f * hw + idx] = sc.y;
}
