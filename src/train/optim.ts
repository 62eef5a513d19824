/**
 * Optimizers over a module's Params, with fp32 master weights and moments on the GPU:
 * AdamW (torch 1.13's formula, decoupled weight decay) and SGD (momentum, L2 weight decay), global
 * gradient-norm clipping folded into the update (no extra pass over the gradients), and a
 * warmup + cosine learning-rate schedule. Checkpoints of the state: src/train/checkpoint.ts.
 */
import { type GpuContext, KernelArgError, type Tensor } from '../../kernels/index.js';
import { adamwStep, sgdStep } from '../../kernels/optimizer.js';
import { sumSquares } from '../../kernels/reduce.js';
import type { Param } from '../graph/module.js';

export interface AdamWConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export interface SgdConfig {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

/** What every optimizer here offers the training loop. */
export interface Optimizer {
  readonly params: readonly Param[];
  /** Completed update steps. */
  stepCount: number;
  /** Applies one update from `Param.grad` (times gradScale) at learning rate `lr`. */
  step(o?: { lr?: number; gradScale?: number }): void;
  /** Drops every Param.grad (back to the pool). */
  zeroGrad(): void;
  /** Moment buffers by name `<kind>/<param key>`, for checkpoints. */
  state(): Map<string, Tensor>;
  /** Hyperparameters, for checkpoint metadata. */
  config(): Record<string, number | string>;
}

function checkParams(kernel: string, params: readonly Param[]): void {
  if (!params.length) throw new KernelArgError(kernel, 'params', 'no parameters to optimize');
  for (const p of params) if (!p.tensor) throw new KernelArgError(kernel, 'params', `${p.key} is not loaded (load or initialize the model first)`);
}

function zero(params: readonly Param[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

export class AdamW implements Optimizer {
  stepCount = 0;
  readonly o: Required<AdamWConfig>;
  private moments = new Map<Param, { m: Tensor; v: Tensor }>();

  constructor(
    readonly params: readonly Param[],
    o: AdamWConfig,
  ) {
    checkParams('AdamW', params);
    this.o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...o };
    for (const p of params) {
      const ctx = p.tensor!.ctx;
      this.moments.set(p, { m: ctx.zeros(p.shape, 'f32', `${p.key}.exp_avg`), v: ctx.zeros(p.shape, 'f32', `${p.key}.exp_avg_sq`) });
    }
  }

  step(o: { lr?: number; gradScale?: number } = {}): void {
    this.stepCount++;
    for (const p of this.params) {
      if (!p.grad) continue;
      const s = this.moments.get(p)!;
      adamwStep(p.tensor!, p.grad, s.m, s.v, { lr: o.lr ?? this.o.lr, beta1: this.o.beta1, beta2: this.o.beta2, eps: this.o.eps, weightDecay: this.o.weightDecay, step: this.stepCount, gradScale: o.gradScale });
    }
  }

  zeroGrad(): void {
    zero(this.params);
  }

  state(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [p, s] of this.moments) {
      out.set(`exp_avg/${p.key}`, s.m);
      out.set(`exp_avg_sq/${p.key}`, s.v);
    }
    return out;
  }

  config(): Record<string, number | string> {
    return { optimizer: 'AdamW', ...this.o };
  }

  dispose(): void {
    for (const s of this.moments.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.moments.clear();
  }
}

export class SGD implements Optimizer {
  stepCount = 0;
  readonly o: Required<SgdConfig>;
  private buffers = new Map<Param, Tensor>();

  constructor(
    readonly params: readonly Param[],
    o: SgdConfig,
  ) {
    checkParams('SGD', params);
    this.o = { momentum: 0, weightDecay: 0, ...o };
    if (this.o.momentum) for (const p of params) this.buffers.set(p, p.tensor!.ctx.zeros(p.shape, 'f32', `${p.key}.momentum`));
  }

  step(o: { lr?: number; gradScale?: number } = {}): void {
    this.stepCount++;
    for (const p of this.params) {
      if (!p.grad) continue;
      sgdStep(p.tensor!, p.grad, { lr: o.lr ?? this.o.lr, momentum: this.o.momentum, weightDecay: this.o.weightDecay, gradScale: o.gradScale, momentumBuf: this.buffers.get(p) });
    }
  }

  zeroGrad(): void {
    zero(this.params);
  }

  state(): Map<string, Tensor> {
    return new Map([...this.buffers].map(([p, t]) => [`momentum/${p.key}`, t]));
  }

  config(): Record<string, number | string> {
    return { optimizer: 'SGD', ...this.o };
  }

  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}

/** The global L2 norm of every Param.grad (one read-back), as torch.nn.utils.clip_grad_norm_ computes it. */
export async function gradNorm(ctx: GpuContext, params: readonly Param[]): Promise<number> {
  const withGrad = params.filter((p) => p.grad);
  if (!withGrad.length) return 0;
  const sums = ctx.tensor([withGrad.length], 'f32', 'grad_norm.partials');
  withGrad.forEach((p, i) => sumSquares(p.grad!, sums, i));
  const parts = await sums.read();
  sums.dispose();
  let total = 0;
  for (const s of parts) total += s;
  return Math.sqrt(total);
}

/**
 * The factor torch's clip_grad_norm_(max_norm) multiplies the gradients by (1 when the norm is
 * within bounds); pass it as `gradScale` to the optimizer's step.
 */
export function clipScale(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new KernelArgError('clipGradNorm', 'maxNorm', `expected a number > 0, got ${maxNorm}`);
  if (!Number.isFinite(norm)) throw new KernelArgError('clipGradNorm', 'grads', `the gradient norm is ${norm}: the loss diverged`);
  return Math.min(1, maxNorm / (norm + 1e-6));
}

export interface ScheduleOptions {
  lr: number;
  warmupSteps?: number;
  totalSteps: number;
  /** The floor the cosine decays to (default 0.1 lr). */
  minLr?: number;
}

/** Linear warmup from lr/warmup to lr, then cosine decay to minLr at totalSteps (step counts from 1). */
export function warmupCosine(o: ScheduleOptions): (step: number) => number {
  const warm = o.warmupSteps ?? 0;
  const min = o.minLr ?? o.lr * 0.1;
  return (step: number) => {
    if (step <= warm) return (o.lr * step) / Math.max(1, warm);
    const t = Math.min(1, (step - warm) / Math.max(1, o.totalSteps - warm));
    return min + 0.5 * (o.lr - min) * (1 + Math.cos(Math.PI * t));
  };
}
