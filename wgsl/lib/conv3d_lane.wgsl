// conv3d_causal's per-lane weight loads (conv3d_causal, conv3d_causal_f16): every lane loads its
// own weights, nothing is spread.
fn weights_of(wk: u32, lane: u32) -> array<vec4<f32>, 8> {
  return array<vec4<f32>, 8>();
}

fn weight4(wl: array<vec4<f32>, 8>, wk: u32, i4: u32) -> vec4<f32> {
  return wvec(wk + i4);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  conv_main(wid, nwg, lid, 0u);
}
