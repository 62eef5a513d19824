/**
 * row_norm: LayerNorm and RMSNorm over the last dimension of x [..., D] (wgsl/row_norm.wgsl).
 *   layerNorm  y = (x - mean) / sqrt(var + eps) * w + b   (biased var; torch.nn.LayerNorm, eps 1e-5)
 *   rmsNorm    y = w * x / sqrt(mean(x^2) + eps)          (InternLM RMSNorm, eps 1e-6, f32 variance)
 * weight/bias [D] optional (rmsNorm: weight only). One workgroup (the tuning table's rowWg, 32 on
 * lavapipe) per row: strided partial sums, a shared-memory tree, and (LayerNorm) two passes over
 * the row (mean, then squared deviations) so a large mean does not cancel. The row is re-read from
 * cache instead of being held in registers, which keeps D unbounded.
 * Tolerance vs the double reference: atol 2e-6 + rtol 2e-6 for O(1) data (f32 sums of D / rowWg
 * terms per invocation plus a 2-level tree).
 */
import { expectEps, expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { row_norm as shader } from './wgsl.gen.js';

export interface RowNormOptions {
  /** [D]; omitted = 1. */
  weight?: Tensor;
  /** [D]; omitted = 0 (layerNorm only). */
  bias?: Tensor;
  /** layerNorm: 1e-5; rmsNorm: 1e-6. */
  eps?: number;
}

function rowNorm(k: string, rms: boolean, x: Tensor, o: RowNormOptions, defEps: number, out?: Tensor): Tensor<'f32'> {
  expectTensor(k, 'x', x, { dtype: 'f32' });
  if (x.shape.length < 1) throw new KernelArgError(k, 'x', 'rank 0, expected [..., D]');
  const D = x.shape[x.shape.length - 1]!;
  if (o.weight) expectTensor(k, 'weight', o.weight, { dtype: 'f32', shape: [D] });
  if (o.bias) {
    if (rms) throw new KernelArgError(k, 'bias', 'RMSNorm has no bias');
    if (!o.weight) throw new KernelArgError(k, 'bias', 'a bias needs a weight too');
    expectTensor(k, 'bias', o.bias, { dtype: 'f32', shape: [D] });
  }
  const eps = o.eps ?? defEps;
  expectEps(k, 'eps', eps);
  sameContext(k, { x, weight: o.weight, bias: o.bias, out });
  const dst = outTensor(k, x, x.shape, 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError(k, 'out', 'must not share its buffer with x');
  const rows = D === 0 ? 0 : x.size / D;
  x.ctx.dispatch(shader, {
    overrides: { WG: x.ctx.tuning.rowWg, RMS: rms ? 1 : 0, AFFINE: o.bias ? 2 : o.weight ? 1 : 0 },
    bindings: { x, weight: o.weight ?? x, bias: o.bias ?? x, out: dst },
    params: { rows, d: D, eps },
    workgroups: rows === 0 ? [0] : foldGrid(rows, x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/**
 * torch.nn.LayerNorm over the last dim.
 * @example
 * const y = layerNorm(q, { weight: ln.w, bias: ln.b });   // q [1, 1, 512], eps 1e-5
 */
export function layerNorm(x: Tensor, o: RowNormOptions = {}, out?: Tensor): Tensor<'f32'> {
  return rowNorm('layerNorm', false, x, o, 1e-5, out);
}

/**
 * RMSNorm over the last dim (no mean subtraction, no bias).
 * @example
 * const y = rmsNorm(h, { weight: w });                      // h [19, 1024], eps 1e-6
 */
export function rmsNorm(x: Tensor, o: Omit<RowNormOptions, 'bias'> = {}, out?: Tensor): Tensor<'f32'> {
  return rowNorm('rmsNorm', true, x, o, 1e-6, out);
}

/** CPU reference in doubles for both (eps rounded to f32, as the shader's uniform). */
export function rowNormRef(kind: 'layer' | 'rms', x: ArrayLike<number>, D: number, o: { weight?: ArrayLike<number>; bias?: ArrayLike<number>; eps?: number } = {}): Float64Array {
  const eps = Math.fround(o.eps ?? (kind === 'layer' ? 1e-5 : 1e-6));
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += D) {
    let mean = 0;
    if (kind === 'layer') {
      for (let j = 0; j < D; j++) mean += x[base + j]!;
      mean /= D;
    }
    let q = 0;
    for (let j = 0; j < D; j++) q += (x[base + j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(q / D + eps);
    for (let j = 0; j < D; j++) out[base + j] = (x[base + j]! - mean) * rstd * (o.weight ? o.weight[j]! : 1) + (o.bias ? o.bias[j]! : 0);
  }
  return out;
}
