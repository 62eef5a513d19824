import { KernelArgError } from './errors.js';
import { type DType, Tensor } from './tensor.js';

export interface TensorExpectation {
  dtype?: DType | readonly DType[];
  rank?: number | readonly number[];
  /** Expected dims; null = any. Only checked when the rank matches its length. */
  shape?: readonly (number | null)[];
}

const fmt = (s: readonly (number | null)[]) => `[${s.map((d) => (d === null ? '*' : d)).join(',')}]`;

/** Validates one tensor argument of `kernel`; every failure names the kernel and the argument. */
export function expectTensor(kernel: string, arg: string, t: unknown, e: TensorExpectation = {}): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new KernelArgError(kernel, arg, `expected a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.disposed) throw new KernelArgError(kernel, arg, `${t} was disposed`);
  if (e.dtype !== undefined) {
    const ok = typeof e.dtype === 'string' ? [e.dtype] : e.dtype;
    if (!ok.includes(t.dtype)) throw new KernelArgError(kernel, arg, `dtype ${t.dtype}, expected ${ok.join(' or ')}`);
  }
  if (e.rank !== undefined) {
    const ok = typeof e.rank === 'number' ? [e.rank] : e.rank;
    if (!ok.includes(t.shape.length)) throw new KernelArgError(kernel, arg, `rank ${t.shape.length} (shape ${fmt(t.shape)}), expected rank ${ok.join(' or ')}`);
  }
  if (e.shape) {
    const s = e.shape;
    const bad = s.length !== t.shape.length || s.some((d, i) => d !== null && d !== t.shape[i]);
    if (bad) throw new KernelArgError(kernel, arg, `shape ${fmt(t.shape)}, expected ${fmt(s)}`);
  }
}

/** Validates a caller-provided `out` (or allocates one) with the exact shape and dtype. */
export function outTensor<D extends DType>(kernel: string, ref: Tensor, shape: readonly number[], dtype: D, out?: Tensor, label = `${kernel}.out`): Tensor<D> {
  if (out === undefined) return ref.ctx.tensor(shape, dtype, label);
  expectTensor(kernel, 'out', out, { dtype, shape });
  if (out.ctx !== ref.ctx) throw new KernelArgError(kernel, 'out', 'belongs to a different GpuContext');
  return out as Tensor<D>;
}

/** All tensors must live on the same context. */
export function sameContext(kernel: string, tensors: Record<string, Tensor | undefined>): void {
  let first: Tensor | undefined;
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    if (!first) first = t;
    else if (t.ctx !== first.ctx) throw new KernelArgError(kernel, name, 'belongs to a different GpuContext');
  }
}

/** A positive finite integer argument. */
export function expectInt(kernel: string, arg: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new KernelArgError(kernel, arg, `expected an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** A norm's eps: a finite number >= 0, else a named error. */
export function expectEps(kernel: string, arg: string, eps: unknown): number {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new KernelArgError(kernel, arg, `expected a finite number >= 0, got ${String(eps)}`);
  return eps;
}
