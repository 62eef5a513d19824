// Shared by attention_backward_sg_dq.wgsl and attention_backward_sg_dkv.wgsl: the subgroup
// kernels of the flash-attention backward for HD <= 64 (the layout of attention_rows.wgsl).
// Why: on lavapipe every storage load inside a loop runs as a branchy loop over the 8 SIMD lanes
// (even at a uniform address), so a vec4 load costs ~100 FMAs. A workgroup is one 8-lane subgroup;
// each lane owns one row (query in dq, key in dk/dv) with its head dims in private arrays (HD is
// an override, so head-dim loops unroll and the arrays are registers), and each row of the other
// side is loaded once per subgroup, spread over the lanes (lane L holds 16-byte slices L and
// 8 + L), and handed to every lane with subgroupBroadcast. The sweep loop's bound is a uniform
// and is not unrolled, and nothing else is: one small pipeline per HD. A lane per row (not 4 as
// in attention_rows) keeps its first compile short (figures: bench/README.md, Design measurements).
// No workgroup memory, no barriers. Params, the shared bindings and the masking rules come from
// lib/attention_backward_io.wgsl.
// #include "lib/attention_backward_io.wgsl"

// #include "lib/spread16.wgsl"

// Where lane `lane` loads its share of the row at vec4 index `row`: slices lane and 8 + lane,
// clamped into the row (spread_row zeroes those past HD4). `lane` is the subgroup_invocation_id
// (how local_invocation_index maps to lanes is unspecified). The kernels index their arrays
// directly (see ROW4MAX).
fn row_slices(row: u32, lane: u32) -> vec2<u32> {
  return vec2<u32>(row + min(lane, HD4 - 1u), row + min(lane + 8u, HD4 - 1u));
}

// The row of which this lane loaded slices a and b (row_slices), zero past HD4, given to every lane.
fn spread_row(a: vec4<f32>, b: vec4<f32>, lane: u32) -> array<vec4<f32>, 16> {
  return spread(select(vec4<f32>(0.0), a, lane < HD4), select(vec4<f32>(0.0), b, lane + 8u < HD4));
}
