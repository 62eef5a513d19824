// B of the packed GEMM / GEMV shaders stored as f16 (pack_blocks_f16, binding 1): vec4 i of the
// packed blocks is the 4 halves in b[i], widened to f32 (the products and sums stay f32).
@group(0) @binding(1) var<storage, read> b: array<vec2<u32>>;

fn b4(i: u32) -> vec4<f32> {
  let h = b[i];
  return vec4(unpack2x16float(h.x), unpack2x16float(h.y));
}
