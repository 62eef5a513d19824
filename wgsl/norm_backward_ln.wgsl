// norm_backward_ln: dx of LayerNorm y = xhat * w + b, xhat = (x - mean) * rstd, rstd = rsqrt(var + eps),
// var biased (row_norm.wgsl, not RMS), one workgroup per row of x [rows, d]; with gw = g * w:
//   dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat))
// and, with WEIGHT, g * xhat for the column reduction of dweight (norm_backward_colsum.wgsl).
// Two passes over the row, as the forward: (sum x, sum gw), then with the mean known the centred
// sums (sum c, sum c^2, sum gw c), c = x - mean, so a large mean does not cancel (sum c corrects the
// mean's own rounding); mean(gw xhat) = rstd * sum(gw c) / d. Each sum is strided partial sums plus
// a radix-16 tree: a fixed order.
//
// x, g:   array<f32>  [rows, d]
// weight: array<f32>  [d]        (any f32 tensor when not WEIGHT: not read)
// dx:     array<f32>  [rows, d]
// gxh:    array<f32>  [rows, d]  (any writable f32 tensor when not WEIGHT: not written)
// Dispatch: rows workgroups, folded into (x, y). WG: a power of two, 16..256.

// #include "lib/grid.wgsl"

override WG: u32 = 32;
override WEIGHT: bool = false;

struct Params {
  rows: u32,
  d: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> gxh: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/norm_backward_sum2.wgsl"

fn gw(j: u32, k: u32) -> f32 {
  if (WEIGHT) {
    return g[k] * weight[j];
  }
  return g[k];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = flat_workgroup(wid, nwg);
  if (row >= params.rows) {
    return;
  }
  let d = params.d;
  let base = row * d;
  let n = f32(d);
  var acc = vec2(0.0);
  for (var j = lid; j < d; j += WG) {
    acc += vec2(x[base + j], gw(j, base + j));
  }
  let s1 = wg_sum2(acc, lid);
  let mean = s1.x / n;
  acc = vec2(0.0);
  var sgc = 0.0;
  for (var j = lid; j < d; j += WG) {
    let c = x[base + j] - mean;
    acc += vec2(c, c * c);
    sgc += gw(j, base + j) * c;
  }
  let s2 = wg_sum2(acc, lid);
  let s3 = wg_sum2(vec2(sgc, 0.0), lid);
  // The f32 mean is off by delta = sum(c) / d (the rounding of sum(x), ~1e-7 |mean|); the centred sums
  // are corrected to the exact mean: sum (c - delta)^2 = sum c^2 - d delta^2, sum gw (c - delta) =
  // sum gw c - delta sum gw, and c - delta below.
  let delta = s2.x / n;
  let rstd = inverseSqrt(max(s2.y / n - delta * delta, 0.0) + params.eps);
  let mg = s1.y / n;
  // xhat * mean(gw xhat) = c * rstd^2 * sum(gw c) / d.
  let k = rstd * rstd * (s3.x - delta * s1.y) / n;
  for (var j = lid; j < d; j += WG) {
    let c = (x[base + j] - mean) - delta;
    dx[base + j] = rstd * (gw(j, base + j) - mg - c * k);
    if (WEIGHT) {
      gxh[base + j] = g[base + j] * (c * rstd);
    }
  }
}
