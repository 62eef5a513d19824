// layout_vec4: the layout strided copy (see wgsl/layout.wgsl) on 16-byte elements. The host
// uses it when, after merging dims, the innermost dim has unit stride on both sides and its
// extent, window, every stride and both bases are multiples of 4; all of them are then passed
// divided by 4, and pad_bits is splatted to the 4 lanes.
//
// src: array<vec4<u32>>  (any 4-byte dtype, copied bit-exactly)
// dst: array<vec4<u32>>
// Each invocation writes VEC consecutive vec4s; ceil(n / (VEC * WG)) workgroups, folded (x, y).

alias elem = vec4<u32>;

// #include "lib/strided_copy.wgsl"
