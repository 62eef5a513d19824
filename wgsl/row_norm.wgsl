// row_norm: normalisation over the last dimension of x [rows, d], one workgroup per row.
//   RMS = false (LayerNorm): y = (x - mean) * rsqrt(var + eps) * w + b, var biased, two-pass
//                            (mean, then squared deviations; the row is re-read from cache).
//   RMS = true  (RMSNorm):   y = w * (x * rsqrt(mean(x^2) + eps)).
// AFFINE 0: no w, b.  1: w only (b = 0).  2: w and b.
//
// x:      array<f32>  [rows, d]
// weight: array<f32>  [d]   (any f32 tensor when AFFINE = 0: not read)
// bias:   array<f32>  [d]   (any f32 tensor when AFFINE < 2: not read)
// out:    array<f32>  [rows, d]
// Dispatch: rows workgroups, folded into (x, y). WG: a power of two, 16..256.

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override RMS: bool = false;
override AFFINE: u32 = 2;

struct Params {
  rows: u32,
  d: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// #include "lib/wg_reduce.wgsl"

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
  var mean = 0.0;
  if (!RMS) {
    var s = 0.0;
    for (var j = lid; j < d; j += WG) {
      s += x[base + j];
    }
    mean = wg_sum(s, lid) / n;
  }
  var q = 0.0;
  for (var j = lid; j < d; j += WG) {
    let v = x[base + j] - mean;
    q += v * v;
  }
  let rstd = inverseSqrt(wg_sum(q, lid) / n + params.eps);
  for (var j = lid; j < d; j += WG) {
    var y = (x[base + j] - mean) * rstd;
    if (AFFINE >= 1u) {
      y *= weight[j];
    }
    if (AFFINE == 2u) {
      y += bias[j];
    }
    out[base + j] = y;
  }
}
