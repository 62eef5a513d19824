/**
 * conv3d_causal: causal 3-D convolution (MAGVIT-v2 `CausalConv3d`), wgsl/conv3d_causal.wgsl; the
 * 2-D convolutions of the VQGAN image tokenizer run the same kernel with T = KT = 1 (kernels/conv2d.ts).
 *
 *   y[b,co,t,oy,ox] = act(bias[co] + sum_{ci,a,dy,dx} w[co,ci,a,dy,dx] * x[b,ci,t+a-(KT-1),oy*sh-pt+dy,ox*sw-pl+dx]) + residual
 *
 * Layouts: x NCDHW [B,Cin,T,H,W] (2-D: NCHW), weight [Cout,Cin,KT,KH,KW] (2-D: [Cout,Cin,KH,KW]),
 * bias [Cout], output and residual [B,Cout,T,HO,WO]. Causal: KT-1 zero frames in front only (or the
 * frames of `pastFrames` in streaming mode); spatial zeros KH//2, KW//2 on both sides (3-D) or per
 * side as given (2-D). Output T = input T; HO = floor((H + pt + pb - KH) / sh) + 1.
 * Implicit GEMM (M = Cout, N = positions, K = Cin*KT*KH*KW) with scalar register blocking (the
 * tuning table's convTile, 16 channels x 8 positions per invocation; where the table picks the CPU
 * subgroup variants and Cout > 16 the conv3d_causal_sg variant (convTileSg): 32 channels x 4
 * positions, each step's weights loaded once per subgroup and spread with subgroupBroadcast,
 * faster on lavapipe; same summation order, so within a few ulps, not bits, since fma contraction
 * is up to each pipeline's compiler); no im2col or padded copy.
 * Weights are read in a packed layout: repacked on every call from a plain tensor, or once with
 * PackedConvWeight.pack() (which packs for the variant the device will run). A packed 3x3
 * stride-1 conv with KT 1 from 32 x 32 outputs a frame goes to Winograd F(4x4, 3x3) instead
 * (kernels/conv_winograd.ts: fewer FMAs, measured 1.7-2.1x faster; its own tolerance); the
 * knob `convWinograd: false` keeps this kernel.
 * Epilogue order: bias, then SiLU, then the residual add. Pipelines: one per (tile, activation,
 * streaming, weight dtype) variant (figures: bench/README.md, Design measurements: conv3d_causal).
 * Numerics: f32 FMA accumulation in a fixed order (time tap, row tap, column tap, ci) that does not
 * depend on the grid, so chunked streaming is bit-identical to the whole clip.
 * Tolerance (vs the double reference): atol = K * 2^-22 (+1e-6), K = Cin*KT*KH*KW: a random walk of
 * K roundings of partial sums of size ~sqrt(K) for O(1) inputs, with a 4x margin. Goldens: 1e-4.
 *
 * Geometry (shared with conv2d and conv_backward): kernels/core/conv_geometry.ts.
 *
 * line budget: the kernel, its weight packing and the streaming wrapper share the checks and
 * dispatch below (conv2d reuses them).
 */
import { type ConvTile, knobs } from './core/knobs.js';
import type { KernelTuning } from './core/tuning.js';
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import { type Tensor, type WeightDtype, checkWeightDtype } from './core/tensor.js';
import { type ConvGeometry, causalConv3dGeometry } from './core/conv_geometry.js';
import { conv3d_causal as shader, conv3d_causal_f16 as f16Shader, conv3d_causal_sg as sgShader, conv3d_causal_sg_f16 as sgF16Shader } from './wgsl.gen.js';
import { packBlocks, packedBlocksSize } from './pack.js';
import { type WinogradInputNorm, useWinograd, winogradConv, winogradTile, winogradWeight } from './conv_winograd.js';

const ID = 'conv3d_causal';
export type ConvActivation = 'none' | 'silu';
/** conv3d_causal_sg's channel block: one packed row is 8 vec4s, one per lane of an 8-lane subgroup. */
export const CONV_SG_RM = 32;

/**
 * The tile for a geometry from the tuning table (convTile, convTileSg: workgroup size and register
 * block, rm output channels x rn positions per invocation): convTileSg when `subgroup` (the device
 * runs conv3d_causal_sg) and Cout > convTile.rm, else convTile; narrowed for few output channels or
 * few positions. `rm` fixes the channel block (a packed weight's).
 */
export function convTile(g: ConvGeometry, t: KernelTuning, subgroup = false, rm = packRm(g.cout, t, subgroup)): ConvTile {
  const base: ConvTile = subgroup && rm === CONV_SG_RM ? { ...t.convTileSg, rm, subgroup: true } : { ...t.convTile, rm };
  // A tile's positions run over the batch too (conv3d_body), so only a small batch of small frames
  // leaves lanes idle: then one SIMD row per workgroup. Not one position per invocation in
  // conv3d_causal_sg: lavapipe JIT-compiles RN = 1 in 5.5-6.2 s, RN = 2 in 1.1 s (busy machine),
  // and frames this small cost microseconds either way.
  const frame = g.ho * g.wo;
  const positions = g.b * frame;
  const minRn = base.subgroup ? Math.min(2, base.rn) : 1;
  // A conv to <= 4 channels on a frame under SMALL_FRAME positions (the micro model's conv_out) is
  // microseconds of work with any tile, while lavapipe's JIT grows with the accumulators (rm 4 x
  // rn 8: 4.7 s, 4 x 2: 1.6 s, busy machine): at most 2 positions an invocation.
  const rn = !base.subgroup && base.rm <= 4 && frame < SMALL_FRAME ? Math.min(base.rn, 2) : base.rn;
  if (positions < base.wg * rn) return { ...base, wg: t.simdRowWg, rn: Math.min(rn, Math.max(minRn, Math.ceil(positions / t.simdRowWg))) };
  return { ...base, rn };
}
const KERNEL_SIZES = [1, 3, 5, 7];
/** See convTile: a few-channel conv on a frame below this many positions takes a tile that compiles quickly. */
const SMALL_FRAME = 1024;

export interface ConvEpilogue {
  bias?: Tensor;
  activation?: ConvActivation;
  /** Added after the activation; same shape as the output. Must not be `out`. */
  residual?: Tensor;
  out?: Tensor;
}

export interface CausalConv3dOptions extends ConvEpilogue {
  stride?: readonly [1, 1, 1] | readonly [1, 2, 2];
  /** Streaming: the last P (1..KT-1) input frames before `x`, [B,Cin,P,H,W]; earlier frames count as zero. */
  pastFrames?: Tensor;
}

/** The channel block convTile uses for `cout` output channels (also the default packing). */
const packRm = (cout: number, t: KernelTuning, subgroup: boolean) => (subgroup && cout > t.convTile.rm ? CONV_SG_RM : Math.min(t.convTile.rm, Math.ceil(cout / 4) * 4));

/**
 * Weights repacked once into the kernel's layout ([ceil(Cout/rm)][Cin*KT*KH*KW][rm], see the
 * shader), for layers run many times: a plain weight tensor is repacked on every call, which costs
 * about one weight read + write: much of a conv's time on small frames, little on large ones.
 * Holds a copy: re-pack after changing the source weights. `dtype: 'f16'` stores the blocks as f16
 * pairs (half the bytes; conv3d_causal_f16 / conv3d_causal_sg_f16 widen them, the math stays f32).
 * @example
 * const pw = PackedConvWeight.pack(w);  const y = conv2d(x, pw, { bias });  pw.dispose();
 */
export class PackedConvWeight {
  private constructor(
    readonly packed: Tensor,
    /** The source weight's shape ([Cout,Cin,KT,KH,KW] or [Cout,Cin,KH,KW]). */
    readonly shape: readonly number[],
    readonly rm: number,
    /** Storage of the packed blocks: 'f32' or 'f16'. */
    readonly dtype: WeightDtype,
  ) {}

  /** Packs `weight` for blocks of `rm` output channels (default: what the kernel picks for its Cout), stored as `dtype` (default 'f32'). */
  static pack(weight: Tensor, o: { rm?: number; dtype?: WeightDtype } = {}): PackedConvWeight {
    expectTensor('PackedConvWeight', 'weight', weight, { dtype: 'f32', rank: [4, 5] });
    if (typeof o !== 'object' || o === null) throw new KernelArgError('PackedConvWeight', 'options', `expected { rm?, dtype? }, got ${String(o)}`);
    const rm = o.rm ?? packRm(weight.shape[0]!, weight.ctx.tuning, weight.ctx.useCpuSubgroupVariants());
    if (rm % 4 !== 0 || rm < 4) throw new KernelArgError('PackedConvWeight', 'rm', `${rm}: must be a positive multiple of 4`);
    const dtype = checkWeightDtype('PackedConvWeight', o.dtype);
    return new PackedConvWeight(packWeight(weight, rm, dtype === 'f16'), weight.shape, rm, dtype);
  }

  get ctx() {
    return this.packed.ctx;
  }

  dispose(): void {
    this.packed.dispose();
  }
}

export type ConvWeight = Tensor | PackedConvWeight;

/** The weight as column blocks of rm output channels: [ceil(Cout/rm)][Cin*KT*KH*KW][rm] (f16: halves in u32 pairs). */
function packWeight(weight: Tensor, rm: number, f16 = false): Tensor {
  const [cout = 0] = weight.shape;
  const blocks = { batch: 1, n: cout, k: weight.size / cout, r: rm, trans: true, f16 };
  const size = packedBlocksSize(blocks);
  const packed = f16 ? weight.ctx.tensor([size / 2], 'u32', `${ID}.packedWeight16`) : weight.ctx.tensor([size], 'f32', `${ID}.packedWeight`);
  packBlocks(weight.ctx, weight, packed, blocks);
  return packed;
}

/** Checks a plain or packed conv weight of `rank` and its kernel sizes (1, 3, 5, 7). */
export function expectConvWeight(kernel: string, weight: unknown, rank: number): asserts weight is ConvWeight {
  if (weight instanceof PackedConvWeight) {
    if (weight.packed.disposed) throw new KernelArgError(kernel, 'weight', 'the packed weight was disposed');
    if (weight.shape.length !== rank) throw new KernelArgError(kernel, 'weight', `packed from rank ${weight.shape.length} (shape [${weight.shape.join(',')}]), expected rank ${rank}`);
  } else expectTensor(kernel, 'weight', weight, { dtype: 'f32', rank });
  for (const k of weight.shape.slice(2)) {
    if (!KERNEL_SIZES.includes(k)) throw new KernelArgError(kernel, 'weight', `kernel size ${k} in [${weight.shape.join(',')}] is not supported (kernel sizes ${KERNEL_SIZES.join(', ')})`);
  }
}

/**
 * Causal 3-D convolution of x [B,Cin,T,H,W] with weight [Cout,Cin,KT,KH,KW] (kernel sizes 1, 3, 5, 7).
 * @example
 * const y = causalConv3d(x, w, { bias, activation: 'silu' });          // [B,Cout,T,H,W]
 * const d = causalConv3d(x, w, { bias, stride: [1, 2, 2] });           // [B,Cout,T,ceil(H/2),ceil(W/2)]
 */
export function causalConv3d(x: Tensor, weight: ConvWeight, opts: CausalConv3dOptions = {}): Tensor<'f32'> {
  const k = 'causalConv3d';
  expectTensor(k, 'x', x, { dtype: 'f32', rank: 5 });
  expectConvWeight(k, weight, 5);
  const g = causalConv3dGeometry(x.shape, weight.shape, opts.stride);
  let past = 0;
  if (opts.pastFrames !== undefined) {
    const pf = opts.pastFrames;
    expectTensor(k, 'pastFrames', pf, { dtype: 'f32', shape: [g.b, g.cin, null, g.h, g.w] });
    past = pf.shape[2]!;
    if (past < 1 || past > g.kt - 1) throw new KernelArgError(k, 'pastFrames', `${past} frames, expected 1..${g.kt - 1} (KT-1) for KT=${g.kt}`);
  }
  return convDispatch(k, x, weight, g, past, opts, opts.pastFrames);
}

/** Validates the epilogue and dispatches conv3d_causal(_sg)(_f16) for a checked geometry (conv2d: T = KT = 1). */
export function convDispatch(k: string, x: Tensor, weight: ConvWeight, g: ConvGeometry, past: number, o: ConvEpilogue, pastFrames: Tensor | undefined, norm?: WinogradInputNorm): Tensor<'f32'> {
  const rank5 = x.shape.length === 5;
  const outShape = rank5 ? [g.b, g.cout, g.t, g.ho, g.wo] : [g.b, g.cout, g.ho, g.wo];
  const act = o.activation ?? 'none';
  if (act !== 'none' && act !== 'silu') throw new KernelArgError(k, 'activation', `'${String(act)}' is not one of none, silu`);
  if (o.bias !== undefined) expectTensor(k, 'bias', o.bias, { dtype: 'f32', shape: [g.cout] });
  if (o.residual !== undefined) expectTensor(k, 'residual', o.residual, { dtype: 'f32', shape: outShape });
  const pw = weight instanceof PackedConvWeight ? weight : null;
  const wt = pw ? pw.packed : (weight as Tensor);
  sameContext(k, { x, weight: wt, bias: o.bias, residual: o.residual, pastFrames, out: o.out });
  const subgroup = x.ctx.hasSubgroups(8);
  const tile = knobs().convTile ?? convTile(g, x.ctx.tuning, x.ctx.useCpuSubgroupVariants(), pw?.rm);
  if (pw && tile.rm !== pw.rm) throw new KernelArgError(k, 'knobs.convTile', `rm ${tile.rm} differs from the packed weight's ${pw.rm}`);
  if (tile.rm % 4 !== 0 || tile.rm < 4 || tile.rn < 1 || tile.rn > 16 || tile.rm * tile.rn > 256) throw new KernelArgError(k, 'knobs.convTile', `rm ${tile.rm}, rn ${tile.rn}: rm must be a multiple of 4, rn 1..16, rm*rn <= 256`);
  if (tile.subgroup && (tile.rm !== CONV_SG_RM || !subgroup)) throw new KernelArgError(k, 'knobs.convTile', `the subgroup variant needs rm ${CONV_SG_RM} (got ${tile.rm}), the 'subgroups' feature and subgroupMinSize >= 8`);
  const maxWg = x.ctx.limits.maxComputeWorkgroupsPerDimension;
  const workgroups = [Math.ceil((g.b * g.ho * g.wo) / (tile.wg * tile.rn)), Math.ceil(g.cout / tile.rm), g.t] as const;
  if (workgroups.some((n) => n > maxWg)) throw new KernelArgError(k, 'x', `grid [${workgroups.join(',')}] exceeds ${maxWg} workgroups per dimension`);
  const dst = outTensor(k, x, outShape, 'f32', o.out);
  for (const [name, t] of Object.entries({ x, weight: wt, bias: o.bias, residual: o.residual, pastFrames })) {
    if (t && t.buffer === dst.buffer) throw new KernelArgError(k, 'out', `aliases ${name}; the output needs its own buffer`);
  }
  if (dst.size === 0) return dst;
  if (pw && useWinograd(g, past, x.ctx.limits)) {
    const tile = winogradTile(g);
    // U is transformed per call: one weight-sized pass (F(6x6)'s U is 14x an f16 weight's bytes,
    // F(4x4)'s 8x, too much to keep for every layer; keeping them measured no faster: bench/README.md).
    const u = winogradWeight(pw, tile);
    try {
      winogradConv(x, u, tile, g, o, dst, norm);
    } finally {
      u.dispose();
    }
    return dst;
  }
  if (norm) throw new Error(`${k}: internal error: an input norm reached the direct kernel`);
  const params = {
    batch: g.b, cin: g.cin, cout: g.cout, t: g.t, h: g.h, w: g.w, past, ho: g.ho, wo: g.wo, kt: g.kt, kh: g.kh, kw: g.kw,
    sh: g.sh, sw: g.sw, ph: g.pt, pw: g.pl, has_bias: o.bias ? 1 : 0, has_res: o.residual ? 1 : 0,
  };
  const packed = pw ? pw.packed : packWeight(wt, tile.rm);
  // Absent optional inputs bind x (read-only); the shader never reads them (has_* = 0, past = 0).
  const f16 = pw?.dtype === 'f16';
  x.ctx.dispatch(tile.subgroup ? (f16 ? sgF16Shader : sgShader) : f16 ? f16Shader : shader, {
    overrides: { WG: tile.wg, RM: tile.rm, RN: tile.rn, ACT: act === 'silu' ? 1 : 0, STREAM: past > 0 ? 1 : 0 },
    bindings: { x, past: pastFrames ?? x, w: packed, bias: o.bias ?? x, res: o.residual ?? x, out: dst },
    params,
    workgroups,
  });
  if (!pw) packed.dispose();
  return dst;
}

/**
 * Chunked causal convolution: push() clips of T >= 1 frames in order; each output equals (bit for
 * bit) the matching frames of causalConv3d over the concatenated clip. Keeps the last KT-1 input
 * frames in a cache tensor (copied on the GPU, in order with the dispatches).
 * @example
 * const s = new CausalConv3dStream(w, { bias });
 * const y0 = s.push(x.slice0); const y1 = s.push(x.slice1); s.dispose();
 */
export class CausalConv3dStream {
  private cache: Tensor | null = null;
  /** Packed once here (every chunk reuses it); owned, freed by dispose(). */
  private readonly weight: PackedConvWeight;

  constructor(
    weight: Tensor,
    readonly opts: Omit<CausalConv3dOptions, 'pastFrames' | 'out' | 'residual'> = {},
  ) {
    expectTensor('CausalConv3dStream', 'weight', weight, { dtype: 'f32', rank: 5 });
    this.weight = PackedConvWeight.pack(weight, { rm: knobs().convTile?.rm });
  }

  /** Frames held for the next chunk (0..KT-1). */
  get cachedFrames(): number {
    return this.cache?.shape[2] ?? 0;
  }

  push(x: Tensor, extra: { residual?: Tensor; out?: Tensor } = {}): Tensor<'f32'> {
    const y = causalConv3d(x, this.weight, { ...this.opts, ...extra, pastFrames: this.cache ?? undefined });
    this.updateCache(x);
    return y;
  }

  /** Forgets the cached frames (the next push starts a new clip). */
  reset(): void {
    this.cache?.dispose();
    this.cache = null;
  }

  dispose(): void {
    this.reset();
    this.weight.dispose();
  }

  private updateCache(x: Tensor): void {
    const keep = this.weight.shape[2]! - 1;
    if (keep === 0) return;
    const [b, c, t, h, w] = x.shape as [number, number, number, number, number];
    const old = this.cache;
    const fromOld = Math.min(old?.shape[2] ?? 0, keep - Math.min(t, keep));
    const fromX = Math.min(t, keep);
    const next = x.ctx.tensor([b, c, fromOld + fromX, h, w], 'f32', 'CausalConv3dStream.cache');
    const fb = h * w * 4;
    // One copy per (b, c) plane block: frames are contiguous within a channel in NCDHW.
    for (let bc = 0; bc < b * c; bc++) {
      const dst = bc * (fromOld + fromX) * fb;
      if (fromOld && old) x.ctx.copyBuffer(old.buffer, (bc * old.shape[2]! + old.shape[2]! - fromOld) * fb, next.buffer, dst, fromOld * fb);
      x.ctx.copyBuffer(x.buffer, (bc * t + t - fromX) * fb, next.buffer, dst + fromOld * fb, fromX * fb);
    }
    old?.dispose();
    this.cache = next;
  }
}

export interface ConvRefOptions {
  bias?: ArrayLike<number>;
  activation?: ConvActivation;
  residual?: ArrayLike<number>;
  /** Streaming: P frames before x, [B,Cin,P,H,W]. */
  past?: ArrayLike<number>;
  pastT?: number;
}

/** CPU reference in doubles for either geometry (2-D: t = kt = 1); output [B,Cout,T,HO,WO] flat. */
export function convRef(x: ArrayLike<number>, w: ArrayLike<number>, g: ConvGeometry, o: ConvRefOptions = {}): Float64Array {
  const P = o.pastT ?? 0;
  const out = new Float64Array(g.b * g.cout * g.t * g.ho * g.wo);
  const kvol = g.kt * g.kh * g.kw;
  const read = (b: number, ci: number, ti: number, iy: number, ix: number): number => {
    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w || ti < -P) return 0;
    if (ti < 0) return o.past![(((b * g.cin + ci) * P + ti + P) * g.h + iy) * g.w + ix]!;
    return x[(((b * g.cin + ci) * g.t + ti) * g.h + iy) * g.w + ix]!;
  };
  let n = 0;
  for (let b = 0; b < g.b; b++)
    for (let co = 0; co < g.cout; co++)
      for (let t = 0; t < g.t; t++)
        for (let oy = 0; oy < g.ho; oy++)
          for (let ox = 0; ox < g.wo; ox++, n++) {
            let s = 0;
            for (let ci = 0; ci < g.cin; ci++)
              for (let a = 0; a < g.kt; a++)
                for (let dy = 0; dy < g.kh; dy++)
                  for (let dx = 0; dx < g.kw; dx++) {
                    const v = read(b, ci, t + a - (g.kt - 1), oy * g.sh - g.pt + dy, ox * g.sw - g.pl + dx);
                    if (v !== 0) s += v * w[(co * g.cin + ci) * kvol + (a * g.kh + dy) * g.kw + dx]!;
                  }
            if (o.bias) s += o.bias[co]!;
            if (o.activation === 'silu') s = s / (1 + Math.exp(-s));
            if (o.residual) s += o.residual[n]!;
            out[n] = s;
          }
  return out;
}

/** The comparison tolerance against convRef (see the header). */
export function convTolerance(g: ConvGeometry): { atol: number; rtol: number } {
  return { atol: g.cin * g.kt * g.kh * g.kw * 2 ** -22 + 1e-6, rtol: 0 };
}
