// fsq_codes: FSQ indices -> normalised codes, with an optional fused project_out linear.
// One invocation per index (row); it keeps its nl <= 8 codes in registers and writes all D outputs.
//   digit_k = (idx / basis_k) % L_k   (computed as repeated div/mod by L_k: one u32 division per level)
//   code_k  = (digit_k - hw_k) / hw_k
//   out_j   = bias_j + sum_k w[j, k] * code_k     (has_proj; else out_k = code_k, D = nl)
// An index outside [0, n_codes) cannot be reported before the dispatch (the data is on the GPU):
// its output row is NaN and flag[0] is incremented atomically (the host validates host-side data).
//
// indices: array<i32>  [M], row r = (b, s), b = r / S, s = r % S
// w:       array<f32>  [D, nl] project_out weight (read only when has_proj)
// bias:    array<f32>  [D] (read only when has_bias)
// tab:     array<u32>  per level k: tab[4k..4k+3] = L_k, hw_k, basis_k, (unused here)
// out:     array<f32>  out[b*D*S + j*S + s]  (channel-last: S = 1; channel-first: S = prod(spatial))
// flag:    array<atomic<u32>> [1] count of out-of-range indices
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
  n_codes: u32,
}

@group(0) @binding(0) var<storage, read> indices: array<i32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> tab: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> flag: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> params: Params;

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
  let obase = b * D * S + s;
  let idx = indices[r];
  let bad = idx < 0 || u32(idx) >= params.n_codes;
  if (bad) {
    atomicAdd(&flag[0], 1u);
  }

  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var rem = u32(max(idx, 0));
  for (var k = 0u; k < nl; k++) {
    let L = tab[4u * k];
    let hw = f32(tab[4u * k + 1u]);
    let q = rem / L;
    let c = (f32(rem - q * L) - hw) / hw;
    rem = q;
    if (k < 4u) { c0[k] = c; } else { c1[k - 4u] = c; }
  }
  // A NaN constant is rejected by WGSL constant evaluation; build it from a runtime value.
  let nan = bitcast<f32>(0x7fc00000u | (params.rows & 0u));

  if (params.has_proj == 0u) {
    for (var k = 0u; k < nl; k++) {
      var c: f32;
      if (k < 4u) { c = c0[k]; } else { c = c1[k - 4u]; }
      out[obase + k * S] = select(c, nan, bad);
    }
    return;
  }
  // Levels k >= nl read a clamped weight column and multiply a zero code.
  let last = nl - 1u;
  let k1 = min(1u, last); let k2 = min(2u, last); let k3 = min(3u, last);
  let k4 = min(4u, last); let k5 = min(5u, last); let k6 = min(6u, last); let k7 = min(7u, last);
  for (var j = 0u; j < D; j++) {
    let wr = j * nl;
    var acc = dot(c0, vec4<f32>(w[wr], w[wr + k1], w[wr + k2], w[wr + k3]));
    if (nl > 4u) {
      acc += dot(c1, vec4<f32>(w[wr + k4], w[wr + k5], w[wr + k6], w[wr + k7]));
    }
    if (params.has_bias != 0u) {
      acc += bias[j];
    }
    out[obase + j * S] = select(acc, nan, bad);
  }
}
