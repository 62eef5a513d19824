import type { GpuContext } from './context.js';
import { KernelArgError } from './errors.js';

export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;
export const DTYPES: readonly DType[] = ['f32', 'i32', 'u32'];

/** Storages of a packed weight (PackedMatmulWeight, PackedConvWeight) and of the models' weights. */
export const WEIGHT_DTYPES = ['f32', 'f16'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];
export const isWeightDtype = (d: unknown): d is WeightDtype => (WEIGHT_DTYPES as readonly unknown[]).includes(d);

/** A weight storage option checked for `kernel` (default 'f32'). */
export function checkWeightDtype(kernel: string, d: WeightDtype | undefined): WeightDtype {
  if (d !== undefined && !isWeightDtype(d)) throw new KernelArgError(kernel, 'dtype', `'${String(d)}' is not one of ${WEIGHT_DTYPES.join(', ')}`);
  return d ?? 'f32';
}

/** The number of elements of a shape (1 for []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(kernel: string, arg: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new KernelArgError(kernel, arg, `shape [${shape.join(',')}] must hold non-negative integers`);
  }
}

export function arrayFor(dtype: DType, n: number | ArrayBuffer): Float32Array | Int32Array | Uint32Array {
  if (typeof n === 'number') return dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
}

/** The GPU buffer behind a tensor (pooled: released back to the pool when its last view is disposed). */
export interface Storage {
  buffer: GPUBuffer | null;
  holds: number;
  released: boolean;
}

/**
 * An n-d array in a pooled GPU buffer. Row-major, 4-byte elements. The buffer may be larger than
 * the tensor (pool buckets); `byteLength` is what the tensor owns.
 */
export class Tensor<D extends DType = DType> {
  readonly size: number;
  /**
   * Shared by a tensor and its reshape views, so disposing any of them releases the buffer once.
   * `holds` counts live retain() handles: while any exists, a dispose only marks the buffer
   * `released`, and the last handle returns it to the pool.
   */
  private storage: Storage;
  /** A retain() handle: its dispose drops one hold instead of releasing the buffer. */
  private hold: 'none' | 'live' | 'dropped' = 'none';

  /** Use ctx.tensor / ctx.zeros / ctx.fromArray (or the free functions `fromArray`, `zeros`). */
  constructor(
    readonly ctx: GpuContext,
    readonly shape: readonly number[],
    readonly dtype: D,
    buffer: GPUBuffer | Storage,
    readonly label = 'tensor',
  ) {
    this.size = numel(shape);
    this.storage = 'destroy' in buffer ? { buffer, holds: 0, released: false } : buffer;
  }

  get byteLength(): number {
    return this.size * 4;
  }

  get disposed(): boolean {
    return this.storage.buffer === null;
  }

  /** The GPU buffer; throws if the tensor was disposed. */
  get buffer(): GPUBuffer {
    const b = this.storage.buffer;
    if (!b) throw new KernelArgError('tensor', this.label, 'used after dispose()');
    return b;
  }

  /** Copies the tensor to the CPU. Submits pending work first. */
  async read(): Promise<TypedArrayOf<D>> {
    const bytes = await this.ctx.readBuffer(this.buffer, 0, this.byteLength);
    return arrayFor(this.dtype, bytes) as TypedArrayOf<D>;
  }

  /** Overwrites the contents from the CPU (submits pending work first so ordering holds). */
  write(data: ArrayLike<number>): void {
    if (data.length !== this.size) throw new KernelArgError('tensor.write', this.label, `got ${data.length} values, expected ${this.size} for shape [${this.shape.join(',')}]`);
    this.ctx.writeBuffer(this.buffer, 0, toTyped(this.dtype, data));
  }

  /** Same buffer, new shape (element count must match). Disposing the view or the original releases the shared buffer. */
  reshape(shape: readonly number[]): Tensor<D> {
    checkShape('reshape', this.label, shape);
    if (numel(shape) !== this.size) throw new KernelArgError('reshape', this.label, `cannot view [${this.shape.join(',')}] as [${shape.join(',')}]`);
    if (this.disposed) throw new KernelArgError('reshape', this.label, 'used after dispose()');
    return new Tensor(this.ctx, shape, this.dtype, this.storage, this.label);
  }

  /**
   * A handle that keeps the buffer alive through dispose() calls on the tensor and its views
   * (scopes, a model's own cleanup) until the handle itself is disposed. Autograd tapes hold
   * saved activations this way.
   */
  retain(): Tensor<D> {
    if (this.disposed) throw new KernelArgError('retain', this.label, 'used after dispose()');
    this.storage.holds++;
    const t = new Tensor(this.ctx, this.shape, this.dtype, this.storage, this.label);
    t.hold = 'live';
    return t;
  }

  /** Returns the buffer to the pool (once no retain() handle holds it). Idempotent. */
  dispose(): void {
    const s = this.storage;
    if (!s.buffer) return;
    if (this.hold === 'dropped') return;
    if (this.hold === 'live') {
      this.hold = 'dropped';
      s.holds--;
    } else s.released = true;
    if (s.released && s.holds === 0) {
      this.ctx.pool.release(s.buffer);
      s.buffer = null;
    }
  }

  toString(): string {
    return `Tensor(${this.label}, ${this.dtype}[${this.shape.join(',')}])`;
  }
}

export function toTyped(dtype: DType, data: ArrayLike<number>): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'f32' && data instanceof Float32Array) return data;
  if (dtype === 'i32' && data instanceof Int32Array) return data;
  if (dtype === 'u32' && data instanceof Uint32Array) return data;
  const out = arrayFor(dtype, data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  return out;
}
