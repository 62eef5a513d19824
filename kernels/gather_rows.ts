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
 * An F16Table (F16Table.fromTable, or F16Table.fromHost from host values chunk by chunk) holds the
 * table as f16 pairs (half the memory; wgsl/gather_rows_f16.wgsl widens the rows to f32): exact
 * for the f16-rounded table.
 * Tolerance: exact (a copy).
 */
import { bindingLimit } from './core/knobs.js';
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { type Binding, type GpuContext, foldGrid } from './core/context.js';
import type { Tensor } from './core/tensor.js';
import { halfWords, indexTensor, tableChunks, unusedBinding, withHostRows } from './core/bindings.js';
import { KernelArgError } from './core/errors.js';
import { packBlocks } from './pack.js';
import { gather_rows as shader, gather_rows_f16 as f16Shader } from './wgsl.gen.js';

const WG = 64;

/**
 * A [V, D] table stored as f16 (D a multiple of 4): half the memory of the f32 table, for
 * gatherRows. Holds a copy rounded to nearest even: re-make it after changing the source.
 * @example
 * const t16 = F16Table.fromTable(embed);  const x = gatherRows(t16, ids);  t16.dispose();
 */
export class F16Table {
  private constructor(
    /** u32 [V, D / 2]: element (v, j) is half j % 2 of word (v, j / 2). */
    readonly data: Tensor,
    readonly shape: readonly [number, number],
  ) {}

  static fromTable(table: Tensor): F16Table {
    expectTensor('F16Table', 'table', table, { dtype: 'f32', rank: 2 });
    return F16Table.cast(table.ctx, table.shape as [number, number], table);
  }

  /**
   * The f16 table of host values [V, D] (a checkpoint's tensor), uploaded one binding-sized row
   * chunk at a time: the f32 table is never whole on the GPU.
   */
  static fromHost(ctx: GpuContext, table: Float32Array, shape: readonly [number, number]): F16Table {
    const [V, D] = shape;
    if (!Number.isInteger(V) || V < 1) throw new KernelArgError('F16Table', 'shape', `[${shape.join(',')}], expected a positive [V, D]`);
    if (table.length !== V * D) throw new KernelArgError('F16Table', 'table', `${table.length} values, expected ${V} x ${D} = ${V * D}`);
    return F16Table.cast(ctx, [V, D], table);
  }

  /**
   * The table from f16 bits [V, D] (an f16 checkpoint's tensor as stored): they are the table's
   * words already, so they are written as they are.
   */
  static fromHalves(ctx: GpuContext, halves: Uint16Array, shape: readonly [number, number]): F16Table {
    const [V, D] = shape;
    if (!Number.isInteger(V) || V < 1 || D % 4 !== 0 || D < 4) throw new KernelArgError('F16Table', 'shape', `[${shape.join(',')}], expected a positive [V, D] with D a multiple of 4`);
    if (halves.length !== V * D) throw new KernelArgError('F16Table', 'halves', `${halves.length} values, expected ${V} x ${D} = ${V * D}`);
    const data = ctx.tensor([V, D / 2], 'u32', 'F16Table.data');
    const words = halfWords(halves, 'F16Table');
    // 16 MiB writes: the queue stages each write, so pieces bound its staging memory.
    for (let w = 0; w < words.length; w += 2 ** 22) ctx.writeBuffer(data.buffer, w * 4, words.subarray(w, w + 2 ** 22));
    return new F16Table(data, [V, D]);
  }

  private static cast(ctx: GpuContext, [V, D]: [number, number], table: Tensor | Float32Array): F16Table {
    if (D % 4 !== 0 || D < 4) throw new KernelArgError('F16Table', 'table', `row length ${D} must be a positive multiple of 4`);
    const data = ctx.tensor([V, D / 2], 'u32', 'F16Table.data');
    // Row chunks of the f32 source (the 625 MiB embedding) at offsets aligned for both tables; a
    // block as wide as the row makes pack_blocks_f16 a row-major cast.
    const chunks = tableChunks('F16Table', V, D, bindingLimit(ctx.limits.maxStorageBufferBindingSize), 2 * ctx.limits.minStorageBufferOffsetAlignment);
    for (const [row0, rows] of chunks) {
      const out = chunks.length === 1 ? data : { buffer: data.buffer, offset: row0 * D * 2, size: rows * D * 2 };
      const cast = (src: Binding) => packBlocks(ctx, src, out, { batch: 1, n: D, k: rows, r: D, trans: false, f16: true });
      if (table instanceof Float32Array) withHostRows(ctx, table, row0, rows, D, 'F16Table.source', cast);
      else cast(chunks.length === 1 ? table : { buffer: table.buffer, offset: row0 * D * 4, size: rows * D * 4 });
    }
    return new F16Table(data, [V, D]);
  }

  get ctx() {
    return this.data.ctx;
  }

  dispose(): void {
    this.data.dispose();
  }
}

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
export function gatherRows(table: Tensor | F16Table, ids: Tensor | Int32Array, opts: GatherRowsOptions = {}): Tensor<'f32'> {
  const K = 'gather_rows';
  const half = table instanceof F16Table;
  if (half) {
    if (table.data.disposed) throw new KernelArgError(K, 'table', 'the F16Table was disposed');
  } else expectTensor(K, 'table', table, { dtype: 'f32', rank: 2 });
  const t = half ? table.data : table;
  const [V, D] = table.shape as [number, number];
  if (opts.outOfRange !== undefined) expectTensor(K, 'outOfRange', opts.outOfRange, { dtype: 'u32', shape: [1] });
  const ctx: GpuContext = table.ctx;
  const maxBytes = bindingLimit(ctx.limits.maxStorageBufferBindingSize);
  // Chunks in 4-byte words per row (D / 2 of them for f16).
  const words = half ? D / 2 : D;
  const chunks = tableChunks(K, V, words, maxBytes, ctx.limits.minStorageBufferOffsetAlignment);
  const idt = indexTensor(K, ids, V, ctx, opts.shape);
  sameContext(K, { table: t, ids: idt, outOfRange: opts.outOfRange, out: opts.out });
  const out = outTensor(K, t, [...idt.shape, D], 'f32', opts.out, 'gather_rows.out');
  const n = idt.size;
  for (const [row0, rows] of chunks) {
    ctx.dispatch(half ? f16Shader : shader, {
      overrides: { WG },
      bindings: {
        ids: idt,
        table: chunks.length === 1 ? t : { buffer: t.buffer, offset: row0 * words * 4, size: Math.max(16, rows * words * 4) },
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
