// group_norm: the apply pass of GroupNorm, after group_norm_stats has reduced every set to
// (count, mean, M2):
//   y = (x - mean) * rsqrt(M2 / count + eps) * w' + b'      then y = silu(y) if SILU
// AFFINE 0: w' = 1, b' = 0.  AFFINE 1: w' = weight[k], b' = bias[k].
// AFFINE 2 (AdaGroupNorm): w' = 1 + weight[k], b' = bias[k], weight/bias = scale/shift [B, C].
// with k = b * aff_b + t * aff_t + c (c the channel): standard [C] (aff_b = aff_t = 0), frame-wise
// [T*C] (aff_t = C), AdaGroupNorm [B, C] (aff_b = C).
//
// Set and chunk geometry exactly as in group_norm_stats.wgsl (one workgroup per chunk of one row,
// so the channel, and with it the affine pair, is uniform across the workgroup).
// x:      array<f32>  [B, C, ...]
// stats:  array<f32>  [sets, 3]  (count, mean, M2)
// weight: array<f32>  affine scale (any f32 tensor when AFFINE = 0: not read)
// bias:   array<f32>  affine shift (likewise)
// out:    array<f32>  same layout as x
// Dispatch: sets * rows * segs workgroups (LANE_CHUNKS: / WG, rounded up), folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 256;
override AFFINE: u32 = 1;
override SILU: bool = false;
override LANE_CHUNKS: bool = false;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> stats: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// #include "lib/group_chunk.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wk = walk_of(flat_workgroup(wid, nwg), lid);
  if (!wk.live) {
    return;
  }
  let ch = chunk_of(wk.c);

  let mean = stats[3u * ch.si + 1u];
  var a = inverseSqrt(stats[3u * ch.si + 2u] / stats[3u * ch.si] + params.eps);
  var shift = 0.0;
  if (AFFINE != 0u) {
    let k = ch.b * params.aff_b + ch.t * params.aff_t + ch.g * params.rows + ch.r;
    a *= select(weight[k], 1.0 + weight[k], AFFINE == 2u);
    shift = bias[k];
  }
  for (var j = wk.first; j < ch.count; j += wk.step) {
    // (x - mean) first: x * a + (shift - mean * a) would cancel when |mean| >> std.
    var y = (x[ch.base + j] - mean) * a + shift;
    if (SILU) {
      y = y / (1.0 + exp(-y));
    }
    out[ch.base + j] = y;
  }
}
