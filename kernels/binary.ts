/**
 * binary: out[i] = a[i] OP b[j] with OP in add, sub, mul, div, max, min (wgsl/binary.wgsl).
 * `b` broadcasts numpy-style against `a` when its non-1 dims form one contiguous run of a's
 * (same shape, scalar, bias over the last dims, per-channel over [B,C,T,H,W]); the shader
 * indexes b with (i / b_div) % b_len. Output has a's shape. f32 only.
 * Tolerance: exact (one f32 operation per element, mirrored by Math.fround in the reference).
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { binary as shader } from './wgsl.gen.js';

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
const WG = 256;

/** Works out (b_div, b_len) for broadcasting bShape against aShape, or throws. */
export function broadcastPlan(kernel: string, aShape: readonly number[], bShape: readonly number[]): { bDiv: number; bLen: number } {
  const fail = () => new KernelArgError(kernel, 'b', `shape [${bShape.join(',')}] does not broadcast against a [${aShape.join(',')}] as one contiguous block of dims`);
  if (bShape.length > aShape.length) throw fail();
  const r = aShape.length;
  const b = [...Array(r - bShape.length).fill(1), ...bShape];
  // Dims of size 1 in a do not affect indexing; the remaining dims of b must be one run.
  let first = -1;
  let last = -1;
  let broken = false;
  for (let i = 0; i < r; i++) {
    if (aShape[i] === 1) {
      if (b[i] !== 1) throw fail();
      continue;
    }
    if (b[i] === 1) {
      if (first >= 0) broken = true;
      continue;
    }
    if (b[i] !== aShape[i] || broken) throw fail();
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) return { bDiv: 1, bLen: 1 };
  let bLen = 1;
  for (let i = first; i <= last; i++) bLen *= aShape[i]!;
  let bDiv = 1;
  for (let i = last + 1; i < r; i++) bDiv *= aShape[i]!;
  return { bDiv, bLen };
}

/** out = a OP b (b broadcast as described above). */
export function binary(op: BinaryOp, a: Tensor, b: Tensor, out?: Tensor): Tensor<'f32'> {
  const code = BINARY_OPS.indexOf(op);
  if (code < 0) throw new KernelArgError('binary', 'op', `'${op}' is not one of ${BINARY_OPS.join(', ')}`);
  expectTensor('binary', 'a', a, { dtype: 'f32' });
  expectTensor('binary', 'b', b, { dtype: 'f32' });
  sameContext('binary', { a, b, out });
  const { bDiv, bLen } = broadcastPlan('binary', a.shape, b.shape);
  const dst = outTensor('binary', a, a.shape, 'f32', out);
  a.ctx.dispatch(shader, {
    overrides: { WG, OP: code, SAME: Number(bDiv === 1 && bLen === a.size) },
    bindings: { a, b, out: dst },
    params: { n: a.size, b_div: bDiv, b_len: bLen },
    workgroups: foldGrid(Math.ceil(a.size / (4 * WG)), a.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** a + b, b broadcast against a (see binary). */
export const add = (a: Tensor, b: Tensor, out?: Tensor) => binary('add', a, b, out);
/** a - b, b broadcast against a. */
export const sub = (a: Tensor, b: Tensor, out?: Tensor) => binary('sub', a, b, out);
/** a * b, b broadcast against a. */
export const mul = (a: Tensor, b: Tensor, out?: Tensor) => binary('mul', a, b, out);
/** a / b, b broadcast against a. */
export const div = (a: Tensor, b: Tensor, out?: Tensor) => binary('div', a, b, out);

/** CPU reference (each result rounded to f32, as the shader computes it). */
export function binaryRef(op: BinaryOp, a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[]): Float64Array {
  const { bDiv, bLen } = broadcastPlan('binary', aShape, bShape);
  const f = Math.fround;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = f(a[i]!);
    const y = f(b[Math.floor(i / bDiv) % bLen]!);
    const r = op === 'add' ? x + y : op === 'sub' ? x - y : op === 'mul' ? x * y : op === 'div' ? x / y : op === 'max' ? Math.max(x, y) : Math.min(x, y);
    out[i] = f(r);
  }
  return out;
}
