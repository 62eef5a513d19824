// fsq_codes: FSQ indices -> normalised codes, with an optional fused project_out linear.
// Each invocation decodes R rows (indices) into registers and writes their D outputs; the level
// list is compiled in (overrides NL, L0..L7), so the digit divisions are by constants.
//   digit_k = (idx / basis_k) % L_k   (repeated div/mod by L_k)
//   code_k  = (digit_k - hw_k) / hw_k
//   out_j   = bias_j + sum_k w[j, k] * code_k     (has_proj; else out_k = code_k, D = NL)
// An index outside [0, n_codes) cannot be reported before the dispatch (the data is on the GPU):
// its output row is NaN and flag[0] is incremented atomically (the host validates host-side data).
//
// indices: array<i32>  [M], row r = (b, s), b = r / S, s = r % S
// w:       array<f32>  [D, NL] project_out weight (read only when has_proj)
// bias:    array<f32>  [D] (read only when has_bias)
// out:     array<f32>  out[b*D*S + j*S + s]  (channel-last: S = 1; channel-first: S = prod(spatial))
// flag:    array<atomic<u32>> [1] count of out-of-range indices
// Dispatch: ceil(M / (R * WG)) workgroups, folded into (x, y).

// #include "lib/fsq_rows_main.wgsl"
// #include "lib/fsq_levels.wgsl"

struct Params {
  rows: u32,
  dim: u32,
  spatial: u32,
  has_proj: u32,
  has_bias: u32,
  n_codes: u32,
}

@group(0) @binding(0) var<storage, read> indices: array<i32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(5) var<uniform> params: Params;

// Rows r0..r0+R-1 of M, called by the entry point in lib/fsq_rows_main.wgsl.
fn fsq_rows(r0: u32, M: u32, S: u32, D: u32) {
  // A NaN constant is rejected by WGSL constant evaluation; build it from a runtime value.
  let nan = bitcast<f32>(0x7fc00000u | (M & 0u));
  var ob: array<u32, RMAX>;
  var bad: array<bool, RMAX>;
  // c[8 i + k]: code k of row r0 + i. Initialised explicitly: lavapipe does not re-zero an
  // uninitialised var (see vq_lookup.wgsl).
  var c = array<f32, 8 * RMAX>();
  for (var i = 0u; i < R; i++) {
    let r = min(r0 + i, M - 1u);
    ob[i] = fsq_row_base(r, D, S);
    let idx = indices[r];
    bad[i] = idx < 0 || u32(idx) >= params.n_codes;
    if (bad[i] && r0 + i < M) {
      atomicAdd(&flag[0], 1u);
    }
    var rem = u32(max(idx, 0));
    for (var k = 0u; k < NL; k++) {
      let L = fsq_level(k);
      let hw = f32(L / 2u);
      let q = rem / L;
      c[8u * i + k] = (f32(rem - q * L) - hw) / hw;
      rem = q;
    }
  }

  if (params.has_proj == 0u) {
    for (var i = 0u; i < R; i++) {
      if (r0 + i < M) {
        for (var k = 0u; k < NL; k++) {
          out[ob[i] + k * S] = select(c[8u * i + k], nan, bad[i]);
        }
      }
    }
    return;
  }
  for (var j = 0u; j < D; j++) {
    var wj: array<f32, 8>;
    for (var k = 0u; k < NL; k++) {
      wj[k] = w[j * NL + k];
    }
    let bj = select(0.0, bias[j], params.has_bias != 0u);
    for (var i = 0u; i < R; i++) {
      var acc = bj;
      for (var k = 0u; k < NL; k++) {
        acc = fma(wj[k], c[8u * i + k], acc);
      }
      if (r0 + i < M) {
        out[ob[i] + j * S] = select(acc, nan, bad[i]);
      }
    }
  }
}
