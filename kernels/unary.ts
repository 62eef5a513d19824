/**
 * unary: out = f(x) elementwise (wgsl/unary.wgsl), f one of
 *   silu  x / (1 + e^-x)              relu  max(x, 0)
 *   gelu  x/2 (1 + erf(x / sqrt 2))   (exact erf form: torch.nn.GELU() default, not the tanh form)
 *   scale x * alpha + beta            clamp min(max(x, lo), hi)
 * Any shape, f32, 16 bytes per invocation. Tensors larger than one storage binding (128 MiB) are
 * processed in binding-sized chunks. `out` may not alias `x` (WebGPU forbids a buffer bound both
 * read-only and writable in one dispatch).
 * Numerics: WGSL exp on lavapipe is within a few ulp; erf is a 1-ulp f32 minimax fit (see the
 * shader). clamp with NaN input is unspecified in WGSL (torch propagates NaN).
 * Tolerance vs the double reference: relu/clamp exact; scale <= 2^-23 (|x alpha| + |out|) (one
 * rounding if the fma is fused, two if not); silu/gelu atol 1e-6 + rtol 2e-6 (a few ulp of exp, erf).
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { erfRef } from './core/ref_math.js';
import { unary as shader } from './wgsl.gen.js';

export const UNARY_OPS = ['silu', 'relu', 'gelu', 'scale', 'clamp'] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];
export interface UnaryArgs {
  /** scale: multiplier (default 1); clamp: lower bound (default -Infinity). */
  alpha?: number;
  /** scale: offset (default 0); clamp: upper bound (default +Infinity). */
  beta?: number;
}
const WG = 256;
const F32_MAX = 3.4028234663852886e38;

/**
 * out = op(x).
 * @example
 * const y = unary('gelu', x);                              // or gelu(x)
 * const z = unary('clamp', x, { alpha: -1, beta: 1 });     // or clamp(x, -1, 1)
 */
export function unary(op: UnaryOp, x: Tensor, args: UnaryArgs = {}, out?: Tensor): Tensor<'f32'> {
  const code = UNARY_OPS.indexOf(op);
  if (code < 0) throw new KernelArgError('unary', 'op', `'${op}' is not one of ${UNARY_OPS.join(', ')}`);
  expectTensor('unary', 'x', x, { dtype: 'f32' });
  sameContext('unary', { x, out });
  const [alpha, beta] = unaryConstants(op, args);
  const dst = outTensor('unary', x, x.shape, 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError('unary', 'out', 'must not share its buffer with x');
  const { maxStorageBufferBindingSize: maxBind, maxComputeWorkgroupsPerDimension: maxWg } = x.ctx.limits;
  const chunk = Math.floor(maxBind / (16 * WG)) * 16 * WG;
  const bytes = Math.ceil(x.byteLength / 16) * 16;
  for (let off = 0; off < bytes; off += chunk) {
    const len = Math.min(chunk, bytes - off);
    x.ctx.dispatch(shader, {
      overrides: { WG, OP: code },
      bindings: { x: { buffer: x.buffer, offset: off, size: len }, out: { buffer: dst.buffer, offset: off, size: len } },
      params: { n4: len / 16, alpha, beta },
      workgroups: foldGrid(Math.ceil(len / 16 / WG), maxWg),
    });
  }
  return dst;
}

/** The (alpha, beta) uniforms for op; clamp's infinite bounds become +-f32 max (uniforms are finite). */
function unaryConstants(op: UnaryOp, args: UnaryArgs): [number, number] {
  for (const k of ['alpha', 'beta'] as const) {
    const v = args[k];
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v) || (op !== 'clamp' && !Number.isFinite(v)))) {
      throw new KernelArgError('unary', k, `expected a ${op === 'clamp' ? 'non-NaN' : 'finite'} number, got ${String(v)}`);
    }
  }
  if (op === 'scale') return [args.alpha ?? 1, args.beta ?? 0];
  if (op !== 'clamp') return [0, 0];
  const lo = Math.max(args.alpha ?? -Infinity, -F32_MAX);
  const hi = Math.min(args.beta ?? Infinity, F32_MAX);
  if (lo > hi) throw new KernelArgError('unary', 'alpha', `clamp lower bound ${lo} exceeds upper bound ${hi}`);
  return [lo, hi];
}

/** x * sigmoid(x). */
export const silu = (x: Tensor, out?: Tensor) => unary('silu', x, {}, out);
/** max(x, 0). */
export const relu = (x: Tensor, out?: Tensor) => unary('relu', x, {}, out);
/** GELU (exact, erf form, as torch's default). */
export const gelu = (x: Tensor, out?: Tensor) => unary('gelu', x, {}, out);
/** x * alpha + beta. */
export const scale = (x: Tensor, alpha: number, beta = 0, out?: Tensor) => unary('scale', x, { alpha, beta }, out);
/** min(max(x, lo), hi). */
export const clamp = (x: Tensor, lo: number, hi: number, out?: Tensor) => unary('clamp', x, { alpha: lo, beta: hi }, out);

/** CPU reference in doubles (the inputs are f32 values; outputs are not rounded). */
export function unaryRef(op: UnaryOp, x: ArrayLike<number>, args: UnaryArgs = {}): Float64Array {
  // The shader sees the constants as f32 uniforms.
  const [alpha, beta] = unaryConstants(op, args).map(Math.fround) as [number, number];
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] =
      op === 'silu' ? v / (1 + Math.exp(-v))
      : op === 'relu' ? Math.max(v, 0)
      : op === 'gelu' ? 0.5 * v * (1 + erfRef(v * Math.SQRT1_2))
      : op === 'scale' ? v * alpha + beta
      : Math.min(Math.max(v, alpha), beta);
  }
  return out;
}
