// norm_backward_gn: the two streaming passes of the GroupNorm backward (kernels/norm_backward.ts).
// Forward, per set (mean, rstd from group_norm_stats' (count, mean, M2)):
//   xhat = (x - mean) * rstd,  z = xhat * w' + b',  y = silu(z) if SILU else z
// with w', b' as in group_norm.wgsl (AFFINE 0: 1, 0; 1: weight[k], bias[k]; 2: 1 + scale[k], shift[k];
// k = b * aff_b + t * aff_t + c). Backward, gz = dL/dz = g * silu'(z) (z recomputed here, never stored):
//   DX = false: each workgroup reduces one chunk of one row to (sum gz, sum gz * xhat) -> out[2w..2w+1]
//   DX = true:  dx = rstd * (w' gz - S1 / N - xhat * S2 / N), S1 = sum_set w' gz, S2 = sum_set w' gz xhat
//               from set_sums (norm_backward_gn_sets.wgsl), N = count.
// Set and chunk geometry exactly as in group_norm_stats.wgsl (the channel, hence w' and b', is uniform
// across a workgroup).
//
// x, g:     array<f32>  [B, C, ...]
// stats:    array<f32>  [sets, 3]  (count, mean, M2)
// weight:   array<f32>  affine scale (any f32 tensor when AFFINE = 0: not read); bias likewise
// set_sums: array<f32>  [sets, 2]  (S1, S2); DX = true only (any f32 tensor otherwise)
// out:      array<f32>  DX = false: [n_wg, 2] partial sums; DX = true: dx, the layout of x
// Dispatch: n_wg = sets * rows * segs workgroups (LANE_CHUNKS: / WG, rounded up), folded into
// (x, y). WG: a power of two, 16..256.

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override AFFINE: u32 = 1;
override SILU: bool = false;
override DX: bool = false;
override LANE_CHUNKS: bool = false;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> set_sums: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

// #include "lib/group_chunk.wgsl"
// #include "lib/norm_backward_sum2.wgsl"

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

  let n = stats[3u * ch.si];
  let mean = stats[3u * ch.si + 1u];
  let rstd = inverseSqrt(stats[3u * ch.si + 2u] / n + params.eps);
  var a = 1.0;
  var shift = 0.0;
  if (AFFINE != 0u) {
    let k = ch.b * params.aff_b + ch.t * params.aff_t + ch.g * params.rows + ch.r;
    a = select(weight[k], 1.0 + weight[k], AFFINE == 2u);
    shift = bias[k];
  }

  var m1 = 0.0;
  var m2 = 0.0;
  if (DX) {
    m1 = set_sums[2u * ch.si] / n;
    m2 = set_sums[2u * ch.si + 1u] / n;
  }
  var acc = vec2(0.0);
  for (var j = wk.first; j < count; j += wk.step) {
    let xh = (x[ch.base + j] - mean) * rstd;
    var gz = g[ch.base + j];
    if (SILU) {
      let z = xh * a + shift;
      let s = 1.0 / (1.0 + exp(-z));
      gz *= s * (1.0 + z * (1.0 - s));
    }
    if (DX) {
      out[ch.base + j] = rstd * (a * gz - m1 - xh * m2);
    } else {
      acc += vec2(gz, gz * xh);
    }
  }
  if (DX) {
    return;
  }

  if (LANE_CHUNKS) {
    if (wk.live) {
      out[2u * wk.c] = acc.x;
      out[2u * wk.c + 1u] = acc.y;
    }
    return;
  }
  // The chunk's two sums in a fixed order (a radix-16 tree, as group_norm_stats).
  let p = wg_sum2(acc, lid);
  if (lid == 0u) {
    out[2u * w] = p.x;
    out[2u * w + 1u] = p.y;
  }
}
