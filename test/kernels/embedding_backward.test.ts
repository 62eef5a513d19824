// embedding_backward: deterministic scatter-add vs the float64 reference (repeated and unused ids,
// awkward D, tables split into row chunks by a small fake binding limit), bit-identical reruns,
// the float32 position-order sum exactly, finite differences of the reference against
// gatherRowsRef, and bad inputs.
import test from 'ava';
import { KernelArgError } from '../../kernels/index.js';
import { embeddingBackward, embeddingBackwardRef, embeddingCsr } from '../../kernels/embedding_backward.js';
import { gatherRowsRef } from '../../kernels/gather_rows.js';
import { tableChunks } from '../../kernels/core/bindings.js';
import { withKnobs } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

/** Each id's rows summed in float32 in ascending position order (the kernel's order). */
function sequentialF32(ids: Int32Array, g: Float32Array, vocab: number, D: number): Float32Array {
  const out = new Float32Array(vocab * D);
  for (let p = 0; p < ids.length; p++) {
    for (let c = 0; c < D; c++) out[ids[p]! * D + c] = Math.fround(out[ids[p]! * D + c]! + g[p * D + c]!);
  }
  return out;
}

// [vocab, D, N, ids drawn from [0, hi) (repeats and unused ids), fake binding limit in bytes (0 = none)]
const CASES: [number, number, number, number, number][] = [
  [1, 1, 1, 1, 0],
  [1, 5, 7, 1, 0],
  [10, 4, 25, 6, 0],
  [37, 13, 90, 37, 13 * 4 * 5],
  [64, 300, 40, 20, 300 * 4 * 9],
  [200, 3, 500, 200, 3 * 4 * 17],
  [7, 257, 3, 7, 0],
  [1000, 8, 33, 1000, 8 * 4 * 64],
];

for (const [vocab, D, N, hi, limit] of CASES) {
  test(`embedding_backward vocab=${vocab} D=${D} N=${N} ids<${hi} limit ${limit || 'none'}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const ids = Int32Array.from({ length: N }, (_, i) => (i === 0 ? hi - 1 : rng.int(0, hi - 1)));
    const g = rng.array(N * D);
    const knobs = { maxBindingBytes: limit || undefined };
    if (limit) t.true(tableChunks('embedding_backward', vocab, D, limit, ctx.limits.minStorageBufferOffsetAlignment).length > 2);
    const gt = ctx.fromArray(g, [N, D]);
    const out = withKnobs(knobs, () => embeddingBackward(ids, gt, vocab));
    t.deepEqual(out.shape, [vocab, D]);
    const got = await out.read();
    const counts = new Map<number, number>();
    for (const v of ids) counts.set(v, (counts.get(v) ?? 0) + 1);
    const k = Math.max(...counts.values());
    const r = assertClose(t, got, embeddingBackwardRef(ids, g, vocab, D), { atol: k * (k - 1) * 2 ** -24, shape: [vocab, D], name: t.title });
    t.log(`max count ${k}, max abs err ${r.maxAbs.toExponential(2)}`);
    // Rows of ids that never occur are exactly +0.
    for (let v = 0; v < vocab; v++) {
      if (!counts.has(v)) t.true(got.subarray(v * D, (v + 1) * D).every((x) => Object.is(x, 0)), `row ${v}`);
    }
    // Same bits on a second run, and into a caller's NaN-filled table.
    t.deepEqual(await withKnobs(knobs, () => embeddingBackward(ids, gt, vocab)).read(), got);
    const into = ctx.fromArray(new Float32Array(vocab * D).fill(NaN), [vocab, D]);
    t.is(withKnobs(knobs, () => embeddingBackward(ids, gt, vocab, { out: into })), into);
    t.deepEqual(await into.read(), got);
    // The position-order float32 sum exactly (a compiler that reassociated float adds would differ).
    t.deepEqual(got, sequentialF32(ids, g, vocab, D));
  });
}

test('embedding_backward: no ids gives a zero table', async (t) => {
  const ctx = await gpu();
  const out = await embeddingBackward(new Int32Array(0), ctx.zeros([0, 6]), 5).read();
  t.deepEqual([...out], new Array(30).fill(0));
  const into = ctx.fromArray(new Float32Array(30).fill(7), [5, 6]);
  t.deepEqual([...(await embeddingBackward(new Int32Array(0), ctx.zeros([0, 6]), 5, { out: into }).read())], new Array(30).fill(0));
});

test('embeddingCsr groups positions by id in order', (t) => {
  const csr = embeddingCsr('embedding_backward', Int32Array.from([3, 0, 3, 5, 0, 3]), 8);
  t.deepEqual([...csr.uniq], [0, 3, 5]);
  t.deepEqual([...csr.offsets], [0, 2, 5, 6]);
  t.deepEqual([...csr.pos], [1, 4, 0, 2, 5, 3]);
});

test('embeddingBackwardRef matches float64 finite differences of gatherRowsRef', (t) => {
  const rng = Rng.fromString(t.title);
  const [V, D, N] = [6, 3, 10];
  const ids = Int32Array.from({ length: N }, () => rng.int(0, 4));
  const table = Float64Array.from({ length: V * D }, () => rng.uniform());
  const G = Float64Array.from({ length: N * D }, () => rng.uniform());
  const loss = (tb: Float64Array) => gatherRowsRef(tb, V, D, ids).reduce((s, y, i) => s + y * G[i]!, 0);
  const an = embeddingBackwardRef(ids, G, V, D);
  const bound = 1e-6 * an.reduce((m, v) => Math.max(m, Math.abs(v)), 0) + 1e-9;
  const h = 1e-6;
  // Every entry: rows of used ids and the unused row 5.
  for (let i = 0; i < V * D; i++) {
    const tb = Float64Array.from(table);
    tb[i] = table[i]! + h;
    const lp = loss(tb);
    tb[i] = table[i]! - h;
    const fd = (lp - loss(tb)) / (2 * h);
    t.true(Math.abs(fd - an[i]!) <= bound, `entry ${i}: fd ${fd} vs analytic ${an[i]}`);
  }
});

test('embedding_backward: bad inputs are named errors, thrown before anything is recorded', async (t) => {
  const ctx = await gpu();
  const g = ctx.zeros([3, 4]);
  const E = { instanceOf: KernelArgError };
  const before = ctx.stats.dispatches;
  t.throws(() => embeddingBackward(Int32Array.from([0, 10, 2]), g, 10), { ...E, message: /^embedding_backward: ids: id 10 at position 1 is out of range \[0, 10\)/ });
  t.throws(() => withKnobs({ maxBindingBytes: 64 }, () => embeddingBackward(Int32Array.from([0, 1, -1]), g, 10)), { ...E, message: /^embedding_backward: ids: id -1 at position 2 is out of range \[0, 10\)/ });
  t.is(ctx.stats.dispatches, before);
  t.throws(() => embeddingBackward([0, 1, 2] as unknown as Int32Array, g, 10), { ...E, message: /^embedding_backward: ids: expected an Int32Array/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1]), g, 10), { ...E, message: /^embedding_backward: ids: 2 ids for 3 rows of g \[3,4\]/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1, 2]), ctx.zeros([12]), 10), { ...E, message: /^embedding_backward: g: rank 1/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1, 2]), ctx.zeros([3, 4], 'i32'), 10), { ...E, message: /^embedding_backward: g: dtype i32, expected f32/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1, 2]), g, 0), { ...E, message: /^embedding_backward: vocab: expected an integer >= 1, got 0/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1, 2]), g, 2.5), { ...E, message: /^embedding_backward: vocab: expected an integer >= 1, got 2\.5/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1, 2]), g, 10, { out: ctx.zeros([10, 5]) }), { ...E, message: /^embedding_backward: out: shape \[10,5\], expected \[10,4\]/ });
  t.throws(() => embeddingBackward(Int32Array.from([0, 1, 2]), g, 3, { out: g }), { ...E, message: /^embedding_backward: out: aliases g/ });
  t.throws(() => withKnobs({ maxBindingBytes: 8 }, () => embeddingBackward(Int32Array.from([0, 1, 2]), g, 10)), { ...E, message: /^embedding_backward: table: an aligned group of \d+ rows of 16 bytes exceeds the 8-byte binding limit/ });
  t.is(ctx.stats.dispatches, before);
});
