import test from 'ava';
import { KernelArgError, UNARY_OPS, type UnaryArgs, type UnaryOp, erfRef, unary, unaryRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerances from kernels/unary.ts: relu/clamp exact; scale up to two f32 roundings (the fma may
// be unfused), i.e. 2^-23 (|x alpha| + |out|) <= 1.5e-6 for |x| <= 8; silu/gelu a few ulp.
const TOL: Record<UnaryOp, { atol: number; rtol: number }> = {
  silu: { atol: 1e-6, rtol: 2e-6 },
  relu: { atol: 0, rtol: 0 },
  gelu: { atol: 1e-6, rtol: 2e-6 },
  scale: { atol: 1.5e-6, rtol: 0 },
  clamp: { atol: 0, rtol: 0 },
};
const ARGS: Record<UnaryOp, UnaryArgs> = { silu: {}, relu: {}, gelu: {}, scale: { alpha: -1.75, beta: 0.3 }, clamp: { alpha: -0.5, beta: 2.25 } };

// Sizes around the vec4 and workgroup granularity, and a shape with 1-sized dims.
const SHAPES = [[1], [3], [4], [5], [7, 1, 3], [1023], [1025], [2, 3, 5, 7, 11]];

for (const op of UNARY_OPS) {
  for (const shape of SHAPES) {
    test(`unary op=${op} shape=[${shape}]`, async (t) => {
      const ctx = await gpu();
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Rng.fromString(t.title).array(n, -8, 8);
      const out = await unary(op, ctx.fromArray(x, shape), ARGS[op]).read();
      assertClose(t, out, unaryRef(op, x, ARGS[op]), { ...TOL[op], shape, name: t.title });
    });
  }
}

test('unary gelu/silu over a dense grid of [-12, 12] and extremes', async (t) => {
  const ctx = await gpu();
  const n = 48001;
  const x = new Float32Array(n + 6);
  for (let i = 0; i < n; i++) x[i] = -12 + (24 * i) / (n - 1);
  x.set([-100, 100, -1e-30, 1e-30, 0.927734375, -0.927734375], n);
  const xt = ctx.fromArray(x, [x.length]);
  for (const op of ['gelu', 'silu'] as const) {
    const r = assertClose(t, await unary(op, xt).read(), unaryRef(op, x), { ...TOL[op], name: op });
    t.log(`${op}: max abs err ${r.maxAbs.toExponential(2)}`);
  }
});

test('unary clamp with one-sided and infinite bounds; scale defaults', async (t) => {
  const ctx = await gpu();
  const x = Rng.fromString(t.title).array(37, -3, 3);
  const xt = ctx.fromArray(x, [37]);
  for (const args of [{ alpha: 0 }, { beta: 1 }, { alpha: -Infinity, beta: Infinity }, { alpha: 1, beta: 1 }]) {
    assertClose(t, await unary('clamp', xt, args).read(), unaryRef('clamp', x, args), { atol: 0, name: JSON.stringify(args) });
  }
  assertClose(t, await unary('scale', xt, { alpha: 2 }).read(), unaryRef('scale', x, { alpha: 2 }), { atol: 0, name: 'scale alpha=2' });
});

test('unary random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 8; k++) {
    const shape = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 13));
    const op = rng.pick(UNARY_OPS);
    const n = shape.reduce((a, b) => a * b, 1);
    const x = rng.array(n, -5, 5);
    const out = ctx.tensor(shape);
    t.is(unary(op, ctx.fromArray(x, shape), ARGS[op], out), out);
    assertClose(t, await out.read(), unaryRef(op, x, ARGS[op]), { ...TOL[op], shape, name: `seed ${rng.seed} ${op} [${shape}]` });
  }
});

test('erfRef matches known values', (t) => {
  // erf(0.5), erf(1), erf(2), erf(3.5) from Abramowitz-Stegun table 7.1 / mpmath.
  const known: [number, number][] = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3.5, 0.9999992569016276]];
  for (const [x, e] of known) {
    t.true(Math.abs(erfRef(x) - e) < 1e-15, `erf(${x}) = ${erfRef(x)}`);
    t.true(Math.abs(erfRef(-x) + e) < 1e-15);
  }
});

test('unary: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 3]);
  t.throws(() => unary('tanh' as never, x), { instanceOf: KernelArgError, message: /^unary: op: 'tanh'/ });
  t.throws(() => unary('silu', ctx.zeros([3], 'i32')), { message: /^unary: x: dtype i32, expected f32/ });
  t.throws(() => unary('silu', x, {}, ctx.zeros([3, 2])), { message: /^unary: out: shape \[3,2\], expected \[2,3\]/ });
  t.throws(() => unary('silu', x, {}, x), { message: /^unary: out: must not share its buffer/ });
  t.throws(() => unary('scale', x, { alpha: Infinity }), { message: /^unary: alpha: expected a finite number/ });
  t.throws(() => unary('clamp', x, { alpha: 2, beta: 1 }), { message: /^unary: alpha: clamp lower bound 2 exceeds upper bound 1/ });
});
