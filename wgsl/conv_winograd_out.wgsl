// conv_winograd_out: the output transform of a Winograd F(m x m, 3x3) convolution (m = TILE, 2, 4
// or 6, alpha = m + 2) and the conv epilogue: for tile p0 + q and output channel co, the alpha^2
// products (the batched GEMM's M[xi][q][co] = sum_ci V[xi][ci][q] U[xi][ci][co]) become the m x m
// outputs Y = A^T M A (lib/winograd.wgsl), then out = act(Y + bias[co]) + res, as conv3d_causal's
// epilogue (ACT 1: SiLU); outputs past H or W are not stored. This variant stores one output at a
// time (any W); conv_winograd_out_vec2 stores pairs where W is even, conv_winograd_out_sg also
// loads 8 channels' products at once.
//
// m:    array<f32>  [alpha^2][pp][Cout]
// bias: array<f32>  [Cout]        read when has_bias != 0
// res:  array<f32>  [B][Cout][T][H][W]  read when has_res != 0
// out:  array<f32>  [B][Cout][T][H][W]  (T = 1: NCHW)
// Dispatch: ceil(pc Cout / WG) workgroups, one invocation per (tile, channel), folded into (x, y).

const V = 1u;

@group(0) @binding(2) var<storage, read> res: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn out_vals(bv: f32, yr: array<f32, 6>, j: u32) -> f32 {
  return bv + yr[j];
}

// #include "lib/conv_winograd_out_main.wgsl"
