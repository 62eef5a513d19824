/**
 * unary_backward: gradients of the elementwise activations (wgsl/unary_backward.wgsl), with x the
 * forward INPUT and g = dL/dy:
 *   silu  dx = g s (1 + x (1 - s)),  s = sigmoid(x)      relu  dx = g [x > 0]  (0 at x = 0, as torch)
 *   gelu  dx = g (Phi(x) + x phi(x))  (exact erf form)    scale dx = g alpha
 *   tanh  dx = g (1 - tanh(x)^2), evaluated as 4u / (1 + u)^2 with u = e^(-2|x|)
 * siluMulBackward: for InternLM's SwiGLU y = silu(gate) * up, one fused pass gives
 *   dgate = g up silu'(gate),  dup = g silu(gate).
 * Any shape, f32; x, g (and up) must have the same shape. Tensors over one storage binding are
 * processed in binding-sized chunks (all operands share the element offsets). Outputs may not
 * alias an input (WebGPU forbids a buffer bound read-only and writable in one dispatch).
 * Numerics: 1 - sigmoid(x) is sigmoid(-x) and sech^2 is formed from e^(-2|x|), so nothing cancels
 * against 1 in the tails (torch computes tanh's 1 - y^2 from the f32 output y: it agrees to
 * ~1.2e-7 absolute and is 0 where y rounds to +-1; ours stays relatively accurate).
 * Tolerance vs the double reference: relu exact; scale one rounding of g * alpha (rtol 2^-24);
 * silu/gelu/tanh (and siluMul) atol 1e-6 + rtol 4e-6 for |g| <= 1 (a few ulp of exp and erf, and
 * the cancellation in 1 + x (1 - s) near silu's minimum x = -1.28, where f' crosses 0).
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { type Binding, foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { unusedBinding } from './core/bindings.js';
import { erfRef } from './core/ref_math.js';
import { unary_backward as shader } from './wgsl.gen.js';

export const UNARY_BACKWARD_OPS = ['silu', 'relu', 'gelu', 'scale', 'tanh'] as const;
export type UnaryBackwardOp = (typeof UNARY_BACKWARD_OPS)[number];
const SILU_MUL = 5;
const WG = 256;

function alphaOf(kernel: string, op: UnaryBackwardOp, args: { alpha?: number }): number {
  const a = args.alpha;
  if (a !== undefined && (typeof a !== 'number' || !Number.isFinite(a))) throw new KernelArgError(kernel, 'alpha', `expected a finite number, got ${String(a)}`);
  return op === 'scale' ? (a ?? 1) : 0;
}

/**
 * One launch per binding-sized chunk over equally shaped f32 operands: `reads` (x, g, up) and
 * `writes` (out, out2), all advanced by the same byte offset.
 */
function launch(code: number, alpha: number, reads: [Tensor, Tensor, Tensor], writes: [Tensor, Tensor | null]): void {
  const [x] = reads;
  const ctx = x.ctx;
  const { maxStorageBufferBindingSize: maxBind, maxComputeWorkgroupsPerDimension: maxWg } = ctx.limits;
  const chunk = Math.floor(maxBind / (16 * WG)) * 16 * WG;
  const bytes = Math.ceil(x.byteLength / 16) * 16;
  const stub = writes[1] ? null : unusedBinding(ctx, 'unary_backward.out2');
  for (let off = 0; off < bytes; off += chunk) {
    const len = Math.min(chunk, bytes - off);
    const at = (t: Tensor): Binding => ({ buffer: t.buffer, offset: off, size: len });
    ctx.dispatch(shader, {
      overrides: { WG, OP: code },
      bindings: { x: at(x), g: at(reads[1]), up: at(reads[2]), out: at(writes[0]), out2: stub ?? at(writes[1]!) },
      params: { n4: len / 16, alpha },
      workgroups: foldGrid(Math.ceil(len / 16 / WG), maxWg),
    });
  }
}

/**
 * dx = g * f'(x) for the forward y = op(x) (x is the forward input, not y).
 * @example
 * const dx = unaryBackward('gelu', x, dy);
 * const dz = unaryBackward('scale', z, dy, { alpha: 0.125 });
 */
export function unaryBackward(op: UnaryBackwardOp, x: Tensor, g: Tensor, args: { alpha?: number } = {}, out?: Tensor): Tensor<'f32'> {
  const K = 'unary_backward';
  const code = UNARY_BACKWARD_OPS.indexOf(op);
  if (code < 0) throw new KernelArgError(K, 'op', `'${op}' is not one of ${UNARY_BACKWARD_OPS.join(', ')}`);
  expectTensor(K, 'x', x, { dtype: 'f32' });
  expectTensor(K, 'g', g, { dtype: 'f32', shape: x.shape });
  sameContext(K, { x, g, out });
  const alpha = alphaOf(K, op, args);
  const dst = outTensor(K, x, x.shape, 'f32', out);
  if (dst.buffer === x.buffer || dst.buffer === g.buffer) throw new KernelArgError(K, 'out', 'must not share its buffer with x or g');
  launch(code, alpha, [x, g, x], [dst, null]);
  return dst;
}

/**
 * Gradients of y = silu(gate) * up in one pass.
 * @example
 * const { dgate, dup } = siluMulBackward(gate, up, dy);   // all [T, 2816]
 */
export function siluMulBackward(gate: Tensor, up: Tensor, g: Tensor): { dgate: Tensor<'f32'>; dup: Tensor<'f32'> } {
  const K = 'silu_mul_backward';
  expectTensor(K, 'gate', gate, { dtype: 'f32' });
  expectTensor(K, 'up', up, { dtype: 'f32', shape: gate.shape });
  expectTensor(K, 'g', g, { dtype: 'f32', shape: gate.shape });
  sameContext(K, { gate, up, g });
  const dgate = gate.ctx.tensor(gate.shape, 'f32', `${K}.dgate`);
  const dup = gate.ctx.tensor(gate.shape, 'f32', `${K}.dup`);
  launch(SILU_MUL, 0, [gate, g, up], [dgate, dup]);
  return { dgate, dup };
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** f'(x) in doubles (alpha rounded to f32, as the shader's uniform). */
function derivRef(op: UnaryBackwardOp, v: number, alpha: number): number {
  switch (op) {
    case 'silu':
      return sigmoid(v) * (1 + v * sigmoid(-v));
    case 'relu':
      return v > 0 ? 1 : 0;
    case 'gelu':
      return 0.5 * (1 + erfRef(v * Math.SQRT1_2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
    case 'scale':
      return alpha;
    case 'tanh': {
      const u = Math.exp(-2 * Math.abs(v));
      return (4 * u) / ((1 + u) * (1 + u));
    }
  }
}

/** CPU reference in doubles: dx = g * f'(x). */
export function unaryBackwardRef(op: UnaryBackwardOp, x: ArrayLike<number>, g: ArrayLike<number>, args: { alpha?: number } = {}): Float64Array {
  if (!UNARY_BACKWARD_OPS.includes(op)) throw new KernelArgError('unary_backward', 'op', `'${op}' is not one of ${UNARY_BACKWARD_OPS.join(', ')}`);
  const alpha = Math.fround(alphaOf('unary_backward', op, args));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = g[i]! * derivRef(op, x[i]!, alpha);
  return out;
}

/** CPU reference in doubles for siluMulBackward. */
export function siluMulBackwardRef(gate: ArrayLike<number>, up: ArrayLike<number>, g: ArrayLike<number>): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(gate.length);
  const dup = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const v = gate[i]!;
    dgate[i] = g[i]! * up[i]! * derivRef('silu', v, 0);
    dup[i] = g[i]! * v * sigmoid(v);
  }
  return { dgate, dup };
}
