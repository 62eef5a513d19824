// conv3d_causal_sg's weight loads and entry point (conv3d_causal_sg, conv3d_causal_sg_f16).
// #include "lib/conv3d_sg_weights.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(local_invocation_index) lid: u32) {
  conv_main(wid, nwg, lid, sid % 8u);
}
