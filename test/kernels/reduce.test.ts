import test from 'ava';
import { KernelArgError, reduceSum, reduceSumRef, sumSquares, sumSquaresRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// From kernels/reduce.ts: f32 sums of `terms` values of size <= 1, random-sign rounding errors
// growing like sqrt(terms).
const tol = (terms: number) => ({ atol: 1e-6 * Math.sqrt(Math.max(terms, 1)), rtol: 1e-6 });

// outer / mid / inner from {1, 3, 17, 64, 1000} and 70000 in each position; inner < 16 takes the
// 16-outputs-per-workgroup path, the rest one output per workgroup; empty views too.
const DIMS: [number, number, number][] = [
  [1, 1, 1], [3, 17, 1], [17, 3, 64], [64, 1000, 1], [1000, 17, 3], [1, 64, 1000], [17, 1, 64], [1000, 1, 1],
  [3, 3, 17], [64, 17, 17], [70000, 3, 1], [3, 70000, 1], [1, 3, 70000], [0, 3, 5], [3, 5, 0], [3, 0, 5],
];

for (const dims of DIMS) {
  test(`reduceSum dims=[${dims}]`, async (t) => {
    const ctx = await gpu();
    const n = dims[0] * dims[1] * dims[2];
    const x = Rng.fromString(t.title).array(n);
    const out = await reduceSum(ctx.fromArray(x, [n]), dims).read();
    const r = assertClose(t, out, reduceSumRef(x, dims), { ...tol(dims[0] * dims[2]), shape: [dims[1]], name: t.title });
    t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
  });
}

test('reduceSum of bias-gradient shapes: linear [M,N] and conv [B,C,T,H,W]; caller out', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const g = rng.array(33 * 67);
  assertClose(t, await reduceSum(ctx.fromArray(g, [33, 67]), [33, 67, 1]).read(), reduceSumRef(g, [33, 67, 1]), { ...tol(33), name: 'linear' });
  const gc = rng.array(2 * 5 * 3 * 7 * 9);
  const out = ctx.tensor([5]);
  t.is(reduceSum(ctx.fromArray(gc, [2, 5, 3, 7, 9]), [2, 5, 3 * 7 * 9], out), out);
  assertClose(t, await out.read(), reduceSumRef(gc, [2, 5, 189]), { ...tol(2 * 189), name: 'conv' });
});

test('reduceSum square: per-output sums of squares (code norms [V, E] -> [V]), both column paths', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const dims of [[1, 37, 5], [1, 9, 300], [3, 17, 1]] as [number, number, number][]) {
    const x = rng.array(dims[0] * dims[1] * dims[2]);
    const got = await reduceSum(ctx.fromArray(x, [x.length]), dims, undefined, { square: true }).read();
    assertClose(t, got, reduceSumRef(x.map((v) => v * v), dims), { ...tol(dims[0] * dims[2]), shape: [dims[1]], name: `square [${dims}]` });
  }
});

test('reduceSum and sumSquares are deterministic (same bits every run)', async (t) => {
  const ctx = await gpu();
  const x = ctx.fromArray(Rng.fromString(t.title).array(70000 * 3, -100, 100), [70000 * 3]);
  const a = await reduceSum(x, [70000, 3, 1]).read();
  const b = await reduceSum(x, [70000, 3, 1]).read();
  t.deepEqual(Array.from(a), Array.from(b));
  const s1 = await sumSquares(x).read();
  const s2 = await sumSquares(x).read();
  t.is(s1[0], s2[0]);
});

// n around the one-pass limit (65536) and past the 256-chunk cap (256 * 16384).
for (const n of [0, 1, 5, 1000, 65536, 65537, 300001, 4_500_000]) {
  test(`sumSquares n=${n}`, async (t) => {
    const ctx = await gpu();
    const x = Rng.fromString(t.title).array(n);
    const got = await sumSquares(ctx.fromArray(x, [n])).read();
    t.deepEqual(Array.from(got).length, 1);
    const r = assertClose(t, got, [sumSquaresRef(x)], { ...tol(n), name: t.title });
    t.log(`max rel err ${r.maxRel.toExponential(2)}`);
  });
}

test('sumSquares writes out[index] only, several tensors into one buffer', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xs = [rng.array(7, -3, 3), rng.array(100000), rng.array(1), rng.array(4097)];
  const out = ctx.fromArray([-1, -1, -1, -1, -1, -1], [6]);
  xs.forEach((x, i) => t.is(sumSquares(ctx.fromArray(x, [x.length]), out, i + 1), out));
  const got = await out.read();
  assertClose(t, got, [-1, ...xs.map((x) => sumSquaresRef(x)), -1], { atol: 1e-6 * Math.sqrt(100000) * 9, rtol: 1e-6, name: 'norms' });
});

test('reduce: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([4, 6]);
  t.throws(() => reduceSum(x, [4, 6] as never), { instanceOf: KernelArgError, message: /^reduceSum: dims: expected \[outer, mid, inner\]/ });
  t.throws(() => reduceSum(x, [4, 5, 1]), { message: /^reduceSum: dims: \[4,5,1\] has 20 elements, but x \[4,6\] has 24/ });
  t.throws(() => reduceSum(x, [4, 6.5, 1]), { message: /^reduceSum: dims\[1\]: expected an integer >= 0, got 6.5/ });
  t.throws(() => reduceSum(ctx.zeros([24], 'i32'), [4, 6, 1]), { message: /^reduceSum: x: dtype i32, expected f32/ });
  t.throws(() => reduceSum(x, [4, 6, 1], ctx.zeros([4])), { message: /^reduceSum: out: shape \[4\], expected \[6\]/ });
  t.throws(() => reduceSum(x, [1, 24, 1], x.reshape([24])), { message: /^reduceSum: out: must not share its buffer with x/ });
  t.throws(() => sumSquares(x, ctx.zeros([2, 2])), { message: /^sumSquares: out: rank 2 \(shape \[2,2\]\), expected rank 1/ });
  t.throws(() => sumSquares(x, ctx.zeros([3]), 3), { message: /^sumSquares: index: expected an integer in 0\.\.2 \(out is \[3\]\), got 3/ });
  t.throws(() => sumSquares(x, undefined, -1), { message: /^sumSquares: index: expected an integer in 0\.\.0/ });
  t.throws(() => sumSquares(x.reshape([24]), x.reshape([24])), { message: /^sumSquares: out: must not share its buffer with x/ });
});
