// pack_blocks_h16: pack_blocks_f16.wgsl's blocked f16 copy from a source that is already f16 (an
// f16 checkpoint's tensor uploaded as it is stored): the halves are moved as bits, no rounding.
// src: array<u32>        the source's halves in pairs, element s = half s % 2 of word s / 2
// out: array<vec2<u32>>  [batch][ceil(cols / R)][K][R / 4]

alias Elem = u32;
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<vec2<u32>>;

fn src_at(s: u32) -> u32 {
  return (src[s >> 1u] >> ((s & 1u) * 16u)) & 0xffffu;
}

fn put(e: u32, v: array<u32, 4>) {
  out[e] = vec2(v[0] | (v[1] << 16u), v[2] | (v[3] << 16u));
}

// #include "lib/pack_blocks_main.wgsl"
