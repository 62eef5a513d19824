// fsq_round: finite scalar quantization of M rows (one invocation per row), after an optional
// fused project_in linear.
//   u_k     = bias_k + sum_d w[k, d] * z[row, d]        (has_proj; else u_k = z[row, k])
//   bounded = tanh(u_k + shift_k) * half_l_k - offset_k, q_k = round_half_even(bounded)
//   code_k  = q_k / hw_k,  digit_k = q_k + hw_k,  index = sum_k digit_k * basis_k
// The bound-then-round step is a monotone step function of the f32 value u_k, so it is evaluated
// as digit_k = #{ j : u_k >= thr_k[j] } with the L_k - 1 thresholds that the host finds by
// bisection over f32 with upstream's float32 arithmetic. That is bit-exact with torch on every
// input, including values that land exactly on .5, whereas WGSL tanh is only accurate to a few
// ulp and `t * half_l - offset` may be contracted into an fma, both of which flip exact ties.
// from_codes = 1 runs upstream's codes_to_indices instead: u_k are normalised codes,
//   index = trunc(sum_k (u_k * hw_k + hw_k) * basis_k)   (exact for codes on the grid).
//
// z:       array<f32>  row r = (b, s), b = r / S, s = r % S: z[b*D*S + d*S + s], d < D
//          (channel-last: S = 1; channel-first NC(spatial): S = prod(spatial))
// w:       array<f32>  [nl, D] project_in weight (read only when has_proj)
// bias:    array<f32>  [nl] (read only when has_bias)
// tab:     array<u32>  per level k: tab[4k..4k+3] = L_k, hw_k, basis_k, first threshold slot t_k;
//          thresholds (f32 bits) at tab[32 + t_k + j], j < L_k - 1, ascending
// codes:   array<f32>  codes[b*nl*S + k*S + s] (not written when from_codes)
// indices: array<i32>  [M]
// Dispatch: ceil(M / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;

struct Params {
  rows: u32,
  dim: u32,
  nl: u32,
  spatial: u32,
  has_proj: u32,
  has_bias: u32,
  from_codes: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> tab: array<u32>;
@group(0) @binding(4) var<storage, read_write> codes: array<f32>;
@group(0) @binding(5) var<storage, read_write> indices: array<i32>;
@group(0) @binding(6) var<uniform> params: Params;

const THR0: u32 = 32u;

fn pick(a0: vec4<f32>, a1: vec4<f32>, k: u32) -> f32 {
  if (k < 4u) {
    return a0[k];
  }
  return a1[k - 4u];
}

// Number of thresholds <= u (lower-bound bisection), i.e. the digit of level k.
fn digit(k: u32, u: f32) -> u32 {
  let base = THR0 + tab[4u * k + 3u];
  var lo = 0u;
  var n = tab[4u * k] - 1u;
  while (n > 0u) {
    let half = n / 2u;
    if (u >= bitcast<f32>(tab[base + lo + half])) {
      lo += half + 1u;
      n -= half + 1u;
    } else {
      n = half;
    }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = flat_workgroup(wid, nwg) * WG + lid;
  if (r >= params.rows) {
    return;
  }
  let S = params.spatial;
  let D = params.dim;
  let nl = params.nl;
  let b = r / S;
  let s = r - b * S;
  let zbase = b * D * S + s;

  // u for levels 0..3 in a0, 4..7 in a1; lanes k >= nl are computed from a clamped row and ignored.
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  if (params.has_proj != 0u) {
    let last = nl - 1u;
    let r0 = min(0u, last) * D; let r1 = min(1u, last) * D; let r2 = min(2u, last) * D; let r3 = min(3u, last) * D;
    let r4 = min(4u, last) * D; let r5 = min(5u, last) * D; let r6 = min(6u, last) * D; let r7 = min(7u, last) * D;
    for (var d = 0u; d < D; d++) {
      let x = z[zbase + d * S];
      a0 += x * vec4<f32>(w[r0 + d], w[r1 + d], w[r2 + d], w[r3 + d]);
      if (nl > 4u) {
        a1 += x * vec4<f32>(w[r4 + d], w[r5 + d], w[r6 + d], w[r7 + d]);
      }
    }
    if (params.has_bias != 0u) {
      a0 += vec4<f32>(bias[0], bias[min(1u, last)], bias[min(2u, last)], bias[min(3u, last)]);
      a1 += vec4<f32>(bias[min(4u, last)], bias[min(5u, last)], bias[min(6u, last)], bias[min(7u, last)]);
    }
  } else {
    for (var k = 0u; k < nl; k++) {
      let x = z[zbase + k * S];
      if (k < 4u) { a0[k] = x; } else { a1[k - 4u] = x; }
    }
  }

  let obase = b * nl * S + s;
  if (params.from_codes != 0u) {
    var acc = 0.0;
    for (var k = 0u; k < nl; k++) {
      let c = pick(a0, a1, k);
      let hw = f32(tab[4u * k + 1u]);
      acc += (c * hw + hw) * f32(tab[4u * k + 2u]);
    }
    indices[r] = i32(acc);
    return;
  }
  var index = 0u;
  for (var k = 0u; k < nl; k++) {
    let u = pick(a0, a1, k);
    let dg = digit(k, u);
    let hw = tab[4u * k + 1u];
    codes[obase + k * S] = (f32(dg) - f32(hw)) / f32(hw);
    index += dg * tab[4u * k + 2u];
  }
  indices[r] = i32(index);
}
