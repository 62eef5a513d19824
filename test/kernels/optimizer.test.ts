import test from 'ava';
import { type AdamWOptions, KernelArgError, type SgdOptions, adamwStep, adamwStepRef, sgdStep, sgdStepRef } from '../../kernels/index.js';
import { fmaF32 } from '../../kernels/optimizer.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// kernels/optimizer.ts: a handful of f32 operations per element; fusing and sqrt / division
// rounding may differ by a few ulp from torch and from the unfused reference.
const maxAbs = (x: ArrayLike<number>) => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const tol = (ref: ArrayLike<number>) => ({ atol: 1e-6 * maxAbs(ref), rtol: 1e-6 });

test('adamwStep matches torch 1.13 AdamW (golden grad_adamw_5x3_2steps), GPU and CPU reference', async (t) => {
  const ctx = await gpu();
  // goldenPath takes a name with a folder as the file name itself, extension included.
  const f = await loadGolden('grad/grad_adamw_5x3_2steps.safetensors');
  const ctor = f.metaJson<{ lr: number; betas: [number, number]; eps: number; weight_decay: number }>('ctor');
  t.deepEqual(ctor, { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1, amsgrad: false, maximize: false } as never);
  const shape = f.entry('in/param').shape;
  const p = ctx.fromArray(f.f32('in/param'), shape);
  const m = ctx.zeros(shape);
  const v = ctx.zeros(shape);
  let ref: ReturnType<typeof adamwStepRef> = { param: f.f32('in/param'), expAvg: new Float32Array(15), expAvgSq: new Float32Array(15) };
  for (const step of [1, 2]) {
    const o: AdamWOptions = { lr: ctor.lr, beta1: ctor.betas[0], beta2: ctor.betas[1], eps: ctor.eps, weightDecay: ctor.weight_decay, step };
    t.is(f.f32(`out/step.step${step}`)[0], step);
    const g = f.f32(`in/grad.step${step}`);
    adamwStep(p, ctx.fromArray(g, shape), m, v, o);
    ref = adamwStepRef(ref.param, g, ref.expAvg, ref.expAvgSq, o);
    for (const [name, gpuT, cpu] of [['param', p, ref.param], ['exp_avg', m, ref.expAvg], ['exp_avg_sq', v, ref.expAvgSq]] as const) {
      const want = f.f32(`out/${name}.step${step}`);
      const atol = 1e-6 * maxAbs(want);
      const r = assertClose(t, await gpuT.read(), want, { atol, shape, name: `GPU ${name} step ${step}` });
      const rc = assertClose(t, cpu, want, { atol, shape, name: `CPU ref ${name} step ${step}` });
      t.log(`${name} step ${step}: GPU max rel-to-max err ${(r.maxAbs / maxAbs(want)).toExponential(2)}, CPU ref ${(rc.maxAbs / maxAbs(want)).toExponential(2)}`);
    }
  }
});

// Sizes off the workgroup (256), 1-element and rank-3 tensors.
for (const shape of [[1], [5, 3], [257], [3, 1, 1000], [70001]]) {
  test(`adamwStep vs CPU reference shape=[${shape}], 3 steps with gradScale`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const n = shape.reduce((a, b) => a * b, 1);
    let ref: ReturnType<typeof adamwStepRef> = { param: rng.array(n, -2, 2), expAvg: new Float32Array(n), expAvgSq: new Float32Array(n) };
    const [p, m, v] = [ctx.fromArray(ref.param, shape), ctx.zeros(shape), ctx.zeros(shape)];
    for (let step = 1; step <= 3; step++) {
      const g = rng.array(n);
      const o: AdamWOptions = { lr: 0.01, beta2: 0.99, step, gradScale: step === 2 ? 0.37 : 1 };
      adamwStep(p, ctx.fromArray(g, shape), m, v, o);
      ref = adamwStepRef(ref.param, g, ref.expAvg, ref.expAvgSq, o);
    }
    assertClose(t, await p.read(), ref.param, { ...tol(ref.param), shape, name: 'param' });
    assertClose(t, await m.read(), ref.expAvg, { ...tol(ref.expAvg), shape, name: 'exp_avg' });
    assertClose(t, await v.read(), ref.expAvgSq, { ...tol(ref.expAvgSq), shape, name: 'exp_avg_sq' });
  });
}

test('adamwStepRef defaults are torch.optim.AdamW defaults (0.9, 0.999, 1e-8, wd 0.01) and the closed form', (t) => {
  const o = { lr: 1e-3, step: 1 };
  const r = adamwStepRef([1], [0.5], [0], [0], o);
  t.deepEqual(r, adamwStepRef([1], [0.5], [0], [0], { ...o, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }));
  // Step 1 from zero state: m / bc1 = g, sqrt(v) / sqrt(bc2) = |g|, so p = 1 - lr wd - lr g / (|g| + eps).
  t.true(Math.abs(r.param[0]! - (1 - 1e-5 - 1e-3 * (0.5 / (0.5 + 1e-8)))) < 2e-7);
});

test('fmaF32 rounds a * b + c once, also where the double sum lands on an f32 halfway point', (t) => {
  // a * b = -2^-24 + 2^-70, c = 1 + 2^-23: exactly 1 + 2^-24 + 2^-70, just above the midpoint of
  // 1 and 1 + 2^-23; the double sum drops 2^-70 and ties to even (1).
  const [a, b, c] = [2 ** -12 * (1 + 2 ** -23), -(2 ** -12) * (1 - 2 ** -23), 1 + 2 ** -23];
  t.is(Math.fround(a * b + c), 1);
  t.is(fmaF32(a, b, c), 1 + 2 ** -23);
  t.is(fmaF32(-a, -b, -c), -(1 + 2 ** -23));
  // a * -b = 2^-24 - 2^-70: 1 + 2^-23 + 2^-24 - 2^-70 is just below the midpoint of 1 + 2^-23 and
  // 1 + 2^-22; the double sum ties to even (1 + 2^-22).
  t.is(Math.fround(a * -b + c), 1 + 2 ** -22);
  t.is(fmaF32(a, -b, c), 1 + 2 ** -23);
  const rng = Rng.fromString(t.title);
  for (let i = 0; i < 10000; i++) {
    const [x, y, z] = rng.array(3, -4, 4);
    t.is(fmaF32(x!, y!, z!), Math.fround(x! * y! + z!));
  }
});

const SGD: [string, Omit<SgdOptions, 'momentumBuf'>][] = [
  ['plain', { lr: 0.1 }],
  ['weight decay', { lr: 0.05, weightDecay: 0.01 }],
  ['momentum', { lr: 0.1, momentum: 0.9 }],
  ['momentum + weight decay + gradScale', { lr: 0.02, momentum: 0.5, weightDecay: 1e-3, gradScale: 0.25 }],
];

for (const [name, o] of SGD) {
  for (const shape of [[1], [3, 17], [1000, 3]]) {
    test(`sgdStep ${name} shape=[${shape}], 3 steps`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const n = shape.reduce((a, b) => a * b, 1);
      let ref: { param: Float32Array; momentumBuf: Float32Array | null } = { param: rng.array(n, -2, 2), momentumBuf: null };
      const p = ctx.fromArray(ref.param, shape);
      const buf = o.momentum ? ctx.zeros(shape) : undefined;
      for (let step = 1; step <= 3; step++) {
        const g = rng.array(n);
        const p0 = ref.param;
        sgdStep(p, ctx.fromArray(g, shape), { ...o, momentumBuf: buf });
        ref = sgdStepRef(ref.param, g, { ...o, momentumBuf: ref.momentumBuf ?? undefined });
        if (step === 1 && buf) {
          // torch's first step sets buf = g' (a clone); a zero buffer gives momentum * 0 + g' = g'.
          const gp = g.map((x, i) => {
            const gs = Math.fround(x * Math.fround(o.gradScale ?? 1));
            return o.weightDecay ? fmaF32(p0[i]!, Math.fround(o.weightDecay), gs) : gs;
          });
          assertClose(t, await buf.read(), gp, { ...tol(gp), shape, name: 'first-step buffer' });
        }
      }
      assertClose(t, await p.read(), ref.param, { ...tol(ref.param), shape, name: 'param' });
      if (buf) assertClose(t, await buf.read(), ref.momentumBuf!, { ...tol(ref.momentumBuf!), shape, name: 'momentum buffer' });
      else t.is(ref.momentumBuf, null);
    });
  }
}

test('optimizer: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const [p, g, m, v] = [ctx.zeros([5, 3]), ctx.zeros([5, 3]), ctx.zeros([5, 3]), ctx.zeros([5, 3])];
  const o = { lr: 1e-3, step: 1 };
  t.throws(() => adamwStep(p, ctx.zeros([15]), m, v, o), { instanceOf: KernelArgError, message: /^adamwStep: grad: shape \[15\], expected \[5,3\]/ });
  t.throws(() => adamwStep(p, g, m, ctx.zeros([5, 3], 'i32'), o), { message: /^adamwStep: expAvgSq: dtype i32, expected f32/ });
  t.throws(() => adamwStep(p, g, m, m, o), { message: /^adamwStep: expAvgSq: shares its buffer with expAvg/ });
  t.throws(() => adamwStep(p, p.reshape([5, 3]), m, v, o), { message: /^adamwStep: grad: shares its buffer with param/ });
  t.throws(() => adamwStep(p, g, m, v, { lr: 1e-3, step: 0 }), { message: /^adamwStep: step: expected an integer >= 1/ });
  t.throws(() => adamwStep(p, g, m, v, { ...o, beta1: 1 }), { message: /^adamwStep: beta1: expected a finite number in \[0, 1\), got 1/ });
  t.throws(() => adamwStep(p, g, m, v, { ...o, lr: -1 }), { message: /^adamwStep: lr: expected a finite number in \[0, Infinity\], got -1/ });
  t.throws(() => adamwStep(p, g, m, v, { ...o, gradScale: NaN }), { message: /^adamwStep: gradScale: expected a finite number/ });
  t.throws(() => sgdStep(p, g, { lr: 0.1, momentum: 0.9 }), { message: /^sgdStep: momentumBuf: required with momentum 0.9/ });
  t.throws(() => sgdStep(p, g, { lr: 0.1, momentum: 0.9, momentumBuf: ctx.zeros([3, 5]) }), { message: /^sgdStep: momentumBuf: shape \[3,5\], expected \[5,3\]/ });
  t.throws(() => sgdStep(p, g, { lr: 0.1, momentum: 0.9, momentumBuf: g }), { message: /^sgdStep: momentumBuf: shares its buffer with grad/ });
  t.throws(() => sgdStep(p, g, { lr: 0.1, weightDecay: -1 }), { message: /^sgdStep: weightDecay: expected a finite number in \[0, Infinity\]/ });
});
