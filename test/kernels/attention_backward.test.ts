// attentionBackward (flash-style recompute) vs attentionBackwardRef, the reference vs central
// differences of attentionRef, determinism, masked-score gradients and named errors. Every GPU case
// runs each kernel pair the adapter can run: 'sg' (HD <= 64 with subgroups) and 'tiled'.
import test from 'ava';
import {
  F32_MIN, KernelArgError, attentionBackward, attentionBackwardRef, attentionRef, type GpuContext,
} from '../../kernels/index.js';
import { attentionBackwardKernel, withKnobs } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { gpu, notExercised } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerance (kernels/attention_backward.ts): 1e-5 x max|ref| per gradient tensor, plus 1e-7 for
// tensors that are exactly 0 (dq with a single visible key).
const tol = (ref: ArrayLike<number>) => 1e-5 * maxAbs(ref) + 1e-7;
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

interface Case {
  B: number; NH: number; Lq: number; Lk: number; HD: number; causal?: boolean; scale?: number;
  /** Masked keys per batch row (additive F32_MIN), in a mask of Lk + maskPad columns. */
  masked?: number[][]; maskPad?: number;
}

function inputs(ctx: GpuContext, c: Case, rng: Rng) {
  const nq = c.B * c.NH * c.Lq * c.HD;
  const nk = c.B * c.NH * c.Lk * c.HD;
  const qa = rng.array(nq, -1.5, 1.5);
  const ka = rng.array(nk, -1.5, 1.5);
  const va = rng.array(nk);
  const ga = rng.array(nq);
  const stride = c.Lk + (c.maskPad ?? 0);
  let maskA: Float32Array | undefined;
  if (c.masked) {
    maskA = new Float32Array(c.B * stride);
    c.masked.forEach((keys, b) => keys.forEach((j) => (maskA![b * stride + j] = F32_MIN)));
  }
  const qs = [c.B, c.NH, c.Lq, c.HD];
  const ks = [c.B, c.NH, c.Lk, c.HD];
  return {
    qa, ka, va, ga, maskA, stride,
    q: ctx.fromArray(qa, qs), k: ctx.fromArray(ka, ks), v: ctx.fromArray(va, ks), g: ctx.fromArray(ga, qs),
    mask: maskA ? ctx.fromArray(maskA, [c.B, stride]) : undefined,
  };
}

type Kernel = 'sg' | 'tiled';
const kernelsFor = (ctx: GpuContext, HD: number): readonly Kernel[] => (attentionBackwardKernel(ctx, HD) === 'sg' ? ['sg', 'tiled'] : ['tiled']);

// `out` is the reference forward rounded to f32 (what a float32 forward returns, within 2e-5), so
// the test does not pay the forward kernels' compile time.
async function run(ctx: GpuContext, c: Case, rng: Rng) {
  const d = inputs(ctx, c, rng);
  const ro = { causal: c.causal, scale: c.scale, mask: d.maskA, maskStride: d.stride };
  const out = ctx.fromArray(Float32Array.from(attentionRef(d.qa, d.ka, d.va, c, ro)), [c.B, c.NH, c.Lq, c.HD]);
  const got: Partial<Record<Kernel, { dq: Float32Array; dk: Float32Array; dv: Float32Array }>> = {};
  for (const kernel of kernelsFor(ctx, c.HD)) {
    const gr = withKnobs({ attentionBackward: kernel }, () => attentionBackward(d.q, d.k, d.v, out, d.g, { causal: c.causal, scale: c.scale, mask: d.mask }));
    got[kernel] = { dq: await gr.dq.read(), dk: await gr.dk.read(), dv: await gr.dv.read() };
  }
  return { d, out, got, ref: attentionBackwardRef(d.qa, d.ka, d.va, d.ga, c, ro) };
}

const CASES: Case[] = [
  { B: 1, NH: 1, Lq: 1, Lk: 1, HD: 8 },
  { B: 1, NH: 2, Lq: 5, Lk: 5, HD: 16, causal: true },
  { B: 2, NH: 1, Lq: 17, Lk: 17, HD: 64, causal: true },
  { B: 1, NH: 2, Lq: 5, Lk: 17, HD: 64, causal: true },
  { B: 2, NH: 2, Lq: 33, Lk: 33, HD: 8 },
  { B: 1, NH: 1, Lq: 67, Lk: 67, HD: 64, causal: true },
  { B: 1, NH: 2, Lq: 17, Lk: 67, HD: 16 },
  { B: 1, NH: 1, Lq: 1, Lk: 33, HD: 128, causal: true },
  { B: 1, NH: 1, Lq: 16, Lk: 16, HD: 512 },
  { B: 2, NH: 1, Lq: 5, Lk: 17, HD: 512, causal: true },
  { B: 1, NH: 3, Lq: 33, Lk: 5, HD: 8, scale: 0.7 },
  { B: 1, NH: 1, Lq: 300, Lk: 300, HD: 64, causal: true },
  { B: 2, NH: 2, Lq: 17, Lk: 17, HD: 16, masked: [[0, 3, 16], [5]], maskPad: 3 },
  // Batch 1 masks key 0, which is all that causal query 0 sees: a fully masked row.
  { B: 2, NH: 1, Lq: 7, Lk: 7, HD: 64, causal: true, masked: [[2, 6], [0]] },
  { B: 1, NH: 2, Lq: 5, Lk: 33, HD: 512, causal: true, masked: [[1, 32]] },
];

const label = (c: Case) => `B${c.B} NH${c.NH} Lq${c.Lq} Lk${c.Lk} HD${c.HD}${c.causal ? ' causal' : ''}${c.scale ? ` scale ${c.scale}` : ''}${c.masked ? ' mask' : ''}`;

for (const c of CASES) {
  test(`attentionBackward ${label(c)}`, async (t) => {
    const ctx = await gpu();
    const { got, ref } = await run(ctx, c, Rng.fromString(t.title));
    for (const [kernel, gk] of Object.entries(got)) {
      for (const n of ['dq', 'dk', 'dv'] as const) {
        assertClose(t, gk[n], ref[n], { atol: tol(ref[n]), shape: n === 'dq' ? [c.B, c.NH, c.Lq, c.HD] : [c.B, c.NH, c.Lk, c.HD], name: `${t.title} ${kernel} ${n}` });
      }
    }
  });
}

test('attentionBackward random shapes (seeded), bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let n = 0; n < 5; n++) {
    const Lk = rng.int(1, 70);
    const c: Case = { B: rng.int(1, 2), NH: rng.int(1, 2), Lq: rng.int(1, Lk), Lk, HD: rng.pick([4, 12, 32, 64, 128]), causal: rng.next() < 0.5 };
    const { d, out, got, ref } = await run(ctx, c, rng);
    for (const [kernel, gk] of Object.entries(got) as [Kernel, NonNullable<(typeof got)[Kernel]>][]) {
      const again = withKnobs({ attentionBackward: kernel }, () => attentionBackward(d.q, d.k, d.v, out, d.g, { causal: c.causal }));
      for (const g of ['dq', 'dk', 'dv'] as const) {
        t.deepEqual(await again[g].read(), gk[g], `${kernel} ${g} differs between two runs`);
        assertClose(t, gk[g], ref[g], { atol: tol(ref[g]), name: `seed ${rng.seed} #${n} ${label(c)} ${kernel} ${g}` });
      }
    }
  }
});

test('attentionBackward: masked keys get exactly zero dk and dv', async (t) => {
  const ctx = await gpu();
  const c: Case = { B: 2, NH: 2, Lq: 9, Lk: 13, HD: 64, masked: [[0, 4, 12], [4, 7]] };
  const { got } = await run(ctx, c, Rng.fromString(t.title));
  for (const [kernel, gk] of Object.entries(got)) {
    for (let b = 0; b < c.B; b++) {
      for (let h = 0; h < c.NH; h++) {
        for (const j of c.masked![b]!) {
          const at = ((b * c.NH + h) * c.Lk + j) * c.HD;
          t.true(gk.dk.subarray(at, at + c.HD).every((x) => x === 0), `${kernel} dk[${b},${h},${j}]`);
          t.true(gk.dv.subarray(at, at + c.HD).every((x) => x === 0), `${kernel} dv[${b},${h},${j}]`);
        }
      }
    }
  }
});

// float64 central differences of L = sum(attentionRef(q, k, v) * G). attentionRef rounds s + mask
// to f32 only for non-zero mask entries, so the mask holds 0 and F32_MIN only (masked scores are
// then constant and the differences see exactly the reference's zero gradient).
test('attentionBackwardRef matches central differences of attentionRef', (t) => {
  const rng = Rng.fromString(t.title);
  const h = 1e-6;
  const cases: Case[] = [
    { B: 1, NH: 1, Lq: 1, Lk: 1, HD: 4 },
    { B: 1, NH: 2, Lq: 3, Lk: 7, HD: 8, causal: true },
    { B: 2, NH: 1, Lq: 5, Lk: 5, HD: 4, scale: 0.9 },
    { B: 2, NH: 1, Lq: 4, Lk: 6, HD: 8, causal: true, masked: [[1, 5], [0, 2]], maskPad: 2 },
  ];
  for (const c of cases) {
    const rnd = (n: number, s: number) => Float64Array.from({ length: n }, () => rng.uniform(-s, s));
    const nq = c.B * c.NH * c.Lq * c.HD;
    const nk = c.B * c.NH * c.Lk * c.HD;
    const x = { q: rnd(nq, 1.5), k: rnd(nk, 1.5), v: rnd(nk, 1) };
    const G = rnd(nq, 1);
    const stride = c.Lk + (c.maskPad ?? 0);
    const mask = c.masked ? new Float64Array(c.B * stride) : undefined;
    c.masked?.forEach((keys, b) => keys.forEach((j) => (mask![b * stride + j] = F32_MIN)));
    const o = { causal: c.causal, scale: c.scale, mask, maskStride: stride };
    const L = (a: typeof x) => attentionRef(a.q, a.k, a.v, c, o).reduce((s, y, i) => s + y * G[i]!, 0);
    const an = attentionBackwardRef(x.q, x.k, x.v, G, c, o);
    for (const [name, grad] of [['q', an.dq], ['k', an.dk], ['v', an.dv]] as const) {
      const amax = maxAbs(grad);
      for (let n = 0; n < 5; n++) {
        const i = rng.int(0, grad.length - 1);
        const xp = { ...x, [name]: x[name].slice() };
        const xm = { ...x, [name]: x[name].slice() };
        xp[name][i]! += h;
        xm[name][i]! -= h;
        const fd = (L(xp) - L(xm)) / (2 * h);
        t.true(Math.abs(fd - grad[i]!) <= 1e-6 * amax + 1e-9, `${label(c)} d${name}[${i}]: fd ${fd}, analytic ${grad[i]}`);
      }
    }
  }
});

test('attentionBackward: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const q = ctx.zeros([1, 2, 5, 8]);
  const k = ctx.zeros([1, 2, 7, 8]);
  const f = (o: Partial<Record<'q' | 'k' | 'v' | 'out' | 'g', ReturnType<GpuContext['zeros']>>> = {}, opt = {}) => () =>
    attentionBackward(o.q ?? q, o.k ?? k, o.v ?? k, o.out ?? q, o.g ?? q, opt);
  t.throws(f({ q: ctx.zeros([2, 5, 8]) }), { instanceOf: KernelArgError, message: /^attention_backward: q: rank 3 \(shape \[2,5,8\]\), expected rank 4/ });
  t.throws(f({ v: ctx.zeros([1, 2, 6, 8]) }), { instanceOf: KernelArgError, message: /^attention_backward: v: shape \[1,2,6,8\], expected \[1,2,7,8\]/ });
  t.throws(f({ out: ctx.zeros([1, 2, 5, 4]) }), { instanceOf: KernelArgError, message: /^attention_backward: out: shape \[1,2,5,4\], expected \[1,2,5,8\]/ });
  t.throws(f({ g: ctx.zeros([1, 2, 5, 8], 'i32') }), { instanceOf: KernelArgError, message: /^attention_backward: gOut: dtype i32, expected f32/ });
  t.throws(f({ q: ctx.zeros([1, 2, 9, 8]), out: ctx.zeros([1, 2, 9, 8]), g: ctx.zeros([1, 2, 9, 8]) }, { causal: true }), { instanceOf: KernelArgError, message: /^attention_backward: causal: 9 queries over 7 keys/ });
  t.throws(f({}, { mask: ctx.zeros([1, 6]) }), { instanceOf: KernelArgError, message: /^attention_backward: mask: shape \[1,6\], expected \[1, >=7\]/ });
  t.throws(f({}, { scale: NaN }), { instanceOf: KernelArgError, message: /^attention_backward: scale: expected a finite number, got NaN/ });
  const q6 = ctx.zeros([1, 1, 2, 6]);
  t.throws(() => attentionBackward(q6, q6, q6, q6, q6), { instanceOf: KernelArgError, message: /^attention_backward: q: head dim 6 unsupported/ });
  const qh = ctx.zeros([1, 1, 1, 2048]);
  t.throws(() => attentionBackward(qh, qh, qh, qh, qh), { instanceOf: KernelArgError, message: /^attention_backward: q: head dim 2048 unsupported: at most 1024/ });
  const q128 = ctx.zeros([1, 1, 2, 128]);
  t.throws(() => withKnobs({ attentionBackward: 'sg' }, () => attentionBackward(q128, q128, q128, q128, q128)), { instanceOf: KernelArgError, message: /^attention_backward: knobs.attentionBackward: 'sg' needs HD <= 64 \(got 128\)/ });
  // With subgroups of >= 8 (lavapipe) the 'sg' pair is what runs, and the cases above test it.
  if (ctx.useCpuSubgroupVariants()) t.is(attentionBackwardKernel(ctx, 64), 'sg');
  else {
    t.is(attentionBackwardKernel(ctx, 64), 'tiled');
    notExercised(t, 'attention_backward_sg_dq/_dkv', `not picked on ${ctx.adapterClass} (${ctx.adapterInfo})`);
  }
  t.is(attentionBackwardKernel(ctx, 128), 'tiled');
});
