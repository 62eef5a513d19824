// pack_blocks: the column-blocked copy of a matrix that the register-tiled kernels read
// (matmul_packed*, conv3d_causal): a workgroup owning R columns then reads its weights as
// contiguous, lane-uniform vec4s.
//   out[z][blk][k][i] = B(z, k, n_off + blk R + i),  B [batch][K, n] (TRANS: [batch][n, K])
// Columns past n_off + cols - 1 repeat that last column (the readers never store them).
// A chunked launch binds a slice of the source and packs columns n_off .. n_off + cols.
//
// src: array<f32>  [batch][K][n] (TRANS: [batch][n][K]), batch stride n K
// out: array<f32>  [batch][ceil(cols / R)][K][R]  (pack_blocks_f16.wgsl, pack_blocks_h16.wgsl: f16 pairs, vec2<u32> per vec4)
// Dispatch: one invocation per output vec4, folded into (x, y).

alias Elem = f32;
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

fn src_at(s: u32) -> f32 {
  return src[s];
}

fn put(e: u32, v: array<f32, 4>) {
  out[e] = vec4(v[0], v[1], v[2], v[3]);
}

// #include "lib/pack_blocks_main.wgsl"
