// group_norm_vec4: group_norm.wgsl's apply pass on vec4s, where every chunk starts at a multiple
// of 4 and holds a multiple of 4 elements (as group_norm_stats' VEC4): on lavapipe every storage
// access loops over the SIMD lanes, so a vec4 load and store a lane replace four of each.

alias Elem = vec4<f32>;
const PER = 4u;

// #include "lib/group_norm_apply.wgsl"
