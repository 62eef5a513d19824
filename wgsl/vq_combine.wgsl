// vq_combine: the last pass of vq_lookup (kernels/vq_lookup.ts): idx[n] = the lexicographic
// (distance, index) minimum over the codebook slices' candidates part[s * N + n] that vq_lookup.wgsl
// or vq_lookup_sg.wgsl wrote, slices in order (ties keep the lowest index).
// part: array<vec2<u32>>  [splits, N] (bitcast<u32>(dist), index)
// idx:  array<i32>        [N]
// Dispatch: ceil(N / WG) workgroups, folded into (x, y).

// #include "lib/grid.wgsl"
// #include "lib/vq_params.wgsl"

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> part: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> idx: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = flat_workgroup(wid, nwg) * WG + lid;
  if (r >= params.n) {
    return;
  }
  var b = part[r];
  for (var s = 1u; s < params.splits; s++) {
    let p = part[s * params.n + r];
    let d = bitcast<f32>(p.x);
    let bd = bitcast<f32>(b.x);
    if (d < bd || (d == bd && p.y < b.y)) {
      b = p;
    }
  }
  idx[r] = i32(b.y);
}
