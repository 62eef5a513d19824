// The GEMV's view of an f32 packed B (binding 1): b8(i) = columns 8 s .. 8 s + 7 of packed row r,
// i = r R8 + s (vec4s 2 i and 2 i + 1 of the blocks).
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;

fn b8(i: u32) -> array<vec4<f32>, 2> {
  return array<vec4<f32>, 2>(b[2u * i], b[2u * i + 1u]);
}
