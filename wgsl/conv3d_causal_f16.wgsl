// conv3d_causal_f16: conv3d_causal (see there: math, layouts, blocking, summation order) reading
// its packed weights as f16 (PackedConvWeight.pack(w, { dtype: 'f16' })): half the weight bytes,
// f32 products and sums.

// #include "lib/grid.wgsl"
// #include "lib/conv_w_f16.wgsl"
// #include "lib/conv3d_body.wgsl"
// #include "lib/conv3d_lane.wgsl"
