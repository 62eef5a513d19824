// Shape uniforms of conv_backward_input and conv_backward_cols (kernels/conv_backward.ts fills
// them once for both): x [B, Cin, T, H, W], weight [Cout, Cin, KT, KH, KW], g [B, Cout, T, HO, WO],
// strides sh, sw, top/left padding pt, pl (causal time padding KT - 1). a0, f0 and ldc
// place a chunk of the dW columns matrix (conv_backward_cols only).
struct Params {
  b: u32,
  cin: u32,
  cout: u32,
  t: u32,
  h: u32,
  w: u32,
  ho: u32,
  wo: u32,
  kt: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  pt: u32,
  pl: u32,
  a0: u32,      // first time tap with a column: max(0, KT - T)
  f0: u32,      // first frame (b, t) of this chunk of rows
  frames: u32,  // frames in this chunk
  ldc: u32,     // row length: Cin*(KT - a0)*KH*KW rounded up to a multiple of 4
}
