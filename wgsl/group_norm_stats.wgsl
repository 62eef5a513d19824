// group_norm_stats: the statistics pass of GroupNorm. Each workgroup reduces one chunk of one
// normalisation set to (count, mean, M2), M2 = sum (v - mean)^2, computed two-pass inside the chunk
// (sum -> mean, then squared deviations around that mean; the chunk is re-read from cache), which
// stays exact-ish for large means where E[x^2] - E[x]^2 would cancel.
//
// A set is `rows` rows of `len` contiguous elements, `row_stride` apart, starting at
//   b * batch_stride + t * frame_stride + g * rows * row_stride
// for set index (b * frames + t) * groups + g. Standard GroupNorm: rows = C/G channels, len = T*H*W,
// row_stride = len, frames = 1. Frame-wise GroupNorm: rows = C/4, len = H*W, row_stride = T*H*W,
// frames = T, frame_stride = H*W. A chunk is `chunk` elements of one row (row r, segment seg):
// workgroup w = (set * rows + r) * segs + seg writes dst[w].
//
// PARTIALS = false: src holds the elements (each one is (1, x, 0)).
// PARTIALS = true:  src holds (count, mean, M2) triples from a previous pass and the triples are
//                   merged the same way (mean = sum n m / N; M2 = sum M2_k + n_k (m_k - mean)^2);
//                   the host sets rows = 1, len = number of partials per set, groups = sets.
//
// src: array<f32>  elements [B, C, ...] or triples [sets, len, 3]
// dst: array<f32>  [sets * rows * segs, 3]  (count, mean, M2)
// Dispatch: sets * rows * segs workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override PARTIALS: bool = false;

struct Params {
  len: u32,
  rows: u32,
  row_stride: u32,
  frames: u32,
  frame_stride: u32,
  groups: u32,
  batch_stride: u32,
  chunk: u32,
  segs: u32,
  n_wg: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> red_n: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

// Tree sums over the workgroup (WG a power of two); the totals end up in element 0.
fn reduce2(lid: u32) {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      red_n[lid] += red_n[lid + s];
      red_s[lid] += red_s[lid + s];
    }
  }
  workgroupBarrier();
}

fn reduce1(lid: u32) {
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      red_s[lid] += red_s[lid + s];
    }
  }
  workgroupBarrier();
}

// (count, mean, M2) of one input item.
fn item(i: u32) -> vec3<f32> {
  if (PARTIALS) {
    return vec3(src[3u * i], src[3u * i + 1u], src[3u * i + 2u]);
  }
  return vec3(1.0, src[i], 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = flat_workgroup(wid, nwg);
  if (w >= params.n_wg) {
    return;
  }
  let seg = w % params.segs;
  let r = (w / params.segs) % params.rows;
  let si = w / (params.segs * params.rows);
  let g = si % params.groups;
  let t = (si / params.groups) % params.frames;
  let b = si / (params.groups * params.frames);
  let start = seg * params.chunk;
  let count = min(params.chunk, params.len - start);
  let base = b * params.batch_stride + t * params.frame_stride + (g * params.rows + r) * params.row_stride + start;

  var n = 0.0;
  var s = 0.0;
  for (var j = lid; j < count; j += WG) {
    let v = item(base + j);
    n += v.x;
    s += v.x * v.y;
  }
  red_n[lid] = n;
  red_s[lid] = s;
  reduce2(lid);
  let total = red_n[0];
  let mean = red_s[0] / total;
  workgroupBarrier();

  var m2 = 0.0;
  for (var j = lid; j < count; j += WG) {
    let v = item(base + j);
    let d = v.y - mean;
    m2 += v.z + v.x * d * d;
  }
  red_s[lid] = m2;
  reduce1(lid);
  if (lid == 0u) {
    dst[3u * w] = total;
    dst[3u * w + 1u] = mean;
    dst[3u * w + 2u] = red_s[0];
  }
}
