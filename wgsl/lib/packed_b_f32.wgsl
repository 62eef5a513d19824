// B of the packed GEMM / GEMV shaders in f32 (binding 1): b4(i) is vec4 i of the packed blocks.
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;

fn b4(i: u32) -> vec4<f32> {
  return b[i];
}
