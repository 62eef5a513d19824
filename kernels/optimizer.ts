/**
 * optimizer: in-place AdamW and SGD steps (wgsl/optimizer.wgsl), one element per invocation,
 * torch 1.13 single-tensor semantics in f32 (see ../shared/golden/grad/README.md, "AdamW as torch
 * 1.13 implements it"):
 *   adamwStep  g = grad * gradScale;  p *= 1 - lr wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *              p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - b_i^t
 *              (decoupled decay applied first, eps added after the bias correction of sqrt(v)).
 *   sgdStep    g = grad * gradScale + wd p;  buf = momentum buf + g (momentum != 0);  p -= lr buf
 *              (torch.optim.SGD, dampening 0, not nesterov).
 * Every scalar (1 - lr wd, 1 - b, lr / bc1, sqrt(bc2), ...) is computed on the host in float64 and
 * passed as an f32 uniform, the way torch's Python scalars reach its f32 kernels.
 * Layouts: param, grad and the state tensors share one shape, any rank; param and state are
 * updated in place (read_write bindings) and must be distinct buffers.
 * Numerics: f32, with fma where torch's CPU kernels fuse (add_ with alpha, addcmul: the golden
 * run matches fused rounding bit for bit, unfused differs by an ulp). The CPU references round
 * every op with Math.fround and fmaF32 the same way and reproduce the golden bit for bit.
 * Tolerance: vs the golden torch run (grad_adamw_5x3_2steps) 1e-6 * max|ref| per tensor, vs the
 * CPU references 1e-6 * max|ref| + rtol 1e-6. WGSL lets fma run as a multiply and an add (lavapipe
 * does: 1 ulp off the golden, 5e-8 relative), and any a * b + c may be contracted, or sqrt and
 * division rounded an ulp apart: a few ulp per element, well under the bound.
 */
import { expectTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { unusedBinding } from './core/bindings.js';
import { optimizer as shader } from './wgsl.gen.js';

const WG = 256;

export interface AdamWOptions {
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 0.01 (torch.optim.AdamW's default). */
  weightDecay?: number;
  /** t after this step's increment: 1 on the first step. */
  step: number;
  /** Multiplies grad before anything else (global-norm clipping), default 1. */
  gradScale?: number;
}

export interface SgdOptions {
  lr: number;
  /** Default 0: no momentum buffer. */
  momentum?: number;
  /** Added to the gradient as weightDecay * param, default 0. */
  weightDecay?: number;
  /** Multiplies grad before anything else (global-norm clipping), default 1. */
  gradScale?: number;
  /**
   * Required when momentum != 0, ignored (not touched) otherwise. Start it zero-filled
   * (ctx.zeros): the first step's momentum * 0 + g equals torch's buf = clone(g).
   */
  momentumBuf?: Tensor;
}

function num(kernel: string, arg: string, v: unknown, lo: number, hi = Infinity, hiOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (hiOpen && v === hi)) {
    throw new KernelArgError(kernel, arg, `expected a finite number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(v)}`);
  }
  return v;
}

/** Validates f32 tensors shaped like param, all distinct buffers (in-place bindings cannot alias). */
function checkTensors(kernel: string, param: Tensor, others: Record<string, Tensor | undefined>): void {
  expectTensor(kernel, 'param', param, { dtype: 'f32' });
  const seen: [string, Tensor][] = [['param', param]];
  for (const [name, t] of Object.entries(others)) {
    if (t === undefined) continue;
    expectTensor(kernel, name, t, { dtype: 'f32', shape: param.shape });
    const other = seen.find(([, u]) => u.buffer === t.buffer);
    if (other) throw new KernelArgError(kernel, name, `shares its buffer with ${other[0]} (each is a separate binding, updated in place)`);
    seen.push([name, t]);
  }
  sameContext(kernel, { param, ...others });
}

interface Scalars {
  grad_scale: number;
  decay: number;
  beta1: number;
  omb1: number;
  beta2: number;
  omb2: number;
  neg_step: number;
  bc2_sqrt: number;
  eps: number;
  momentum: number;
}

function adamwScalars(o: AdamWOptions): Scalars {
  const k = 'adamwStep';
  if (typeof o !== 'object' || o === null) throw new KernelArgError(k, 'o', 'expected { lr, step, ... }');
  const lr = num(k, 'lr', o.lr, 0);
  const beta1 = num(k, 'beta1', o.beta1 ?? 0.9, 0, 1, true);
  const beta2 = num(k, 'beta2', o.beta2 ?? 0.999, 0, 1, true);
  const eps = num(k, 'eps', o.eps ?? 1e-8, 0);
  const wd = num(k, 'weightDecay', o.weightDecay ?? 0.01, 0);
  const gradScale = num(k, 'gradScale', o.gradScale ?? 1, -Infinity);
  const t = o.step;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1) throw new KernelArgError(k, 'step', `expected an integer >= 1 (the step count after this step's increment), got ${String(t)}`);
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  return { grad_scale: gradScale, decay: 1 - lr * wd, beta1, omb1: 1 - beta1, beta2, omb2: 1 - beta2, neg_step: -(lr / bc1), bc2_sqrt: Math.sqrt(bc2), eps, momentum: 0 };
}

function sgdScalars(o: SgdOptions): Scalars {
  const k = 'sgdStep';
  if (typeof o !== 'object' || o === null) throw new KernelArgError(k, 'o', 'expected { lr, ... }');
  const lr = num(k, 'lr', o.lr, 0);
  const momentum = num(k, 'momentum', o.momentum ?? 0, 0);
  const wd = num(k, 'weightDecay', o.weightDecay ?? 0, 0);
  const gradScale = num(k, 'gradScale', o.gradScale ?? 1, -Infinity);
  return { grad_scale: gradScale, decay: wd, beta1: 0, omb1: 0, beta2: 0, omb2: 0, neg_step: -lr, bc2_sqrt: 1, eps: 0, momentum };
}

/**
 * One torch 1.13 AdamW step, in place on param, expAvg and expAvgSq (start both zero-filled).
 * @example
 * const m = ctx.zeros(w.shape), v = ctx.zeros(w.shape);
 * for (let t = 1; t <= steps; t++) adamwStep(w, gw, m, v, { lr: 1e-3, beta2: 0.95, weightDecay: 0.1, step: t });
 */
export function adamwStep(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, o: AdamWOptions): void {
  checkTensors('adamwStep', param, { grad, expAvg, expAvgSq });
  const s = adamwScalars(o);
  record(param, grad, expAvg, expAvgSq, 0, false, s);
}

/**
 * One torch.optim.SGD step (dampening 0, not nesterov), in place on param (and momentumBuf).
 * @example
 * const buf = ctx.zeros(w.shape);
 * sgdStep(w, gw, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, momentumBuf: buf });
 */
export function sgdStep(param: Tensor, grad: Tensor, o: SgdOptions): void {
  const k = 'sgdStep';
  const s = sgdScalars(o);
  const useBuf = s.momentum !== 0;
  if (useBuf && o.momentumBuf === undefined) throw new KernelArgError(k, 'momentumBuf', `required with momentum ${s.momentum} (a zero-filled tensor shaped like param before the first step)`);
  checkTensors(k, param, { grad, momentumBuf: useBuf ? o.momentumBuf : undefined });
  // Bindings the SGD path never reads still need buffers, distinct from the writable ones.
  const ctx = param.ctx;
  const m = useBuf ? o.momentumBuf! : unusedBinding(ctx, `${k}.m`);
  record(param, grad, m, unusedBinding(ctx, `${k}.v`), 1, useBuf, s);
}

function record(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opt: number, momentum: boolean, s: Scalars): void {
  const n = param.size;
  if (n === 0) return;
  param.ctx.dispatch(shader, {
    overrides: { WG, OPT: opt, MOMENTUM: Number(momentum) },
    bindings: { param, grad, m, v },
    params: { n, ...s },
    workgroups: foldGrid(Math.ceil(n / WG), param.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
}

const f = Math.fround;
const bits = new DataView(new ArrayBuffer(4));

/** The f32 next to r (an f32) in the direction of s. */
function nextF32(r: number, s: number): number {
  if (r === 0) return Math.sign(s) * 2 ** -149;
  bits.setFloat32(0, r);
  bits.setUint32(0, bits.getUint32(0) + ((s > r) === (r > 0) ? 1 : -1));
  return bits.getFloat32(0);
}

/**
 * fma for f32 a, b, c: a * b is exact in a double, TwoSum gives the exact a * b + c = s + e, and
 * rounding s to f32 is only wrong when s lies exactly halfway between two f32 and e != 0.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bv = s - p;
  const e = p - (s - bv) + (c - bv);
  const r = f(s);
  if (e === 0 || r === s || !Number.isFinite(s)) return r;
  const other = nextF32(r, s);
  if (s !== (r + other) / 2) return r;
  return (e > 0) === (other > r) ? other : r;
}

/**
 * f32-faithful CPU reference of adamwStep: each torch op rounded to f32, fused where torch's CPU
 * kernels fuse (as the shader); returns the new param, exp_avg and exp_avg_sq and leaves its
 * inputs alone.
 */
export function adamwStepRef(param: ArrayLike<number>, grad: ArrayLike<number>, expAvg: ArrayLike<number>, expAvgSq: ArrayLike<number>, o: AdamWOptions): { param: Float32Array; expAvg: Float32Array; expAvgSq: Float32Array } {
  const s = adamwScalars(o);
  const [gs, decay, b1, omb1, b2, omb2, negStep, bc2s, eps] = [s.grad_scale, s.decay, s.beta1, s.omb1, s.beta2, s.omb2, s.neg_step, s.bc2_sqrt, s.eps].map(f) as number[];
  const n = param.length;
  const out = { param: new Float32Array(n), expAvg: new Float32Array(n), expAvgSq: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const g = f(grad[i]! * gs!);
    const p = f(param[i]! * decay!);
    const m = fmaF32(g, omb1!, f(expAvg[i]! * b1!));
    const v = fmaF32(f(omb2! * g), g, f(expAvgSq[i]! * b2!));
    const denom = f(f(f(Math.sqrt(v)) / bc2s!) + eps!);
    out.param[i] = f(p + f(f(negStep! * m) / denom));
    out.expAvg[i] = m;
    out.expAvgSq[i] = v;
  }
  return out;
}

/**
 * f32-faithful CPU reference of sgdStep (fused as the shader); returns the new param and
 * momentum buffer (null without momentum; an omitted momentumBuf counts as zeros).
 */
export function sgdStepRef(param: ArrayLike<number>, grad: ArrayLike<number>, o: Omit<SgdOptions, 'momentumBuf'> & { momentumBuf?: ArrayLike<number> }): { param: Float32Array; momentumBuf: Float32Array | null } {
  const s = sgdScalars({ ...o, momentumBuf: undefined });
  const [gs, wd, mom, negLr] = [s.grad_scale, s.decay, s.momentum, s.neg_step].map(f) as number[];
  const n = param.length;
  const out = { param: new Float32Array(n), momentumBuf: mom !== 0 ? new Float32Array(n) : null };
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    let g = f(grad[i]! * gs!);
    if (wd !== 0) g = fmaF32(p, wd!, g);
    if (out.momentumBuf) {
      g = f(f((o.momentumBuf?.[i] ?? 0) * mom!) + g);
      out.momentumBuf[i] = g;
    }
    out.param[i] = fmaF32(g, negLr!, p);
  }
  return out;
}
