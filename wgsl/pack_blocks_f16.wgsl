// pack_blocks_f16: pack_blocks.wgsl's blocked copy stored as f16 (a PackedMatmulWeight of dtype
// f16): each vec4 of 4 columns becomes two u32s of packed halves (pack2x16float rounds to nearest
// even; values past the f16 range become infinities).
// out: array<vec2<u32>>  [batch][ceil(cols / R)][K][R / 4]

alias Elem = f32;
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<vec2<u32>>;

fn src_at(s: u32) -> f32 {
  return src[s];
}

fn put(e: u32, v: array<f32, 4>) {
  out[e] = vec2(pack2x16float(vec2(v[0], v[1])), pack2x16float(vec2(v[2], v[3])));
}

// #include "lib/pack_blocks_main.wgsl"
