// group_norm_stats: the statistics pass of GroupNorm. Each workgroup reduces one chunk of one
// normalisation set to (count, mean, M2), M2 = sum (v - mean)^2: every invocation runs Welford's
// update over its strided items, then the workgroup merges the invocations' triples with Chan's
// formula (lib/wg_tree.wgsl's radix-16 tree). Both stay accurate for |mean| >> std, where
// E[x^2] - E[x]^2 would cancel.
//
// A set is `rows` rows of `len` contiguous elements, `row_stride` apart, starting at
//   b * batch_stride + t * frame_stride + g * rows * row_stride
// for set index (b * frames + t) * groups + g. Standard GroupNorm: rows = C/G channels, len = T*H*W,
// row_stride = len, frames = 1. Frame-wise GroupNorm: rows = C/4, len = H*W, row_stride = T*H*W,
// frames = T, frame_stride = H*W. A chunk is `chunk` elements of one row (row r, segment seg):
// workgroup w = (set * rows + r) * segs + seg writes dst[w].
//
// PARTIALS = false: src holds the elements (each one is the triple (1, x, 0)).
// VEC4 (elements; every chunk starts at a multiple of 4 and holds a multiple of 4): read through
// src4 a vec4 at a time, each vec4 merged as its own (4, mean, M2): on lavapipe every load loops
// over the SIMD lanes, and a scalar load plus a Welford step per element bounded the pass.
// PARTIALS = true:  src holds (count, mean, M2) triples from a previous pass, merged the same way;
//                   the host sets rows = 1, len = number of partials per set, groups = sets.
//
// src: array<f32>  elements [B, C, ...] or triples [sets, len, 3] (src4: the same buffer as vec4s)
// dst: array<f32>  [sets * rows * segs, 3]  (count, mean, M2)
// Dispatch: sets * rows * segs workgroups (LANE_CHUNKS: / WG, rounded up), folded into (x, y).
// WG: a power of two, 16..256.

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override PARTIALS: bool = false;
override LANE_CHUNKS: bool = false;
override VEC4: bool = false;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> src4: array<vec4<f32>>;

// #include "lib/group_chunk.wgsl"

alias WgItem = vec3<f32>;

// Chan et al.: the (count, mean, M2) of the union of two disjoint sets.
fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  let d = b.y - a.y;
  let f = b.x / max(n, 1.0);
  return vec3(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

fn wg_combine(a: vec3<f32>, b: vec3<f32>, op: u32) -> vec3<f32> {
  return merge(a, b);
}

// #include "lib/wg_tree.wgsl"

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
  if (!workgroup_live(w)) {
    return;
  }
  let wk = walk_of(w, lid);
  let ch = chunk_of(min(wk.c, params.n_wg - 1u));
  let count = select(0u, ch.count, wk.live);

  var acc = vec3(0.0);
  if (VEC4) {
    for (var j = wk.first; j < count / 4u; j += wk.step) {
      let v = src4[ch.base / 4u + j];
      let m = (v.x + v.y + v.z + v.w) * 0.25;
      let d = v - vec4(m);
      acc = merge(acc, vec3(4.0, m, dot(d, d)));
    }
  } else {
    for (var j = wk.first; j < count; j += wk.step) {
      acc = merge(acc, item(ch.base + j));
    }
  }
  if (LANE_CHUNKS) {
    if (wk.live) {
      dst[3u * wk.c] = acc.x;
      dst[3u * wk.c + 1u] = acc.y;
      dst[3u * wk.c + 2u] = acc.z;
    }
    return;
  }
  let p = wg_reduce(acc, lid, 0u);
  if (lid == 0u) {
    dst[3u * w] = p.x;
    dst[3u * w + 1u] = p.y;
    dst[3u * w + 2u] = p.z;
  }
}
