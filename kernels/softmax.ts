/**
 * softmax: numerically stable softmax over the last dim of x [..., D] (wgsl/softmax.wgsl):
 *   z = x / temperature,  out[r, i] = exp(z[r, i] - max_j z[r, j]) / sum_j exp(z[r, j] - max_j z[r, j]).
 * Layout: x and out row-major, rows = numel / D; one workgroup (the tuning table's rowWg, 32 on
 * lavapipe) per row. Rows of D <= 32 rowWg (1024) stay in registers (one read, one exp per
 * element); longer rows (up to the 160005-entry vocabulary) are streamed three times (max, sum,
 * write).
 * Numerics: f32 throughout; the sum is a per-invocation sequential sum + a rowWg-wide tree; `scale`
 * = fround(1 / temperature) multiplies x (for temperature 1 it is exact).
 * Tolerance: |out - ref| <= 1e-6 + 2e-5 * ref: WGSL exp is not correctly rounded (lavapipe's is
 * within a few ulp) and the f32 sum of D terms carries ~log2(D) ulp of rounding.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { softmax as shader } from './wgsl.gen.js';
/** PER_MAX in wgsl/softmax.wgsl: rows of up to WG * PER_MAX elements take its register path. */
const PER_MAX = 32;

export interface SoftmaxOptions {
  /** Divides the logits before the softmax (> 0); default 1. */
  temperature?: number;
}

function scaleOf(kernel: string, temperature: number | undefined): number {
  const t = temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new KernelArgError(kernel, 'temperature', `expected a finite number > 0, got ${String(temperature)}`);
  return Math.fround(1 / t);
}

/** Softmax over the last dim of `x` (f32, rank >= 1, last dim >= 1). Returns a tensor of x's shape. */
export function softmax(x: Tensor, opts: SoftmaxOptions = {}, out?: Tensor): Tensor<'f32'> {
  expectTensor('softmax', 'x', x, { dtype: 'f32' });
  sameContext('softmax', { x, out });
  const d = x.shape[x.shape.length - 1];
  if (d === undefined || d < 1) throw new KernelArgError('softmax', 'x', `shape [${x.shape.join(',')}] needs rank >= 1 and a last dim >= 1`);
  const scale = scaleOf('softmax', opts.temperature);
  const dst = outTensor('softmax', x, x.shape, 'f32', out);
  const rows = x.size / d;
  const wg = x.ctx.tuning.rowWg;
  x.ctx.dispatch(shader, {
    // PER a power of two, so that few pipelines serve every row length.
    overrides: d > wg * PER_MAX ? { WG: wg, LONG: 1 } : { WG: wg, PER: 2 ** Math.ceil(Math.log2(Math.ceil(d / wg))) },
    bindings: { x, out: dst },
    params: { rows, d, scale },
    workgroups: foldGrid(rows, x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** CPU reference in doubles (inputs and the scale rounded to f32 as the shader sees them). */
export function softmaxRef(x: ArrayLike<number>, d: number, opts: SoftmaxOptions = {}): Float64Array {
  const scale = scaleOf('softmax', opts.temperature);
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += d) {
    let m = -Infinity;
    for (let i = 0; i < d; i++) m = Math.max(m, Math.fround(scale * x[base + i]!));
    let s = 0;
    for (let i = 0; i < d; i++) s += out[base + i] = Math.exp(Math.fround(scale * x[base + i]!) - m);
    for (let i = 0; i < d; i++) out[base + i]! /= s;
  }
  return out;
}
