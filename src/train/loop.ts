/**
 * The training loop: seeded data order, micro-batch gradient accumulation, global-norm clipping,
 * a learning-rate schedule, a progress line with loss and throughput, evaluation hooks, and
 * resumable checkpoints (src/train/checkpoint.ts). Each micro-step records its forward on a fresh
 * Tape inside ctx.scope, so activations live for one batch and GPU memory does not grow with steps.
 */
import type { GpuContext, Tensor } from '../../kernels/index.js';
import { Tape, accumulateGrads } from '../graph/autograd.js';
import type { Module } from '../graph/module.js';
import { SeededRng } from '../graph/rng.js';
import { type CheckpointState, saveCheckpoint } from './checkpoint.js';
import { type Optimizer, clipScale, gradNorm } from './optim.js';

export interface TrainOptions<B> {
  ctx: GpuContext;
  model: Module;
  optimizer: Optimizer;
  /** Optimizer steps to run (in all, counting resumed ones). */
  steps: number;
  /**
   * The micro-batch for (step, micro); draw randomness from `rng` only, so the order is seeded.
   * Called inside the step's scope: GPU tensors it creates are freed after the step.
   */
  batch: (step: number, micro: number, rng: SeededRng) => B;
  /** Runs the forward (recorded) and returns the scalar loss, a [1] tensor. */
  loss: (batch: B) => Tensor;
  seed?: number;
  /** Micro-batches per optimizer step (gradients are averaged). Default 1. */
  accumulate?: number;
  /** Clip the global gradient norm to this (torch's clip_grad_norm_). */
  clip?: number;
  /** Learning rate per step (1-based); default the optimizer's own. */
  schedule?: (step: number) => number;
  /** Progress: a line per `logEvery` steps (and a final one); default to stderr. */
  log?: (line: string) => void;
  logEvery?: number;
  /** Called after every `evalEvery` steps and at the end. */
  evalEvery?: number;
  onEval?: (step: number) => void | Promise<void>;
  /** Write a checkpoint every `every` steps (and at the end). */
  checkpoint?: { every: number; save: (bytes: Uint8Array, step: number) => void | Promise<void> };
  /** Continue from a restored checkpoint (restoreCheckpoint). */
  resume?: CheckpointState;
  /** Stop early once the step's loss is at or below this. */
  targetLoss?: number;
}

export interface TrainResult {
  /** Loss per completed step (the mean over its micro-batches), resumed steps included when the checkpoint carried them. */
  losses: number[];
  steps: number;
  seconds: number;
  stoppedAt: 'steps' | 'target';
}

/** Runs the loop; see TrainOptions. */
export async function trainLoop<B>(o: TrainOptions<B>): Promise<TrainResult> {
  const { ctx, model, optimizer: opt } = o;
  const accum = o.accumulate ?? 1;
  const rng = new SeededRng(o.resume?.rng ?? o.seed ?? 0);
  const losses: number[] = [...((o.resume?.extra?.losses as number[] | undefined) ?? [])];
  const log = o.log ?? ((l: string) => console.error(l));
  const logEvery = o.logEvery ?? 10;
  const params = opt.params;
  const t0 = performance.now();
  let step = o.resume?.step ?? 0;
  const first = step;
  let stoppedAt: TrainResult['stoppedAt'] = 'steps';
  while (step < o.steps) {
    let lossSum = 0;
    for (let micro = 0; micro < accum; micro++) {
      const tape = new Tape(ctx).watchParams(model);
      // The batch is made inside the scope too: tensors it uploads are freed with the step.
      const loss = tape.run(() => ctx.scope(() => o.loss(o.batch(step, micro, rng))));
      const seed = ctx.fromArray([1 / accum], [1]);
      accumulateGrads(params, tape.backward(loss, seed));
      seed.dispose();
      lossSum += (await loss.read())[0]!;
      loss.dispose();
    }
    step++;
    const lossValue = lossSum / accum;
    const norm = o.clip ? await gradNorm(ctx, params) : NaN;
    const lr = o.schedule?.(step);
    opt.step({ lr, gradScale: o.clip ? clipScale(norm, o.clip) : 1 });
    opt.zeroGrad();
    losses.push(lossValue);
    const done = step >= o.steps || (o.targetLoss !== undefined && lossValue <= o.targetLoss);
    if (step % logEvery === 0 || done) {
      const s = (performance.now() - t0) / 1000;
      const rate = (step - first) / s;
      const width = 24;
      const fill = Math.round((width * step) / o.steps);
      log(`step ${step}/${o.steps} [${'='.repeat(fill)}${' '.repeat(width - fill)}] loss ${lossValue.toPrecision(4)}${lr !== undefined ? ` lr ${lr.toExponential(2)}` : ''}${o.clip ? ` |g| ${norm.toPrecision(3)}` : ''} ${rate.toFixed(2)} step/s`);
    }
    if (o.onEval && (done || (o.evalEvery && step % o.evalEvery === 0))) await o.onEval(step);
    if (o.checkpoint && (done || step % o.checkpoint.every === 0)) {
      await o.checkpoint.save(await saveCheckpoint(model, opt, { step, rng: rng.state, extra: { losses } }), step);
    }
    if (o.targetLoss !== undefined && lossValue <= o.targetLoss) {
      stoppedAt = 'target';
      break;
    }
  }
  return { losses, steps: step, seconds: (performance.now() - t0) / 1000, stoppedAt };
}

/** A loss curve (log-scale y when the losses span more than a decade) as a standalone SVG. */
export function lossCurveSvg(losses: readonly number[], title = 'training loss'): string {
  const W = 640;
  const H = 360;
  const m = { l: 64, r: 16, t: 32, b: 40 };
  const finite = losses.filter((x) => Number.isFinite(x) && x > 0);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const log = hi / lo > 10;
  const f = (v: number) => (log ? Math.log10(v) : v);
  const [y0, y1] = [f(lo), f(hi) === f(lo) ? f(lo) + 1 : f(hi)];
  const x = (i: number) => m.l + ((W - m.l - m.r) * i) / Math.max(1, losses.length - 1);
  const y = (v: number) => m.t + (H - m.t - m.b) * (1 - (f(v) - y0) / (y1 - y0));
  const pts = losses.map((v, i) => (Number.isFinite(v) && v > 0 ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean);
  const ticks = [lo, Math.sqrt(lo * hi), hi].map((v) => `<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toPrecision(3)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    ...ticks,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">step (1..${losses.length})${log ? ', log-scale loss' : ''}</text>`,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts.join(' ')}"/>`,
    '</svg>',
  ].join('\n');
}
