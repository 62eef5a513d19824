/**
 * The Latent Dynamics Model (spec section 5): MagvitV2LAencoder -> query-former -> FSQ(dim 512)
 * and MagvitV2LAAdadecoder, as LDM/ldm/models/autoencoders/magvit_v2_ldm.py builds them. Keys are
 * relative to the generator (`encoder.*`, `quantizer.*`, `decoder.*`); checkpoints prefix them with
 * `generator.` or `generator_ema.module.` (the weight map strips that).
 *
 * Upstream quirks reproduced: the encoder's appended GN+SiLU+Conv and the decoder's appended
 * GN+SiLU are declared (they are in the state_dict) but never executed; the last query step uses
 * `q + q` as the query; AdaGN uses eps 1e-5; the released go_ldm.py key `use_qformer_for_code` is
 * not a constructor option here (upstream rejects it), so the Go config builds as intended.
 */
import {
  type GpuContext,
  type Tensor,
  concat,
  fourierPe,
  fsqIndicesToCodes,
  fsqQuantize,
  scale,
} from '../../../kernels/index.js';
import { Module, type Param } from '../../graph/module.js';
import { activeTape } from '../../graph/autograd.js';
import { adaGroupNormOp, addOp, attentionOp, concatOp, depthToSpace2xOp, fsqCodes, groupNormFramewiseOp, layerNormOp, meanPoolOp, mulOp, padOp, permuteOp, reshape, sliceOp, subOp } from '../../graph/ops.js';
import { CausalConv3d, GroupNorm, Linear } from './layers.js';

/** eps of encode's batchNormCodes and of foldCodeNorm (they must agree). */
const CODE_NORM_EPS = 1e-5;

export type LdmLayer = readonly [kind: 'consecutive_residual' | 'channel_residual' | 'spatial_down' | 'spatial_up' | 'condation', count: number];

export interface LdmConfig {
  encoder: {
    initDim: number;
    layers: readonly LdmLayer[];
    preOutLayer: number;
    frameNum: number;
    timePadding: number;
    actEmbeddingNum: number;
    qformerDepth: number;
    peGrid: number;
    /** Not upstream: the qformer's values carry the positional encoding too (upstream: keys only). */
    peValues?: boolean;
    /**
     * Not upstream, 2-frame clips only: the qformer reads one token per cell, d = frame 1's features
     * of the clip minus frame 1's features of the clip (frame 0, frame 0), so d is zero wherever the
     * change is out of the convs' sight (up to the frame-wise norms' statistics); keys d + PE,
     * values d * (1 + PE), so that even an attention still near uniform carries where the change
     * is. With upstream's tokens (both frames' features, position in the keys only) the micro Go
     * LDM never localised a move, not even trained on the move itself (README, "What the eighth
     * session found"). Costs a second encoder pass (the reference clip).
     */
    deltaTokens?: boolean;
  };
  decoder: {
    initDim: number;
    layers: readonly LdmLayer[];
    timePadding: number;
    /** Not upstream: the broadcast code map is code * (1 + positional encoding), not the code alone. */
    codePe?: boolean;
  };
  levels: readonly number[];
  /** Feature / code width (qformer, FSQ dim, AdaGN condition). Hard-coded to 512 upstream. */
  dim: number;
}

/** LDM/configs/go_ldm.py (image 128, 2 frames, 1 action query). */
export const GO_LDM: LdmConfig = {
  encoder: {
    initDim: 128,
    layers: [
      ['consecutive_residual', 4], ['spatial_down', 1], ['channel_residual', 1], ['consecutive_residual', 3], ['spatial_down', 1],
      ['consecutive_residual', 4], ['spatial_down', 1], ['channel_residual', 1], ['consecutive_residual', 3], ['consecutive_residual', 4],
    ],
    preOutLayer: 9,
    frameNum: 2,
    timePadding: 3,
    actEmbeddingNum: 1,
    qformerDepth: 2,
    peGrid: 16,
  },
  decoder: {
    initDim: 128,
    layers: [
      ['consecutive_residual', 3], ['channel_residual', 1], ['condation', 1], ['spatial_up', 1], ['consecutive_residual', 4], ['condation', 1],
      ['spatial_up', 1], ['consecutive_residual', 3], ['channel_residual', 1], ['condation', 1], ['spatial_up', 1], ['consecutive_residual', 4],
      ['condation', 1], ['consecutive_residual', 4],
    ],
    timePadding: 3,
  },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 512,
};

/** The reduced config of ldm_generator_small (image 32): same code paths, ~25 M parameters. */
export const TINY_LDM: LdmConfig = {
  encoder: { initDim: 256, layers: [['spatial_down', 1], ['channel_residual', 1]], preOutLayer: 1, frameNum: 2, timePadding: 3, actEmbeddingNum: 1, qformerDepth: 2, peGrid: 16 },
  decoder: { initDim: 128, layers: [['spatial_up', 1], ['channel_residual', 1], ['condation', 1], ['channel_residual', 1], ['condation', 1]], timePadding: 3 },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 512,
};

/**
 * The same code paths at the smallest widths GroupNorm(32) allows (feature width 64, ~0.48 M
 * parameters, 32x32 clips of 2 frames): trains in seconds per step on a CPU adapter (tests).
 */
export const SMALL_LDM: LdmConfig = {
  encoder: { initDim: 32, layers: [['spatial_down', 1], ['channel_residual', 1]], preOutLayer: 1, frameNum: 2, timePadding: 3, actEmbeddingNum: 1, qformerDepth: 2, peGrid: 16 },
  decoder: { initDim: 32, layers: [['spatial_up', 1], ['channel_residual', 1], ['condation', 1]], timePadding: 3 },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 64,
};

/**
 * The micro Go model's LDM: 20x20 frame pairs, no time padding (upstream pads 3 frames that a
 * 2-frame clip does not need, 2.5x the work), one action code of 9 x 9 = 81 (a board point; the
 * clips show the mover as Black, so the code need not carry the colour). One 2x down only: at 10x10
 * each feature cell is one board point (a point is 2x2 pixels of the 20-pixel grid image), so every
 * move looks alike to the convs and only its place differs; at 5x5 a cell holds 2x2 points, and the
 * codes named which of the four a move took, not where on the board (README, "What the eleventh
 * session found"). Convs are translation-equivariant, so the decoder gets the place from the code
 * map times the positional encoding (`codePe`).
 */
export const MICRO_LDM: LdmConfig = {
  encoder: {
    initDim: 32,
    layers: [['spatial_down', 1], ['channel_residual', 1], ['consecutive_residual', 1]],
    preOutLayer: 2,
    frameNum: 2,
    timePadding: 0,
    actEmbeddingNum: 1,
    qformerDepth: 2,
    peGrid: 10,
    deltaTokens: true,
  },
  decoder: {
    initDim: 32,
    // Runs last to first: AdaGN and a residual at 64 channels, 64 -> 32, AdaGN, 2x up.
    layers: [['spatial_up', 1], ['condation', 1], ['channel_residual', 1], ['consecutive_residual', 1], ['condation', 1]],
    timePadding: 0,
    codePe: true,
  },
  levels: [9, 9],
  dim: 64,
};

/** Frame-wise GroupNorm ("LA norm"): per frame, 4 groups, affine per (frame, channel). */
export class FramewiseNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;
  constructor(path: string, channels: number, frames: number) {
    super(path);
    this.weight = this.param('weight', [frames * channels]);
    this.bias = this.param('bias', [frames * channels]);
  }
  forward(x: Tensor): Tensor<'f32'> {
    return groupNormFramewiseOp(x, { groups: 4, eps: 1e-6, weight: this.weight.t, bias: this.bias.t, silu: true });
  }
}

/** ResidualLA (encoder, frame-wise norm) or Residual (decoder, GN over (C/32, T, H, W)). */
export class LdmResidual extends Module {
  readonly n1: FramewiseNorm | GroupNorm;
  readonly c1: CausalConv3d;
  readonly n2: FramewiseNorm | GroupNorm;
  readonly c2: CausalConv3d;
  readonly shortcut: CausalConv3d | null;
  constructor(
    path: string,
    readonly cin: number,
    readonly cout: number,
    readonly frames: number | null,
  ) {
    super(path);
    const norm = (name: string, c: number) => (frames ? new FramewiseNorm(this.key(name), c, frames) : new GroupNorm(this.key(name), c));
    this.n1 = this.child('n1', norm('_residual.0', cin));
    this.c1 = this.child('c1', new CausalConv3d(this.key('_residual.2'), cin, cout, 3));
    this.n2 = this.child('n2', norm('_residual.3', cout));
    this.c2 = this.child('c2', new CausalConv3d(this.key('_residual.5'), cout, cout, 3));
    this.shortcut = cin === cout ? null : this.child('sc', new CausalConv3d(this.key('_shortcut'), cin, cout, 1));
  }
  forward(x: Tensor): Tensor<'f32'> {
    if (this.frames) this.require(x.shape[2] === this.frames, `T=${x.shape[2]}, the frame-wise norm was built for ${this.frames} frames`);
    const silu = (n: FramewiseNorm | GroupNorm, t: Tensor) => (n instanceof GroupNorm ? n.forward(t, true) : n.forward(t));
    const h = this.c1.forward(silu(this.n1, x));
    const res = this.shortcut ? this.shortcut.forward(x) : x;
    return this.c2.forward(silu(this.n2, h), { residual: res });
  }
}

/** Downsample(with_time=False): causal 3x3x3 conv with stride (1, 2, 2). */
export class SpatialDown extends Module {
  readonly conv: CausalConv3d;
  constructor(path: string, c: number) {
    super(path);
    this.conv = this.child('conv', new CausalConv3d(this.key('_conv'), c, c, 3, [1, 2, 2]));
  }
  forward(x: Tensor): Tensor<'f32'> {
    return this.conv.forward(x);
  }
}

/** SpatialUpsample2x: causal conv C -> 4C, SiLU, depth-to-space 2x2. */
export class SpatialUp extends Module {
  readonly conv: CausalConv3d;
  constructor(path: string, c: number) {
    super(path);
    this.conv = this.child('conv', new CausalConv3d(this.key('net.0'), c, 4 * c, 3));
  }
  forward(x: Tensor): Tensor<'f32'> {
    return depthToSpace2xOp(this.conv.forward(x, { activation: 'silu' }));
  }
}

/** AdaGroupNorm ('condation'): GN(32, eps 1e-5, no affine) * (1 + scale) + shift, [scale|shift] = Linear(mean(cond)). */
export class AdaGN extends Module {
  readonly linear: Linear;
  constructor(
    path: string,
    embeddingDim: number,
    readonly channels: number,
  ) {
    super(path);
    this.linear = this.child('linear', new Linear(this.key('linear'), embeddingDim, 2 * channels));
  }
  forward(x: Tensor, cond: Tensor): Tensor<'f32'> {
    const C = this.channels;
    const e = this.linear.forward(meanPoolOp(cond, 2));
    return adaGroupNormOp(x, sliceOp(e, 1, 0, C), sliceOp(e, 1, C, 2 * C), { groups: 32, eps: 1e-5 });
  }
}

/** One executed block; `layer` is its index in the upstream encoder_layers / decoder_layers list. */
type Step = { layer: number } & ({ kind: 'res' | 'down' | 'up'; m: Module & { forward(x: Tensor): Tensor<'f32'> } } | { kind: 'ada'; m: AdaGN });

/** Attention with q/k/v projections to dim/2, 4 heads (qformer.py Attention, downsample_rate 2). */
export class QAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  constructor(
    path: string,
    dim: number,
    readonly heads: number,
  ) {
    super(path);
    const inner = dim / 2;
    this.q = this.child('q', new Linear(this.key('q_proj'), dim, inner));
    this.k = this.child('k', new Linear(this.key('k_proj'), dim, inner));
    this.v = this.child('v', new Linear(this.key('v_proj'), dim, inner));
    this.out = this.child('o', new Linear(this.key('out_proj'), inner, dim));
  }
  /** q [B, Lq, D], k/v [B, Lk, D] -> q + out(attn) [B, Lq, D] (the residual is fused). */
  forward(q: Tensor, k: Tensor, v: Tensor, residual: Tensor): Tensor<'f32'> {
    const [B, Lq] = q.shape as [number, number];
    const Lk = k.shape[1]!;
    const NH = this.heads;
    const split = (t: Tensor, L: number) => permuteOp(reshape(t, [B, L, NH, t.shape[t.shape.length - 1]! / NH]), [0, 2, 1, 3]);
    const o = attentionOp(split(this.q.forward(q), Lq), split(this.k.forward(k), Lk), split(this.v.forward(v), Lk));
    const merged = reshape(permuteOp(o, [0, 2, 1, 3]), [B, Lq, o.shape[1]! * o.shape[3]!]);
    return this.out.forward(merged, { residual });
  }
}

export class LayerNormP extends Module {
  readonly weight: Param;
  readonly bias: Param;
  constructor(path: string, dim: number) {
    super(path);
    this.weight = this.param('weight', [dim]);
    this.bias = this.param('bias', [dim]);
  }
  forward(x: Tensor): Tensor<'f32'> {
    return layerNormOp(x, { weight: this.weight.t, bias: this.bias.t, eps: 1e-5 });
  }
}

/** One QFormer: `depth` cross-attention blocks (post-norm, ReLU MLP), then the final `q + q` step. */
export class QFormer extends Module {
  readonly blocks: { attn: QAttention; norm2: LayerNormP; lin1: Linear; lin2: Linear; norm3: LayerNormP }[] = [];
  readonly finalAttn: QAttention;
  readonly finalNorm: LayerNormP;
  constructor(path: string, dim: number, depth: number) {
    super(path);
    for (let i = 0; i < depth; i++) {
      const p = `layers.${i}`;
      this.blocks.push({
        attn: this.child(`a${i}`, new QAttention(this.key(`${p}.cross_attn_token_to_image`), dim, 4)),
        norm2: this.child(`n2${i}`, new LayerNormP(this.key(`${p}.norm2`), dim)),
        lin1: this.child(`l1${i}`, new Linear(this.key(`${p}.mlp.lin1`), dim, dim)),
        lin2: this.child(`l2${i}`, new Linear(this.key(`${p}.mlp.lin2`), dim, dim)),
        norm3: this.child(`n3${i}`, new LayerNormP(this.key(`${p}.norm3`), dim)),
      });
    }
    this.finalAttn = this.child('fa', new QAttention(this.key('final_attn_token_to_image'), dim, 4));
    this.finalNorm = this.child('fn', new LayerNormP(this.key('norm_final_attn'), dim));
  }
  /** q [B, 1, D], values / keysPe [B, L, D] -> [B, 1, D]. */
  forward(q: Tensor, values: Tensor, keysPe: Tensor): Tensor<'f32'> {
    let x = q;
    for (const b of this.blocks) {
      x = b.norm2.forward(b.attn.forward(x, keysPe, values, x));
      x = b.norm3.forward(b.lin2.forward(b.lin1.forward(x, { activation: 'relu' }), { residual: x }));
    }
    return this.finalNorm.forward(this.finalAttn.forward(addOp(x, x), keysPe, values, x));
  }
}

/** QFormerMFSep: one QFormer per action query; query i sees frames [0, tNum(i)). */
export class QFormerSep extends Module {
  readonly qformers: QFormer[];
  constructor(
    path: string,
    dim: number,
    depth: number,
    count: number,
    readonly peValues = false,
  ) {
    super(path);
    this.qformers = Array.from({ length: count }, (_, i) => this.child(`q${i}`, new QFormer(this.key(`qformers.${i}`), dim, depth)));
  }
  /** Frames query i attends to, for T frames and A queries (upstream's rule). */
  static framesFor(i: number, T: number, A: number): number {
    return T - A === 1 ? i + 2 : Math.floor(T / A) * (i + 1);
  }
  /** features / pe (/ values, default features or features + pe) [B, D, T, H, W], queries [B, A, D] -> [B, A, D]. */
  forward(features: Tensor, pe: Tensor, queries: Tensor, values?: Tensor): Tensor<'f32'> {
    const [B, D, T, H, W] = features.shape as [number, number, number, number, number];
    const A = this.qformers.length;
    this.require(queries.shape[1] === A, `${queries.shape[1]} queries for ${A} qformers`);
    const tokens = (t: Tensor, n: number) => reshape(permuteOp(sliceOp(t, 2, 0, n), [0, 2, 3, 4, 1]), [B, n * H * W, D]);
    const outs = this.qformers.map((qf, i) => {
      const n = Math.min(T, QFormerSep.framesFor(i, T, A));
      const keys = tokens(features, n);
      const keysPe = addOp(keys, tokens(pe, n));
      return qf.forward(sliceOp(queries, 1, i, i + 1), values ? tokens(values, n) : this.peValues ? keysPe : keys, keysPe);
    });
    return outs.length === 1 ? outs[0]! : concatOp(outs, 1);
  }
}

export interface LdmEncoding {
  /** int32 [B, 1, 1, 1]: one FSQ index per clip (per action query). */
  indices: Tensor<'i32'>;
  /** FSQ codes after project_out [B, dim, 1, 1, 1] (the decoder's code input). */
  codes: Tensor<'f32'>;
  /** qformer output [B, dim, 1, 1, 1] (pre-quantisation features). */
  features: Tensor<'f32'>;
  /** Encoder layer `preOutLayer` output, first timePadding + 1 frames [B, dim, 4, h, w]. */
  preEncodeOut: Tensor<'f32'>;
}

/**
 * The Latent Dynamics Model: a causal 3D-conv encoder and query attention compress a clip's change
 * into FSQ latent-action codes; the adaptive decoder rebuilds the later frames from them.
 * @example
 * const ldm = new LatentDynamicsModel(TINY_LDM);
 * const e = ldm.encode(clip);                       // clip [B, 3, T, S, S] -> e.indices, e.codes
 * const frames = ldm.decode(e.codes, e.preEncodeOut);
 */
export class LatentDynamicsModel extends Module {
  readonly convIn: CausalConv3d;
  /** @internal */
  readonly encSteps: Step[] = [];
  readonly posG: Param;
  readonly act: Param;
  readonly qformer: QFormerSep;
  readonly projectIn: Linear;
  readonly projectOut: Linear;
  /** @internal */
  readonly decSteps: Step[] = [];
  readonly convOut: CausalConv3d;

  constructor(
    readonly cfg: LdmConfig,
    path = '',
  ) {
    super(path);
    const e = cfg.encoder;
    const F = e.frameNum + e.timePadding;
    const D = cfg.dim;
    this.convIn = this.child('conv_in', new CausalConv3d(this.key('encoder.conv_in'), 3, e.initDim, 7));
    let d = e.initDim;
    e.layers.forEach(([kind, n], layer) => {
      const p = this.key(`encoder.encoder_layers.${layer}`);
      const push = (kind: 'res' | 'down', name: string, m: Module & { forward(x: Tensor): Tensor<'f32'> }) => this.encSteps.push({ layer, kind, m: this.child(name, m) });
      if (kind === 'consecutive_residual') for (let k = 0; k < n; k++) push('res', `e${layer}.${k}`, new LdmResidual(`${p}.${k}`, d, d, F));
      else if (kind === 'channel_residual') {
        push('res', `e${layer}`, new LdmResidual(p, d, 2 * d, F));
        d *= 2;
      } else if (kind === 'spatial_down') push('down', `e${layer}`, new SpatialDown(p, d));
      else this.require(false, `encoder layer ${layer}: '${kind}' is not an encoder layer`);
    });
    this.require(d === D, `encoder ends at ${d} channels; the qformer and FSQ are hard-coded to ${D}`);
    this.require(e.preOutLayer >= 0 && e.preOutLayer < e.layers.length, `preOutLayer ${e.preOutLayer} outside 0..${e.layers.length - 1}`);
    // Appended GN + SiLU + 1x1x1 conv: in the state_dict, never executed upstream (zip truncation).
    const tail = this.key(`encoder.encoder_layers.${e.layers.length}`);
    this.child('enc_tail_gn', new GroupNorm(`${tail}.0`, D));
    this.child('enc_tail_conv', new Conv3dPlain(`${tail}.2`, D, D));
    // A registered buffer upstream (SAM's PositionEmbeddingRandom), not a parameter.
    this.posG = this.param('encoder.pos_embedding.positional_encoding_gaussian_matrix', [2, D / 2], false);
    this.act = this.param('encoder.act.weight', [e.actEmbeddingNum, D]);
    this.qformer = this.child('qformer', new QFormerSep(this.key('encoder.qformer'), D, e.qformerDepth, e.actEmbeddingNum, e.peValues));
    if (e.deltaTokens) this.require(e.frameNum === 2 && e.actEmbeddingNum === 1, `deltaTokens needs 2-frame clips and one action query, got frameNum ${e.frameNum}, actEmbeddingNum ${e.actEmbeddingNum}`);
    this.projectIn = this.child('pin', new Linear(this.key('quantizer.project_in'), D, cfg.levels.length, true, false));
    this.projectOut = this.child('pout', new Linear(this.key('quantizer.project_out'), cfg.levels.length, D, true, false));

    // Decoder: widths follow the config order (channel_residual at running width w builds
    // Residual(2w -> w) and doubles w); execution and key order are reversed (insert(0, ...)).
    type Spec = { kind: LdmLayer[0]; n: number; w: number };
    const specs: Spec[] = [];
    let w = cfg.decoder.initDim;
    for (const [kind, n] of cfg.decoder.layers) {
      this.require(['consecutive_residual', 'channel_residual', 'spatial_up', 'condation'].includes(kind), `decoder layer '${kind}' is not a decoder layer`);
      specs.unshift({ kind, n, w });
      if (kind === 'channel_residual') w *= 2;
    }
    this.require(w === D, `decoder input width ${w} (initDim * 2^#channel_residual) must be ${D}`);
    specs.forEach(({ kind, n, w }, layer) => {
      const p = this.key(`decoder.decoder_layers.${layer}`);
      if (kind === 'consecutive_residual') {
        for (let k = 0; k < n; k++) this.decSteps.push({ layer, kind: 'res', m: this.child(`d${layer}.${k}`, new LdmResidual(`${p}.${k}`, w, w, null)) });
      } else if (kind === 'channel_residual') this.decSteps.push({ layer, kind: 'res', m: this.child(`d${layer}`, new LdmResidual(p, 2 * w, w, null)) });
      else if (kind === 'spatial_up') this.decSteps.push({ layer, kind: 'up', m: this.child(`d${layer}`, new SpatialUp(p, w)) });
      else this.decSteps.push({ layer, kind: 'ada', m: this.child(`d${layer}`, new AdaGN(p, D, w)) });
    });
    // Appended GN(32, initDim) + SiLU: in the state_dict, never executed (zip truncation).
    this.child('dec_tail_gn', new GroupNorm(this.key(`decoder.decoder_layers.${specs.length}`), cfg.decoder.initDim));
    this.convOut = this.child('conv_out', new CausalConv3d(this.key('decoder.conv_out'), cfg.decoder.initDim, 3, 1));
  }

  /**
   * clip [B, 3, frameNum, H, W] in [-1, 1] -> indices, codes, features, pre_encode_out. Under a
   * recording tape the codes come from project_out(FSQ(project_in(features))) with upstream's
   * straight-through estimator, differentiable end to end; otherwise from the indices (the exact
   * inference path the goldens check).
   *
   * `batchNormCodes` (training) standardises FSQ's inputs per level over the batch before the
   * rounding: with raw inputs they drift onto tanh's flat tails, where the straight-through gradient
   * vanishes and every clip gets the same code (the micro Go LDM used 1 of 200 codes). Fold the
   * population statistics into project_in afterwards (`foldCodeNorm`) for the plain path.
   * `codeNorm` standardises with given per-level statistics instead (e.g. running ones measured
   * on fresh clips every few steps): with a small batch, batch statistics make a clip's code
   * depend on the other clips of its batch.
   */
  encode(clip: Tensor, opts: { batchNormCodes?: boolean; codeNorm?: { mean: ArrayLike<number>; variance: ArrayLike<number> } } = {}): LdmEncoding {
    const e = this.cfg.encoder;
    const ctx = clip.ctx;
    this.require(clip.shape.length === 5 && clip.shape[1] === 3 && clip.shape[2] === e.frameNum, `clip [${clip.shape.join(',')}], expected [B, 3, ${e.frameNum}, H, W]`);
    const B = clip.shape[0]!;
    const D = this.cfg.dim;
    const tp = e.timePadding;
    // deltaTokens: the clip and its reference (frame 0, frame 0) through the convs as one batch.
    const input = e.deltaTokens ? ctx.scope(() => concatOp([clip, concatOp(Array.from({ length: 2 }, () => sliceOp(clip, 2, 0, 1)), 2)], 0)) : clip;
    let h: Tensor = ctx.scope(() => this.convIn.forward(padOp(input, [[0, 0], [0, 0], [tp, 0], [0, 0], [0, 0]])));
    if (input !== clip) input.dispose();
    let preOut: Tensor<'f32'> | null = null;
    const lastOfPreOut = this.encSteps.findLastIndex((s) => s.layer === e.preOutLayer);
    this.encSteps.forEach((s, i) => {
      const next = ctx.scope(() => (s.kind === 'ada' ? s.m.forward(h, h) : s.m.forward(h)));
      h.dispose();
      h = next;
      if (i === lastOfPreOut) preOut = ctx.scope(() => sliceOp(e.deltaTokens ? sliceOp(h, 0, 0, B) : h, 2, 0, tp + 1));
    });
    this.require(h.shape[3] === e.peGrid && h.shape[4] === e.peGrid, `encoder output ${h.shape[3]}x${h.shape[4]}, the positional encoding grid is ${e.peGrid}x${e.peGrid}`);
    const out = ctx.scope(() => {
      const frame1 = (b0: number) => sliceOp(sliceOp(h, 0, b0, b0 + B), 2, tp + 1, tp + 2);
      const real = e.deltaTokens ? subOp(frame1(0), frame1(B)) : sliceOp(h, 2, tp, tp + e.frameNum);
      const T = real.shape[2]!;
      const pe1 = fourierPe(this.posG.t, e.peGrid, e.peGrid).reshape([1, D, 1, e.peGrid, e.peGrid]);
      // Copies along the batch, then along time: one concat of B * T copies along time, reshaped,
      // would hand each clip of a batch the encoding's channels in a different order.
      const peB = concat(Array.from({ length: B }, () => pe1), 0);
      const pe = T === 1 ? peB : concat(Array.from({ length: T }, () => peB), 2);
      const act = reshape(this.act.t, [1, e.actEmbeddingNum, D]);
      const queries = concatOp(Array.from({ length: B }, () => act), 0);
      const q = this.qformer.forward(real, pe, queries, e.deltaTokens ? addOp(real, mulOp(real, pe)) : undefined);
      const features = reshape(q, [B, D, 1, 1, 1]);
      if (activeTape(ctx) || opts.batchNormCodes || opts.codeNorm) {
        let u = this.projectIn.forward(reshape(q, [B, D]));
        if (opts.batchNormCodes) u = permuteOp(layerNormOp(permuteOp(u, [1, 0]), { eps: CODE_NORM_EPS }), [1, 0]);
        else if (opts.codeNorm) u = this.standardiseCodes(u, opts.codeNorm);
        const { codes: c, indices } = fsqCodes(u, this.cfg.levels, false);
        return { indices: indices.reshape([B, 1, 1, 1]), codes: reshape(this.projectOut.forward(c), [B, D, 1, 1, 1]), features };
      }
      const { indices } = fsqQuantize(features, { levels: this.cfg.levels, projectIn: { weight: this.projectIn.weight.t, bias: this.projectIn.bias!.t } });
      const codes = fsqIndicesToCodes(indices, { levels: this.cfg.levels, projectOut: { weight: this.projectOut.weight.t, bias: this.projectOut.bias!.t }, channelFirst: true });
      return { indices, codes, features };
    });
    h.dispose();
    return { ...out, preEncodeOut: preOut! };
  }

  /** (u - mean) / sqrt(variance + eps) per FSQ level, u [B, levels]; the statistics are constants. */
  private standardiseCodes(u: Tensor, { mean, variance }: { mean: ArrayLike<number>; variance: ArrayLike<number> }): Tensor<'f32'> {
    const rstd = this.codeNormRstd('codeNorm', mean, variance);
    const L = rstd.length;
    return addOp(mulOp(u, u.ctx.fromArray(rstd, [1, L])), u.ctx.fromArray(rstd.map((r, l) => -mean[l]! * r), [1, L]));
  }

  /** 1 / sqrt(variance + eps) per FSQ level, after checking one mean and variance per level. */
  private codeNormRstd(what: string, mean: ArrayLike<number>, variance: ArrayLike<number>): number[] {
    const L = this.cfg.levels.length;
    this.require(mean.length === L && variance.length === L, `${what}: ${L} means and variances (one per FSQ level), got ${mean.length} and ${variance.length}`);
    return Array.from(variance, (v) => 1 / Math.sqrt(v + CODE_NORM_EPS));
  }

  /**
   * Folds per-level statistics of project_in's output (`mean`, `variance`, one per FSQ level, e.g.
   * measured over many clips after training with `batchNormCodes`) into its weight and bias, so the
   * plain path standardises as the batch norm did.
   */
  async foldCodeNorm(mean: ArrayLike<number>, variance: ArrayLike<number>): Promise<void> {
    const rstd = this.codeNormRstd('foldCodeNorm', mean, variance);
    const D = this.cfg.dim;
    const w = (await this.projectIn.weight.t.read()) as Float32Array;
    const b = (await this.projectIn.bias!.t.read()) as Float32Array;
    for (let l = 0; l < rstd.length; l++) {
      const inv = rstd[l]!;
      for (let k = 0; k < D; k++) w[l * D + k]! *= inv;
      b[l] = (b[l]! - mean[l]!) * inv;
    }
    this.projectIn.weight.t.write(w);
    this.projectIn.bias!.t.write(b);
  }

  /** codes [B, dim, 1, 1, 1] + preEncodeOut [B, dim, 4, h, w] -> clip [B, 3, frameNum, 8h, 8w]. */
  decode(codes: Tensor, preEncodeOut: Tensor): Tensor<'f32'> {
    const ctx = codes.ctx;
    const [B, D, Tp, H, W] = preEncodeOut.shape as [number, number, number, number, number];
    this.require(codes.shape.length === 5 && codes.shape[0] === B && codes.shape[1] === D, `codes [${codes.shape.join(',')}], expected [${B}, ${D}, 1, 1, 1]`);
    const cond = ctx.scope(() => {
      let codeMap = addOp(ctx.zeros([B, D, 1, H, W]), codes);
      if (this.cfg.decoder.codePe) codeMap = reshape(mulOp(reshape(codeMap, [B, D * H * W]), scale(fourierPe(this.posG.t, H, W), 1, 1).reshape([1, D * H * W])), [B, D, 1, H, W]);
      return concatOp([preEncodeOut, codeMap], 2);
    });
    let h: Tensor = cond;
    for (const s of this.decSteps) {
      const next = ctx.scope(() => (s.kind === 'ada' ? s.m.forward(h, cond) : s.m.forward(h)));
      if (h !== cond) h.dispose();
      h = next;
    }
    const out = ctx.scope(() => sliceOp(this.convOut.forward(h), 2, this.cfg.decoder.timePadding, Tp + 1));
    h.dispose();
    if (h !== cond) cond.dispose();
    return out;
  }
}

/**
 * Per-level mean and population variance of project_in outputs `u` ([N, levels] row-major, e.g.
 * over many clips after training with `batchNormCodes`): the arguments of `foldCodeNorm`.
 */
export function codeNormStats(u: ArrayLike<number>, levels: number): { mean: number[]; variance: number[] } {
  const n = u.length / levels;
  const mean = new Array<number>(levels).fill(0);
  const variance = new Array<number>(levels).fill(0);
  for (let i = 0; i < u.length; i++) mean[i % levels]! += u[i]! / n;
  for (let i = 0; i < u.length; i++) variance[i % levels]! += (u[i]! - mean[i % levels]!) ** 2 / n;
  return { mean, variance };
}

/** A plain nn.Conv3d 1x1x1 (the never-executed encoder tail): declared for its state_dict keys. */
class Conv3dPlain extends Module {
  constructor(path: string, cin: number, cout: number) {
    super(path);
    this.param('weight', [cout, cin, 1, 1, 1]);
    this.param('bias', [cout]);
  }
}

export type { GpuContext };
