// Shared by attention_backward_sg_dq.wgsl and attention_backward_sg_dkv.wgsl: the subgroup
// kernels of the flash-attention backward for HD <= 64 (the layout of attention_rows.wgsl).
// Why: on lavapipe every storage load inside a loop runs as a branchy loop over the 8 SIMD lanes
// (even at a uniform address), so a vec4 load costs ~100 FMAs. A workgroup is one 8-lane subgroup;
// each lane owns one row (query in dq, key in dk/dv) with its head dims in private arrays (HD is
// an override, so head-dim loops unroll and the arrays are registers), and each row of the other
// side is loaded once per subgroup, spread over the lanes (lane L holds 16-byte slices L and
// 8 + L), and handed to every lane with subgroupBroadcast. The sweep loop's bound is a uniform
// and is not unrolled, and nothing else is: one small pipeline per HD (first compile ~2 s at
// HD = 64, uncached). A lane per row (not 4 as in attention_rows) keeps that compile short.
// No workgroup memory, no barriers.
override HD: u32 = 64;
override HD4: u32 = HD / 4u;

const FMIN = -0x1.fffffep+127f;

struct Params {
  lq: u32,
  lk: u32,
  nh: u32,
  scale: f32,
  causal: u32,
  has_mask: u32,
  mask_stride: u32,
}

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

// Slices 0..15 of a row, slice L of `a` and 8 + L of `b` held by lane L, given to every lane.
fn spread(a: vec4<f32>, b: vec4<f32>) -> array<vec4<f32>, 16> {
  return array<vec4<f32>, 16>(
    subgroupBroadcast(a, 0u), subgroupBroadcast(a, 1u), subgroupBroadcast(a, 2u), subgroupBroadcast(a, 3u),
    subgroupBroadcast(a, 4u), subgroupBroadcast(a, 5u), subgroupBroadcast(a, 6u), subgroupBroadcast(a, 7u),
    subgroupBroadcast(b, 0u), subgroupBroadcast(b, 1u), subgroupBroadcast(b, 2u), subgroupBroadcast(b, 3u),
    subgroupBroadcast(b, 4u), subgroupBroadcast(b, 5u), subgroupBroadcast(b, 6u), subgroupBroadcast(b, 7u));
}

// Row `row` (a vec4 index) of t, loaded spread over the lanes and given to every lane; zero past HD.
fn load_row(t: ptr<storage, array<vec4<f32>>, read>, row: u32, lid: u32) -> array<vec4<f32>, 16> {
  let a = select(vec4<f32>(0.0), (*t)[row + min(lid, HD4 - 1u)], lid < HD4);
  let b = select(vec4<f32>(0.0), (*t)[row + min(lid + 8u, HD4 - 1u)], lid + 8u < HD4);
  return spread(a, b);
}

// Additive mask entry of key `key` in batch b: 0 without a mask or past lk.
fn key_mask(b: u32, key: u32) -> f32 {
  if (params.has_mask != 0u && key < params.lk) {
    return mask[b * params.mask_stride + key];
  }
  return 0.0;
}

// The forward's masked score of the query at key position qpos and key `key`, mv = key_mask(b, key).
fn masked(s: f32, mv: f32, key: u32, qpos: u32) -> f32 {
  var x = s;
  if (params.has_mask != 0u) {
    x = max(x + mv, FMIN);
  }
  if (params.causal != 0u && key > qpos) {
    x = FMIN;
  }
  return x;
}
