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

const RADIX: u32 = 16u;
var<workgroup> part: array<f32, WG>;
var<workgroup> part2: array<f32, 16>;

// Workgroup sum of v; every invocation gets the total. A radix-16 tree (2 barriers): on lavapipe
// each barrier switches through every SIMD group of the workgroup, so a binary tree costs more.
// Safe to call back to back: part is only rewritten after every invocation has passed the
// barrier that follows its last read of part, and likewise for part2.
fn workgroup_sum(v: f32, lid: u32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  if (lid < WG / RADIX) {
    var p = 0.0;
    for (var k = 0u; k < RADIX; k++) {
      p += part[lid * RADIX + k];
    }
    part2[lid] = p;
  }
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < WG / RADIX; k++) {
    total += part2[k];
  }
  return total;
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
  var mean = 0.0;
  if (!RMS) {
    var s = 0.0;
    for (var j = lid; j < d; j += WG) {
      s += x[base + j];
    }
    mean = workgroup_sum(s, lid) / n;
  }
  var q = 0.0;
  for (var j = lid; j < d; j += WG) {
    let v = x[base + j] - mean;
    q += v * v;
  }
  let rstd = inverseSqrt(workgroup_sum(q, lid) / n + params.eps);
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
