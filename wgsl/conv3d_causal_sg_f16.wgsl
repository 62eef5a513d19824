// conv3d_causal_sg_f16: conv3d_causal_sg (see there) reading its packed weights as f16
// (PackedConvWeight.pack(w, { dtype: 'f16' })): half the weight bytes, f32 products and sums.

enable subgroups;
// #include "lib/spread8.wgsl"
// #include "lib/grid.wgsl"
// #include "lib/conv_w_f16.wgsl"
// #include "lib/conv3d_body.wgsl"
// #include "lib/conv3d_sg.wgsl"
