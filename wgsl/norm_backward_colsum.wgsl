// norm_backward_colsum: fixed-order column sums of a [rows, d] matrix, in chunks of rows_per rows:
//   out[c, j] = sum_{r in chunk c} v[r, j],   v = a * b * s[r] (PRODUCT) or a (not PRODUCT)
// One invocation per (chunk, column), rows in order; the host repeats with PRODUCT = false over the
// [chunks, d] result until one chunk is left. RMSNorm's dweight = sum_rows g x rstd (PRODUCT), and
// GroupNorm's dweight / dbias = sum over the batch of the [B, K] per-row sums.
//
// a, b: array<f32>  [rows, d]  (b: any f32 tensor when not PRODUCT: not read)
// s:    array<f32>  [rows]     (likewise)
// out:  array<f32>  [ceil(rows / rows_per), d]
// Dispatch: ceil(n / WG) workgroups, n = chunks * d, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override PRODUCT: bool = false;

struct Params {
  rows: u32,
  d: u32,
  rows_per: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= params.n) {
    return;
  }
  let j = i % params.d;
  let r0 = (i / params.d) * params.rows_per;
  let r1 = min(r0 + params.rows_per, params.rows);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    let k = r * params.d + j;
    if (PRODUCT) {
      acc += a[k] * b[k] * s[r];
    } else {
      acc += a[k];
    }
  }
  out[i] = acc;
}
