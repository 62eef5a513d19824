// norm_backward_gn_sets: between the two passes of norm_backward_gn.wgsl, one invocation per
// normalisation set sums the chunk partials (sum gz, sum gz * xhat), in chunk order, to
//   sum_g[row], sum_gx[row]    per channel row, row = set * rows + r = (b * frames + t) * C + c
//                              (so [B, C] or [B, T, C]: AdaGroupNorm's dshift / dscale as they are)
//   set_sums[set] = (S1, S2) = (sum_r w'_r sum_g[row], sum_r w'_r sum_gx[row])
// with w' as in group_norm.wgsl (AFFINE 0: 1; 1: weight[k]; 2: 1 + weight[k]). Sequential fixed-order
// sums: a set has rows * segs partials (set size / 4096 for large sets), so this pass is tiny.
//
// part:     array<f32>  [sets * rows * segs, 2]
// weight:   array<f32>  affine scale (any f32 tensor when AFFINE = 0: not read)
// sum_g:    array<f32>  [sets * rows]
// sum_gx:   array<f32>  [sets * rows]
// set_sums: array<f32>  [sets, 2]
// Dispatch: ceil(sets / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"

override WG: u32 = 64;
override AFFINE: u32 = 1;

struct Params {
  sets: u32,
  rows: u32,
  segs: u32,
  frames: u32,
  groups: u32,
  aff_b: u32,
  aff_t: u32,
}

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> sum_gx: array<f32>;
@group(0) @binding(4) var<storage, read_write> set_sums: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let si = flat_workgroup(wid, nwg) * WG + lid;
  if (si >= params.sets) {
    return;
  }
  let gi = si % params.groups;
  let t = (si / params.groups) % params.frames;
  let b = si / (params.groups * params.frames);
  var s1 = 0.0;
  var s2 = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let row = si * params.rows + r;
    var a = vec2(0.0);
    for (var seg = 0u; seg < params.segs; seg++) {
      let p = 2u * (row * params.segs + seg);
      a += vec2(part[p], part[p + 1u]);
    }
    sum_g[row] = a.x;
    sum_gx[row] = a.y;
    var w = 1.0;
    if (AFFINE != 0u) {
      let k = b * params.aff_b + t * params.aff_t + gi * params.rows + r;
      w = select(weight[k], 1.0 + weight[k], AFFINE == 2u);
    }
    s1 += w * a.x;
    s2 += w * a.y;
  }
  set_sums[2u * si] = s1;
  set_sums[2u * si + 1u] = s2;
}
