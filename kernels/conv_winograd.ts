/**
 * conv_winograd: 3x3 stride-1 "same" convolutions of packed weights by Winograd F(2x2, 3x3)
 * (Lavin & Gray 2016): each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A over the 4x4 input
 * patch d, so per tile and channel pair 16 products replace 36: the bulk of the work becomes 16
 * GEMMs [tiles x Cin] @ [Cin x Cout] on the packed matmul kernels (2.25x fewer FMAs than the direct
 * conv). Three shaders: the weight transform (wgsl/conv_winograd_weight.wgsl, once per weight,
 * from the PackedConvWeight's blocks, kept beside them), the input transform
 * (wgsl/conv_winograd_in.wgsl) and the output transform with the conv epilogue (bias, SiLU,
 * residual; wgsl/conv_winograd_out.wgsl). Tiles go in chunks of winogradChunkBytes of
 * transformed input, so the temporaries stay small and under the binding limit.
 * conv2d and causalConv3d take this path for eligible convs (winogradEligible: 3x3, KT 1, one
 * frame, stride 1, padding 1, Cin and Cout >= 16, a packed weight) with at least
 * WINOGRAD_MIN_TILES tiles, where it measured faster (bench/README.md, Design measurements).
 * Numerics: the transforms are additions and halvings (exact scalings), so each output carries
 * a few more f32 roundings than the direct sum: tolerance vs the double reference
 * atol 2e-6 sqrt(9 Cin) for |x|, |w| <= 1 (measured up to 2.3e-7 sqrt(9 Cin), 1-2.5x the direct
 * conv's error; an indexing bug is O(0.1)). U stays f32 for f16 weights too: transformed from the
 * f16 values, the result is the f16 weight's conv, as the direct f16 kernels give.
 */
import type { ConvEpilogue, ConvGeometry, PackedConvWeight } from './conv3d_causal.js';
import { foldGrid } from './core/context.js';
import { knobs } from './core/knobs.js';
import type { Tensor } from './core/tensor.js';
import { PackedMatmulWeight, matmul } from './matmul.js';
import { conv_winograd_in as inShader, conv_winograd_out as outShader, conv_winograd_weight as weightShader } from './wgsl.gen.js';

const WG = 64;
/** Tiles (B x ceil(H/2) x ceil(W/2)) from which the Winograd path is taken: 64 x 64 outputs. */
export const WINOGRAD_MIN_TILES = 1024;
const CHUNK_BYTES = 8 * 2 ** 20;

/** Whether geometry g (no streamed past frames) has a Winograd F(2x2, 3x3) form. */
export function winogradEligible(g: ConvGeometry, past: number): boolean {
  return g.kt === 1 && g.t === 1 && past === 0 && g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 && g.pt === 1 && g.pb === 1 && g.pl === 1 && g.pr === 1 && g.cin >= 16 && g.cout >= 16;
}

/** Whether conv dispatch takes the Winograd path for g (knobs.convWinograd forces it either way). */
export function useWinograd(g: ConvGeometry, past: number): boolean {
  const forced = knobs().convWinograd;
  if (forced === false || !winogradEligible(g, past)) return false;
  return forced === true || g.b * Math.ceil(g.h / 2) * Math.ceil(g.w / 2) >= WINOGRAD_MIN_TILES;
}

/** U = G g G^T of a packed 3x3 weight as a batched packed GEMM weight [16, Cin, Cout] (f32). */
export function winogradWeight(pw: PackedConvWeight): PackedMatmulWeight {
  // Kept with the packed weight (built on first use, often inside a model's scope).
  return pw.ctx.unscoped(() => transformWeight(pw));
}

function transformWeight(pw: PackedConvWeight): PackedMatmulWeight {
  const [cout = 0, cin = 0] = pw.shape;
  const ctx = pw.ctx;
  const u = ctx.tensor([16, cin, cout], 'f32', 'conv_winograd.u');
  ctx.dispatch(weightShader, {
    overrides: { WG, F16: Number(pw.dtype === 'f16') },
    bindings: { w: pw.packed, u },
    params: { cin, cout, rm: pw.rm },
    workgroups: foldGrid(Math.ceil((cin * cout) / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  // f32 whatever the weight's storage: U rounded to f16 would add its own rounding to the weight's
  // (max error 2e-2 instead of 3e-6 against the f16 weight's exact conv, Cin 128; runs/wino-err).
  const packed = PackedMatmulWeight.pack(u);
  u.dispose();
  return packed;
}

/** The Winograd conv of x (geometry g, eligible) with weight u (winogradWeight) into dst, epilogue o. */
export function winogradConv(x: Tensor, u: PackedMatmulWeight, g: ConvGeometry, o: ConvEpilogue, dst: Tensor): void {
  const ctx = x.ctx;
  const th = Math.ceil(g.h / 2);
  const tw = Math.ceil(g.w / 2);
  const tiles = g.b * th * tw;
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  // Tiles per chunk: the larger transform (16 x channels x tiles floats) within the chunk bytes.
  const chunk = Math.max(4, Math.floor((knobs().winogradChunkBytes ?? CHUNK_BYTES) / (64 * Math.max(g.cin, g.cout)) / 4) * 4);
  for (let p0 = 0; p0 < tiles; p0 += chunk) {
    const pc = Math.min(chunk, tiles - p0);
    const pp = Math.ceil(pc / 4) * 4;
    const v = ctx.tensor([16, g.cin, pp], 'f32', 'conv_winograd.v');
    ctx.dispatch(inShader, {
      overrides: { WG },
      bindings: { x, v },
      params: { cin: g.cin, h: g.h, w: g.w, th, tw, p0, pc, pp },
      workgroups: foldGrid(Math.ceil((g.cin * pp) / WG), maxWg),
    });
    const m = matmul(v, u, { transA: true });
    v.dispose();
    ctx.dispatch(outShader, {
      overrides: { WG, ACT: o.activation === 'silu' ? 1 : 0 },
      bindings: { m, bias: o.bias ?? m, res: o.residual ?? m, out: dst },
      params: { cout: g.cout, h: g.h, w: g.w, th, tw, p0, pc, pp, has_bias: o.bias ? 1 : 0, has_res: o.residual ? 1 : 0 },
      workgroups: foldGrid(Math.ceil((pc * g.cout) / WG), maxWg),
    });
    m.dispose();
  }
}
