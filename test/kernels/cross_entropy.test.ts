import test from 'ava';
import { KernelArgError } from '../../kernels/core/errors.js';
import { type SoftmaxCrossEntropyOptions, softmaxCrossEntropy, softmaxCrossEntropyRef } from '../../kernels/cross_entropy.js';
import { tableChunks } from '../../kernels/core/bindings.js';
import { withKnobs } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerances (kernels/cross_entropy.ts): loss/perRow 1e-6 * max(1, |ref|), dlogits 1e-6 * max|ref|.
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]!)) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const LOSS_TOL = { atol: 1e-6, rtol: 1e-6 };

/** Targets in [0, V) with about `ignoredShare` of the rows set to ignoreIndex. */
function randomTargets(rng: Rng, R: number, V: number, ignoredShare: number, ignoreIndex = -100): Int32Array {
  return Int32Array.from({ length: R }, () => (rng.next() < ignoredShare ? ignoreIndex : rng.int(0, V - 1)));
}

async function check(t: import('ava').ExecutionContext, logits: Float32Array, R: number, V: number, targets: Int32Array, o: SoftmaxCrossEntropyOptions, gpuTargets = false, maxBindingBytes?: number) {
  const ctx = await gpu();
  const lt = ctx.fromArray(logits, [R, V]);
  const r = withKnobs({ maxBindingBytes }, () => softmaxCrossEntropy(lt, gpuTargets ? ctx.fromArray(targets, [R], 'i32') : targets, o));
  const ref = softmaxCrossEntropyRef(logits, R, V, targets, o);
  const name = `[${R},${V}] ${JSON.stringify(o)}${gpuTargets ? ' gpu targets' : ''}`;
  t.deepEqual([r.loss.shape, r.perRow.shape], [[1], [R]]);
  assertClose(t, await r.loss.read(), [ref.loss], { ...LOSS_TOL, name: `${name} loss` });
  assertClose(t, await r.perRow.read(), ref.perRow, { ...LOSS_TOL, name: `${name} perRow` });
  if (o.grad === false) t.is(r.dlogits, null);
  else {
    t.deepEqual(r.dlogits!.shape, [R, V]);
    assertClose(t, await r.dlogits!.read(), ref.dlogits!, { atol: 1e-6 * maxAbs(ref.dlogits!), shape: [R, V], name: `${name} dlogits` });
  }
  return r;
}

test('softmaxCrossEntropy matches the torch golden grad_softmax_cross_entropy_7x11', async (t) => {
  const ctx = await gpu();
  const gf = await loadGolden('grad/grad_softmax_cross_entropy_7x11.safetensors');
  const logits = gf.f32('in/logits');
  const targets = gf.i32('in/targets');
  t.deepEqual([...targets], [3, 10, 0, -100, 7, 7, 5]);
  // The CPU reference against torch's float64 run (stored rounded to f32: 2^-24 relative).
  const ref = softmaxCrossEntropyRef(logits, 7, 11, targets);
  assertClose(t, [ref.loss], gf.f32('ref64/loss'), { atol: 2e-7 * maxAbs(gf.f32('ref64/loss')), name: 'ref loss' });
  assertClose(t, ref.dlogits!, gf.f32('ref64/grad_in.logits'), { atol: 2e-7 * maxAbs(gf.f32('ref64/grad_in.logits')), name: 'ref dlogits' });
  for (const gpuTargets of [false, true]) {
    const r = softmaxCrossEntropy(ctx.fromArray(logits, [7, 11]), gpuTargets ? ctx.fromArray(targets, [7], 'i32') : targets);
    for (const [got, key] of [[r.loss, 'loss'], [r.perRow, 'loss_per_row'], [r.dlogits!, 'grad_in.logits']] as const) {
      const out = await got.read();
      for (const stored of [key === 'loss' ? 'out/loss' : key === 'loss_per_row' ? 'aux/loss_per_row' : 'grad_in.logits', `ref64/${key}`]) {
        const want = gf.f32(stored);
        assertClose(t, out, want, { atol: 1e-6 * maxAbs(want), shape: got.shape, name: `${stored}${gpuTargets ? ' (gpu targets)' : ''}` });
      }
    }
    const d = await r.dlogits!.read();
    t.true(d.subarray(3 * 11, 4 * 11).every((v) => Object.is(v, 0)), 'ignored row 3: exactly +0');
  }
});

// V from 1 to the vocabulary-sized 5000, rows 1..37, some rows ignored.
for (const V of [1, 3, 5, 33, 1000, 5000]) {
  test(`softmaxCrossEntropy V=${V} random rows, mean and sum, host and GPU targets`, async (t) => {
    const rng = Rng.fromString(t.title);
    for (const [reduction, gpuTargets] of [['mean', false], ['sum', true], ['mean', true]] as const) {
      const R = rng.int(1, 37);
      const logits = rng.array(R * V, -6, 6);
      await check(t, logits, R, V, randomTargets(rng, R, V, 0.2), { reduction }, gpuTargets);
    }
  });
}

test('softmaxCrossEntropy on the 160005-entry vocabulary', async (t) => {
  const rng = Rng.fromString(t.title);
  const [R, V] = [3, 160005];
  await check(t, rng.array(R * V, -10, 10), R, V, Int32Array.from([160004, 0, 77777]), {});
});

test('softmaxCrossEntropy binds logits over the binding limit in aligned row chunks', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  // Forced small limits: several chunks of a small problem, and of vocabulary rows.
  for (const [R, V, rowsPerChunk] of [[150, 33, 50], [67, 160005, 20]] as const) {
    const rowBytes = V * 4;
    const step = align / gcd(rowBytes, align);
    const maxBindingBytes = Math.max(rowsPerChunk, step) * rowBytes;
    const chunks = tableChunks('test', R, V, maxBindingBytes, align);
    t.true(chunks.length > 1, `[${R},${V}]: ${chunks.length} chunks`);
    t.log(`[${R},${V}]: ${chunks.length} chunks of ${chunks[0]![1]} rows (alignment ${align})`);
    const logits = rng.array(R * V, -8, 8);
    for (const o of [{}, { reduction: 'sum' as const, grad: false }]) {
      await check(t, logits, R, V, randomTargets(rng, R, V, 0.1), o, true, maxBindingBytes);
    }
  }
});

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

test('softmaxCrossEntropy with large logits (|x| ~ 80) stays finite', async (t) => {
  const rng = Rng.fromString(t.title);
  const [R, V] = [9, 1000];
  const logits = rng.array(R * V, -80, 80);
  // Make some targets the row's minimum: the loss is then ~160, the softmax entry underflows.
  const targets = Int32Array.from({ length: R }, (_, r) => {
    const row = logits.subarray(r * V, (r + 1) * V);
    return r % 2 ? row.indexOf(Math.min(...row)) : row.indexOf(Math.max(...row));
  });
  const res = await check(t, logits, R, V, targets, {});
  for (const x of [await res.loss.read(), await res.perRow.read(), await res.dlogits!.read()]) t.true(x.every(Number.isFinite));
});

test('softmaxCrossEntropy with every row ignored: mean is NaN (as torch), sum 0, gradient 0', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [R, V] = [5, 7];
  const logits = ctx.fromArray(rng.array(R * V, -3, 3), [R, V]);
  const targets = new Int32Array(R).fill(-100);
  const mean = softmaxCrossEntropy(logits, targets);
  t.true(Number.isNaN((await mean.loss.read())[0]!));
  t.deepEqual([...(await mean.perRow.read())], new Array(R).fill(0));
  t.true((await mean.dlogits!.read()).every((v) => Object.is(v, 0)));
  const sum = softmaxCrossEntropy(logits, ctx.fromArray(targets, [R], 'i32'), { reduction: 'sum' });
  t.deepEqual([...(await sum.loss.read())], [0]);
  t.true(Number.isNaN(softmaxCrossEntropyRef(await logits.read(), R, V, targets).loss));
});

test('softmaxCrossEntropy: a custom ignoreIndex inside [0, V) skips those rows (torch semantics)', async (t) => {
  const rng = Rng.fromString(t.title);
  const [R, V] = [11, 5];
  const targets = randomTargets(rng, R, V, 0);
  t.true(targets.includes(2));
  await check(t, rng.array(R * V, -4, 4), R, V, targets, { ignoreIndex: 2 });
  await check(t, rng.array(R * V, -4, 4), R, V, targets, { ignoreIndex: 2 }, true);
});

test('softmaxCrossEntropy: out-of-range GPU targets give NaN rows and a NaN loss', async (t) => {
  const rng = Rng.fromString(t.title);
  const [R, V] = [4, 6];
  const r = await check(t, rng.array(R * V, -4, 4), R, V, Int32Array.from([1, 6, -100, -1]), {}, true);
  const perRow = await r.perRow.read();
  t.true(Number.isNaN(perRow[1]!) && Number.isNaN(perRow[3]!) && perRow[2] === 0 && Number.isFinite(perRow[0]!));
  t.true(Number.isNaN((await r.loss.read())[0]!));
});

test('softmaxCrossEntropy is bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [R, V] = [13, 5000];
  const logits = ctx.fromArray(rng.array(R * V, -9, 9), [R, V]);
  const targets = randomTargets(rng, R, V, 0.3);
  const a = softmaxCrossEntropy(logits, targets);
  const b = softmaxCrossEntropy(logits, targets);
  t.deepEqual(await a.loss.read(), await b.loss.read());
  t.deepEqual(await a.perRow.read(), await b.perRow.read());
  t.deepEqual(await a.dlogits!.read(), await b.dlogits!.read());
});

test('softmaxCrossEntropyRef gradient matches central differences of its loss', (t) => {
  const rng = Rng.fromString(t.title);
  const h = 1e-6;
  for (const [R, V, reduction] of [[5, 7, 'mean'], [4, 1, 'mean'], [6, 33, 'sum'], [3, 5, 'mean']] as const) {
    const logits = Float64Array.from({ length: R * V }, () => rng.uniform(-5, 5));
    const targets = randomTargets(rng, R, V, 0.25);
    targets[0] = 0;
    const an = softmaxCrossEntropyRef(logits, R, V, targets, { reduction }).dlogits!;
    const amax = maxAbs(an);
    for (let k = 0; k < 8; k++) {
      const i = rng.int(0, R * V - 1);
      const lp = logits.slice();
      const lm = logits.slice();
      lp[i]! += h;
      lm[i]! -= h;
      const fd = (softmaxCrossEntropyRef(lp, R, V, targets, { reduction, grad: false }).loss - softmaxCrossEntropyRef(lm, R, V, targets, { reduction, grad: false }).loss) / (2 * h);
      t.true(Math.abs(fd - an[i]!) <= 1e-6 * amax + 1e-9, `[${R},${V}] ${reduction} logits[${i}]: fd ${fd}, analytic ${an[i]}`);
    }
  }
});

test('softmaxCrossEntropy: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const logits = ctx.zeros([3, 5]);
  const tg = Int32Array.from([0, 1, 2]);
  const K = /^softmax_cross_entropy: /;
  const err = (fn: () => unknown, re: RegExp) => t.throws(fn, { instanceOf: KernelArgError, message: new RegExp(K.source + re.source) });
  err(() => softmaxCrossEntropy(ctx.zeros([15]), tg), /logits: rank 1 \(shape \[15\]\), expected rank 2/);
  err(() => softmaxCrossEntropy(ctx.zeros([3, 5], 'i32'), tg), /logits: dtype i32, expected f32/);
  err(() => softmaxCrossEntropy(ctx.zeros([3, 0]), tg), /logits: shape \[3,0\] needs at least one class/);
  err(() => softmaxCrossEntropy(logits, Int32Array.from([0, 1])), /targets: 2 targets, expected one per logits row \(3\)/);
  err(() => softmaxCrossEntropy(logits, Int32Array.from([0, 5, 1])), /targets: target 5 at row 1 is outside \[0, 5\) and is not ignoreIndex \(-100\)/);
  err(() => softmaxCrossEntropy(logits, Int32Array.from([0, -1, 1])), /targets: target -1 at row 1 is outside/);
  err(() => softmaxCrossEntropy(logits, ctx.zeros([3])), /targets: dtype f32, expected i32/);
  err(() => softmaxCrossEntropy(logits, ctx.zeros([4], 'i32')), /targets: shape \[4\], expected \[3\]/);
  err(() => softmaxCrossEntropy(logits, [0, 1, 2] as never), /targets: expected an i32 Tensor or an Int32Array/);
  err(() => softmaxCrossEntropy(logits, tg, { reduction: 'max' as never }), /reduction: expected 'mean' or 'sum', got max/);
  err(() => softmaxCrossEntropy(logits, tg, { ignoreIndex: 1.5 }), /ignoreIndex: expected an int32 integer, got 1.5/);
  err(() => withKnobs({ maxBindingBytes: 16 }, () => softmaxCrossEntropy(logits, tg)), /logits: rows of 5 logits cannot be bound in chunks: /);
  const tall = ctx.tensor([2 ** 24 + 1, 1]); // unwritten: refused before anything reads it
  err(() => softmaxCrossEntropy(tall, new Int32Array(2 ** 24 + 1)), /logits: 16777217 rows, at most 2\^24 = 16777216 in one call/);
  tall.dispose();
});
