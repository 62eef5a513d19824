// Shared by the flash-attention backward kernels: attention_backward_dq.wgsl (one query row per
// invocation, key tiles) and attention_backward_dkv.wgsl (one key row per invocation, query tiles).
// Tiling and the head-dim split are described in attention_backward_dq.wgsl's header. Declares the
// bindings both kernels read (q, k, v, mask, params); each kernel declares its own at 3, 4, 6, 7.
override DSPLIT: u32 = 1;

const WG = 64u;
const CAP = 256u;
// Rows per tile (keys in dq, queries in dk/dv): the private score arrays' length.
const TMAX = 16u;
const DPI4MAX = 16u;
const FMIN = -0x1.fffffep+127f;

// Rows per workgroup: invocation lid owns row lid % BR and head-dim slice lid / BR.
override BR: u32 = WG / DSPLIT;
// (r * DSPLIT + slice) * tile + j < WG * tile, and tile <= CAP / hd4 = TMAX / DSPLIT when DSPLIT > 1.
override PART: u32 = select(1u, WG * TMAX / DSPLIT, DSPLIT > 1u);

// tk: rows per tile (keys in dq, queries in dk/dv).
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

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

// Per-slice partials [BR][DSPLIT][tk] of (score, dP); only used when DSPLIT > 1.
var<workgroup> part: array<vec2<f32>, PART>;

// Zeroed (score, dP) accumulators of one tile. Zeroed by hand: this Dawn/lavapipe stack does not
// re-zero a `var` declared in a loop body on every iteration (the tests fail without the loop).
fn zero_scores() -> array<vec2<f32>, TMAX> {
  var t: array<vec2<f32>, TMAX>;
  for (var j = 0u; j < params.tk; j++) {
    t[j] = vec2<f32>(0.0);
  }
  return t;
}

// Sums the DSPLIT slice partials of row r (fixed slice order). Call from uniform control flow.
fn reduce_slices(r: u32, sl: u32, a: array<vec2<f32>, TMAX>) -> array<vec2<f32>, TMAX> {
  if (DSPLIT == 1u) {
    return a;
  }
  for (var j = 0u; j < params.tk; j++) {
    part[(r * DSPLIT + sl) * params.tk + j] = a[j];
  }
  workgroupBarrier();
  var t: array<vec2<f32>, TMAX>;
  for (var j = 0u; j < params.tk; j++) {
    var x = vec2<f32>(0.0);
    for (var u = 0u; u < DSPLIT; u++) {
      x += part[(r * DSPLIT + u) * params.tk + j];
    }
    t[j] = x;
  }
  return t;
}

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
