/**
 * Binding helpers shared by kernel families: a stand-in for an unused binding, row chunks of a
 * table too large for one binding, and index arguments given as a tensor or as host ints.
 */
import { expectTensor } from './check.js';
import type { GpuContext } from './context.js';
import { KernelArgError } from './errors.js';
import { Tensor } from './tensor.js';

/** A 16-byte zeroed buffer standing in for an unused binding (one per role, so none alias). */
export function unusedBinding(ctx: GpuContext, role: string): Tensor {
  return ctx.constant(`unused.${role}`, () => ctx.zeros([4], 'u32', `unused.${role}`));
}

/**
 * Uploads rows [row0, row0 + rows) of a host [*, width] matrix (f32, or f16 bits: a u32 tensor of
 * pairs, halvesTensor) and hands the tensor to `use`
 * (which records its dispatches), then frees it and submits: the next chunk's upload takes the
 * same buffer, so a matrix uploaded chunk by chunk costs one chunk of GPU memory.
 */
export function withHostRows(ctx: GpuContext, host: Float32Array | Uint16Array, row0: number, rows: number, width: number, label: string, use: (t: Tensor) => void): void {
  const part = host.subarray(row0 * width, (row0 + rows) * width);
  const t = part instanceof Float32Array ? ctx.fromArray(part, [rows, width], 'f32', label) : halvesTensor(ctx, part, label);
  use(t);
  t.dispose();
  ctx.submit();
}

/** f16 bits (an even count) as u32 words of pairs, element i = half i % 2 of word i / 2 (a view when 4-byte aligned, else a copy). */
export function halfWords(halves: Uint16Array, what: string): Uint32Array {
  if (halves.length % 2) throw new KernelArgError(what, 'halves', `${halves.length} halves: an even count fills whole u32 words`);
  const h = halves.byteOffset % 4 ? halves.slice() : halves;
  return new Uint32Array(h.buffer, h.byteOffset, h.length / 2);
}

/** f16 bits (an even count) as a u32 tensor of pairs (halfWords). */
export function halvesTensor(ctx: GpuContext, halves: Uint16Array, label: string): Tensor {
  const words = halfWords(halves, label);
  return ctx.fromArray(words, [words.length], 'u32', label);
}

/** Row chunks [first row, row count) of a [V, D] f32 table, each within maxBytes at an aligned offset. */
export function tableChunks(kernel: string, V: number, D: number, maxBytes: number, alignBytes: number): [number, number][] {
  const rowBytes = D * 4;
  if (V * rowBytes <= maxBytes) return [[0, V]];
  // Chunk starts must be multiples of `step` rows for the byte offset to be aligned.
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const step = alignBytes / gcd(rowBytes, alignBytes);
  const rows = Math.floor(maxBytes / rowBytes / step) * step;
  if (rows < 1) throw new KernelArgError(kernel, 'table', `an aligned group of ${step} rows of ${rowBytes} bytes exceeds the ${maxBytes}-byte binding limit`);
  const out: [number, number][] = [];
  for (let r = 0; r < V; r += rows) out.push([r, Math.min(rows, V - r)]);
  return out;
}

/**
 * Resolves an index argument: a GPU i32 tensor as is, or host ints validated against [0, limit)
 * (first offender named) and uploaded.
 */
export function indexTensor(kernel: string, ids: Tensor | Int32Array, limit: number, ctx: GpuContext | undefined, shape?: readonly number[]): Tensor {
  if (ids instanceof Tensor) {
    expectTensor(kernel, 'indices', ids, { dtype: 'i32' });
    return ids;
  }
  if (!(ids instanceof Int32Array)) throw new KernelArgError(kernel, 'indices', 'expected an i32 Tensor or an Int32Array');
  if (!ctx) throw new KernelArgError(kernel, 'ctx', 'host indices need a GpuContext (pass opts.ctx)');
  const bad = ids.findIndex((v) => v < 0 || v >= limit);
  if (bad >= 0) throw new KernelArgError(kernel, 'indices', `index ${ids[bad]} at position ${bad} is out of range [0, ${limit})`);
  return ctx.fromArray(ids, shape ?? [ids.length], 'i32', `${kernel}.indices`);
}
