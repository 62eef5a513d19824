/**
 * mean_pool: the mean over the trailing dims of x from `startAxis` on (wgsl/mean_pool.wgsl):
 *   out[r] = (1 / n) * sum_{i < n} x[r, i],  r over x.shape[:startAxis], n = prod x.shape[startAxis:].
 * For [B, C, T, H, W] and startAxis 2 this is the (T, H, W) pool -> [B, C] of AdaGroupNorm's condition.
 * Layout: x row-major viewed as [rows, n]; one workgroup (the tuning table's rowWg) per row.
 * Numerics: f32; at rowWg 32 each invocation sums its n / 32 strided terms in blocks of 32, adds
 * the block sums, then a 32-wide tree combines the invocations: a term meets about 32 + n / 1024 + 5
 * roundings instead of up to n in one sequential sum (n = 32768, mean ~100: error 5.8e-6 < 1 ulp).
 * Tolerance: |out - ref| <= 1e-6 + 1e-5 * mean(|x|) (f32 summation of n terms, measured << this).
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { mean_pool as shader } from './wgsl.gen.js';

function plan(kernel: string, shape: readonly number[], startAxis: number): { rows: number; n: number } {
  if (!Number.isInteger(startAxis) || startAxis < 1 || startAxis > shape.length) {
    throw new KernelArgError(kernel, 'startAxis', `expected an integer in 1..${shape.length} for x [${shape.join(',')}], got ${startAxis}`);
  }
  const rows = shape.slice(0, startAxis).reduce((a, b) => a * b, 1);
  const n = shape.slice(startAxis).reduce((a, b) => a * b, 1);
  if (n === 0) throw new KernelArgError(kernel, 'x', `shape [${shape.join(',')}] pools over zero elements (mean undefined)`);
  return { rows, n };
}

/** Mean of x over its dims startAxis.. (default 2: [B,C,T,H,W] -> [B,C]). Output shape x.shape[:startAxis]. */
export function meanPool(x: Tensor, startAxis = 2, out?: Tensor): Tensor<'f32'> {
  expectTensor('mean_pool', 'x', x, { dtype: 'f32' });
  sameContext('mean_pool', { x, out });
  const { rows, n } = plan('mean_pool', x.shape, startAxis);
  const dst = outTensor('mean_pool', x, x.shape.slice(0, startAxis), 'f32', out);
  x.ctx.dispatch(shader, {
    overrides: { WG: x.ctx.tuning.rowWg },
    bindings: { x, out: dst },
    params: { rows, n },
    workgroups: foldGrid(rows, x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** CPU reference in doubles. */
export function meanPoolRef(x: ArrayLike<number>, shape: readonly number[], startAxis = 2): Float64Array {
  const { rows, n } = plan('mean_pool', shape, startAxis);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[r * n + i]!;
    out[r] = s / n;
  }
  return out;
}
