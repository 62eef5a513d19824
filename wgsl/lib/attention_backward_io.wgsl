// Shared by every flash-attention backward kernel (the tiled attention_backward_dq/_dkv.wgsl via
// lib/attention_backward_common.wgsl, the subgroup attention_backward_sg_dq/_dkv.wgsl via
// lib/attention_backward_sg.wgsl): the Params uniform, the bindings they all read (q, k, v, mask,
// params; each kernel declares its own at 3, 4, 6, 7) and the forward's masking and causal rules.
// FMIN is the float32 minimum, the masked-score value (as the forward, attention.wgsl).
const FMIN = -0x1.fffffep+127f;

// hd4, d4, tk: used by the tiled kernels only (vec4s per row, per head-dim slice, rows per tile:
// keys in dq, queries in dk/dv); the subgroup kernels take HD as an override.
struct Params {
  lq: u32,
  lk: u32,
  nh: u32,
  scale: f32,
  causal: u32,
  has_mask: u32,
  mask_stride: u32,
  hd4: u32,
  d4: u32,
  tk: u32,
}

// vec4s in a private row array: a 64-dim head-dim slice (tiled kernels) or a whole row (HD <= 64).
// The kernels fill them from the module-scope arrays (no storage pointer parameters: wgsl/embed.mjs).
const ROW4MAX = 16u;

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

// Additive mask entry of key `key` in batch b: 0 without a mask or past lk.
fn key_mask(b: u32, key: u32) -> f32 {
  if (params.has_mask != 0u && key < params.lk) {
    return mask[b * params.mask_stride + key];
  }
  return 0.0;
}

// The forward's masked score (attention.wgsl) of the query at key position qpos and key `key`,
// mv = key_mask(b, key).
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

// Causal sweep bounds, query i seeing key j iff j <= lk - lq + i. Only without a key mask: a fully
// masked row spreads P = 1 / lk over every key, causally hidden ones included.
// End of the keys any of the queries q0..q0+rows-1 can see.
fn causal_key_end(q0: u32, rows: u32) -> u32 {
  if (params.causal != 0u && params.has_mask == 0u) {
    return min(params.lk, params.lk - params.lq + q0 + rows);
  }
  return params.lk;
}

// First query that sees any key from k0 on: queries below k0 - (lk - lq) see none of them.
fn causal_query_begin(k0: u32) -> u32 {
  let off = params.lk - params.lq;
  if (params.causal != 0u && params.has_mask == 0u && k0 > off) {
    return k0 - off;
  }
  return 0u;
}
