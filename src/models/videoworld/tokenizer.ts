/**
 * The image tokenizer of the Go model (spec section 3): VQGANEncoder -> post_encode (1x1 conv) ->
 * FSQ(levels, dim 256) -> indices; indices -> FSQ codes + project_out -> pre_decode -> VQGANDecoder.
 * Upstream: falcon/models/quantizer/{vqgan,connector,finite_scalar_quantization}.py, wired as in
 * go_battle_with_human.py. Keys: vbackbone.*, post_encode._conv.*, v_token.*, pre_decode._conv.*,
 * v_token_decoder.* (go_fsq.pth's generator.* names are mapped by the weight map).
 */
import { type Tensor, fsqIndicesToCodes, fsqQuantize } from '../../../kernels/index.js';
import { Module, type Param } from '../../graph/module.js';
import { attentionOp, fsqCodes, linear, notDifferentiable, permuteOp, reshape, sliceOp, upsampleNearest2xOp } from '../../graph/ops.js';
import { Conv2d, GroupNorm, Linear } from './layers.js';

/** Residual(in, out): GN-SiLU-Conv3x3-GN-SiLU-Conv3x3 + shortcut (1x1 conv when the width changes). */
export class VQResidual extends Module {
  readonly gn1: GroupNorm;
  readonly conv1: Conv2d;
  readonly gn2: GroupNorm;
  readonly conv2: Conv2d;
  readonly shortcut: Conv2d | null;
  constructor(path: string, cin: number, cout: number, norm: NormConfig = UPSTREAM_NORM) {
    super(path);
    this.gn1 = this.child('gn1', new GroupNorm(this.key('_residual.0'), cin, norm.groups, norm.eps));
    this.conv1 = this.child('conv1', new Conv2d(this.key('_residual.2'), cin, cout, 3));
    this.gn2 = this.child('gn2', new GroupNorm(this.key('_residual.3'), cout, norm.groups, norm.eps));
    this.conv2 = this.child('conv2', new Conv2d(this.key('_residual.5'), cout, cout, 3));
    this.shortcut = cin === cout ? null : this.child('sc', new Conv2d(this.key('_shortcut'), cin, cout, 1));
  }
  forward(x: Tensor): Tensor<'f32'> {
    const h = this.conv1.forwardNormed(this.gn1, true, x);
    const res = this.shortcut ? this.shortcut.forward(x) : x;
    return this.conv2.forwardNormed(this.gn2, true, h, { residual: res });
  }
}

/** GN then single-head nn.MultiheadAttention over the H*W tokens (packed in_proj), plus residual. */
export class VQAttention extends Module {
  readonly gn: GroupNorm;
  readonly inProj: Param;
  readonly inBias: Param;
  readonly out: Linear;
  constructor(
    path: string,
    readonly channels: number,
    norm: NormConfig = UPSTREAM_NORM,
  ) {
    super(path);
    this.gn = this.child('gn', new GroupNorm(this.key('_group_norm'), channels, norm.groups, norm.eps));
    this.inProj = this.param('_multihead_attention.in_proj_weight', [3 * channels, channels]);
    this.inBias = this.param('_multihead_attention.in_proj_bias', [3 * channels]);
    this.out = this.child('out', new Linear(this.key('_multihead_attention.out_proj'), channels, channels));
  }
  forward(x: Tensor): Tensor<'f32'> {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    this.require(C === this.channels, `C=${C}, expected ${this.channels}`);
    const L = H * W;
    const tokens = (t: Tensor) => reshape(permuteOp(reshape(t, [B, C, L]), [0, 2, 1]), [B * L, C]);
    const qkv = linear(tokens(this.gn.forward(x)), this.inProj.t, this.inBias.t);
    const part = (i: number) => reshape(sliceOp(qkv, 1, i * C, (i + 1) * C), [B, 1, L, C]);
    const o = attentionOp(part(0), part(1), part(2));
    const y = this.out.forward(reshape(o, [B * L, C]), { residual: tokens(x) });
    return reshape(permuteOp(reshape(y, [B, L, C]), [0, 2, 1]), [B, C, H, W]);
  }
}

/** Downsample: zero-pad right and bottom by 1, then 3x3 conv stride 2 (no padding). */
export class VQDownsample extends Module {
  readonly conv: Conv2d;
  constructor(path: string, c: number) {
    super(path);
    this.conv = this.child('conv', new Conv2d(this.key('_conv'), c, c, 3));
  }
  forward(x: Tensor): Tensor<'f32'> {
    return this.conv.forward(x, { stride: 2, padding: [0, 1, 0, 1] });
  }
}

/** Upsample: nearest 2x, then 3x3 conv (pad 1). */
export class VQUpsample extends Module {
  readonly conv: Conv2d;
  constructor(path: string, c: number) {
    super(path);
    this.conv = this.child('conv', new Conv2d(this.key('_conv'), c, c, 3));
  }
  forward(x: Tensor): Tensor<'f32'> {
    return this.conv.forward(upsampleNearest2xOp(x));
  }
}

export interface VQGANConfig {
  inChannels: number;
  outChannels: number;
  width: number;
  depth: number;
  widthMults: readonly number[];
  /** Index of the layer whose residuals are each followed by an Attention. */
  attentionLayer: number;
  /** The refine block (Residual, Attention, Residual) runs before this layer (= #layers: after all). */
  refineLayer: number;
  /** Decoder only: in_conv output width (default width * widthMults[0]). */
  hiddenChannels?: number;
  /** GroupNorm groups and eps (upstream: 32, 1e-6). */
  norm?: NormConfig;
}

export interface NormConfig {
  groups: number;
  eps: number;
}

const UPSTREAM_NORM: NormConfig = { groups: 32, eps: 1e-6 };

/** VQGANEncoder / VQGANDecoder (vqgan.py mixin): in_conv, layers + resamples, refine, projector. */
export class VQGAN extends Module {
  readonly inConv: Conv2d;
  readonly layers: { residuals: VQResidual[]; attentions: VQAttention[] }[] = [];
  readonly resamples: (VQDownsample | VQUpsample)[] = [];
  readonly refine: [VQResidual, VQAttention, VQResidual];
  readonly projGn: GroupNorm;
  readonly projConv: Conv2d;

  constructor(
    path: string,
    readonly cfg: VQGANConfig,
    readonly kind: 'encoder' | 'decoder',
  ) {
    super(path);
    const n = cfg.widthMults.length;
    const norm = cfg.norm ?? UPSTREAM_NORM;
    const widths = cfg.widthMults.map((m) => m * cfg.width);
    const first = cfg.hiddenChannels ?? widths[0]!;
    this.inConv = this.child('in', new Conv2d(this.key('_in_conv'), cfg.inChannels, first, 3));
    let c = first;
    let refineWidth = 0;
    for (let i = 0; i < n; i++) {
      if (i === cfg.refineLayer) refineWidth = c;
      const cout = widths[i]!;
      const residuals: VQResidual[] = [];
      const attentions: VQAttention[] = [];
      for (let j = 0; j < cfg.depth; j++) {
        residuals.push(this.child(`l${i}r${j}`, new VQResidual(this.key(`_layers.${i}._residuals.${j}`), j === 0 ? c : cout, cout, norm)));
        if (i === cfg.attentionLayer) attentions.push(this.child(`l${i}a${j}`, new VQAttention(this.key(`_layers.${i}._attentions.${j}`), cout, norm)));
      }
      this.layers.push({ residuals, attentions });
      c = cout;
      const rsPath = this.key(`_resamples.${i}`);
      if (i < n - 1) this.resamples.push(this.child(`rs${i}`, kind === 'encoder' ? new VQDownsample(rsPath, c) : new VQUpsample(rsPath, c)));
    }
    if (cfg.refineLayer >= n) refineWidth = c;
    this.require(refineWidth > 0, `refineLayer ${cfg.refineLayer} out of range`);
    this.refine = [
      this.child('ref0', new VQResidual(this.key('_refine.0'), refineWidth, refineWidth, norm)),
      this.child('ref1', new VQAttention(this.key('_refine.1'), refineWidth, norm)),
      this.child('ref2', new VQResidual(this.key('_refine.2'), refineWidth, refineWidth, norm)),
    ];
    this.projGn = this.child('pgn', new GroupNorm(this.key('_projector.0'), c, norm.groups, norm.eps));
    this.projConv = this.child('pconv', new Conv2d(this.key('_projector.2'), c, cfg.outChannels, 3));
  }

  forward(x: Tensor): Tensor<'f32'> {
    const ctx = x.ctx;
    // Every stage runs in its own scope so only the running activation stays alive.
    const stage = (f: (h: Tensor) => Tensor<'f32'>) => (h: Tensor): Tensor<'f32'> => {
      const next = ctx.scope(() => f(h));
      if (h !== x) h.dispose();
      return next;
    };
    const refine = stage((h) => this.refine[2].forward(this.refine[1].forward(this.refine[0].forward(h))));
    let h: Tensor = stage((t) => this.inConv.forward(t))(x);
    this.layers.forEach((layer, i) => {
      if (i === this.cfg.refineLayer) h = refine(h);
      layer.residuals.forEach((r, j) => {
        h = stage((t) => r.forward(t))(h);
        const a = layer.attentions[j];
        if (a) h = stage((t) => a.forward(t))(h);
      });
      const rs = this.resamples[i];
      if (rs) h = stage((t) => rs.forward(t))(h);
    });
    if (this.cfg.refineLayer >= this.layers.length) h = refine(h);
    return stage((t) => this.projConv.forwardNormed(this.projGn, true, t))(h);
  }
}

export interface TokenizerConfig {
  encoder: VQGANConfig;
  decoder: VQGANConfig;
  levels: readonly number[];
  /** FSQ dim (post_encode / pre_decode width). */
  dim: number;
  /**
   * Encode each token's pixel patch on its own (as a batch of patches, zero-padded at the patch's
   * edge) instead of the whole image: a token then depends on its patch alone, so a change inside
   * one patch changes one token. Not in upstream; the micro model uses it so that a move changes
   * the one token of its 2x2 intersections and the transformer copies the rest.
   */
  patchEncoder?: boolean;
}

/** The Go image tokenizer: width 128, encoder mults (1,1,1,2,2,4,4) depth 2, decoder (4,4,2,2,1,1,1) depth 3. */
export const GO_TOKENIZER: TokenizerConfig = {
  encoder: { inChannels: 3, outChannels: 256, width: 128, depth: 2, widthMults: [1, 1, 1, 2, 2, 4, 4], attentionLayer: 6, refineLayer: 7 },
  decoder: { inChannels: 256, outChannels: 3, width: 128, depth: 3, widthMults: [4, 4, 2, 2, 1, 1, 1], attentionLayer: 0, refineLayer: 0, hiddenChannels: 512 },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 256,
};

/** Reduced widths for tests (falcon_tokenizer_small): 32x32 image -> 8x8 tokens. */
export const TINY_TOKENIZER: TokenizerConfig = {
  encoder: { inChannels: 3, outChannels: 256, width: 64, depth: 1, widthMults: [1, 1, 8], attentionLayer: 2, refineLayer: 3 },
  decoder: { inChannels: 256, outChannels: 3, width: 64, depth: 1, widthMults: [8, 1, 1], attentionLayer: 0, refineLayer: 0, hiddenChannels: 512 },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 256,
};

/**
 * The same family at the smallest width GroupNorm(32) allows, one downsampling (16x16 -> 8x8
 * tokens), no attention outside the refine blocks: trains in minutes on a CPU adapter (the
 * overfit test, examples/train-tokenizer.ts, the train_step bench row).
 */
export const SMALL_TOKENIZER: TokenizerConfig = {
  encoder: { inChannels: 3, outChannels: 32, width: 32, depth: 1, widthMults: [1, 1], attentionLayer: 2, refineLayer: 2 },
  decoder: { inChannels: 32, outChannels: 3, width: 32, depth: 1, widthMults: [1, 1], attentionLayer: 2, refineLayer: 0, hiddenChannels: 32 },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 32,
};

/**
 * The micro Go model's tokenizer: 20x20 grid images (2 px per intersection), two downsamplings to
 * 5x5 tokens of 2x2 intersections each, FSQ 5^4 = 625 codes (81 board patterns per token, with slack).
 * The encoder sees one 4x4 patch at a time (patchEncoder): with the whole image, a move changed 0-6
 * tokens (median 2-3 over 161 game moves) and the transformer could not learn the edits.
 * GroupNorm with eps 1e-4 over 4 channels in the decoder (upstream's GN(32) would normalize single
 * channels of 5x5 maps, near-constant on a board of mostly identical tokens) and over 16 in the
 * encoder, whose last stages are 1x1.
 */
const MICRO_NORM: NormConfig = { groups: 8, eps: 1e-4 };
export const MICRO_TOKENIZER: TokenizerConfig = {
  encoder: { inChannels: 3, outChannels: 32, width: 32, depth: 1, widthMults: [1, 1, 1], attentionLayer: 3, refineLayer: 3, norm: { groups: 2, eps: 1e-4 } },
  decoder: { inChannels: 32, outChannels: 3, width: 32, depth: 1, widthMults: [1, 1, 1], attentionLayer: 3, refineLayer: 0, hiddenChannels: 32, norm: MICRO_NORM },
  levels: [5, 5, 5, 5],
  dim: 32,
  patchEncoder: true,
};

export interface TokenizerEncoding {
  /** int32 [B, h, w] FSQ indices in [0, prod(levels)). */
  indices: Tensor<'i32'>;
  /** VQGANEncoder output [B, dim, h, w]. */
  encoderOut: Tensor<'f32'>;
  /** post_encode output [B, dim, h, w] (FSQ input). */
  postEncode: Tensor<'f32'>;
}

/**
 * The FSQ VQ-GAN image tokenizer: encode an image to FSQ indices, decode indices to an image.
 * @example
 * const tok = new ImageTokenizer(TINY_TOKENIZER);
 * const { indices } = tok.encode(image);            // image [B, 3, S, S] -> i32 [B, h, w]
 * const recon = tok.decode(indices);                // [B, 3, S, S]
 */
export class ImageTokenizer extends Module {
  readonly vbackbone: VQGAN;
  readonly postEncode: Conv2d;
  readonly projectIn: Linear;
  readonly projectOut: Linear;
  readonly preDecode: Conv2d;
  readonly decoder: VQGAN;

  constructor(
    readonly cfg: TokenizerConfig,
    path = '',
  ) {
    super(path);
    const nl = cfg.levels.length;
    this.vbackbone = this.child('enc', new VQGAN(this.key('vbackbone'), cfg.encoder, 'encoder'));
    this.require(cfg.encoder.outChannels === cfg.dim && cfg.decoder.inChannels === cfg.dim, `encoder out / decoder in must equal the FSQ dim ${cfg.dim}`);
    this.postEncode = this.child('post', new Conv2d(this.key('post_encode._conv'), cfg.dim, cfg.dim, 1));
    this.projectIn = this.child('pin', new Linear(this.key('v_token.project_in'), cfg.dim, nl, true, false));
    this.projectOut = this.child('pout', new Linear(this.key('v_token.project_out'), nl, cfg.dim, true, false));
    this.preDecode = this.child('pre', new Conv2d(this.key('pre_decode._conv'), cfg.dim, cfg.dim, 1));
    this.decoder = this.child('dec', new VQGAN(this.key('v_token_decoder'), cfg.decoder, 'decoder'));
  }

  /** image [B, 3, H, W] in [-1, 1] -> FSQ indices [B, H/2^k, W/2^k] (and the intermediate maps). */
  encode(image: Tensor): TokenizerEncoding {
    this.require(image.shape.length === 4 && image.shape[1] === this.cfg.encoder.inChannels, `image [${image.shape.join(',')}], expected [B, ${this.cfg.encoder.inChannels}, H, W]`);
    notDifferentiable(image.ctx, 'ImageTokenizer.encode (train through reconstruct())');
    const encoderOut = this.encoder(image);
    const postEncode = this.postEncode.forward(encoderOut);
    const { codes, indices } = image.ctx.scope(() => fsqQuantize(postEncode, { levels: this.cfg.levels, projectIn: { weight: this.projectIn.weight.t, bias: this.projectIn.bias!.t } }));
    codes.dispose();
    return { indices, encoderOut, postEncode };
  }

  /**
   * The training path: image -> encoder -> FSQ with the straight-through estimator -> decoder,
   * differentiable end to end (src/graph/ops.ts). Returns the reconstruction and the indices.
   */
  reconstruct(image: Tensor): { recon: Tensor<'f32'>; indices: Tensor<'i32'> } {
    const post = this.postEncode.forward(this.encoder(image));
    const [B, D, h, w] = post.shape as [number, number, number, number];
    const N = h * w;
    const u = this.projectIn.forward(reshape(permuteOp(reshape(post, [B, D, N]), [0, 2, 1]), [B * N, D]));
    const { codes, indices } = fsqCodes(u, this.cfg.levels, false);
    const z = this.projectOut.forward(codes);
    const zc = reshape(permuteOp(reshape(z, [B, N, D]), [0, 2, 1]), [B, D, h, w]);
    return { recon: this.decoder.forward(this.preDecode.forward(zc)), indices: indices.reshape([B, h, w]) };
  }

  /** The VQGAN encoder's output [B, dim, h, w], patch by patch under patchEncoder. */
  private encoder(image: Tensor): Tensor<'f32'> {
    if (!this.cfg.patchEncoder) return this.vbackbone.forward(image);
    const [B, C, H, W] = image.shape as [number, number, number, number];
    const p = 2 ** (this.cfg.encoder.widthMults.length - 1);
    this.require(H % p === 0 && W % p === 0, `patchEncoder: image ${H}x${W} is not a whole number of ${p}x${p} patches`);
    const [h, w] = [H / p, W / p];
    const ctx = image.ctx;
    const patches = ctx.scope(() => reshape(permuteOp(reshape(image, [B, C, h, p, w, p]), [0, 2, 4, 1, 3, 5]), [B * h * w, C, p, p]));
    const out = this.vbackbone.forward(patches);
    patches.dispose();
    const D = out.shape[1]!;
    const y = ctx.scope(() => permuteOp(reshape(out, [B, h, w, D]), [0, 3, 1, 2]));
    out.dispose();
    return y;
  }

  /** FSQ indices [B, h, w] -> codes after project_out, channel-first [B, dim, h, w]. */
  codes(indices: Tensor | Int32Array, shape?: readonly number[]): Tensor<'f32'> {
    notDifferentiable(this.projectOut.weight.t.ctx, 'ImageTokenizer.codes (train through reconstruct())');
    return fsqIndicesToCodes(indices, { levels: this.cfg.levels, projectOut: { weight: this.projectOut.weight.t, bias: this.projectOut.bias!.t }, shape, channelFirst: true });
  }

  /** FSQ indices [B, h, w] -> image [B, 3, H, W] (unbounded; callers map (x+1)*127 and clamp). */
  decode(indices: Tensor | Int32Array, shape?: readonly number[]): Tensor<'f32'> {
    const codes = this.codes(indices, shape);
    const pre = this.preDecode.forward(codes);
    codes.dispose();
    const img = this.decoder.forward(pre);
    pre.dispose();
    return img;
  }
}
