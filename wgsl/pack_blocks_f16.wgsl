// pack_blocks_f16: pack_blocks.wgsl's blocked copy stored as f16 (a PackedMatmulWeight of dtype
// f16): each vec4 of 4 columns becomes two u32s of packed halves (pack2x16float rounds to nearest
// even; values past the f16 range become infinities).
// out: array<vec2<u32>>  [batch][ceil(cols / R)][K][R / 4]

@group(0) @binding(1) var<storage, read_write> out: array<vec2<u32>>;

fn put(e: u32, v: vec4<f32>) {
  out[e] = vec2(pack2x16float(v.xy), pack2x16float(v.zw));
}

// #include "lib/pack_blocks_main.wgsl"
