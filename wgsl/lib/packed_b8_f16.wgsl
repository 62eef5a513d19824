// The GEMV's view of an f16 packed B (pack_blocks_f16, binding 1): b8(i) = columns 8 s .. 8 s + 7
// of packed row r, i = r R8 + s: 8 halves in one vec4<u32>, widened to f32.
@group(0) @binding(1) var<storage, read> b: array<vec4<u32>>;

fn b8(i: u32) -> array<vec4<f32>, 2> {
  let h = b[i];
  return array<vec4<f32>, 2>(vec4(unpack2x16float(h.x), unpack2x16float(h.y)), vec4(unpack2x16float(h.z), unpack2x16float(h.w)));
}
