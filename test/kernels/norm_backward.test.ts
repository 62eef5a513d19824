import test, { type ExecutionContext } from 'ava';
import { KernelArgError } from '../../kernels/core/errors.js';
import { adaGroupNormRef, groupNormFramewiseRef, groupNormRef } from '../../kernels/group_norm.js';
import {
  adaGroupNormBackward,
  adaGroupNormBackwardRef,
  groupNormBackward,
  groupNormBackwardRef,
  layerNormBackward,
  layerNormBackwardRef,
  rmsNormBackward,
  rmsNormBackwardRef,
} from '../../kernels/norm_backward.js';
import { rowNormRef } from '../../kernels/row_norm.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { NORM_LAYOUTS, NORM_LAYOUT_CASES } from '../helpers/norm-layouts.js';
import { Rng } from '../helpers/rng.js';

// kernels/norm_backward.ts: per output tensor |err| <= 1e-5 scale + 1e-5 |ref|, scale = max|ref| (f32
// sums of up to B * S terms of random sign: their rounding follows the tensor's largest values), or
// max |r w g| for RMSNorm's dx, which cancels.
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Asserts the tolerance and logs the error relative to `scale` (default max|ref|). */
function close(t: ExecutionContext, got: ArrayLike<number>, ref: ArrayLike<number>, name: string, shape?: readonly number[], scale = maxAbs(ref)): void {
  const r = assertClose(t, got, ref, { atol: 1e-5 * scale, rtol: 1e-5, shape, name });
  t.log(`${name}: max abs err / scale ${(r.maxAbs / (scale || 1)).toExponential(2)}`);
}
/** RMSNorm's dx is a difference of terms up to max |r w g| that cancel (D = 1: r w g eps / (x^2 + eps)): its error scale. */
function rmsScale(x: ArrayLike<number>, D: number, w: ArrayLike<number>, g: ArrayLike<number>, eps = 1e-6): number {
  let m = 0;
  for (let base = 0; base < x.length; base += D) {
    let q = 0;
    for (let j = 0; j < D; j++) q += x[base + j]! ** 2;
    const r = 1 / Math.sqrt(q / D + Math.fround(eps));
    for (let j = 0; j < D; j++) m = Math.max(m, Math.abs(r * w[j]! * g[base + j]!));
  }
  return m;
}
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// ---- GPU vs the float64 references -------------------------------------------------------------

// [shape, groups]: one element per set (1x1), odd spatial sizes, several channels per group, a set
// over one 4096-element chunk (96x96, rows of 4800), B = 2.
const GN_CASES: [number[], number][] = [
  [[1, 32, 1, 1], 32],
  [[2, 32, 3, 5], 32],
  [[1, 64, 17, 9], 32],
  [[2, 64, 2, 3, 5], 32],
  [[2, 6, 5], 3],
  [[1, 32, 96, 96], 32],
  [[1, 64, 3, 40, 40], 32],
];

for (const [shape, groups] of GN_CASES) {
  for (const [affine, silu] of [[true, true], [true, false], [false, true]] as const) {
    test(`groupNormBackward x=[${shape}] groups=${groups} affine=${affine} silu=${silu}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const C = shape[1]!;
      const x = rng.array(numel(shape), -2, 3);
      const g = rng.array(numel(shape), -1, 1);
      const w = affine ? rng.array(C, 0.5, 1.5) : undefined;
      const b = affine ? rng.array(C, -0.5, 0.5) : undefined;
      const r = groupNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), {
        groups,
        silu,
        weight: w && ctx.fromArray(w, [C]),
        bias: b && ctx.fromArray(b, [C]),
      });
      const ref = groupNormBackwardRef(x, shape, g, { groups, silu, weight: w, bias: b });
      close(t, await r.dx.read(), ref.dx, 'dx', shape);
      t.is(r.dweight === null, !affine);
      t.is(r.dbias === null, !affine);
      if (affine) {
        t.deepEqual([r.dweight!.shape, r.dbias!.shape], [[C], [C]]);
        close(t, await r.dweight!.read(), ref.dweight!, 'dweight');
        close(t, await r.dbias!.read(), ref.dbias!, 'dbias');
      }
    });
  }
}

// Both GroupNorm pass layouts of the tuning table's normLaneLen (see group_norm.test.ts).
for (const [name, normLaneLen] of NORM_LAYOUTS) {
  test.serial(`groupNormBackward with ${name} (normLaneLen ${normLaneLen})`, async (t) => {
    const ctx = await gpu();
    const prev = ctx.tune({ normLaneLen });
    try {
      const rng = Rng.fromString(t.title);
      for (const [shape, groups] of NORM_LAYOUT_CASES) {
        const C = shape[1]!;
        const x = rng.array(numel(shape), -2, 3);
        const g = rng.array(numel(shape), -1, 1);
        const w = rng.array(C, 0.5, 1.5);
        const b = rng.array(C, -0.5, 0.5);
        const r = groupNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), { groups, silu: true, weight: ctx.fromArray(w, [C]), bias: ctx.fromArray(b, [C]) });
        const ref = groupNormBackwardRef(x, shape, g, { groups, silu: true, weight: w, bias: b });
        close(t, await r.dx.read(), ref.dx, 'dx', shape);
        close(t, await r.dweight!.read(), ref.dweight!, 'dweight');
        close(t, await r.dbias!.read(), ref.dbias!, 'dbias');
      }
    } finally {
      ctx.tune(prev);
    }
  });
}

// Frame-wise (LA) norm, 4 groups per frame: T = 1..5, one pixel per frame, odd sizes, H*W over a chunk.
const LA_CASES: number[][] = [
  [1, 8, 1, 3, 5],
  [2, 12, 5, 6, 7],
  [1, 4, 3, 1, 1],
  [2, 16, 2, 17, 9],
  [1, 8, 4, 3, 5],
  [1, 4, 2, 65, 65],
];
for (const shape of LA_CASES) {
  for (const [affine, silu] of [[true, true], [false, false]] as const) {
    test(`groupNormBackward framewise x=[${shape}] affine=${affine} silu=${silu}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const [, C, T] = shape as [number, number, number];
      const x = rng.array(numel(shape), -1, 2);
      const g = rng.array(numel(shape), -1, 1);
      const w = affine ? rng.array(T * C, 0.5, 1.5) : undefined;
      const b = affine ? rng.array(T * C, -0.5, 0.5) : undefined;
      const r = groupNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), {
        framewise: true,
        silu,
        weight: w && ctx.fromArray(w, [T * C]),
        bias: b && ctx.fromArray(b, [T * C]),
      });
      const ref = groupNormBackwardRef(x, shape, g, { framewise: true, silu, weight: w, bias: b });
      close(t, await r.dx.read(), ref.dx, 'dx', shape);
      if (affine) {
        close(t, await r.dweight!.read(), ref.dweight!, 'dweight');
        close(t, await r.dbias!.read(), ref.dbias!, 'dbias');
      } else t.true(r.dweight === null && r.dbias === null);
    });
  }
}

const ADA_CASES: [number[], number, boolean][] = [
  [[1, 64, 4, 4], 32, false],
  [[2, 32, 3, 5], 32, true],
  [[1, 32, 1, 1], 32, true],
  [[2, 64, 2, 17, 9], 32, true],
  [[1, 32, 96, 96], 32, false],
  [[2, 6, 5], 3, true],
];
for (const [shape, groups, silu] of ADA_CASES) {
  test(`adaGroupNormBackward x=[${shape}] groups=${groups} silu=${silu}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const [B, C] = shape as [number, number];
    const x = rng.array(numel(shape), -2, 2);
    const g = rng.array(numel(shape), -1, 1);
    const scale = rng.array(B * C, -0.5, 0.5);
    const shift = rng.array(B * C, -0.5, 0.5);
    const r = adaGroupNormBackward(ctx.fromArray(x, shape), ctx.fromArray(scale, [B, C]), ctx.fromArray(shift, [B, C]), ctx.fromArray(g, shape), { groups, silu });
    const ref = adaGroupNormBackwardRef(x, shape, scale, shift, g, { groups, silu });
    t.deepEqual([r.dscale.shape, r.dshift.shape], [[B, C], [B, C]]);
    close(t, await r.dx.read(), ref.dx, 'dx', shape);
    close(t, await r.dscale.read(), ref.dscale, 'dscale', [B, C]);
    close(t, await r.dshift.read(), ref.dshift, 'dshift', [B, C]);
  });
}

// D = 1, odd, the 32-wide stride, long rows; rows 1..37, and 300 rows (two column-sum levels).
const RMS_CASES: number[][] = [
  [1, 1],
  [37, 1],
  [5, 7],
  [1, 64],
  [2, 13, 64],
  [3, 1000],
  [37, 1000],
  [300, 7],
  [2, 150, 64],
];
for (const shape of RMS_CASES) {
  test(`rmsNormBackward x=[${shape}]`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const D = shape[shape.length - 1]!;
    const x = rng.array(numel(shape), -2, 2);
    const g = rng.array(numel(shape), -1, 1);
    const w = rng.array(D, 0.5, 1.5);
    const r = rmsNormBackward(ctx.fromArray(x, shape), ctx.fromArray(w, [D]), ctx.fromArray(g, shape));
    const ref = rmsNormBackwardRef(x, D, w, g);
    close(t, await r.dx.read(), ref.dx, 'dx', shape, rmsScale(x, D, w, g));
    t.deepEqual(r.dweight.shape, [D]);
    close(t, await r.dweight.read(), ref.dweight, 'dweight');
  });
}

test('rmsNormBackward eps 1e-5 with tiny rows (eps dominates the mean square)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape = [9, 33];
  const x = rng.array(numel(shape), -3e-3, 3e-3);
  const g = rng.array(numel(shape), -1, 1);
  const w = rng.array(33, -1, 1);
  const r = rmsNormBackward(ctx.fromArray(x, shape), ctx.fromArray(w, [33]), ctx.fromArray(g, shape), { eps: 1e-5 });
  const ref = rmsNormBackwardRef(x, 33, w, g, 1e-5);
  close(t, await r.dx.read(), ref.dx, 'dx', shape, rmsScale(x, 33, w, g, 1e-5));
  close(t, await r.dweight.read(), ref.dweight, 'dweight');
});

test('groupNormBackward: large mean (|mean| / std = 1000) stays accurate', async (t) => {
  const ctx = await gpu();
  const shape = [1, 8, 3, 20, 20];
  const rng = Rng.fromString(t.title);
  const x = new Float32Array(numel(shape)).map(() => 1000 + rng.normal());
  const g = rng.array(numel(shape), -1, 1);
  const r = groupNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), { groups: 4 });
  const ref = groupNormBackwardRef(x, shape, g, { groups: 4 });
  // The f32 rounding of x and mean costs ~1000 * 6e-8 in xhat, as in the forward (group_norm.test.ts).
  const e = assertClose(t, await r.dx.read(), ref.dx, { atol: 2e-5 * maxAbs(ref.dx), shape, name: 'dx' });
  t.log(`max abs err / max|ref| ${(e.maxAbs / maxAbs(ref.dx)).toExponential(2)}`);
});

test('norm backwards are bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape = [2, 32, 3, 50, 40];
  const x = ctx.fromArray(rng.array(numel(shape), -1, 2), shape);
  const g = ctx.fromArray(rng.array(numel(shape)), shape);
  const w = ctx.fromArray(rng.array(32, 0.5, 1.5), [32]);
  const b = ctx.fromArray(rng.array(32), [32]);
  const gn = async () => {
    const r = groupNormBackward(x, g, { weight: w, bias: b, silu: true });
    return [await r.dx.read(), await r.dweight!.read(), await r.dbias!.read()];
  };
  t.deepEqual(await gn(), await gn());
  const rx = ctx.fromArray(rng.array(300 * 64), [300, 64]);
  const rg = ctx.fromArray(rng.array(300 * 64), [300, 64]);
  const rw = ctx.fromArray(rng.array(64), [64]);
  const rms = async () => {
    const r = rmsNormBackward(rx, rw, rg);
    return [await r.dx.read(), await r.dweight.read()];
  };
  t.deepEqual(await rms(), await rms());
});

test('empty inputs give empty dx and zero parameter gradients', async (t) => {
  const ctx = await gpu();
  const gn = groupNormBackward(ctx.zeros([0, 4, 3]), ctx.zeros([0, 4, 3]), { groups: 2, weight: ctx.fromArray([1, 1, 1, 1], [4]), bias: ctx.zeros([4]) });
  t.deepEqual([gn.dx.shape, Array.from(await gn.dweight!.read()), Array.from(await gn.dbias!.read())], [[0, 4, 3], [0, 0, 0, 0], [0, 0, 0, 0]]);
  const rms = rmsNormBackward(ctx.zeros([0, 5]), ctx.zeros([5]), ctx.zeros([0, 5]));
  t.deepEqual(Array.from(await rms.dweight.read()), [0, 0, 0, 0, 0]);
});

// ---- golden: upstream AdaGroupNorm gradients (PyTorch float64 autograd) --------------------------

test('golden grad_ldm_adagroupnorm_c64_e48: dx and d linear.bias through adaGroupNormBackward', async (t) => {
  const ctx = await gpu();
  const gf = await loadGolden('grad/grad_ldm_adagroupnorm_c64_e48.safetensors');
  const shape = gf.entry('in/x').shape;
  const [B, C] = shape as [number, number];
  const cond = gf.f32('in/cond');
  const [E] = [gf.entry('in/cond').shape[1]!];
  const per = cond.length / (B * E);
  const W = gf.f32('linear.weight');
  const bias = gf.f32('linear.bias');
  // e = linear(mean(cond)) in doubles; scale = e[:, :C], shift = e[:, C:].
  const e = new Float64Array(B * 2 * C);
  for (let b = 0; b < B; b++) {
    const m = Array.from({ length: E }, (_, k) => cond.subarray((b * E + k) * per, (b * E + k + 1) * per).reduce((s, v) => s + v, 0) / per);
    for (let j = 0; j < 2 * C; j++) e[b * 2 * C + j] = bias[j]! + m.reduce((s, v, k) => s + v * W[j * E + k]!, 0);
  }
  const half = (o: number) => Float32Array.from({ length: B * C }, (_, i) => e[Math.floor(i / C) * 2 * C + o + (i % C)]!);
  const r = adaGroupNormBackward(ctx.fromArray(gf.f32('in/x'), shape), ctx.fromArray(half(0), [B, C]), ctx.fromArray(half(C), [B, C]), ctx.fromArray(gf.f32('grad_out'), shape));
  const dxRef = gf.f32('ref64/grad_in.x');
  const a = assertClose(t, await r.dx.read(), dxRef, { atol: 1e-4 * maxAbs(dxRef), shape, name: 'grad_in.x' });
  // d linear.bias = sum over the batch of [dscale | dshift].
  const [ds, dh] = [await r.dscale.read(), await r.dshift.read()];
  const db = Float32Array.from({ length: 2 * C }, (_, j) => {
    let s = 0;
    for (let b = 0; b < B; b++) s += j < C ? ds[b * C + j]! : dh[b * C + j - C]!;
    return s;
  });
  const dbRef = gf.f32('ref64/grad_param.linear.bias');
  const c = assertClose(t, db, dbRef, { atol: 1e-4 * maxAbs(dbRef), name: 'grad_param.linear.bias' });
  t.log(`max abs err dx ${a.maxAbs.toExponential(2)}, d bias ${c.maxAbs.toExponential(2)}`);
});

// ---- float64 finite differences of the CPU backward references against the forward references ---

/** Central differences of L = sum(f() * G) at a few entries of `p` (perturbed in place, float64). */
function fdCheck(t: ExecutionContext, name: string, p: Float64Array, analytic: ArrayLike<number>, loss: () => number, rng: Rng, count = 5): void {
  const h = 1e-6;
  const bound = 1e-6 * maxAbs(analytic) + 1e-9;
  let worst = 0;
  for (let k = 0; k < count; k++) {
    const i = rng.int(0, p.length - 1);
    const v = p[i]!;
    p[i] = v + h;
    const lp = loss();
    p[i] = v - h;
    const lm = loss();
    p[i] = v;
    const fd = (lp - lm) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - analytic[i]!));
    if (!(Math.abs(fd - analytic[i]!) <= bound)) t.fail(`${name}[${i}]: fd ${fd}, analytic ${analytic[i]}, bound ${bound.toExponential(2)}`);
  }
  t.pass(`${name}: worst |fd - analytic| ${worst.toExponential(2)} <= ${bound.toExponential(2)}`);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const f64 = (n: number, rng: Rng, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => rng.uniform(lo, hi));

for (const silu of [false, true]) {
  test(`finite differences: groupNormBackwardRef vs groupNormRef (affine, silu=${silu})`, (t) => {
    const rng = Rng.fromString(t.title);
    const shape = [2, 8, 3, 5];
    const [x, G, w, b] = [f64(240, rng, -2, 2), f64(240, rng), f64(8, rng, 0.5, 1.5), f64(8, rng, -0.5, 0.5)];
    const o = { groups: 4, silu, eps: 1e-5 };
    const a = groupNormBackwardRef(x, shape, G, { ...o, weight: w, bias: b });
    const loss = () => dot(groupNormRef(x, shape, { ...o, weight: w, bias: b }), G);
    fdCheck(t, 'dx', x, a.dx, loss, rng);
    fdCheck(t, 'dweight', w, a.dweight!, loss, rng);
    fdCheck(t, 'dbias', b, a.dbias!, loss, rng);
  });
}

test('finite differences: groupNormBackwardRef vs groupNormRef (no affine, 1-sized spatial dims)', (t) => {
  const rng = Rng.fromString(t.title);
  const shape = [1, 6, 1, 7];
  const [x, G] = [f64(42, rng, -2, 2), f64(42, rng)];
  const a = groupNormBackwardRef(x, shape, G, { groups: 3 });
  t.true(a.dweight === null && a.dbias === null);
  fdCheck(t, 'dx', x, a.dx, () => dot(groupNormRef(x, shape, { groups: 3 }), G), rng, 8);
});

for (const affine of [true, false]) {
  test(`finite differences: groupNormBackwardRef framewise vs groupNormFramewiseRef (affine=${affine}, silu)`, (t) => {
    const rng = Rng.fromString(t.title);
    const shape = [2, 8, 3, 2, 3];
    const n = numel(shape);
    const [x, G, w, b] = [f64(n, rng, -1, 2), f64(n, rng), f64(24, rng, 0.5, 1.5), f64(24, rng, -0.5, 0.5)];
    const o = affine ? { silu: true, weight: w, bias: b } : { silu: true };
    const a = groupNormBackwardRef(x, shape, G, { ...o, framewise: true });
    const loss = () => dot(groupNormFramewiseRef(x, shape, o), G);
    fdCheck(t, 'dx', x, a.dx, loss, rng);
    if (affine) {
      fdCheck(t, 'dweight', w, a.dweight!, loss, rng);
      fdCheck(t, 'dbias', b, a.dbias!, loss, rng);
    }
  });
}

for (const silu of [false, true]) {
  test(`finite differences: adaGroupNormBackwardRef vs adaGroupNormRef (silu=${silu})`, (t) => {
    const rng = Rng.fromString(t.title);
    const shape = [2, 8, 2, 3, 2];
    const n = numel(shape);
    const [x, G, sc, sh] = [f64(n, rng, -2, 2), f64(n, rng), f64(16, rng, -0.5, 0.5), f64(16, rng, -0.5, 0.5)];
    const a = adaGroupNormBackwardRef(x, shape, sc, sh, G, { groups: 4, silu });
    const loss = () => dot(adaGroupNormRef(x, shape, sc, sh, { groups: 4, silu }), G);
    fdCheck(t, 'dx', x, a.dx, loss, rng);
    fdCheck(t, 'dscale', sc, a.dscale, loss, rng);
    fdCheck(t, 'dshift', sh, a.dshift, loss, rng);
  });
}

for (const D of [1, 7, 64]) {
  test(`finite differences: rmsNormBackwardRef vs rowNormRef('rms') D=${D}`, (t) => {
    const rng = Rng.fromString(t.title);
    const n = 5 * D;
    const [x, G, w] = [f64(n, rng, -2, 2), f64(n, rng), f64(D, rng, 0.5, 1.5)];
    const a = rmsNormBackwardRef(x, D, w, G);
    const loss = () => dot(rowNormRef('rms', x, D, { weight: w }), G);
    fdCheck(t, 'dx', x, a.dx, loss, rng);
    fdCheck(t, 'dweight', w, a.dweight, loss, rng);
  });
}

// ---- bad input ----------------------------------------------------------------------------------

test('bad input: named KernelArgErrors before anything is dispatched', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 8, 3]);
  const is = { instanceOf: KernelArgError };
  t.throws(() => groupNormBackward(x, ctx.zeros([2, 8, 4]), { groups: 4 }), { ...is, message: /^groupNormBackward: g: shape \[2,8,4\], expected \[2,8,3\]/ });
  t.throws(() => groupNormBackward(x, x, { groups: 3 }), { ...is, message: /^groupNormBackward: groups: 3 groups do not divide C = 8/ });
  t.throws(() => groupNormBackward(x, x), { ...is, message: /^groupNormBackward: groups: 32 groups do not divide C = 8/ });
  t.throws(() => groupNormBackward(ctx.zeros([8]), ctx.zeros([8])), { ...is, message: /^groupNormBackward: x: rank 1, expected \[B, C, \.\.\.spatial\]/ });
  t.throws(() => groupNormBackward(ctx.zeros([2, 8, 3], 'i32'), x, { groups: 4 }), { ...is, message: /^groupNormBackward: x: dtype i32, expected f32/ });
  t.throws(() => groupNormBackward(x, x, { groups: 4, weight: ctx.zeros([8]) }), { ...is, message: /^groupNormBackward: bias: give both weight and bias/ });
  t.throws(() => groupNormBackward(x, x, { groups: 4, weight: ctx.zeros([4]), bias: ctx.zeros([8]) }), { ...is, message: /^groupNormBackward: weight: shape \[4\], expected \[8\]/ });
  t.throws(() => groupNormBackward(x, x, { groups: 4, eps: -1 }), { ...is, message: /^groupNormBackward: eps: expected a finite number >= 0/ });
  t.throws(() => groupNormBackward(x, x, { framewise: true }), { ...is, message: /^groupNormBackward: x: rank 3 \(shape \[2,8,3\]\), expected rank 5/ });
  const v = ctx.zeros([1, 8, 2, 2, 2]);
  t.throws(() => groupNormBackward(v, v, { framewise: true, weight: ctx.zeros([8]), bias: ctx.zeros([8]) }), { ...is, message: /^groupNormBackward: weight: shape \[8\], expected \[16\]/ });
  t.throws(() => groupNormBackward(v, v, { framewise: true, groups: 3 }), { ...is, message: /^groupNormBackward: groups: 3 groups per frame do not divide C = 8/ });

  t.throws(() => adaGroupNormBackward(x, ctx.zeros([2, 8]), ctx.zeros([8]), x, { groups: 4 }), { ...is, message: /^adaGroupNormBackward: shift: shape \[8\], expected \[2,8\]/ });
  t.throws(() => adaGroupNormBackward(x, ctx.zeros([1, 8]), ctx.zeros([2, 8]), x, { groups: 4 }), { ...is, message: /^adaGroupNormBackward: scale: shape \[1,8\], expected \[2,8\]/ });
  t.throws(() => adaGroupNormBackward(x, ctx.zeros([2, 8]), ctx.zeros([2, 8]), ctx.zeros([2, 8])), { ...is, message: /^adaGroupNormBackward: g: shape \[2,8\], expected \[2,8,3\]/ });
  t.throws(() => adaGroupNormBackward(x, ctx.zeros([2, 8]), ctx.zeros([2, 8]), x), { ...is, message: /^adaGroupNormBackward: groups: 32 groups do not divide C = 8/ });

  t.throws(() => rmsNormBackward(ctx.zeros([3, 5]), ctx.zeros([4]), ctx.zeros([3, 5])), { ...is, message: /^rmsNormBackward: weight: shape \[4\], expected \[5\]/ });
  t.throws(() => rmsNormBackward(ctx.zeros([3, 5]), ctx.zeros([5]), ctx.zeros([5, 3])), { ...is, message: /^rmsNormBackward: g: shape \[5,3\], expected \[3,5\]/ });
  t.throws(() => rmsNormBackward(ctx.zeros([3, 5]), ctx.zeros([5]), ctx.zeros([3, 5]), { eps: Number.NaN }), { ...is, message: /^rmsNormBackward: eps: expected a finite number >= 0/ });
  t.throws(() => rmsNormBackward(ctx.zeros([3, 5]), 'w' as never, ctx.zeros([3, 5])), { ...is, message: /^rmsNormBackward: weight: expected a Tensor, got string/ });
});

// ---- LayerNorm backward -------------------------------------------------------------------------

/** LayerNorm's dx cancels like RMSNorm's (D = 1: exactly 0): its error scale is max |rstd w g|. */
function lnScale(x: ArrayLike<number>, D: number, g: ArrayLike<number>, w?: ArrayLike<number>, eps = 1e-5): number {
  let m = 0;
  for (let base = 0; base < x.length; base += D) {
    let mean = 0;
    for (let j = 0; j < D; j++) mean += x[base + j]!;
    mean /= D;
    let q = 0;
    for (let j = 0; j < D; j++) q += (x[base + j]! - mean) ** 2;
    const r = 1 / Math.sqrt(q / D + Math.fround(eps));
    for (let j = 0; j < D; j++) m = Math.max(m, Math.abs(r * (w ? w[j]! : 1) * g[base + j]!));
  }
  return m;
}

type LnAffine = 'none' | 'weight' | 'weight+bias';
// D = 1, odd, the 32-wide stride, long rows; rows 1..37, and 300 rows (two column-sum levels).
const LN_CASES: number[][] = [[1, 1], [37, 1], [5, 7], [300, 7], [1, 64], [2, 13, 64], [2, 150, 64], [3, 1000], [37, 1000]];
for (const shape of LN_CASES) {
  for (const affine of ['none', 'weight', 'weight+bias'] as LnAffine[]) {
    test(`layerNormBackward x=[${shape}] ${affine}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const D = shape[shape.length - 1]!;
      const x = rng.array(numel(shape), -2, 3);
      const g = rng.array(numel(shape), -1, 1);
      const w = affine !== 'none' ? rng.array(D, -1.5, 1.5) : undefined;
      const b = affine === 'weight+bias' ? rng.array(D, -0.5, 0.5) : undefined;
      const r = layerNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), { weight: w && ctx.fromArray(w, [D]), bias: b && ctx.fromArray(b, [D]) });
      const ref = layerNormBackwardRef(x, D, g, { weight: w, bias: b });
      t.deepEqual(r.dx.shape, shape);
      close(t, await r.dx.read(), ref.dx, 'dx', shape, lnScale(x, D, g, w));
      t.is(r.dweight === null, !w);
      t.is(r.dbias === null, !b);
      if (w) {
        t.deepEqual(r.dweight!.shape, [D]);
        close(t, await r.dweight!.read(), ref.dweight!, 'dweight');
      }
      if (b) {
        t.deepEqual(r.dbias!.shape, [D]);
        close(t, await r.dbias!.read(), ref.dbias!, 'dbias');
      }
    });
  }
}

test('layerNormBackward eps 1e-2 with tiny rows (eps dominates the variance)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape = [9, 33];
  const x = rng.array(numel(shape), -3e-2, 3e-2);
  const g = rng.array(numel(shape), -1, 1);
  const w = rng.array(33, -1, 1);
  const r = layerNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), { weight: ctx.fromArray(w, [33]), eps: 1e-2 });
  const ref = layerNormBackwardRef(x, 33, g, { weight: w, eps: 1e-2 });
  close(t, await r.dx.read(), ref.dx, 'dx', shape, lnScale(x, 33, g, w, 1e-2));
  close(t, await r.dweight!.read(), ref.dweight!, 'dweight');
});

test('layerNormBackward: large mean (|mean| / std = 1000) stays accurate', async (t) => {
  const ctx = await gpu();
  const shape = [40, 1000];
  const D = 1000;
  const rng = Rng.fromString(t.title);
  const x = new Float32Array(numel(shape)).map(() => -1000 + rng.normal());
  const g = rng.array(numel(shape), -1, 1);
  const w = rng.array(D, 0.5, 1.5);
  const b = rng.array(D, -0.5, 0.5);
  const r = layerNormBackward(ctx.fromArray(x, shape), ctx.fromArray(g, shape), { weight: ctx.fromArray(w, [D]), bias: ctx.fromArray(b, [D]) });
  const ref = layerNormBackwardRef(x, D, g, { weight: w, bias: b });
  // The same budget as O(1) data: the kernel corrects the f32 mean's rounding (~6e-5 here) by sum(x - mean).
  close(t, await r.dx.read(), ref.dx, 'dx', shape, lnScale(x, D, g, w));
  close(t, await r.dweight!.read(), ref.dweight!, 'dweight');
  close(t, await r.dbias!.read(), ref.dbias!, 'dbias');
});

test('layerNormBackward is bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape = [300, 1000];
  const x = ctx.fromArray(rng.array(numel(shape), -1, 2), shape);
  const g = ctx.fromArray(rng.array(numel(shape)), shape);
  const w = ctx.fromArray(rng.array(1000, 0.5, 1.5), [1000]);
  const b = ctx.fromArray(rng.array(1000), [1000]);
  const run = async () => {
    const r = layerNormBackward(x, g, { weight: w, bias: b });
    return [await r.dx.read(), await r.dweight!.read(), await r.dbias!.read()];
  };
  t.deepEqual(await run(), await run());
});

test('layerNormBackward: empty inputs give empty dx and zero parameter gradients', async (t) => {
  const ctx = await gpu();
  const r = layerNormBackward(ctx.zeros([0, 5]), ctx.zeros([0, 5]), { weight: ctx.zeros([5]), bias: ctx.zeros([5]) });
  t.deepEqual([r.dx.shape, Array.from(await r.dweight!.read()), Array.from(await r.dbias!.read())], [[0, 5], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
  const n = layerNormBackward(ctx.zeros([3, 0]), ctx.zeros([3, 0]));
  t.true(n.dweight === null && n.dbias === null);
});

for (const D of [1, 7, 64]) {
  for (const affine of ['none', 'weight', 'weight+bias'] as LnAffine[]) {
    test(`finite differences: layerNormBackwardRef vs rowNormRef('layer') D=${D} ${affine}`, (t) => {
      const rng = Rng.fromString(t.title);
      const n = 5 * D;
      const [x, G, w, b] = [f64(n, rng, -2, 2), f64(n, rng), f64(D, rng, -1.5, 1.5), f64(D, rng, -0.5, 0.5)];
      const o = affine === 'none' ? {} : affine === 'weight' ? { weight: w } : { weight: w, bias: b };
      const a = layerNormBackwardRef(x, D, G, o);
      const loss = () => dot(rowNormRef('layer', x, D, o), G);
      fdCheck(t, 'dx', x, a.dx, loss, rng);
      t.is(a.dweight === null, affine === 'none');
      t.is(a.dbias === null, affine !== 'weight+bias');
      if (a.dweight) fdCheck(t, 'dweight', w, a.dweight, loss, rng);
      if (a.dbias) fdCheck(t, 'dbias', b, a.dbias, loss, rng);
    });
  }
}

test('finite differences: layerNormBackwardRef with a large mean and eps 1e-3', (t) => {
  const rng = Rng.fromString(t.title);
  const D = 16;
  const [x, G, w, b] = [f64(3 * D, rng, 99, 101), f64(3 * D, rng), f64(D, rng, 0.5, 1.5), f64(D, rng)];
  const o = { weight: w, bias: b, eps: 1e-3 };
  const a = layerNormBackwardRef(x, D, G, o);
  const loss = () => dot(rowNormRef('layer', x, D, o), G);
  fdCheck(t, 'dx', x, a.dx, loss, rng, 8);
  fdCheck(t, 'dweight', w, a.dweight!, loss, rng);
  fdCheck(t, 'dbias', b, a.dbias!, loss, rng);
});

test('layerNormBackward bad input: named KernelArgErrors', async (t) => {
  const ctx = await gpu();
  const is = { instanceOf: KernelArgError };
  const x = ctx.zeros([3, 5]);
  t.throws(() => layerNormBackward(x, ctx.zeros([5, 3])), { ...is, message: /^layerNormBackward: g: shape \[5,3\], expected \[3,5\]/ });
  t.throws(() => layerNormBackward(x, x, { weight: ctx.zeros([4]) }), { ...is, message: /^layerNormBackward: weight: shape \[4\], expected \[5\]/ });
  t.throws(() => layerNormBackward(x, x, { bias: ctx.zeros([5]) }), { ...is, message: /^layerNormBackward: bias: a bias needs a weight too/ });
  t.throws(() => layerNormBackward(x, x, { weight: ctx.zeros([5]), bias: ctx.zeros([6]) }), { ...is, message: /^layerNormBackward: bias: shape \[6\], expected \[5\]/ });
  t.throws(() => layerNormBackward(x, x, { eps: -1 }), { ...is, message: /^layerNormBackward: eps: expected a finite number >= 0/ });
  t.throws(() => layerNormBackward(ctx.zeros([3, 5], 'i32'), x), { ...is, message: /^layerNormBackward: x: dtype i32, expected f32/ });
  t.throws(() => layerNormBackward(x, 'g' as never), { ...is, message: /^layerNormBackward: g: expected a Tensor, got string/ });
  t.throws(() => layerNormBackward(ctx.fromArray([1], []), ctx.fromArray([1], [])), { ...is, message: /^layerNormBackward: x: rank 0, expected \[\.\.\., D\]/ });
});
