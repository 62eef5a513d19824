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
// group_norm_vec4.wgsl is the same pass on vec4s.

alias Elem = f32;
const PER = 1u;

// #include "lib/group_norm_apply.wgsl"
