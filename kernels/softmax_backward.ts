/**
 * softmax_backward: gradient through a softmax over the last dim (wgsl/softmax_backward.wgsl):
 *   dx[r, i] = scale * y[r, i] * (g[r, i] - sum_j g[r, j] y[r, j])
 * with y = softmax(scale * x) the forward OUTPUT [..., D] and g = dL/dy of the same shape; `scale`
 * is what multiplied x before the softmax (softmax's 1 / temperature, an attention score scale),
 * default 1. Layout row-major, rows = numel / D, one workgroup of 32 per row streaming the row
 * twice (dot product, write), so D is unbounded; each tensor is one storage binding (the context
 * rejects one over maxStorageBufferBindingSize with a KernelArgError).
 * Numerics: f32; the dot is a fixed-order sum (stride-32 partial sums + a 32-wide tree), so results
 * are bitwise reproducible. Its rounding, ~(D/32 + 5) ulp of sum_j |g_j y_j| <= max|g|, reaches dx
 * multiplied by y_i, and g_i - dot can cancel.
 * Tolerance vs the double reference: |dx - ref| <= 2e-6 max|ref| + 1e-5 |ref|.
 */
import { expectTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { softmax_backward as shader } from './wgsl.gen.js';

export interface SoftmaxBackwardOptions {
  /** Multiplies dx: the factor applied to the logits before the softmax (finite); default 1. */
  scale?: number;
}

function scaleOf(scale: number | undefined): number {
  const s = scale ?? 1;
  if (typeof s !== 'number' || !Number.isFinite(s)) throw new KernelArgError('softmax_backward', 'scale', `expected a finite number, got ${String(scale)}`);
  return Math.fround(s);
}

/**
 * dL/dx of y = softmax(scale * x) from y and g = dL/dy (both f32 [..., D], D >= 1).
 * @example
 * const y = softmax(x, { temperature: 2 });
 * const dx = softmaxBackward(y, dy, { scale: 0.5 });
 */
export function softmaxBackward(y: Tensor, g: Tensor, o: SoftmaxBackwardOptions = {}): Tensor<'f32'> {
  const K = 'softmax_backward';
  expectTensor(K, 'y', y, { dtype: 'f32' });
  const d = y.shape[y.shape.length - 1];
  if (d === undefined || d < 1) throw new KernelArgError(K, 'y', `shape [${y.shape.join(',')}] needs rank >= 1 and a last dim >= 1`);
  expectTensor(K, 'g', g, { dtype: 'f32', shape: y.shape });
  sameContext(K, { y, g });
  const scale = scaleOf(o.scale);
  const out = y.ctx.tensor(y.shape, 'f32', `${K}.out`);
  const rows = y.size / d;
  y.ctx.dispatch(shader, {
    overrides: { WG: y.ctx.tuning.rowWg },
    bindings: { y, g, out },
    params: { rows, d, scale },
    workgroups: rows === 0 ? [0] : foldGrid(rows, y.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

/** CPU reference in doubles (scale rounded to f32 as the shader's uniform). */
export function softmaxBackwardRef(y: ArrayLike<number>, g: ArrayLike<number>, d: number, o: SoftmaxBackwardOptions = {}): Float64Array {
  const scale = scaleOf(o.scale);
  const out = new Float64Array(y.length);
  for (let base = 0; base < y.length; base += d) {
    let dot = 0;
    for (let i = 0; i < d; i++) dot += g[base + i]! * y[base + i]!;
    for (let i = 0; i < d; i++) out[base + i] = scale * y[base + i]! * (g[base + i]! - dot);
  }
  return out;
}
