// fsq_round: finite scalar quantization of M rows (R rows per invocation), after an optional
// fused project_in linear.
//   u_k     = bias_k + sum_d w[k, d] * z[row, d]        (has_proj; else u_k = z[row, k])
//   bounded = tanh(u_k + shift_k) * half_l_k - offset_k, q_k = round_half_even(bounded)
//   code_k  = q_k / hw_k,  digit_k = q_k + hw_k,  index = sum_k digit_k * basis_k
// The level list is compiled in (overrides L0..L7 with upstream's float32 half_l H* and shift SH*,
// computed on the host), so the per-level work is register arithmetic. WGSL tanh is only
// accurate to a few ulp and `t * half_l - offset` may be contracted into an fma, either of which
// can flip a value lying exactly on .5; so wherever the GPU's `bounded` is within DELTA of a .5
// boundary the digit is recomputed exactly as #{ j : u_k >= thr_k[j] }, with the L_k - 1
// thresholds the host finds by bisection over float32 using upstream's float32 arithmetic (q is a
// monotone step function of u). Far from a boundary the GPU's error (~1e-6) cannot change the
// rounding, so the result is bit-exact with torch for every u. NaN u gives digit 0.
// from_codes = 1 runs upstream's codes_to_indices instead: u_k are normalised codes,
//   index = trunc(sum_k (u_k * hw_k + hw_k) * basis_k)   (exact for codes on the grid).
//
// z:       array<f32>  row r = (b, s), b = r / S, s = r % S: z[b*D*S + d*S + s], d < D
//          (channel-last: S = 1; channel-first NC(spatial): S = prod(spatial))
// w:       array<f32>  [NL, D] project_in weight (read only when has_proj)
// bias:    array<f32>  [NL] (read only when has_bias)
// tab:     array<u32>  per level k: tab[4k..4k+3] = L_k, hw_k, basis_k, first threshold slot t_k;
//          thresholds (f32 bits) at tab[32 + t_k + j], j < L_k - 1, ascending
// codes:   array<f32>  codes[b*NL*S + k*S + s] (not written when from_codes)
// indices: array<i32>  [M]
// Dispatch: ceil(M / (R * WG)) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override NL: u32 = 6;
override L0: u32 = 2;
override L1: u32 = 2;
override L2: u32 = 2;
override L3: u32 = 2;
override L4: u32 = 2;
override L5: u32 = 2;
override L6: u32 = 2;
override L7: u32 = 2;
override H0: f32 = 0.5;
override H1: f32 = 0.5;
override H2: f32 = 0.5;
override H3: f32 = 0.5;
override H4: f32 = 0.5;
override H5: f32 = 0.5;
override H6: f32 = 0.5;
override H7: f32 = 0.5;
override SH0: f32 = 0.0;
override SH1: f32 = 0.0;
override SH2: f32 = 0.0;
override SH3: f32 = 0.0;
override SH4: f32 = 0.0;
override SH5: f32 = 0.0;
override SH6: f32 = 0.0;
override SH7: f32 = 0.0;

struct Params {
  rows: u32,
  dim: u32,
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
// Distance from a .5 boundary below which the exact threshold count decides: ~1000x the error of
// tanh(x)·half_l on lavapipe, and still a rare branch (~0.2% of values).
const DELTA: f32 = 1e-3;

// Digit of a level with L values, float32 half_l and shift, and thresholds at tab[THR0 + slot ..];
// writes its code at codes[o].
fn level(slot: u32, L: u32, half_l: f32, shift: f32, u: f32, o: u32) -> u32 {
  let hw = L / 2u;
  let offset = select(0.0, 0.5, L % 2u == 0u);
  // |u + shift| > 15 saturates tanh in f32; the clamp keeps exp-based tanh away from inf/inf.
  let b = tanh(clamp(u + shift, -15.0, 15.0)) * half_l - offset;
  let q = round(b);
  var dg: u32;
  if (abs(b - q) < 0.5 - DELTA) {
    dg = u32(clamp(i32(q) + i32(hw), 0, i32(L) - 1));
  } else {
    // b is within DELTA of floor(b) + 0.5: the digit is lo or lo + 1, decided by threshold lo.
    let lo = u32(clamp(i32(floor(b)) + i32(hw), 0, i32(L) - 2));
    dg = lo + select(0u, 1u, u >= bitcast<f32>(tab[THR0 + slot + lo]));
  }
  codes[o] = (f32(dg) - f32(hw)) / f32(hw);
  return dg;
}

// Rows per invocation (R <= RMAX): each weight load serves R rows (on lavapipe loads, not FMAs,
// bound the projection; R = 8 measured 2x faster than R = 2 at D = 256).
override R: u32 = 8;
const RMAX: u32 = 8u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r0 = (flat_workgroup(wid, nwg) * WG + lid) * R;
  let M = params.rows;
  if (r0 >= M) {
    return;
  }
  let S = params.spatial;
  let D = params.dim;
  var zb: array<u32, RMAX>;
  var ob: array<u32, RMAX>;
  for (var i = 0u; i < R; i++) {
    let r = min(r0 + i, M - 1u);
    let b = r / S;
    let s = r - b * S;
    zb[i] = b * D * S + s;
    ob[i] = b * NL * S + s;
  }

  if (params.from_codes != 0u) {
    for (var i = 0u; i < R; i++) {
      var acc = 0.0;
      for (var k = 0u; k < NL; k++) {
        let hw = f32(tab[4u * k + 1u]);
        acc += (z[zb[i] + k * S] * hw + hw) * f32(tab[4u * k + 2u]);
      }
      if (r0 + i < M) {
        indices[r0 + i] = i32(acc);
      }
    }
    return;
  }

  // u[8 i + k]: level k of row r0 + i. Initialised explicitly: lavapipe does not re-zero an
  // uninitialised var (see vq_lookup.wgsl).
  var u = array<f32, 8 * RMAX>();
  if (params.has_proj != 0u) {
    for (var d = 0u; d < D; d++) {
      var x: array<f32, RMAX>;
      for (var i = 0u; i < R; i++) {
        x[i] = z[zb[i] + d * S];
      }
      for (var k = 0u; k < NL; k++) {
        let wk = w[k * D + d];
        for (var i = 0u; i < R; i++) {
          u[8u * i + k] = fma(x[i], wk, u[8u * i + k]);
        }
      }
    }
    if (params.has_bias != 0u) {
      for (var k = 0u; k < NL; k++) {
        for (var i = 0u; i < R; i++) {
          u[8u * i + k] += bias[k];
        }
      }
    }
  } else {
    for (var i = 0u; i < R; i++) {
      for (var k = 0u; k < NL; k++) {
        u[8u * i + k] = z[zb[i] + k * S];
      }
    }
  }

  // Unrolled over the compiled-in levels (NL is a constant, so the untaken calls vanish).
  for (var i = 0u; i < R; i++) {
    if (r0 + i < M) {
      let o = ob[i];
      let v = 8u * i;
      var index = level(0u, L0, H0, SH0, u[v], o);
      var basis = L0;
      var slot = L0 - 1u;
      if (NL > 1u) { index += level(slot, L1, H1, SH1, u[v + 1u], o + S) * basis; basis *= L1; slot += L1 - 1u; }
      if (NL > 2u) { index += level(slot, L2, H2, SH2, u[v + 2u], o + 2u * S) * basis; basis *= L2; slot += L2 - 1u; }
      if (NL > 3u) { index += level(slot, L3, H3, SH3, u[v + 3u], o + 3u * S) * basis; basis *= L3; slot += L3 - 1u; }
      if (NL > 4u) { index += level(slot, L4, H4, SH4, u[v + 4u], o + 4u * S) * basis; basis *= L4; slot += L4 - 1u; }
      if (NL > 5u) { index += level(slot, L5, H5, SH5, u[v + 5u], o + 5u * S) * basis; basis *= L5; slot += L5 - 1u; }
      if (NL > 6u) { index += level(slot, L6, H6, SH6, u[v + 6u], o + 6u * S) * basis; basis *= L6; slot += L6 - 1u; }
      if (NL > 7u) { index += level(slot, L7, H7, SH7, u[v + 7u], o + 7u * S) * basis; }
      indices[r0 + i] = i32(index);
    }
  }
}
