// fsq_round: finite scalar quantization of M rows (R rows per invocation), after an optional
// fused project_in linear.
//   u_k     = bias_k + sum_d w[k, d] * z[row, d]        (has_proj; else u_k = z[row, k])
//   bounded = tanh(u_k + shift_k) * half_l_k - offset_k, q_k = round_half_even(bounded)
//   code_k  = q_k / hw_k,  digit_k = q_k + hw_k,  index = sum_k digit_k * basis_k
// The level list is compiled in (overrides L0..L7 with upstream's float32 half_l H* and shift SH*,
// computed on the host), so the per-level work is register arithmetic (storage loads are per-lane
// gathers on lavapipe). q is a monotone step function of the f32 u, so the host finds its L_k - 1
// thresholds by bisection over float32 with upstream's float32 arithmetic; digit_k =
// #{ j : u_k >= thr_k[j] } is then bit-exact with torch for every u, including values on .5.
//   CONST_THR (<= 48 thresholds, e.g. [8,8,8,5,5,5] has 33): thresholds compiled in as T0..T47,
//     digit = L_k - 1 register compares (faster than the tanh below).
//   otherwise: WGSL tanh + round, which alone is NOT exact (tanh is a few ulp off, and
//     `t * half_l - offset` may become an fma; both flip values lying exactly on .5), so wherever
//     the GPU's bound is within DELTA of a .5 boundary one threshold from `tab` decides.
// NaN u gives an unspecified digit in [0, L_k).
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

// #include "lib/fsq_rows_main.wgsl"
// #include "lib/fsq_levels.wgsl"
// #include "lib/fsq_bound.wgsl"

// CONST_THR: the level list's thresholds are compiled in as T0..T47 (when they number <= 48).
override CONST_THR: bool = false;
override T0: f32 = 0.0;
override T1: f32 = 0.0;
override T2: f32 = 0.0;
override T3: f32 = 0.0;
override T4: f32 = 0.0;
override T5: f32 = 0.0;
override T6: f32 = 0.0;
override T7: f32 = 0.0;
override T8: f32 = 0.0;
override T9: f32 = 0.0;
override T10: f32 = 0.0;
override T11: f32 = 0.0;
override T12: f32 = 0.0;
override T13: f32 = 0.0;
override T14: f32 = 0.0;
override T15: f32 = 0.0;
override T16: f32 = 0.0;
override T17: f32 = 0.0;
override T18: f32 = 0.0;
override T19: f32 = 0.0;
override T20: f32 = 0.0;
override T21: f32 = 0.0;
override T22: f32 = 0.0;
override T23: f32 = 0.0;
override T24: f32 = 0.0;
override T25: f32 = 0.0;
override T26: f32 = 0.0;
override T27: f32 = 0.0;
override T28: f32 = 0.0;
override T29: f32 = 0.0;
override T30: f32 = 0.0;
override T31: f32 = 0.0;
override T32: f32 = 0.0;
override T33: f32 = 0.0;
override T34: f32 = 0.0;
override T35: f32 = 0.0;
override T36: f32 = 0.0;
override T37: f32 = 0.0;
override T38: f32 = 0.0;
override T39: f32 = 0.0;
override T40: f32 = 0.0;
override T41: f32 = 0.0;
override T42: f32 = 0.0;
override T43: f32 = 0.0;
override T44: f32 = 0.0;
override T45: f32 = 0.0;
override T46: f32 = 0.0;
override T47: f32 = 0.0;

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

// Compiled-in threshold i; i is a constant once the caller's loop is unrolled, so this folds.
fn thr(i: u32) -> f32 {
  switch i {
    case 0u: { return T0; } case 1u: { return T1; } case 2u: { return T2; } case 3u: { return T3; }
    case 4u: { return T4; } case 5u: { return T5; } case 6u: { return T6; } case 7u: { return T7; }
    case 8u: { return T8; } case 9u: { return T9; } case 10u: { return T10; } case 11u: { return T11; }
    case 12u: { return T12; } case 13u: { return T13; } case 14u: { return T14; } case 15u: { return T15; }
    case 16u: { return T16; } case 17u: { return T17; } case 18u: { return T18; } case 19u: { return T19; }
    case 20u: { return T20; } case 21u: { return T21; } case 22u: { return T22; } case 23u: { return T23; }
    case 24u: { return T24; } case 25u: { return T25; } case 26u: { return T26; } case 27u: { return T27; }
    case 28u: { return T28; } case 29u: { return T29; } case 30u: { return T30; } case 31u: { return T31; }
    case 32u: { return T32; } case 33u: { return T33; } case 34u: { return T34; } case 35u: { return T35; }
    case 36u: { return T36; } case 37u: { return T37; } case 38u: { return T38; } case 39u: { return T39; }
    case 40u: { return T40; } case 41u: { return T41; } case 42u: { return T42; } case 43u: { return T43; }
    case 44u: { return T44; } case 45u: { return T45; } case 46u: { return T46; }
    default: { return T47; }
  }
}

// Digit of a level with L values, float32 half_l and shift, and thresholds at slot.. (compiled in,
// or at tab[THR0 + slot ..]); writes its code at codes[o].
fn level(slot: u32, L: u32, half_l: f32, shift: f32, u: f32, o: u32) -> u32 {
  let hw = L / 2u;
  if (CONST_THR) {
    // The exact definition, all in registers: L - 1 compares (no tanh, no loads).
    var dg = 0u;
    for (var j = 0u; j < L - 1u; j++) {
      dg += select(0u, 1u, u >= thr(slot + j));
    }
    codes[o] = (f32(dg) - f32(hw)) / f32(hw);
    return dg;
  }
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

// Rows r0..r0+R-1 of M, called by the entry point in lib/fsq_rows_main.wgsl.
fn fsq_rows(r0: u32, M: u32, S: u32, D: u32) {
  var zb: array<u32, RMAX>;
  var ob: array<u32, RMAX>;
  for (var i = 0u; i < R; i++) {
    let r = min(r0 + i, M - 1u);
    zb[i] = fsq_row_base(r, D, S);
    ob[i] = fsq_row_base(r, NL, S);
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
