import test from 'ava';
import type { ExecutionContext } from 'ava';
import { KernelArgError, linearBackward, linearBackwardRef, matmulBackward, matmulBackwardRef, matmulRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// kernels/matmul_backward.ts: matmul's bound with the contraction length L of each gradient.
const tol = (L: number) => ({ atol: 1e-5 * Math.sqrt(Math.max(L, 1)), rtol: 1e-5 });
const numel = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
const f64 = (n: number, rng: Rng) => Float64Array.from(rng.array(n));

/**
 * Central differences (h = 1e-6, float64) of L(inputs) on 6 random entries of each input vs the
 * analytic gradient; L is linear in each input here, so only rounding separates the two.
 */
function fdCheck(t: ExecutionContext, rng: Rng, L: (xs: Float64Array[]) => number, xs: Float64Array[], grads: Float64Array[], names: string[]): void {
  const h = 1e-6;
  xs.forEach((x, j) => {
    const gr = grads[j]!;
    const scale = gr.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let worst = 0;
    for (let s = 0; s < Math.min(6, x.length); s++) {
      const i = rng.int(0, x.length - 1);
      const v = x[i]!;
      x[i] = v + h;
      const up = L(xs);
      x[i] = v - h;
      const down = L(xs);
      x[i] = v;
      const err = Math.abs((up - down) / (2 * h) - gr[i]!);
      worst = Math.max(worst, err);
      t.true(err <= 1e-6 * scale + 1e-9, `${names[j]}[${i}]: fd ${(up - down) / (2 * h)}, analytic ${gr[i]}`);
    }
    t.log(`${names[j]}: max |fd - analytic| ${worst.toExponential(2)} (max |grad| ${scale.toPrecision(3)})`);
  });
}

const dot = (y: ArrayLike<number>, g: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * g[i]!;
  return s;
};

// [x shape, N, options]: 1-sized dims, rank 1 and 3 inputs, sizes off every tile, and 67 rows /
// columns (>= 64: the packed GEMM path for dx and dw).
const LINEAR: [number[], number, { bias?: boolean; input?: boolean }][] = [
  [[1, 1], 1, { bias: true }],
  [[3, 5], 17, { bias: true }],
  [[17, 33], 3, {}],
  [[2, 5, 67], 5, { bias: true }],
  [[67], 33, { bias: true }],
  [[67, 17], 67, { bias: true, input: false }],
  [[3, 1, 33], 1, { bias: true }],
  [[2, 33, 5], 67, { input: false }],
];

for (const [xShape, N, o] of LINEAR) {
  test(`linearBackward x=[${xShape}] N=${N} ${JSON.stringify(o)}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const K = xShape[xShape.length - 1]!;
    const M = numel(xShape) / K;
    const gShape = [...xShape.slice(0, -1), N];
    const x = rng.array(numel(xShape));
    const w = rng.array(N * K);
    const g = rng.array(M * N);
    const ref = linearBackwardRef(x, xShape, w, [N, K], g, o);
    const got = linearBackward(ctx.fromArray(x, xShape), ctx.fromArray(w, [N, K]), ctx.fromArray(g, gShape), o);
    t.deepEqual(got.dw.shape, [N, K]);
    assertClose(t, await got.dw.read(), ref.dw, { ...tol(M), shape: [N, K], name: 'dw' });
    if (o.input === false) t.is(got.dx, null);
    else {
      t.deepEqual(got.dx!.shape, xShape);
      assertClose(t, await got.dx!.read(), ref.dx!, { ...tol(N), shape: xShape, name: 'dx' });
    }
    if (!o.bias) t.is(got.db, null);
    else {
      t.deepEqual(got.db!.shape, [N]);
      assertClose(t, await got.db!.read(), ref.db!, { atol: 1e-6 * Math.sqrt(M), rtol: 1e-6, name: 'db' });
    }
  });
}

test('linearBackwardRef matches finite differences of matmulRef (x @ w^T + b)', (t) => {
  const rng = Rng.fromString(t.title);
  for (const [xShape, N] of [[[3, 5], 17], [[2, 5, 7], 3], [[4], 1]] as [number[], number][]) {
    const K = xShape[xShape.length - 1]!;
    const M = numel(xShape) / K;
    const [x, w, b, G] = [f64(M * K, rng), f64(N * K, rng), f64(N, rng), f64(M * N, rng)];
    const L = ([xx, ww, bb]: Float64Array[]) => dot(matmulRef(xx!, [M, K], ww!, [N, K], { transB: true, bias: bb }).data, G);
    const r = linearBackwardRef(x, xShape, w, [N, K], G, { bias: true });
    fdCheck(t, rng, L, [x, w, b], [r.dx!, r.dw, r.db!], ['dx', 'dw', 'db']);
  }
});

// [batch, M, N, K]: 1-sized dims, no / one / two batch dims, awkward sizes, 67 rows (packed path).
const MATMUL: [number[], number, number, number][] = [
  [[], 1, 1, 1],
  [[2], 3, 5, 17],
  [[3], 17, 33, 1],
  [[2, 3], 5, 3, 67],
  [[], 67, 17, 33],
  [[2], 33, 67, 5],
];
const shapes = (batch: number[], M: number, N: number, K: number, tA: boolean, tB: boolean) => ({
  a: [...batch, ...(tA ? [K, M] : [M, K])],
  b: [...batch, ...(tB ? [N, K] : [K, N])],
  g: [...batch, M, N],
});

for (const [batch, M, N, K] of MATMUL) {
  for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    test(`matmulBackward batch=[${batch}] M=${M} N=${N} K=${K} transA=${tA} transB=${tB}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const s = shapes(batch, M, N, K, tA, tB);
      const [a, b, g] = [rng.array(numel(s.a)), rng.array(numel(s.b)), rng.array(numel(s.g))];
      const ref = matmulBackwardRef(a, s.a, b, s.b, g, { transA: tA, transB: tB });
      const got = matmulBackward(ctx.fromArray(a, s.a), ctx.fromArray(b, s.b), ctx.fromArray(g, s.g), { transA: tA, transB: tB });
      t.deepEqual(got.da.shape, s.a);
      t.deepEqual(got.db.shape, s.b);
      assertClose(t, await got.da.read(), ref.da, { ...tol(N), shape: s.a, name: 'da' });
      assertClose(t, await got.db.read(), ref.db, { ...tol(M), shape: s.b, name: 'db' });
    });
  }
}

test('matmulBackwardRef matches finite differences of matmulRef (every transA / transB)', (t) => {
  const rng = Rng.fromString(t.title);
  for (const [batch, M, N, K] of [[[2], 3, 5, 4], [[], 1, 3, 2], [[2, 1], 4, 1, 3]] as [number[], number, number, number][]) {
    for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const s = shapes(batch, M, N, K, tA, tB);
      const [a, b, G] = [f64(numel(s.a), rng), f64(numel(s.b), rng), f64(numel(s.g), rng)];
      const L = ([aa, bb]: Float64Array[]) => dot(matmulRef(aa!, s.a, bb!, s.b, { transA: tA, transB: tB }).data, G);
      const r = matmulBackwardRef(a, s.a, b, s.b, G, { transA: tA, transB: tB });
      fdCheck(t, rng, L, [a, b], [r.da, r.db], [`da (transA ${tA}, transB ${tB})`, `db (transA ${tA}, transB ${tB})`]);
    }
  }
});

test('matmul_backward: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([4, 5]);
  const w = ctx.zeros([3, 5]);
  t.throws(() => linearBackward(x, ctx.zeros([15]), ctx.zeros([4, 3])), { instanceOf: KernelArgError, message: /^linearBackward: w: rank 1 \(shape \[15\]\), expected rank 2/ });
  t.throws(() => linearBackward(x, ctx.zeros([3, 4]), ctx.zeros([4, 3])), { message: /^linearBackward: w: shape \[3,4\], expected \[N, 5\]/ });
  t.throws(() => linearBackward(x, w, ctx.zeros([4, 2])), { message: /^linearBackward: g: shape \[4,2\], expected \[4,3\]/ });
  t.throws(() => linearBackward(ctx.zeros([4, 5], 'i32'), w, ctx.zeros([4, 3])), { message: /^linearBackward: x: dtype i32, expected f32/ });
  const a = ctx.zeros([2, 3, 4]);
  t.throws(() => matmulBackward(a, ctx.zeros([4, 5]), ctx.zeros([2, 3, 5])), { message: /^matmulBackward: b: batch dims \[\] differ from a's \[2\]: matmulBackward needs equal batch dims \(no broadcasting/ });
  t.throws(() => matmulBackward(a, ctx.zeros([2, 5, 5]), ctx.zeros([2, 3, 5])), { message: /^matmulBackward: b: shape \[2,5,5\] has K = 5, but a \[2,3,4\] has K = 4/ });
  t.throws(() => matmulBackward(a, ctx.zeros([2, 4, 5]), ctx.zeros([2, 3, 4])), { message: /^matmulBackward: g: shape \[2,3,4\], expected \[2,3,5\]/ });
  t.throws(() => matmulBackward(ctx.zeros([4]), ctx.zeros([4, 5]), ctx.zeros([5])), { message: /^matmulBackward: a: rank 1/ });
  t.throws(() => matmulBackward(a, ctx.zeros([2, 4, 5]), ctx.zeros([2, 3, 5]), { transA: true }), { message: /^matmulBackward: b: shape \[2,4,5\] has K = 4, but a \[2,3,4\] \(transA\) has K = 3/ });
});
