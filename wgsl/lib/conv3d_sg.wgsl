// conv3d_causal_sg's weight loads (conv3d_causal_sg, conv3d_causal_sg_f16): lane L < 8 loads
// weight vec4 L of the step; every lane gets all 8 (lib/spread8.wgsl).
fn weights_of(wk: u32, lane: u32) -> array<vec4<f32>, 8> {
  return spread8(wvec(wk + lane));
}

fn weight4(wl: array<vec4<f32>, 8>, wk: u32, i4: u32) -> vec4<f32> {
  return wl[i4];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(local_invocation_index) lid: u32) {
  conv_main(wid, nwg, lid, sid % 8u);
}
