/**
 * Differentiable ops: each runs its forward kernel and, when a Tape is recording on the context
 * and an input needs a gradient, records the backward kernels it needs (src/graph/autograd.ts).
 * Without a recording tape they are the plain inference calls, fused epilogues included, so the
 * model code is the same for inference and training. While recording, fused epilogues whose
 * backward needs the pre-activation (linear/conv + SiLU) run unfused; GroupNorm + SiLU stays
 * fused (its backward recomputes the pre-activation from the input).
 */
import { type ConvActivation, F16Table, type GpuContext, KernelArgError, PackedConvWeight, PackedMatmulWeight, type RopeTable, type Tensor, adaGroupNorm, add, attention, binary, causalConv3d, concat, conv2d, depthToSpace2x, fsqQuantize, gatherRows, groupNorm, groupNormFramewise, layerNorm, linear as linearKernel, meanPool, mul, pad, permute, rmsNorm, rope, scale, silu as siluKernel, slice, sub, unary, upsampleNearest2x } from '../../kernels/index.js';
import { broadcastPlan } from '../../kernels/internal.js';
import { attentionBackward } from '../../kernels/attention_backward.js';
import { type ConvGrads, causalConv3dBackward, conv2dBackward } from '../../kernels/conv_backward.js';
import { softmaxCrossEntropy } from '../../kernels/cross_entropy.js';
import { embeddingBackward } from '../../kernels/embedding_backward.js';
import { fsqBackward } from '../../kernels/fsq_backward.js';
import { linearBackward } from '../../kernels/matmul_backward.js';
import { adaGroupNormBackward, groupNormBackward, layerNormBackward, rmsNormBackward } from '../../kernels/norm_backward.js';
import { reduceSum, sumSquares } from '../../kernels/reduce.js';
import { depthToSpace2xBackward, upsampleNearest2xBackward } from '../../kernels/resample.js';
import { ropeBackward } from '../../kernels/rope.js';
import { siluMulBackward, unaryBackward } from '../../kernels/unary_backward.js';
import { type Grad, type Tape, activeTape } from './autograd.js';
import { GraphError } from './module.js';

/** An f32 tensor (what every op returns). */
export type F32 = Tensor<'f32'>;

/** The recording tape when one of `inputs` needs a gradient, else null (plain inference call). */
function tapeFor(ctx: GpuContext, ...inputs: (Tensor | null | undefined)[]): Tape | null {
  const t = activeTape(ctx);
  return t && inputs.some((x) => t.requiresGrad(x)) ? t : null;
}

/**
 * For model code that has no backward yet: throws while a tape records on the context, so a
 * training forward fails loudly instead of silently dropping a gradient path.
 */
export function notDifferentiable(ctx: GpuContext, what: string): void {
  if (activeTape(ctx)) throw new GraphError(what, 'has no backward yet: run it under noGrad(ctx, ...) or outside tape.run()');
}

const plain = (op: string, w: Tensor | PackedMatmulWeight | PackedConvWeight): Tensor => {
  if (w instanceof PackedMatmulWeight || w instanceof PackedConvWeight) {
    throw new KernelArgError(op, 'weight', 'a packed weight cannot be differentiated through: call model.train() before load() so layers keep plain weights');
  }
  return w;
};

// ---- shape ops ---------------------------------------------------------------------------------

export function reshape(x: Tensor, shape: readonly number[]): F32 {
  const y = x.reshape(shape) as F32;
  tapeFor(x.ctx, x)?.record('reshape', [x], [y], [], ([g]) => [g!.reshape(x.shape) as F32]);
  return y;
}

export function permuteOp(x: Tensor, perm: readonly number[]): F32 {
  const y = permute(x, perm) as F32;
  const inv = perm.map((_, i) => perm.indexOf(i));
  tapeFor(x.ctx, x)?.record('permute', [x], [y], [], ([g]) => [permute(g!, inv) as F32]);
  return y;
}

export function sliceOp(x: Tensor, axis: number, start: number, end: number): F32 {
  const y = slice(x, axis, start, end) as F32;
  const a = axis < 0 ? axis + x.shape.length : axis;
  tapeFor(x.ctx, x)?.record('slice', [x], [y], [], ([g]) => [pad(g!, x.shape.map((d, k) => (k === a ? [start, d - end] : [0, 0]) as [number, number])) as F32]);
  return y;
}

export function padOp(x: Tensor, pads: readonly (readonly [number, number])[]): F32 {
  const y = pad(x, pads) as F32;
  tapeFor(x.ctx, x)?.record('pad', [x], [y], [], ([g]) => {
    let t: Tensor = g!;
    pads.forEach(([lo, hi], k) => {
      if (lo || hi) t = slice(t, k, lo, t.shape[k]! - hi);
    });
    return [t as F32];
  });
  return y;
}

export function concatOp(xs: readonly Tensor[], axis: number): F32 {
  const y = concat(xs, axis) as F32;
  const a = axis < 0 ? axis + y.shape.length : axis;
  tapeFor(y.ctx, ...xs)?.record('concat', xs, [y], [], ([g], needs) => {
    let at = 0;
    return xs.map((x, i) => {
      const lo = at;
      at += x.shape[a]!;
      return needs[i] ? (slice(g!, a, lo, at) as F32) : null;
    });
  });
  return y;
}

// ---- elementwise ------------------------------------------------------------------------------

/** Sums g [a.shape] down to b's broadcast shape (binary's broadcasting rule). */
function reduceTo(g: F32, aShape: readonly number[], bShape: readonly number[]): F32 {
  const { bDiv, bLen } = broadcastPlan('add', aShape, bShape);
  if (bShape.reduce((n, d) => n * d, 1) === g.size) return g.reshape(bShape) as F32;
  return reduceSum(g, [g.size / (bLen * bDiv), bLen, bDiv]).reshape(bShape) as F32;
}

/** a + b (b broadcast as binary's rule: same shape, scalar, bias, per-channel). */
export function addOp(a: Tensor, b: Tensor): F32 {
  const y = add(a, b);
  tapeFor(a.ctx, a, b)?.record('add', [a, b], [y], [], ([g], [na, nb]) => [na ? g! : null, nb ? reduceTo(g!, a.shape, b.shape) : null]);
  return y;
}

/** a - b (same broadcasting as addOp). */
export function subOp(a: Tensor, b: Tensor): F32 {
  const y = sub(a, b);
  tapeFor(a.ctx, a, b)?.record('sub', [a, b], [y], [], ([g], [na, nb]) => [na ? g! : null, nb ? (scale(reduceTo(g!, a.shape, b.shape), -1) as F32) : null]);
  return y;
}

/** a * b, b of a's shape or broadcast. */
export function mulOp(a: Tensor, b: Tensor): F32 {
  const y = mul(a, b);
  tapeFor(a.ctx, a, b)?.record('mul', [a, b], [y], [a, b], ([g], [na, nb]) => [na ? mul(g!, b) : null, nb ? reduceTo(mul(g!, a), a.shape, b.shape) : null]);
  return y;
}

/** x * alpha + beta. */
export function scaleOp(x: Tensor, alpha: number, beta = 0): F32 {
  const y = scale(x, alpha, beta);
  tapeFor(x.ctx, x)?.record('scale', [x], [y], [], ([g]) => [scale(g!, alpha)]);
  return y;
}

export function unaryOp(op: 'silu' | 'gelu' | 'relu', x: Tensor): F32 {
  const y = unary(op, x);
  tapeFor(x.ctx, x)?.record(op, [x], [y], [x], ([g]) => [unaryBackward(op, x, g!)]);
  return y;
}

/** silu(gate) * up (InternLM's SwiGLU). */
export function siluMul(gate: Tensor, up: Tensor): F32 {
  const t = tapeFor(gate.ctx, gate, up);
  const s = siluKernel(gate);
  const y = mul(s, up);
  s.dispose();
  t?.record('siluMul', [gate, up], [y], [gate, up], ([g]) => {
    const { dgate, dup } = siluMulBackward(gate, up, g!);
    return [dgate, dup];
  });
  return y;
}

// ---- linear and conv --------------------------------------------------------------------------

export interface Epilogue {
  activation?: 'silu' | 'relu';
  residual?: Tensor;
}

/** Applies what the fused epilogue would have (recorded ops). */
function epilogue(y: F32, o: Epilogue): F32 {
  let out = y;
  if (o.activation) out = unaryOp(o.activation, out);
  if (o.residual) out = addOp(out, o.residual);
  return out;
}

/** nn.Linear: x [..., K] @ w^T (+ b), then activation, then residual. */
export function linear(x: Tensor, w: Tensor | PackedMatmulWeight, b?: Tensor | null, o: Epilogue = {}): F32 {
  const wt = w instanceof PackedMatmulWeight ? null : w;
  const t = tapeFor(x.ctx, x, wt, b);
  if (!t) return linearKernel(x, w, b ?? undefined, o);
  const W = plain('linear', w);
  const y = linearKernel(x, W, b ?? undefined);
  t.record('linear', [x, W, b], [y], [x, W], ([g], [nx, nw, nb]) => {
    const r = linearBackward(x, W, g!, { bias: nb, input: nx });
    if (!nw) r.dw.dispose();
    return [r.dx, nw ? r.dw : null, r.db];
  });
  return epilogue(y, o);
}

export interface ConvOptions extends Epilogue {
  stride?: 1 | 2 | [number, number];
  padding?: number | [number, number, number, number];
}

/**
 * A conv with its epilogue: fused without a tape; while recording, the plain conv (saved x and w)
 * and the epilogue as recorded ops. `run` is the forward kernel call, `grads` its backward.
 */
function convOp(
  name: string,
  x: Tensor,
  w: Tensor | PackedConvWeight,
  b: Tensor | null,
  o: Epilogue,
  run: (w: Tensor | PackedConvWeight, epilogue: { activation?: ConvActivation; residual?: Tensor }) => F32,
  grads: (w: Tensor, g: Tensor, flags: { input: boolean; bias: boolean }) => ConvGrads,
): F32 {
  const t = tapeFor(x.ctx, x, w instanceof PackedConvWeight ? null : w, b);
  if (!t) return run(w, { activation: o.activation as ConvActivation | undefined, residual: o.residual });
  const W = plain(name, w);
  const y = run(W, {});
  t.record(name, [x, W, b], [y], [x, W], ([g], [nx, nw, nb]) => {
    const r = grads(W, g!, { input: nx!, bias: nb! });
    if (!nw) r.dw.dispose();
    return [r.dx, nw ? r.dw : null, r.db];
  });
  return epilogue(y, o);
}

export function conv2dOp(x: Tensor, w: Tensor | PackedConvWeight, b: Tensor | null, o: ConvOptions = {}): F32 {
  const geo = { stride: o.stride, padding: o.padding };
  return convOp('conv2d', x, w, b, o, (W, e) => conv2d(x, W, { bias: b ?? undefined, ...geo, ...e }), (W, g, f) => conv2dBackward(x, W, g, { ...geo, ...f }));
}

export function causalConv3dOp(x: Tensor, w: Tensor | PackedConvWeight, b: Tensor | null, o: Epilogue & { stride?: readonly [1, 1, 1] | readonly [1, 2, 2] } = {}): F32 {
  return convOp('causalConv3d', x, w, b, o, (W, e) => causalConv3d(x, W, { bias: b ?? undefined, stride: o.stride, ...e }), (W, g, f) => causalConv3dBackward(x, W, g, { stride: o.stride, ...f }));
}

// ---- norms ------------------------------------------------------------------------------------

export interface NormOptions {
  groups?: number;
  eps?: number;
  weight?: Tensor;
  bias?: Tensor;
  silu?: boolean;
}

function gnRecord(name: string, framewise: boolean, x: Tensor, y: F32, o: NormOptions): void {
  tapeFor(x.ctx, x, o.weight, o.bias)?.record(name, [x, o.weight, o.bias], [y], [x], ([g]) => {
    const r = groupNormBackward(x, g!, { groups: o.groups, eps: o.eps, weight: o.weight, bias: o.bias, silu: o.silu, framewise });
    return [r.dx, r.dweight, r.dbias];
  });
}

export function groupNormOp(x: Tensor, o: NormOptions): F32 {
  const y = groupNorm(x, o);
  gnRecord('groupNorm', false, x, y, o);
  return y;
}

/**
 * conv2d(groupNorm(x, norm), w, b): without a tape one kernel call (conv2d's `inputNorm`: Winograd
 * convs normalise x as they read it); while recording, groupNormOp then conv2dOp.
 */
export function groupNormConv2dOp(x: Tensor, norm: NormOptions & { weight: Tensor; bias: Tensor }, w: Tensor | PackedConvWeight, b: Tensor | null, o: ConvOptions = {}): F32 {
  if (tapeFor(x.ctx, x, norm.weight, norm.bias, w instanceof PackedConvWeight ? null : w, b)) return conv2dOp(groupNormOp(x, norm), w, b, o);
  const inputNorm = { weight: norm.weight, bias: norm.bias, groups: norm.groups, eps: norm.eps, silu: norm.silu };
  return conv2d(x, w, { bias: b ?? undefined, stride: o.stride, padding: o.padding, activation: o.activation as ConvActivation | undefined, residual: o.residual, inputNorm });
}

export function groupNormFramewiseOp(x: Tensor, o: NormOptions): F32 {
  const y = groupNormFramewise(x, o);
  gnRecord('groupNormFramewise', true, x, y, o);
  return y;
}

export function adaGroupNormOp(x: Tensor, scaleT: Tensor, shift: Tensor, o: { groups?: number; eps?: number; silu?: boolean } = {}): F32 {
  const y = adaGroupNorm(x, scaleT, shift, o);
  tapeFor(x.ctx, x, scaleT, shift)?.record('adaGroupNorm', [x, scaleT, shift], [y], [x, scaleT, shift], ([g]) => {
    const r = adaGroupNormBackward(x, scaleT, shift, g!, o);
    return [r.dx, r.dscale, r.dshift];
  });
  return y;
}

/** LayerNorm over the last dim (the query-former's norms). */
export function layerNormOp(x: Tensor, o: { weight?: Tensor; bias?: Tensor; eps?: number } = {}): F32 {
  const y = layerNorm(x, o);
  tapeFor(x.ctx, x, o.weight, o.bias)?.record('layerNorm', [x, o.weight, o.bias], [y], [x], ([g]) => {
    const r = layerNormBackward(x, g!, o);
    return [r.dx, r.dweight, r.dbias];
  });
  return y;
}

export function rmsNormOp(x: Tensor, weight: Tensor, eps: number): F32 {
  const y = rmsNorm(x, { weight, eps });
  tapeFor(x.ctx, x, weight)?.record('rmsNorm', [x, weight], [y], [x, weight], ([g]) => {
    const r = rmsNormBackward(x, weight, g!, { eps });
    return [r.dx, r.dweight];
  });
  return y;
}

/** Mean over dims startAxis.. (AdaGN's mean of the condition). */
export function meanPoolOp(x: Tensor, startAxis = 2): F32 {
  const y = meanPool(x, startAxis);
  tapeFor(x.ctx, x)?.record('meanPool', [x], [y], [], ([g]) => {
    const n = x.size / y.size;
    const spread = add(x.ctx.zeros(x.shape), g!.reshape([...y.shape, ...Array<number>(x.shape.length - startAxis).fill(1)]));
    return [scale(spread, 1 / n)];
  });
  return y;
}

// ---- attention, positions, resampling, embeddings, FSQ -----------------------------------------

export function attentionOp(q: Tensor, k: Tensor, v: Tensor, o: { causal?: boolean; mask?: Tensor } = {}): F32 {
  const y = attention(q, k, v, o);
  tapeFor(q.ctx, q, k, v)?.record('attention', [q, k, v], [y], [q, k, v, y], ([g]) => {
    const r = attentionBackward(q, k, v, y, g!, { causal: o.causal, mask: o.mask });
    return [r.dq, r.dk, r.dv];
  });
  return y;
}

export function ropeOp(x: Tensor, positions: Tensor, table: RopeTable): F32 {
  const y = rope(x, positions, table);
  tapeFor(x.ctx, x)?.record('rope', [x], [y], [positions], ([g]) => [ropeBackward(g!, positions, table)]);
  return y;
}

export function upsampleNearest2xOp(x: Tensor): F32 {
  const y = upsampleNearest2x(x);
  tapeFor(x.ctx, x)?.record('upsampleNearest2x', [x], [y], [], ([g]) => [upsampleNearest2xBackward(g!)]);
  return y;
}

export function depthToSpace2xOp(x: Tensor): F32 {
  const y = depthToSpace2x(x);
  tapeFor(x.ctx, x)?.record('depthToSpace2x', [x], [y], [], ([g]) => [depthToSpace2xBackward(g!)]);
  return y;
}

/** table[ids] (token embedding); host ids. An F16Table (inference) records no gradient. */
export function embedding(table: Tensor | F16Table, ids: Int32Array, shape: readonly number[] = [ids.length]): F32 {
  const y = gatherRows(table, ids, { shape });
  if (table instanceof F16Table) return y;
  const [V, D] = table.shape as [number, number];
  tapeFor(table.ctx, table)?.record('embedding', [table], [y], [], ([g]) => [embeddingBackward(ids, g!.reshape([ids.length, D]), V)]);
  return y;
}

/**
 * FSQ codes of u (no projection: project_in is a separate linear) with upstream's straight-through
 * estimator: forward round, backward identity through the rounding (kernels/fsq_backward.ts).
 */
export function fsqCodes(u: Tensor, levels: readonly number[], channelFirst?: boolean): { codes: F32; indices: Tensor<'i32'> } {
  const r = fsqQuantize(u, { levels, channelFirst });
  tapeFor(u.ctx, u)?.record('fsq', [u], [r.codes], [u], ([g]) => [fsqBackward(u, g!, { levels, channelFirst })]);
  return r;
}

// ---- losses -----------------------------------------------------------------------------------

/** mean((x - target)^2) as a [1] tensor; target gets no gradient. */
export function mse(x: Tensor, target: Tensor): F32 {
  const d = sub(x, target);
  const ss = sumSquares(d);
  const loss = scale(ss, 1 / x.size);
  ss.dispose();
  const t = tapeFor(x.ctx, x);
  if (t) t.record('mse', [x], [loss], [d], ([g]) => [mul(scale(d, 2 / x.size), g!)]);
  d.dispose();
  return loss;
}

/** Mean softmax cross-entropy of logits [R, V] against targets [R] (ignoreIndex rows skipped), as a [1] tensor. */
export function crossEntropy(logits: Tensor, targets: Int32Array | Tensor, o: { ignoreIndex?: number } = {}): F32 {
  const t = tapeFor(logits.ctx, logits);
  const r = softmaxCrossEntropy(logits, targets, { ignoreIndex: o.ignoreIndex, grad: !!t });
  r.perRow.dispose();
  const d = r.dlogits;
  if (t && d) t.record('crossEntropy', [logits], [r.loss], [d], ([g]) => [binary('mul', d, g!) as F32]);
  d?.dispose();
  return r.loss as F32;
}

export type { Grad };
