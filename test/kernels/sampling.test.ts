import test from 'ava';
import type { ExecutionContext } from 'ava';
import { KernelArgError, argmax, argmaxRef, sample, sampleRef, sampleTokens } from '../../kernels/index.js';
import { sampleScoresRef } from '../../kernels/internal.js';
import type { SampleOptions } from '../../kernels/index.js';
import { assertEqualInts } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerances (kernels/sampling.ts): argmax exact; a sampled token equals the reference's unless
// the reference's scores of the two tokens are within 1e-5 relative (an f32 tie, logged).
const TIE = 1e-5;

const normalLogits = (rng: Rng, n: number, std: number) => Float32Array.from({ length: n }, () => std * rng.normal());

/** GPU vs reference on every row; returns how many rows differed by a documented tie. */
function checkRows(t: ExecutionContext, got: Int32Array, logits: Float32Array, v: number, opts: SampleOptions, what: string): number {
  const want = sampleRef(logits, v, opts);
  let ties = 0;
  for (let b = 0; b < got.length; b++) {
    if (got[b] === want[b]) continue;
    const s = sampleScoresRef(logits.subarray(b * v, (b + 1) * v), b, opts);
    const a = s[got[b]!]!;
    const w = s[want[b]!]!;
    const tie = Number.isFinite(a) && Math.abs(a - w) <= TIE * Math.max(1, Math.abs(w));
    if (!tie) {
      t.fail(`${what} row ${b}: GPU picked ${got[b]} (ref score ${a}), reference ${want[b]} (score ${w})`);
      return ties;
    }
    ties++;
  }
  if (ties) t.log(`${what}: ${ties} of ${got.length} rows differ by f32 score ties`);
  t.pass();
  return ties;
}

for (const [rows, v] of [[1, 1], [3, 7], [2, 1023], [1, 160005]] as const) {
  test(`sampling argmax B=${rows} V=${v} with planted ties`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const x = normalLogits(rng, rows * v, 2);
    for (let b = 0; b < rows; b++) {
      // The row max, duplicated at a later and an earlier position: the earliest must win.
      const j = rng.int(0, v - 1);
      x[b * v + j] = 10;
      x[b * v + rng.int(j, v - 1)] = 10;
      x[b * v + rng.int(0, j)] = 10;
    }
    assertEqualInts(t, await argmax(ctx.fromArray(x, [rows, v])).read(), argmaxRef(x, v), { name: t.title });
  });
}

test('sampling argmax of -inf and equal rows is the lowest index', async (t) => {
  const ctx = await gpu();
  const x = new Float32Array([-Infinity, -Infinity, -Infinity, 2, 2, 2, -Infinity, 5, 5]);
  t.deepEqual([...(await argmax(ctx.fromArray(x, [3, 3])).read())], [0, 0, 1]);
});

test('sampling greedy and top-k = 1 equal argmax', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const v = 1000;
  const x = normalLogits(rng, 8 * v, 3);
  const xt = ctx.fromArray(x, [8, v]);
  const want = argmaxRef(x, v);
  assertEqualInts(t, await argmax(xt).read(), want, { name: 'argmax' });
  assertEqualInts(t, await sample(xt, { greedy: true, seed: 5, topP: 0.5, temperature: 3 }), want, { name: 'greedy' });
  for (const seed of [0, 1, 2]) assertEqualInts(t, await sample(xt, { topK: 1, seed, temperature: 1.7 }), want, { name: `topK=1 seed ${seed}` });
});

const OPTS: SampleOptions[] = [{}, { temperature: 0.7 }, { topK: 20 }, { topP: 0.9 }, { topK: 50, topP: 0.8, temperature: 1.3 }, { topP: 0.3 }];
for (const opts of OPTS) {
  test(`sampling GPU = reference B=64 V=500 ${JSON.stringify(opts)}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const v = 500;
    const x = normalLogits(rng, 64 * v, 3);
    const xt = ctx.fromArray(x, [64, v]);
    let ties = 0;
    for (const seed of [0, 1, 60, 0xfffffff0]) {
      for (const step of [0, 7]) {
        const o = { ...opts, seed, step };
        ties += checkRows(t, await sample(xt, o), x, v, o, `seed ${seed} step ${step}`);
      }
    }
    t.true(ties <= 2, `${ties} f32 ties in 512 draws`);
  });
}

test('sampling top-k on heavily tied logits, k around the workgroup size (floor pre-pass on/off)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const v = 2000;
  const x = Float32Array.from({ length: 8 * v }, () => rng.int(0, 4));
  const xt = ctx.fromArray(x, [8, v]);
  for (const topK of [1, 3, 100, 256, 257, 1999]) {
    for (const seed of [0, 1]) {
      const o = { topK, seed };
      checkRows(t, await sample(xt, o), x, v, o, `topK ${topK} seed ${seed}`);
    }
  }
});

test('sampling GPU = reference over the full vocabulary V=160005', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const v = 160005;
  const x = normalLogits(rng, v, 2);
  const xt = ctx.fromArray(x, [1, v]);
  for (const opts of [{ seed: 60 }, { seed: 61, step: 3, topK: 50, topP: 0.9 }, { seed: 62, topP: 0.95 }] as SampleOptions[]) {
    checkRows(t, await sample(xt, opts), x, v, opts, JSON.stringify(opts));
  }
});

test('sampling is reproducible per (seed, step) and varies with them', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const v = 64;
  const xt = ctx.fromArray(new Float32Array(16 * v).fill(0).map(() => rng.uniform(-1, 1)), [16, v]);
  const a = await sample(xt, { seed: 9, step: 4 });
  t.deepEqual([...(await sample(xt, { seed: 9, step: 4 }))], [...a]);
  const b = await sample(xt, { seed: 9, step: 5 });
  const c = await sample(xt, { seed: 10, step: 4 });
  t.true(a.filter((id, i) => id !== b[i]).length >= 8, 'another step draws other tokens');
  t.true(a.filter((id, i) => id !== c[i]).length >= 8, 'another seed draws other tokens');
});

test('sampling top-p picks only from the nucleus', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const v = 300;
  const row = normalLogits(rng, v, 2.5);
  const rows = 512;
  const x = new Float32Array(rows * v);
  for (let b = 0; b < rows; b++) x.set(row, b * v);
  const p = 0.6;
  const got = await sample(ctx.fromArray(x, [rows, v]), { topP: p, seed: 3 });
  // Independent check in doubles: the mass strictly above each pick must be < p.
  const m = Math.max(...row);
  const w = Array.from(row, (z) => Math.exp(z - m));
  const s = w.reduce((a, b) => a + b, 0);
  const above = (z: number) => w.reduce((acc, wi, i) => (row[i]! > z ? acc + wi : acc), 0) / s;
  const picked = new Set(got);
  for (const id of picked) t.true(above(row[id]!) < p + 1e-6, `token ${id} has mass ${above(row[id]!)} above it`);
  const nucleus = [...row.keys()].filter((i) => above(row[i]!) < p);
  t.true(picked.size > 1 && picked.size <= nucleus.length, `picked ${picked.size} distinct of a ${nucleus.length}-token nucleus`);
});

// Pearson chi-square of the draw frequencies over many rows (each row its own RNG stream).
for (const [opts, support, crit] of [
  [{}, 8, 24.32], // df 7, p = 0.001
  [{ topK: 3 }, 3, 13.82], // df 2
  [{ temperature: 2, topP: 0.7 }, 0, 0],
] as [SampleOptions, number, number][]) {
  test(`sampling chi-square V=8 ${JSON.stringify(opts)}`, async (t) => {
    const ctx = await gpu();
    const logits = [1.5, -0.5, 0.25, 2, 0, -1, 0.75, 1];
    const rows = 6000;
    const x = new Float32Array(rows * 8);
    for (let b = 0; b < rows; b++) x.set(logits, b * 8);
    const got = await sample(ctx.fromArray(x, [rows, 8]), { ...opts, seed: 1234 });
    // Expected distribution in doubles: temperature, top-k, then top-p (HF order).
    const z = logits.map((l) => l / (opts.temperature ?? 1));
    const order = [...z.keys()].sort((a, b) => z[b]! - z[a]!);
    let keep = order.slice(0, opts.topK ?? 8);
    const e = keep.map((i) => Math.exp(z[i]!));
    const tot = e.reduce((a, b) => a + b, 0);
    if (opts.topP !== undefined) {
      let cum = 0;
      keep = keep.filter((_, j) => {
        const ok = cum < opts.topP!;
        cum += e[j]! / tot;
        return ok;
      });
    }
    const pe = keep.map((i) => Math.exp(z[i]!));
    const sum = pe.reduce((a, b) => a + b, 0);
    const count = new Array<number>(8).fill(0);
    for (const id of got) count[id]!++;
    t.is(keep.reduce((a, i) => a + count[i]!, 0), rows, `all draws inside the kept set {${keep}}`);
    let chi2 = 0;
    keep.forEach((i, j) => (chi2 += (count[i]! - (rows * pe[j]!) / sum) ** 2 / ((rows * pe[j]!) / sum)));
    const df = keep.length - 1;
    const critical = support ? crit : [0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32][df]!;
    t.log(`kept {${keep}}, counts [${count}], chi2 ${chi2.toFixed(2)} (df ${df}, critical ${critical})`);
    if (support) t.is(keep.length, support);
    t.true(chi2 < critical);
  });
}

test('sampling: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 5]);
  t.throws(() => sampleTokens(ctx.zeros([5])), { instanceOf: KernelArgError, message: /^sampling: logits: rank 1 .*expected rank 2/ });
  t.throws(() => argmax(ctx.zeros([2, 5], 'i32')), { instanceOf: KernelArgError, message: /^argmax: logits: dtype i32, expected f32/ });
  t.throws(() => sampleTokens(ctx.zeros([2, 0])), { instanceOf: KernelArgError, message: /^sampling: logits: shape \[2,0\] needs V >= 1/ });
  t.throws(() => sampleTokens(x, { temperature: 0 }), { instanceOf: KernelArgError, message: /^sampling: temperature: expected a finite number > 0/ });
  t.throws(() => sampleTokens(x, { topP: 0 }), { instanceOf: KernelArgError, message: /^sampling: topP: expected a number in \(0, 1\]/ });
  t.throws(() => sampleTokens(x, { topK: -1 }), { instanceOf: KernelArgError, message: /^sampling: topK:/ });
  t.throws(() => sampleTokens(x, { seed: 2 ** 32 }), { instanceOf: KernelArgError, message: /^sampling: seed: expected an integer in \[0, 2\^32\)/ });
  t.throws(() => sampleTokens(x, {}, ctx.zeros([2])), { instanceOf: KernelArgError, message: /^sampling: out: dtype f32, expected i32/ });
  await t.throwsAsync(() => sample(x, { step: 1.5 }), { instanceOf: KernelArgError, message: /^sampling: step:/ });
});
