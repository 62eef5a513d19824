/**
 * gather_rows: out[..., :] = table[ids[...], :] — the token embedding lookup (wgsl/gather_rows.wgsl).
 *
 * Layouts: table f32 [V, D] row-major, ids i32 [...] (any shape), out [..., D].
 * A table over maxStorageBufferBindingSize (the transformer's 160005 x 1024 f32 table is 625 MiB,
 * lavapipe binds 128 MiB) is bound as row chunks at offsets aligned to
 * minStorageBufferOffsetAlignment, one launch per chunk; each output row is written by exactly
 * the launch whose chunk holds its id (the others skip the whole workgroup).
 * Out-of-range ids: host ids (Int32Array) throw a KernelArgError before anything is recorded; GPU
 * ids give a NaN row and are counted into `outOfRange` (a zeroed u32 [1]) when given.
 * Tolerance: exact (a copy).
 */
import { bindingLimit } from './core/knobs.js';
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { type GpuContext, foldGrid } from './core/context.js';
import type { Tensor } from './core/tensor.js';
import { indexTensor, tableChunks, unusedBinding } from './core/bindings.js';
import { gather_rows as shader } from './wgsl.gen.js';

const WG = 64;

export interface GatherRowsOptions {
  /** For host ids: their shape (default [n]). The context is the table's. */
  shape?: readonly number[];
  /** Zeroed u32 [1]: incremented once per out-of-range GPU id. */
  outOfRange?: Tensor;
  out?: Tensor;
}

/**
 * Embedding lookup over a table of any size.
 * @example
 * const h = gatherRows(embedTokens, Int32Array.from(tokenIds), { shape: [1, 16] }); // [1, 16, 1024]
 */
export function gatherRows(table: Tensor, ids: Tensor | Int32Array, opts: GatherRowsOptions = {}): Tensor<'f32'> {
  const K = 'gather_rows';
  expectTensor(K, 'table', table, { dtype: 'f32', rank: 2 });
  const [V, D] = table.shape as [number, number];
  if (opts.outOfRange !== undefined) expectTensor(K, 'outOfRange', opts.outOfRange, { dtype: 'u32', shape: [1] });
  const ctx: GpuContext = table.ctx;
  const maxBytes = bindingLimit(ctx.limits.maxStorageBufferBindingSize);
  const chunks = tableChunks(K, V, D, maxBytes, ctx.limits.minStorageBufferOffsetAlignment);
  const idt = indexTensor(K, ids, V, ctx, opts.shape);
  sameContext(K, { table, ids: idt, outOfRange: opts.outOfRange, out: opts.out });
  const out = outTensor(K, table, [...idt.shape, D], 'f32', opts.out, 'gather_rows.out');
  const n = idt.size;
  for (const [row0, rows] of chunks) {
    ctx.dispatch(shader, {
      overrides: { WG },
      bindings: {
        ids: idt,
        table: chunks.length === 1 ? table : { buffer: table.buffer, offset: row0 * D * 4, size: Math.max(16, rows * D * 4) },
        out,
        flag: opts.outOfRange ?? unusedBinding(ctx, 'gather_rows.flag'),
      },
      params: { n, d: D, row0, rows, v_total: V },
      workgroups: foldGrid(n, ctx.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  if (idt !== ids) idt.dispose();
  return out;
}

/** CPU reference: [n, D], NaN rows for ids outside [0, V). */
export function gatherRowsRef(table: ArrayLike<number>, V: number, D: number, ids: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    for (let j = 0; j < D; j++) out[i * D + j] = id >= 0 && id < V ? table[id * D + j]! : NaN;
  }
  return out;
}
