// fsq_backward: FSQ's straight-through gradient against the upstream autograd golden, against the
// CPU reference on awkward shapes and both layouts, the reference against float64 finite
// differences of the forward with round replaced by the identity, and bad inputs.
import test from 'ava';
import { KernelArgError } from '../../kernels/index.js';
import { fsqBackward, fsqBackwardRef } from '../../kernels/fsq_backward.js';
import { fsqPlan } from '../../kernels/core/fsq_plan.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

const LEVELS = [8, 8, 8, 5, 5, 5];
/** GPU vs reference, times max|g| (kernels/fsq_backward.ts: a few ulp of WGSL tanh in 1 - y^2). */
const TOL = 2e-6;

/** [B, C, S] <-> [B, S, C]. */
function transpose(x: ArrayLike<number>, B: number, C: number, S: number, toLast: boolean): Float64Array {
  const y = new Float64Array(B * C * S);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const cf = (b * C + c) * S + s;
        const cl = (b * S + s) * C + c;
        if (toLast) y[cl] = x[cf]!;
        else y[cf] = x[cl]!;
      }
    }
  }
  return y;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

test('fsq_backward grad_fsq_nodim golden: grad_in.z within 1e-4 max|ref|, exact zeros where tanh saturates', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('grad/grad_fsq_nodim.safetensors');
  t.is(g.metadata.ctor, '{"levels":[8,8,8,5,5,5]}');
  t.regex(JSON.parse(g.metadata.layouts!)['in/z'], /channel-last/);
  const z = g.f32('in/z');
  const G = g.f32('grad_out');
  const want = g.f32('grad_in.z');
  const ref = fsqBackwardRef(z, G, 16, LEVELS);
  const du = await fsqBackward(ctx.fromArray(z, [2, 8, 6]), ctx.fromArray(G, [2, 8, 6]), { levels: LEVELS }).read();
  const atol = 1e-4 * maxAbs(want);
  for (const [name, got] of [['gpu', du], ['ref', ref]] as const) {
    const r = assertClose(t, got, want, { atol, shape: [2, 8, 6], name: `${name} vs grad_in.z` });
    t.log(`${name} vs grad_in.z: max abs err ${r.maxAbs.toExponential(2)} (${(r.maxAbs / maxAbs(want)).toExponential(2)} of max|ref|)`);
    const r64 = assertClose(t, got, g.f32('ref64/grad_in.z'), { atol, name: `${name} vs ref64/grad_in.z` });
    t.log(`${name} vs ref64/grad_in.z: max abs err ${r64.maxAbs.toExponential(2)}`);
  }
  // The z = +-10 entries: float32 tanh is exactly +-1, so torch's gradient is exactly 0 there.
  const saturated = [...z.keys()].filter((i) => Math.abs(z[i]!) >= 10);
  t.true(saturated.length > 0);
  for (const i of saturated) {
    t.true(want[i] === 0, `grad_in.z[${i}] = ${want[i]}`);
    t.true(du[i] === 0, `du[${i}] = ${du[i]} (z = ${z[i]})`);
  }
});

// [levels, shape, channelFirst (undefined = default)]
const CASES: [number[], number[], boolean | undefined][] = [
  [LEVELS, [3, 7, 6], undefined],
  [LEVELS, [5, 37, 6], undefined],
  [LEVELS, [2, 6, 1, 4, 3], undefined],
  [LEVELS, [1, 6, 1, 1], undefined],
  [LEVELS, [2, 3, 1, 6], false],
  [[7, 5, 5, 5, 5], [2, 5, 3, 5, 7], undefined],
  [[7, 5, 5, 5, 5], [1, 5, 1], true],
  [[7, 5, 5, 5, 5], [1, 5], undefined],
  [[2], [9, 1], undefined],
  [[3, 4, 5, 6, 7, 8, 9, 10], [3, 8, 2, 11], undefined],
];

for (const [levels, shape, channelFirst] of CASES) {
  test(`fsq_backward levels [${levels}] u [${shape}] channelFirst ${channelFirst ?? 'default'}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const nl = levels.length;
    const n = shape.reduce((a, b) => a * b, 1);
    // Mostly the tanh's working range, some saturated and near-saturated values.
    const u = Float32Array.from({ length: n }, () => (rng.next() < 0.8 ? rng.uniform(-3, 3) : rng.uniform(-12, 12)));
    const G = rng.array(n);
    const cf = channelFirst ?? shape.length >= 4;
    const S = cf ? shape.slice(2).reduce((a, b) => a * b, 1) : 1;
    const B = cf ? shape[0]! : n / nl;
    const du = fsqBackward(ctx.fromArray(u, shape), ctx.fromArray(G, shape), { levels, channelFirst });
    t.deepEqual(du.shape, shape);
    const ref = cf
      ? transpose(fsqBackwardRef(transpose(u, B, nl, S, true), transpose(G, B, nl, S, true), B * S, levels), B, nl, S, false)
      : fsqBackwardRef(u, G, n / nl, levels);
    const r = assertClose(t, await du.read(), ref, { atol: TOL * maxAbs(G), shape, name: t.title });
    t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
  });
}

test('fsqBackwardRef matches float64 finite differences of the forward with round as the identity', (t) => {
  const rng = Rng.fromString(t.title);
  for (const levels of [LEVELS, [7, 5, 5, 5, 5], [2, 3]]) {
    const plan = fsqPlan(levels);
    const nl = levels.length;
    const rows = 5;
    const u = Float64Array.from({ length: rows * nl }, () => rng.uniform(-3, 3));
    const G = Float64Array.from({ length: rows * nl }, () => rng.uniform());
    // L(u) = sum(codes_ste(u) * G), codes_ste = (tanh(u + shift) half_l - offset) / (L div 2).
    const loss = (x: Float64Array) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) {
        const k = i % nl;
        s += (((Math.tanh(x[i]! + plan.shift[k]!) * plan.halfL[k]! - plan.offset[k]!) / plan.hw[k]!) * G[i]!);
      }
      return s;
    };
    const an = fsqBackwardRef(u, G, rows, levels);
    const bound = 1e-6 * maxAbs(an) + 1e-9;
    const h = 1e-6;
    for (let j = 0; j < 12; j++) {
      const i = j < nl ? j : rng.int(0, u.length - 1);
      const x = Float64Array.from(u);
      x[i] = u[i]! + h;
      const lp = loss(x);
      x[i] = u[i]! - h;
      const fd = (lp - loss(x)) / (2 * h);
      t.true(Math.abs(fd - an[i]!) <= bound, `levels [${levels}] entry ${i}: fd ${fd} vs analytic ${an[i]} (bound ${bound})`);
    }
  }
});

test('fsq_backward: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const u = ctx.zeros([2, 3, 6]);
  const g = ctx.zeros([2, 3, 6]);
  const E = { instanceOf: KernelArgError };
  t.throws(() => fsqBackward(u, g, { levels: [] }), { ...E, message: /^fsq_backward: levels: expected 1\.\.8 levels/ });
  t.throws(() => fsqBackward(u, g, { levels: [8, 8, 8, 5, 5, 1] }), { ...E, message: /^fsq_backward: levels: every level must be an integer >= 2/ });
  t.throws(() => fsqBackward(u, g, { levels: [8, 8, 8, 5, 5] }), { ...E, message: /^fsq_backward: u: channel dim 2 is 6, expected len\(levels\) = 5/ });
  t.throws(() => fsqBackward(u, g, { levels: LEVELS, channelFirst: true }), { ...E, message: /^fsq_backward: u: channel dim 1 is 3, expected len\(levels\) = 6/ });
  t.throws(() => fsqBackward(ctx.zeros([6]), ctx.zeros([6]), { levels: LEVELS }), { ...E, message: /^fsq_backward: u: channel-last input needs rank >= 2/ });
  t.throws(() => fsqBackward(ctx.zeros([1, 6]), ctx.zeros([1, 6]), { levels: LEVELS, channelFirst: true }), { ...E, message: /^fsq_backward: u: channel-first input needs rank >= 3/ });
  t.throws(() => fsqBackward(ctx.zeros([2, 3, 6], 'i32'), g, { levels: LEVELS }), { ...E, message: /^fsq_backward: u: dtype i32, expected f32/ });
  t.throws(() => fsqBackward(u, ctx.zeros([2, 6, 3]), { levels: LEVELS }), { ...E, message: /^fsq_backward: g: shape \[2,6,3\], expected \[2,3,6\]/ });
  t.throws(() => fsqBackward(u, ctx.zeros([2, 3, 6], 'u32'), { levels: LEVELS }), { ...E, message: /^fsq_backward: g: dtype u32, expected f32/ });
});
