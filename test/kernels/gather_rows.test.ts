// gather_rows: embedding lookup vs the reference, with the table split into row chunks by a small
// fake binding limit (the real case is a 625 MiB table over a 128 MiB binding).
import test from 'ava';
import { KernelArgError } from '../../kernels/index.js';
import { F16Table, gatherRows, gatherRowsRef } from '../../kernels/gather_rows.js';
import { f16Round, toHalves } from '../../kernels/core/ref_math.js';
import { tableChunks } from '../../kernels/core/bindings.js';
import { withKnobs } from '../../kernels/internal.js';
import { assertEqualInts } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// [V, D, ids shape, fake binding limit in bytes (0 = none)]
const CASES: [number, number, number[], number][] = [
  [1, 1, [1], 0],
  [37, 13, [2, 9], 13 * 4 * 5],
  [64, 300, [7], 300 * 4 * 9],
  [200, 4, [3, 1, 41], 4 * 4 * 17],
  [5, 257, [1, 1], 0],
];

for (const [V, D, shape, limit] of CASES) {
  test(`gather_rows V=${V} D=${D} ids [${shape}] limit ${limit || 'none'}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const n = shape.reduce((a, b) => a * b, 1);
    const table = rng.array(V * D);
    const ids = Int32Array.from({ length: n }, (_, i) => (i === 0 ? V - 1 : i === 1 ? 0 : rng.int(0, V - 1)));
    const knobs = { maxBindingBytes: limit || undefined };
    const chunks = tableChunks('gather_rows', V, D, limit || Infinity, ctx.limits.minStorageBufferOffsetAlignment);
    if (limit) t.true(chunks.length > 2, `${chunks.length} chunks`);
    const tt = ctx.fromArray(table, [V, D]);
    const out = withKnobs(knobs, () => gatherRows(tt, ctx.fromArray(ids, shape, 'i32')));
    t.deepEqual(out.shape, [...shape, D]);
    assertEqualInts(t, await out.read(), gatherRowsRef(table, V, D, ids), { name: t.title, shape: [n, D] });
    const fromHost = withKnobs(knobs, () => gatherRows(tt, ids, { shape }));
    assertEqualInts(t, await fromHost.read(), gatherRowsRef(table, V, D, ids), { name: `${t.title} (host ids)` });
  });
}

test('gather_rows_f16: an F16Table gives the f16-rounded rows, whole and in row chunks (cast and gather)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  for (const [V, D, limit] of [[1, 4, 0], [37, 12, 0], [300, 64, 64 * 4 * 40]] as const) {
    const table = rng.array(V * D).map((v, i) => v * 2 ** ((i % 7) - 3));
    const ids = Int32Array.from({ length: 23 }, (_, i) => (i === 0 ? V - 1 : rng.int(0, V - 1)));
    const knobs = { maxBindingBytes: limit || undefined };
    if (limit) {
      // More chunks for the f32 source of the cast than for the halves the gather binds, both > 1.
      const cast = tableChunks('F16Table', V, D, limit, 2 * align).length;
      const gather = tableChunks('gather_rows', V, D / 2, limit, align).length;
      t.true(cast > gather && gather > 1, `${cast} cast chunks, ${gather} gather chunks`);
    }
    const t16 = withKnobs(knobs, () => F16Table.fromTable(ctx.fromArray(table, [V, D])));
    t.is(t16.data.byteLength, V * D * 2);
    const out = withKnobs(knobs, () => gatherRows(t16, ids));
    t.deepEqual(out.shape, [ids.length, D]);
    t.deepEqual(Array.from(await out.read()), Array.from(gatherRowsRef(table.map(f16Round), V, D, ids), Math.fround), `V=${V} D=${D}`);
    const host = withKnobs(knobs, () => F16Table.fromHost(ctx, table, [V, D]));
    t.deepEqual(await host.data.read(), await t16.data.read(), `V=${V} D=${D}: fromHost casts as fromTable`);
    // The bits of an f16 checkpoint are the table's words; at a 2-byte offset too (copied first).
    const bits = toHalves(table);
    const shifted = new Uint16Array(bits.length + 1);
    shifted.set(bits, 1);
    for (const h of [bits, shifted.subarray(1)]) {
      const fromBits = withKnobs(knobs, () => F16Table.fromHalves(ctx, h, [V, D]));
      t.deepEqual(await fromBits.data.read(), await t16.data.read(), `V=${V} D=${D} offset ${h.byteOffset}: fromHalves writes the bits`);
      fromBits.dispose();
    }
    host.dispose();
    t16.dispose();
    t.throws(() => gatherRows(t16, ids), { instanceOf: KernelArgError, message: /^gather_rows: table: the F16Table was disposed/ });
  }
  t.throws(() => F16Table.fromHost(ctx, new Float32Array(7), [2, 4]), { instanceOf: KernelArgError, message: /^F16Table: table: 7 values, expected 2 x 4 = 8/ });
  t.throws(() => F16Table.fromHalves(ctx, new Uint16Array(7), [2, 4]), { instanceOf: KernelArgError, message: /^F16Table: halves: 7 values, expected 2 x 4 = 8/ });
  t.throws(() => F16Table.fromHalves(ctx, new Uint16Array(12), [2, 6]), { instanceOf: KernelArgError, message: /^F16Table: shape: \[2,6\], expected a positive \[V, D\] with D a multiple of 4/ });
  t.throws(() => F16Table.fromTable(ctx.zeros([3, 6])), { instanceOf: KernelArgError, message: /^F16Table: table: row length 6 must be a positive multiple of 4/ });
});

test('gather_rows: chunks are aligned, cover the table once and fit the limit', (t) => {
  for (const [V, D, limit, align] of [[160005, 1024, 128 * 2 ** 20, 256], [1000, 3, 1000, 256], [37, 13, 260, 16]] as const) {
    const chunks = tableChunks('gather_rows', V, D, limit, align);
    let next = 0;
    for (const [r0, rows] of chunks) {
      t.is(r0, next);
      t.is((r0 * D * 4) % align, 0);
      t.true(rows * D * 4 <= limit);
      next = r0 + rows;
    }
    t.is(next, V);
  }
  t.is(tableChunks('gather_rows', 160005, 1024, 128 * 2 ** 20, 256).length, 5);
});

test('gather_rows: bad inputs are named errors; GPU ids out of range give NaN rows and are counted', async (t) => {
  const ctx = await gpu();
  const table = ctx.fromArray(Float32Array.from({ length: 40 }, (_, i) => i), [10, 4]);
  t.throws(() => gatherRows(table, Int32Array.from([3, 10])), { instanceOf: KernelArgError, message: /^gather_rows: indices: index 10 at position 1 is out of range \[0, 10\)/ });
  t.throws(() => gatherRows(table, ctx.zeros([3], 'f32')), { message: /^gather_rows: indices: dtype f32, expected i32/ });
  t.throws(() => gatherRows(ctx.zeros([40]), Int32Array.from([0])), { message: /^gather_rows: table: rank 1/ });
  t.throws(() => withKnobs({ maxBindingBytes: 8 }, () => gatherRows(table, Int32Array.from([0]))), { message: /^gather_rows: table: an aligned group of \d+ rows of 16 bytes exceeds the 8-byte binding limit/ });
  const flag = ctx.zeros([1], 'u32');
  const ids = [2, -1, 10, 9];
  const out = await withKnobs({ maxBindingBytes: 48 }, () => gatherRows(table, ctx.fromArray(ids, [4], 'i32'), { outOfRange: flag })).read();
  t.deepEqual([...(await flag.read())], [2]);
  t.deepEqual([...out].map(Number.isNaN), [...gatherRowsRef(Float32Array.from({ length: 40 }, (_, i) => i), 10, 4, ids)].map(Number.isNaN));
  t.deepEqual([...out.subarray(0, 4), ...out.subarray(12)], [8, 9, 10, 11, 36, 37, 38, 39]);
});
