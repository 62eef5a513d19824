/**
 * conv_winograd: 3x3 stride-1 "same" convolutions of packed weights by Winograd F(m x m, 3x3)
 * (Lavin & Gray 2016), m = 6 on frames from 64 x 64 outputs and 4 below (any of 2, 4, 6 by knob): each
 * m x m output tile is A^T [(G g G^T) . (B^T d B)] A over the (m + 2)^2 input patch d, so per tile
 * and channel pair (m + 2)^2 products replace 9 m^2 (F(6x6): 64 for 324, F(4x4): 36 for 144,
 * F(2x2): 16 for 36) and the bulk of the work becomes (m + 2)^2 GEMMs [tiles x Cin] @ [Cin x Cout]
 * on the packed matmul kernels. Three shaders (matrices in wgsl/lib/winograd.wgsl): the weight
 * transform (wgsl/conv_winograd_weight.wgsl, from the PackedConvWeight's blocks, per call: F(4x4)'s
 * U is 8x an f16 weight's bytes, F(6x6)'s 14x), the input transform (wgsl/conv_winograd_in.wgsl)
 * and the output transform with the conv epilogue (bias, SiLU, residual;
 * wgsl/conv_winograd_out.wgsl; conv_winograd_out_vec2.wgsl stores pairs where W is even, and
 * conv_winograd_out_sg.wgsl also reads 8 channels at once on CPU subgroup adapters). Tiles go in
 * chunks of winogradChunkBytes of transformed input, so the temporaries stay small and under the
 * binding limit. conv2d and causalConv3d take this path
 * for eligible convs (winogradEligible: 3x3, KT 1 (any T: frames are images), stride 1, padding 1,
 * Cin and Cout >= 16, a packed weight) from WINOGRAD_MIN_OUTPUTS outputs per channel, where it
 * measured faster, and F(6x6) from WINOGRAD_F6_MIN_OUTPUTS (bench/README.md, Design measurements:
 * conv_winograd).
 * Numerics: the transforms scale and add (F(2x2) exactly by 1/2; F(4x4) by up to 8 and by 1/6,
 * 1/12, 1/24, F(6x6) by up to 32 and by 2/9, 1/90, ..., which round), so each output carries more
 * f32 roundings than the direct sum: against the double reference, |x|, |w| <= 1, measured max
 * errors 2.4e-7 (F2), 9.3e-6 to 2.0e-5 (F4) and 2.8e-5 (F6) x sqrt(9 Cin) (direct: ~1e-7 to 3e-6 x
 * sqrt(9 Cin)); tolerances 2e-6, 5e-5 and 1e-4 x sqrt(9 Cin) (an indexing bug is O(0.1)). Every
 * golden passes with either tile forced on every eligible conv (the largest, falcon_tokenizer_small:
 * max relative error 1.1e-5 with F(4x4), 1.8e-5 with F(6x6), against 5e-4; f16 weights 7.1e-4
 * either way, against 5e-3). U stays f32 for f16 weights too: transformed from the f16 values,
 * the result is the f16 weight's conv, as the direct f16 kernels give.
 */
import type { ConvGeometry } from './core/conv_geometry.js';
import type { ConvEpilogue, PackedConvWeight } from './conv3d_causal.js';
import { type ContextLimits, foldGrid } from './core/context.js';
import { bindingLimit, knobs } from './core/knobs.js';
import type { Tensor } from './core/tensor.js';
import { PACK_RN, PackedMatmulWeight, matmul } from './matmul.js';
import { conv_winograd_in as inShader, conv_winograd_out as outShader, conv_winograd_out_sg as outSgShader, conv_winograd_out_vec2 as outVec2Shader, conv_winograd_weight as weightShader } from './wgsl.gen.js';

const WG = 64;
/** Outputs per channel (B x H x W) from which the Winograd path is taken: one 32 x 32 image. */
export const WINOGRAD_MIN_OUTPUTS = 32 * 32;
const CHUNK_BYTES = 8 * 2 ** 20;
/** Outputs per channel (H x W) from which F(6x6) tiles replace F(4x4): one 64 x 64 image (bench/README.md, Design measurements: conv_winograd). */
export const WINOGRAD_F6_MIN_OUTPUTS = 64 * 64;

/** Whether geometry g (no streamed past frames) has a Winograd F(m x m, 3x3) form. */
export function winogradEligible(g: ConvGeometry, past: number): boolean {
  return g.kt === 1 && past === 0 && g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 && g.pt === 1 && g.pb === 1 && g.pl === 1 && g.pr === 1 && g.cin >= 16 && g.cout >= 16;
}

/** Bytes of the F(m x m) weight U of geometry g (packed blocks of 16 output channels, f32). */
const uBytes = (g: ConvGeometry, tile: WinogradTile) => (tile + 2) ** 2 * Math.ceil(g.cout / PACK_RN) * PACK_RN * g.cin * 4;

/**
 * Whether conv dispatch takes the Winograd path for g (knobs.convWinograd forces it either way,
 * within the binding limit). The size rule is per frame (H x W), so a frame's result does not
 * depend on the batch or clip it comes in (CausalConv3dStream stays bit-identical to the whole clip).
 */
export function useWinograd(g: ConvGeometry, past: number, limits: ContextLimits): boolean {
  const forced = knobs().convWinograd;
  if (forced === false || !winogradEligible(g, past)) return false;
  // U is one binding: a weight whose U would not fit keeps the direct kernel.
  if (uBytes(g, winogradTile(g)) > Math.min(bindingLimit(limits.maxStorageBufferBindingSize), limits.maxBufferSize)) return false;
  return forced === true || g.h * g.w >= WINOGRAD_MIN_OUTPUTS;
}

/** F(m x m, 3x3)'s output tile m: 2, 4 or 6. */
export type WinogradTile = 2 | 4 | 6;

/** The output tile for geometry g: knobs.winogradTile, else F(6x6) from WINOGRAD_F6_MIN_OUTPUTS outputs a frame and F(4x4) below (per frame, like useWinograd). */
export const winogradTile = (g: ConvGeometry): WinogradTile => knobs().winogradTile ?? (g.h * g.w >= WINOGRAD_F6_MIN_OUTPUTS ? 6 : 4);

/** U = G g G^T of a packed 3x3 weight as a batched packed GEMM weight [(m + 2)^2, Cin, Cout], f32 for f16 weights too (module header), written in the packed layout directly. */
export function winogradWeight(pw: PackedConvWeight, tile: WinogradTile): PackedMatmulWeight {
  const [cout = 0, cin = 0] = pw.shape;
  const ctx = pw.ctx;
  const alpha = tile + 2;
  const nblk = Math.ceil(cout / PACK_RN);
  const u = ctx.tensor([alpha * alpha * nblk * cin * PACK_RN], 'f32', 'conv_winograd.u');
  ctx.dispatch(weightShader, {
    overrides: { WG, F16: Number(pw.dtype === 'f16'), TILE: tile },
    bindings: { w: pw.packed, u },
    params: { cin, cout, rm: pw.rm, nblk, alpha },
    workgroups: foldGrid(Math.ceil((cin * cout) / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return PackedMatmulWeight.fromPacked(u, [alpha * alpha, cin, cout]);
}

/** A GroupNorm (then SiLU) applied to the conv's input as the input transform reads it: stats from groupNormStats of x (cpg channels per group), affine gamma, beta [Cin]. */
export interface WinogradInputNorm {
  stats: Tensor;
  gamma: Tensor;
  beta: Tensor;
  cpg: number;
  eps: number;
  silu: boolean;
}

/** The Winograd conv of x (geometry g, eligible) with weight u (winogradWeight) into dst, epilogue o, input norm `norm`. */
export function winogradConv(x: Tensor, u: PackedMatmulWeight, tile: WinogradTile, g: ConvGeometry, o: ConvEpilogue, dst: Tensor, norm?: WinogradInputNorm): void {
  const ctx = x.ctx;
  const alpha = tile + 2;
  const th = Math.ceil(g.h / tile);
  const tw = Math.ceil(g.w / tile);
  const tiles = g.b * g.t * th * tw;
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  // F(4x4) measured no faster with it (bench/README.md, Design measurements: conv_winograd).
  const outSg = tile === 6 && g.w % 2 === 0 && g.cout % 8 === 0 && ctx.useCpuSubgroupVariants();
  // Tiles per chunk: the larger transform (alpha^2 x channels x tiles floats) within the chunk bytes.
  const chunk = Math.max(4, Math.floor((knobs().winogradChunkBytes ?? CHUNK_BYTES) / (4 * alpha * alpha * Math.max(g.cin, g.cout)) / 4) * 4);
  for (let p0 = 0; p0 < tiles; p0 += chunk) {
    const pc = Math.min(chunk, tiles - p0);
    const pp = Math.ceil(pc / 4) * 4;
    const v = ctx.tensor([alpha * alpha, g.cin, pp], 'f32', 'conv_winograd.v');
    ctx.dispatch(inShader, {
      overrides: { WG, TILE: tile, NORM: Number(norm !== undefined), SILU: Number(norm?.silu ?? false), VEC4: Number(tile !== 2 && g.w % 4 === 0) },
      bindings: { x, x4: x, v, stats: norm?.stats ?? x, gamma: norm?.gamma ?? x, beta: norm?.beta ?? x },
      params: { cin: g.cin, h: g.h, w: g.w, t: g.t, th, tw, p0, pc, pp, cpg: norm?.cpg ?? 1, eps: norm?.eps ?? 0 },
      workgroups: foldGrid(Math.ceil((g.cin * pp) / WG), maxWg),
    });
    const m = matmul(v, u, { transA: true });
    v.dispose();
    // Even W: the output transform stores pairs (half the per-lane store loops on CPU adapters);
    // F(6x6) on the CPU subgroup variants also loads 8 channels' products per 2 lane loops.
    const act = o.activation === 'silu' ? 1 : 0;
    ctx.dispatch(outSg ? outSgShader : g.w % 2 === 0 ? outVec2Shader : outShader, {
      overrides: outSg ? { ACT: act, TILE: tile } : { WG, ACT: act, TILE: tile },
      bindings: { m, bias: o.bias ?? m, res: o.residual ?? m, out: dst },
      params: { cout: g.cout, h: g.h, w: g.w, t: g.t, th, tw, p0, pc, pp, has_bias: o.bias ? 1 : 0, has_res: o.residual ? 1 : 0 },
      // _sg: a workgroup is one 8-lane subgroup of 8 channels (Cout % 8 == 0).
      workgroups: foldGrid(outSg ? (pc * g.cout) / 8 : Math.ceil((pc * g.cout) / WG), maxWg),
    });
    m.dispose();
  }
}
