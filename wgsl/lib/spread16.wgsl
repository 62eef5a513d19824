// Head rows of HD <= 64 floats spread over an 8-lane subgroup (attention_rows, the attention
// backward's subgroup kernels): lane L holds 16-byte slices L and 8 + L of a row.
override HD: u32 = 64;
override HD4: u32 = HD / 4u;

// Slices 0..15 of a row, slice L of `a` and 8 + L of `b` held by lane L, given to every lane.
fn spread(a: vec4<f32>, b: vec4<f32>) -> array<vec4<f32>, 16> {
  return array<vec4<f32>, 16>(
    subgroupBroadcast(a, 0u), subgroupBroadcast(a, 1u), subgroupBroadcast(a, 2u), subgroupBroadcast(a, 3u),
    subgroupBroadcast(a, 4u), subgroupBroadcast(a, 5u), subgroupBroadcast(a, 6u), subgroupBroadcast(a, 7u),
    subgroupBroadcast(b, 0u), subgroupBroadcast(b, 1u), subgroupBroadcast(b, 2u), subgroupBroadcast(b, 3u),
    subgroupBroadcast(b, 4u), subgroupBroadcast(b, 5u), subgroupBroadcast(b, 6u), subgroupBroadcast(b, 7u));
}
