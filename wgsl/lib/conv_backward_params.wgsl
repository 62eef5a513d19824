// Shape uniforms of conv_backward_input and conv_backward_weight (kernels/conv_backward.ts fills
// them once for both): x [B, Cin, T, H, W], weight [Cout, Cin, KT, KH, KW], g [B, Cout, T, HO, WO],
// strides sh, sw, top/left padding pt, pl (causal time padding KT - 1). rows and nsplit are the dW
// split-K plan (conv_backward_weight only).
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
  rows: u32,    // output rows (b, t, oy) per split
  nsplit: u32,
}
