import test from 'ava';
import { KernelArgError } from '../../kernels/core/errors.js';
import { unaryRef } from '../../kernels/unary.js';
import { UNARY_BACKWARD_OPS, type UnaryBackwardOp, siluMulBackward, siluMulBackwardRef, unaryBackward, unaryBackwardRef } from '../../kernels/unary_backward.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerances from kernels/unary_backward.ts: relu exact (g * 1 or 0); scale one f32 rounding of
// g * alpha; silu/gelu/tanh a few ulp of exp/erf plus the cancellation near silu's minimum.
const TOL: Record<UnaryBackwardOp, { atol: number; rtol: number }> = {
  silu: { atol: 1e-6, rtol: 4e-6 },
  relu: { atol: 0, rtol: 0 },
  gelu: { atol: 1e-6, rtol: 4e-6 },
  scale: { atol: 0, rtol: 2 ** -24 },
  tanh: { atol: 1e-6, rtol: 4e-6 },
};
const ARGS: Record<UnaryBackwardOp, { alpha?: number }> = { silu: {}, relu: {}, gelu: {}, scale: { alpha: -1.75 }, tanh: {} };
const SILU_MUL_TOL = { atol: 1e-6, rtol: 4e-6 };

// Sizes around the vec4 and workgroup granularity, and 1-sized dims.
const SHAPES = [[1], [3], [4], [5], [7, 1, 3], [1023], [1025], [2, 3, 5, 7, 11]];
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

for (const op of UNARY_BACKWARD_OPS) {
  for (const shape of SHAPES) {
    test(`unaryBackward op=${op} shape=[${shape}]`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const x = rng.array(numel(shape), -8, 8);
      const g = rng.array(numel(shape), -1, 1);
      const dx = await unaryBackward(op, ctx.fromArray(x, shape), ctx.fromArray(g, shape), ARGS[op]).read();
      assertClose(t, dx, unaryBackwardRef(op, x, g, ARGS[op]), { ...TOL[op], shape, name: t.title });
    });
  }
}

for (const shape of SHAPES) {
  test(`siluMulBackward shape=[${shape}]`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const [gate, up, g] = [rng.array(numel(shape), -8, 8), rng.array(numel(shape), -3, 3), rng.array(numel(shape), -1, 1)];
    const r = siluMulBackward(ctx.fromArray(gate, shape), ctx.fromArray(up, shape), ctx.fromArray(g, shape));
    t.deepEqual([r.dgate.shape, r.dup.shape], [shape, shape]);
    const ref = siluMulBackwardRef(gate, up, g);
    assertClose(t, await r.dgate.read(), ref.dgate, { ...SILU_MUL_TOL, shape, name: 'dgate' });
    assertClose(t, await r.dup.read(), ref.dup, { ...SILU_MUL_TOL, shape, name: 'dup' });
  });
}

test('unaryBackward silu/gelu/tanh over a dense grid of [-12, 12] and extremes stay finite', async (t) => {
  const ctx = await gpu();
  const n = 48001;
  const x = new Float32Array(n + 8);
  for (let i = 0; i < n; i++) x[i] = -12 + (24 * i) / (n - 1);
  // +-100: every exp over/underflows; -1.2784645 is silu's minimum (f' crosses 0).
  x.set([-100, 100, -1e-30, 1e-30, 0, 0.927734375, -0.927734375, -1.2784645], n);
  const g = Rng.fromString(t.title).array(x.length, -1, 1);
  const [xt, gt] = [ctx.fromArray(x, [x.length]), ctx.fromArray(g, [x.length])];
  for (const op of ['silu', 'gelu', 'tanh', 'relu'] as const) {
    const dx = await unaryBackward(op, xt, gt).read();
    t.true(dx.every(Number.isFinite), `${op}: finite`);
    const r = assertClose(t, dx, unaryBackwardRef(op, x, g), { ...TOL[op], name: op });
    t.log(`${op}: max abs err ${r.maxAbs.toExponential(2)}`);
  }
  const r = siluMulBackward(xt, gt, gt);
  const ref = siluMulBackwardRef(x, g, g);
  assertClose(t, await r.dgate.read(), ref.dgate, { ...SILU_MUL_TOL, name: 'dgate' });
  assertClose(t, await r.dup.read(), ref.dup, { ...SILU_MUL_TOL, name: 'dup' });
});

test('unaryBackward relu is 0 at x = 0; scale defaults to alpha 1; writes into out', async (t) => {
  const ctx = await gpu();
  const g = ctx.fromArray([2, 3, 4], [3]);
  t.deepEqual([...(await unaryBackward('relu', ctx.fromArray([-1, 0, 1], [3]), g).read())], [0, 0, 4]);
  t.deepEqual([...(await unaryBackward('scale', ctx.fromArray([5, 6, 7], [3]), g).read())], [2, 3, 4]);
  const out = ctx.tensor([3]);
  t.is(unaryBackward('scale', g, g, { alpha: 0.5 }, out), out);
  t.deepEqual([...(await out.read())], [1, 1.5, 2]);
});

test('unaryBackward random shapes (seeded) are bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 8; k++) {
    const shape = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 13));
    const op = rng.pick(UNARY_BACKWARD_OPS);
    const x = rng.array(numel(shape), -5, 5);
    const g = rng.array(numel(shape), -2, 2);
    const [xt, gt] = [ctx.fromArray(x, shape), ctx.fromArray(g, shape)];
    const a = await unaryBackward(op, xt, gt, ARGS[op]).read();
    const b = await unaryBackward(op, xt, gt, ARGS[op]).read();
    t.deepEqual(a, b);
    assertClose(t, a, unaryBackwardRef(op, x, g, ARGS[op]), { ...TOL[op], shape, name: `seed ${rng.seed} ${op} [${shape}]` });
  }
});

// ---- float64 finite differences of the backward references against the forward references -----

const H = 1e-6;
const fdOk = (fd: number, an: number, scale: number) => Math.abs(fd - an) <= 1e-6 * scale + 1e-9;

/** L = sum(f(x) * G); forward: unaryRef (tanh: Math.tanh, which unaryRef does not offer). */
function forward(op: UnaryBackwardOp, x: Float64Array): Float64Array {
  return op === 'tanh' ? x.map(Math.tanh) : unaryRef(op, x, ARGS[op]);
}
const dotWith = (y: ArrayLike<number>, G: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * G[i]!;
  return s;
};

for (const op of UNARY_BACKWARD_OPS) {
  test(`unaryBackwardRef op=${op} matches central differences of the forward`, (t) => {
    const rng = Rng.fromString(t.title);
    const n = 40;
    // relu's kink: keep every x at least 1e-3 from 0.
    const x = Float64Array.from({ length: n }, () => {
      const v = rng.uniform(-4, 4);
      return Math.abs(v) < 1e-3 ? v + 2e-3 : v;
    });
    const G = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const an = unaryBackwardRef(op, x, G, ARGS[op]);
    const amax = Math.max(...an.map(Math.abs));
    for (let k = 0; k < 8; k++) {
      const i = rng.int(0, n - 1);
      const xp = x.slice();
      const xm = x.slice();
      xp[i]! += H;
      xm[i]! -= H;
      const fd = (dotWith(forward(op, xp), G) - dotWith(forward(op, xm), G)) / (2 * H);
      t.true(fdOk(fd, an[i]!, amax), `x[${i}] = ${x[i]}: fd ${fd}, analytic ${an[i]}`);
    }
  });
}

test('siluMulBackwardRef matches central differences of silu(gate) * up', (t) => {
  const rng = Rng.fromString(t.title);
  const n = 40;
  const arr = (lo: number, hi: number) => Float64Array.from({ length: n }, () => rng.uniform(lo, hi));
  const [gate, up, G] = [arr(-6, 6), arr(-3, 3), arr(-1, 1)];
  const L = (ga: Float64Array, u: Float64Array) => dotWith(unaryRef('silu', ga).map((s, i) => s * u[i]!), G);
  const { dgate, dup } = siluMulBackwardRef(gate, up, G);
  for (const [name, v, an] of [['gate', gate, dgate], ['up', up, dup]] as const) {
    const amax = Math.max(...an.map(Math.abs));
    for (let k = 0; k < 8; k++) {
      const i = rng.int(0, n - 1);
      const vp = v.slice();
      const vm = v.slice();
      vp[i]! += H;
      vm[i]! -= H;
      const fd = name === 'gate' ? (L(vp, up) - L(vm, up)) / (2 * H) : (L(gate, vp) - L(gate, vm)) / (2 * H);
      t.true(fdOk(fd, an[i]!, amax), `${name}[${i}]: fd ${fd}, analytic ${an[i]}`);
    }
  }
});

test('unaryBackward: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 3]);
  const g = ctx.zeros([2, 3]);
  t.throws(() => unaryBackward('clamp' as never, x, g), { instanceOf: KernelArgError, message: /^unary_backward: op: 'clamp' is not one of silu, relu, gelu, scale, tanh/ });
  t.throws(() => unaryBackward('silu', ctx.zeros([3], 'i32'), g), { instanceOf: KernelArgError, message: /^unary_backward: x: dtype i32, expected f32/ });
  t.throws(() => unaryBackward('silu', x, ctx.zeros([3, 2])), { instanceOf: KernelArgError, message: /^unary_backward: g: shape \[3,2\], expected \[2,3\]/ });
  t.throws(() => unaryBackward('silu', x, g, {}, ctx.zeros([6])), { instanceOf: KernelArgError, message: /^unary_backward: out: shape \[6\], expected \[2,3\]/ });
  t.throws(() => unaryBackward('silu', x, g, {}, x), { instanceOf: KernelArgError, message: /^unary_backward: out: must not share its buffer with x or g/ });
  t.throws(() => unaryBackward('silu', x, g, {}, g), { instanceOf: KernelArgError, message: /^unary_backward: out: must not share its buffer/ });
  t.throws(() => unaryBackward('scale', x, g, { alpha: Infinity }), { instanceOf: KernelArgError, message: /^unary_backward: alpha: expected a finite number/ });
  t.throws(() => siluMulBackward(x, ctx.zeros([3]), g), { instanceOf: KernelArgError, message: /^silu_mul_backward: up: shape \[3\], expected \[2,3\]/ });
  t.throws(() => siluMulBackward(x, g, ctx.zeros([2, 3], 'u32')), { instanceOf: KernelArgError, message: /^silu_mul_backward: g: dtype u32, expected f32/ });
});
