// The packed weights of conv3d_causal (binding 2) in f32: wvec(i) is vec4 i of the packed blocks.
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;

fn wvec(i: u32) -> vec4<f32> {
  return w[i];
}
