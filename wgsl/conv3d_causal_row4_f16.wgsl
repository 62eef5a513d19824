// conv3d_causal_row4_f16: conv3d_causal_row4 (see there) reading its packed weights as f16
// (PackedConvWeight.pack(w, { dtype: 'f16' })): half the weight bytes, f32 products and sums.
//
// Dispatch: (ceil(HO * W / 4 / WG), ceil(Cout / RM), B*T).

enable subgroups;
// #include "lib/spread8.wgsl"
// #include "lib/conv_w_f16.wgsl"
// #include "lib/conv3d_row4_body.wgsl"
// #include "lib/conv3d_sg_weights.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32,
        @builtin(local_invocation_index) lid: u32) {
  conv_row4_main(wid, lid, sid % 8u);
}
