// conv3d_causal_row4: conv3d_causal_sg (weights spread by subgroupBroadcast, RM = 32) for 3-column
// stride-1 kernels on frames whose width is a multiple of 4: 4 adjacent positions of a row per
// invocation, read as aligned vec4s (lib/conv3d_row4_body.wgsl). Same math and layouts as
// conv3d_causal (see there); the summation order puts ci before the column tap.
//
// Dispatch: (ceil(HO * W / 4 / WG), ceil(Cout / RM), B*T).

enable subgroups;
// #include "lib/spread8.wgsl"
// #include "lib/conv_w_f32.wgsl"
// #include "lib/conv3d_row4_body.wgsl"
// #include "lib/conv3d_sg_weights.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(local_invocation_index) lid: u32) {
  conv_row4_main(wid, lid, sid % 8u);
}
