// Bindings and shape uniforms of the flash attention kernels (attention, attention_rows); layouts
// in their headers. FMIN is the float32 minimum, the masked-score value (as upstream adds it).
const FMIN = -0x1.fffffep+127f;

struct Params {
  lq: u32,
  lk: u32,
  k_rows: u32,
  nh: u32,
  scale: f32,
  causal: u32,
  has_mask: u32,
  mask_stride: u32,
  // HD / 4 again, as a runtime value: the once-per-row loops bounded by it stay rolled (unrolled,
  // their lane-by-lane loads and stores made attention_rows_r1's compile 8x longer on lavapipe).
  hd4: u32,
}

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;
