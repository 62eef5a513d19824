/**
 * conv2d: the 2-D convolutions of the VQGAN image tokenizer, NCHW, with per-side zero padding. The
 * causal 3-D convolution's kernel runs them with T = KT = 1 (kernels/conv3d_causal.ts,
 * wgsl/conv3d_causal.wgsl): the same tiles, packed weights (PackedConvWeight), epilogue (bias, then
 * SiLU, then the residual add) and tolerance (atol = Cin*KH*KW * 2^-22 + 1e-6; goldens 1e-4).
 *
 *   y[b,co,oy,ox] = act(bias[co] + sum_{ci,dy,dx} w[co,ci,dy,dx] * x[b,ci,oy*sh-pt+dy,ox*sw-pl+dx]) + residual
 */
import { expectEps, expectTensor, sameContext } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { conv2dGeometry } from './core/conv_geometry.js';
import { type ConvEpilogue, type ConvWeight, PackedConvWeight, convDispatch, expectConvWeight } from './conv3d_causal.js';
import { useWinograd } from './conv_winograd.js';
import { groupGeometry } from './core/group_chunk.js';
import { groupNorm, groupNormStats } from './group_norm.js';

/** GroupNorm (then SiLU) of the conv's input, as groupNorm(x, this) before the conv. */
export interface ConvInputNorm {
  /** Affine scale and shift [Cin]. */
  weight: Tensor;
  bias: Tensor;
  /** Groups (default 32; must divide Cin). */
  groups?: number;
  /** Added to the biased variance (default 1e-6). */
  eps?: number;
  silu?: boolean;
}

export interface Conv2dOptions extends ConvEpilogue {
  stride?: number | readonly [number, number];
  /** [top, bottom, left, right] zero padding; a number pads all sides. Default KH//2, KW//2. */
  padding?: number | readonly [number, number, number, number];
  /**
   * Normalise the input first: conv2d(groupNorm(x, inputNorm), w). Where the conv takes the
   * Winograd path the norm is applied as the input transform reads x (the normalised input is
   * never written); elsewhere groupNorm runs first.
   */
  inputNorm?: ConvInputNorm;
}

/**
 * 2-D convolution of x [B,Cin,H,W] with weight [Cout,Cin,KH,KW] (NCHW), per-side zero padding.
 * @example
 * const y = conv2d(x, w, { bias });                                       // 3x3 pad 1 (default KH//2)
 * const d = conv2d(x, w, { bias, stride: 2, padding: [0, 1, 0, 1] });    // VQGAN Downsample
 */
export function conv2d(x: Tensor, weight: ConvWeight, opts: Conv2dOptions = {}): Tensor<'f32'> {
  const k = 'conv2d';
  expectTensor(k, 'x', x, { dtype: 'f32', rank: 4 });
  expectConvWeight(k, weight, 4);
  const g = conv2dGeometry(x.shape, weight.shape, opts.stride, opts.padding);
  const n = opts.inputNorm;
  if (!n) return convDispatch(k, x, weight, g, 0, opts, undefined);
  if (typeof n !== 'object' || n === null) throw new KernelArgError(k, 'inputNorm', `expected { weight, bias, groups?, eps?, silu? }, got ${String(n)}`);
  const groups = n.groups ?? 32;
  groupGeometry(k, x.shape, groups);
  expectTensor(k, 'inputNorm.weight', n.weight, { dtype: 'f32', shape: [g.cin] });
  expectTensor(k, 'inputNorm.bias', n.bias, { dtype: 'f32', shape: [g.cin] });
  sameContext(k, { x, 'inputNorm.weight': n.weight, 'inputNorm.bias': n.bias });
  const eps = n.eps ?? 1e-6;
  expectEps(k, 'inputNorm.eps', eps);
  const silu = n.silu ?? false;
  if (x.size === 0 || !(weight instanceof PackedConvWeight && useWinograd(g, 0, x.ctx.limits))) {
    const xn = x.size === 0 ? x : groupNorm(x, { groups, eps, weight: n.weight, bias: n.bias, silu });
    try {
      return convDispatch(k, xn, weight, g, 0, opts, undefined);
    } finally {
      if (xn !== x) xn.dispose();
    }
  }
  const stats = groupNormStats(x, { groups });
  try {
    return convDispatch(k, x, weight, g, 0, opts, undefined, { stats, gamma: n.weight, beta: n.bias, cpg: g.cin / groups, eps, silu });
  } finally {
    stats.dispose();
  }
}
