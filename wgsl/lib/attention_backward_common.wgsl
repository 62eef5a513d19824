// Shared by the flash-attention backward kernels: attention_backward_dq.wgsl (one query row per
// invocation, key tiles) and attention_backward_dkv.wgsl (one key row per invocation, query tiles).
// Tiling and the head-dim split are described in attention_backward_dq.wgsl's header. Params, the
// shared bindings and the masking rules come from lib/attention_backward_io.wgsl.
// #include "lib/attention_backward_io.wgsl"

override DSPLIT: u32 = 1;

const WG = 64u;
const CAP = 256u;
// Rows per tile (keys in dq, queries in dk/dv): the private score arrays' length.
const TMAX = 16u;

// Rows per workgroup: invocation lid owns row lid % BR and head-dim slice lid / BR.
override BR: u32 = WG / DSPLIT;
// (r * DSPLIT + slice) * tile + j < WG * tile, and tile <= CAP / hd4 = TMAX / DSPLIT when DSPLIT > 1.
override PART: u32 = select(1u, WG * TMAX / DSPLIT, DSPLIT > 1u);

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
