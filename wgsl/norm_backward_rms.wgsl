// norm_backward_rms: dx of RMSNorm y = w * x * r, r = rsqrt(mean(x^2) + eps) (row_norm.wgsl, RMS),
// one workgroup per row of x [rows, d]:
//   dx = r * (w g - x * r^2 * sum_j(w_j g_j x_j) / d)
// and r per row, for the column reduction of dweight = sum_rows g x r (norm_backward_colsum.wgsl).
// The two row sums (x^2, w g x) are strided partial sums plus a radix-16 tree: a fixed order.
//
// x, g:   array<f32>  [rows, d]
// weight: array<f32>  [d]
// dx:     array<f32>  [rows, d]
// rstd:   array<f32>  [rows]
// Dispatch: rows workgroups, folded into (x, y). WG: a power of two, 16..256.

// #include "lib/grid.wgsl"

override WG: u32 = 32;

struct Params {
  rows: u32,
  d: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/norm_backward_sum2.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  let d = params.d;
  let base = row * d;
  var acc = vec2(0.0);
  for (var j = lid; j < d; j += WG) {
    let v = x[base + j];
    acc += vec2(v * v, weight[j] * g[base + j] * v);
  }
  // The row's two sums in a fixed order (a radix-16 tree, as row_norm.wgsl), in every invocation.
  let total = wg_sum2(acc, lid);
  let n = f32(d);
  let r = inverseSqrt(total.x / n + params.eps);
  let c = r * r * total.y / n;
  for (var j = lid; j < d; j += WG) {
    dx[base + j] = r * (weight[j] * g[base + j] - x[base + j] * c);
  }
  if (lid == 0u) {
    rstd[row] = r;
  }
}
