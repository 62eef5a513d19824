// RoPE's table lookup and rotation, shared by rope.wgsl and rope_qkv.wgsl: positions (binding 1)
// and the cos/sin tables (bindings 2, 3); the including shader's params has half, max_pos and
// pos_stride_b. Positions outside 0..max_pos-1 are clamped into it.
@group(0) @binding(1) var<storage, read> pos: array<i32>;
@group(0) @binding(2) var<storage, read> cos_t: array<f32>;
@group(0) @binding(3) var<storage, read> sin_t: array<f32>;

// (cos, sin) of position i of batch row b for pair j.
fn rope_cs(b: u32, i: u32, j: u32) -> vec2<f32> {
  let p = u32(clamp(pos[b * params.pos_stride_b + i], 0, i32(params.max_pos) - 1));
  return vec2(cos_t[p * params.half + j], sin_t[p * params.half + j]);
}

// The pair (x[j], x[j + half]) rotated by the angle whose (cos, sin) is cs.
fn rope_rotate(x1: f32, x2: f32, cs: vec2<f32>) -> vec2<f32> {
  return vec2(x1 * cs.x - x2 * cs.y, x2 * cs.x + x1 * cs.y);
}
