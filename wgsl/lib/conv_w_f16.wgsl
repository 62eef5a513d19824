// The packed weights of conv3d_causal (binding 2) stored as f16 (pack_blocks_f16): vec4 i of the
// packed blocks is the 4 halves in w[i], widened to f32 (the products and sums stay f32).
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>;

fn wvec(i: u32) -> vec4<f32> {
  let h = w[i];
  return vec4(unpack2x16float(h.x), unpack2x16float(h.y));
}
