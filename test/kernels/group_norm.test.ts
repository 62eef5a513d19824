import test from 'ava';
import {
  KernelArgError,
  adaGroupNorm,
  adaGroupNormRef,
  causalConv3d,
  conv2d,
  groupNorm,
  groupNormFramewise,
  groupNormFramewiseRef,
  groupNormRef,
  groupNormStats,
  linear,
  meanPool,
} from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { NORM_LAYOUTS, NORM_LAYOUT_CASES } from '../helpers/norm-layouts.js';
import { Rng } from '../helpers/rng.js';

// kernels/group_norm.ts: O(1) data within atol 2e-6 + rtol 2e-6 of the double reference.
const TOL = { atol: 2e-6, rtol: 2e-6 };
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// [shape, groups]: C not a multiple of 4, 1-sized dims, T = 1, one element per group, rows longer
// than one 4096-element chunk (partials merged), and > 4096 partials per set (two merge levels).
const GN_CASES: [number[], number][] = [
  [[2, 6, 5], 3],
  [[1, 7, 1, 1, 1], 7],
  [[3, 5, 1], 5],
  [[1, 64, 5, 6, 6], 32],
  [[2, 32, 1, 3, 5], 32],
  [[1, 8, 2, 45, 50], 4],
  [[1, 4100, 1], 1],
];

for (const [shape, groups] of GN_CASES) {
  for (const silu of [false, true]) {
    test(`groupNorm x=[${shape}] groups=${groups} affine silu=${silu}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const C = shape[1]!;
      const x = rng.array(numel(shape), -2, 3);
      const w = rng.array(C, 0.5, 1.5);
      const b = rng.array(C, -0.5, 0.5);
      const y = groupNorm(ctx.fromArray(x, shape), { groups, weight: ctx.fromArray(w, [C]), bias: ctx.fromArray(b, [C]), silu });
      assertClose(t, await y.read(), groupNormRef(x, shape, { groups, weight: w, bias: b, silu }), { ...TOL, shape, name: t.title });
    });
  }
}

test('groupNorm: whole-vec4 chunks take group_norm_vec4 and write every element of a caller\'s out', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape = [2, 8, 3, 20];  // rows of 60 floats: whole vec4s
  const x = rng.array(numel(shape), -2, 3);
  const w = rng.array(8, 0.5, 1.5);
  const b = rng.array(8, -0.5, 0.5);
  const out = ctx.fromArray(new Float32Array(numel(shape)).fill(NaN), shape);
  t.is(groupNorm(ctx.fromArray(x, shape), { groups: 4, weight: ctx.fromArray(w, [8]), bias: ctx.fromArray(b, [8]), silu: true }, out), out);
  assertClose(t, await out.read(), groupNormRef(x, shape, { groups: 4, weight: w, bias: b, silu: true }), { ...TOL, shape, name: t.title });
  t.true(ctx.pipelineSpecs().some((p) => p.shader === 'group_norm_vec4'), 'group_norm_vec4 ran');
});

test('groupNorm without affine, default 32 groups and eps 1e-6', async (t) => {
  const ctx = await gpu();
  const shape = [2, 64, 3, 4, 5];
  const x = Rng.fromString(t.title).array(numel(shape), -1, 1);
  assertClose(t, await groupNorm(ctx.fromArray(x, shape)).read(), groupNormRef(x, shape), { ...TOL, shape });
});

test('groupNorm: large mean (|mean| / std = 1000) stays accurate (stable variance)', async (t) => {
  const ctx = await gpu();
  const shape = [1, 4, 3, 50, 50];
  const rng = Rng.fromString(t.title);
  const x = new Float32Array(numel(shape)).map(() => 1000 + rng.normal());
  // E[x^2] - E[x]^2 in f32 would be off by ~1e6 * 6e-8 = 0.06 in a variance of 1 (error ~3e-2 in y).
  // The f32 rounding of x and mean alone costs ~1000 * 6e-8 = 6e-5.
  const r = assertClose(t, await groupNorm(ctx.fromArray(x, shape), { groups: 2 }).read(), groupNormRef(x, shape, { groups: 2 }), { atol: 1e-4, shape });
  t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
});

test('groupNormStats: count, mean, biased M2 per set, merged across chunks', async (t) => {
  const ctx = await gpu();
  const shape = [2, 6, 3, 40, 41];
  const x = Rng.fromString(t.title).array(numel(shape), 4, 6);
  const stats = await groupNormStats(ctx.fromArray(x, shape), { groups: 3 }).read();
  const per = numel(shape) / 6;
  const ref: number[] = [];
  for (let s = 0; s < 6; s++) {
    const v = x.subarray(s * per, (s + 1) * per);
    const mean = v.reduce((a, b) => a + b, 0) / per;
    ref.push(per, mean, v.reduce((a, b) => a + (b - mean) ** 2, 0));
  }
  assertClose(t, stats, ref, { rtol: 2e-6, shape: [6, 3] });
});

// Frame-wise (LA) norm: T = 5 as in the encoder, T = 1, C/4 not a multiple of 4, H*W over one chunk.
const LA_CASES: number[][] = [
  [2, 12, 5, 6, 7],
  [1, 8, 1, 3, 5],
  [1, 4, 3, 1, 1],
  [1, 20, 2, 4, 3],
  [1, 4, 2, 65, 65],
];
for (const shape of LA_CASES) {
  test(`groupNormFramewise x=[${shape}] affine + silu`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const [, C, T] = shape as [number, number, number];
    const x = rng.array(numel(shape), -1, 2);
    const w = rng.array(T * C, 0.5, 1.5);
    const b = rng.array(T * C, -0.5, 0.5);
    const xt = ctx.fromArray(x, shape);
    const wt = ctx.fromArray(w, [T * C]);
    const bt = ctx.fromArray(b, [T * C]);
    for (const silu of [false, true]) {
      const y = groupNormFramewise(xt, { weight: wt, bias: bt, silu });
      assertClose(t, await y.read(), groupNormFramewiseRef(x, shape, { weight: w, bias: b, silu }), { ...TOL, shape, name: `${t.title} silu=${silu}` });
    }
  });
}

test('groupNormFramewise: statistics never mix frames', async (t) => {
  const ctx = await gpu();
  const shape = [1, 8, 3, 4, 4];
  const x = Rng.fromString(t.title).array(numel(shape));
  const y0 = await groupNormFramewise(ctx.fromArray(x, shape)).read();
  // Scaling frame 2 by 100 and shifting it leaves frames 0 and 1 unchanged.
  const x2 = x.slice();
  for (let c = 0; c < 8; c++) for (let i = 0; i < 16; i++) x2[c * 48 + 32 + i] = 100 * x2[c * 48 + 32 + i]! + 7;
  const y1 = await groupNormFramewise(ctx.fromArray(x2, shape)).read();
  const firstFrames = (y: Float32Array) => Array.from({ length: 8 }, (_, c) => [...y.subarray(c * 48, c * 48 + 32)]).flat();
  assertClose(t, firstFrames(y1), firstFrames(y0), { atol: 1e-6 });
});

test('adaGroupNorm random (scale, shift per batch and channel)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const [shape, groups] of [[[2, 64, 5, 3, 3], 32], [[3, 6, 1, 1, 7], 3]] as [number[], number][]) {
    const [B, C] = shape as [number, number];
    const x = rng.array(numel(shape), -1, 1);
    const sc = rng.array(B * C, -0.5, 0.5);
    const sh = rng.array(B * C, -1, 1);
    const y = adaGroupNorm(ctx.fromArray(x, shape), ctx.fromArray(sc, [B, C]), ctx.fromArray(sh, [B, C]), { groups, silu: groups === 3 });
    assertClose(t, await y.read(), adaGroupNormRef(x, shape, sc, sh, { groups, silu: groups === 3 }), { ...TOL, shape, name: `[${shape}]` });
  }
});

// The tuning table's normLaneLen picks one invocation per row (short rows) or one workgroup per
// chunk; both must hold on every shape, whatever this adapter's entry picks by default.
for (const [name, normLaneLen] of NORM_LAYOUTS) {
  test.serial(`groupNorm, groupNormFramewise, groupNormStats with ${name} (normLaneLen ${normLaneLen})`, async (t) => {
    const ctx = await gpu();
    const prev = ctx.tune({ normLaneLen });
    try {
      const rng = Rng.fromString(t.title);
      for (const [shape, groups] of NORM_LAYOUT_CASES) {
        const C = shape[1]!;
        const x = rng.array(numel(shape), -2, 3);
        const w = rng.array(C, 0.5, 1.5);
        const b = rng.array(C, -0.5, 0.5);
        const y = groupNorm(ctx.fromArray(x, shape), { groups, weight: ctx.fromArray(w, [C]), bias: ctx.fromArray(b, [C]), silu: true });
        assertClose(t, await y.read(), groupNormRef(x, shape, { groups, weight: w, bias: b, silu: true }), { ...TOL, shape, name: `[${shape}]` });
      }
      const shape = [2, 8, 3, 4, 5];
      const x = rng.array(numel(shape), -2, 3);
      const y = groupNormFramewise(ctx.fromArray(x, shape), { groups: 4 });
      assertClose(t, await y.read(), groupNormFramewiseRef(x, shape, { groups: 4 }), { ...TOL, shape, name: 'framewise' });
    } finally {
      ctx.tune(prev);
    }
  });
}

test('groupNorm family random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 8; k++) {
    const G = rng.int(1, 5);
    const shape = [rng.int(1, 3), G * rng.int(1, 4), ...Array.from({ length: rng.int(0, 3) }, () => rng.int(1, 9))];
    const x = rng.array(numel(shape), -3, 3);
    const out = ctx.tensor(shape);
    t.is(groupNorm(ctx.fromArray(x, shape), { groups: G, eps: 1e-5 }, out), out);
    assertClose(t, await out.read(), groupNormRef(x, shape, { groups: G, eps: 1e-5 }), { ...TOL, shape, name: `seed ${rng.seed} [${shape}] G=${G}` });
  }
});

test('groupNorm family: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 6, 3]);
  t.throws(() => groupNorm(x, { groups: 4 }), { instanceOf: KernelArgError, message: /^groupNorm: groups: 4 groups do not divide C = 6/ });
  t.throws(() => groupNorm(ctx.zeros([6])), { message: /^groupNorm: x: rank 1/ });
  t.throws(() => groupNorm(x, { groups: 3, weight: ctx.zeros([6]) }), { message: /^groupNorm: bias: give both weight and bias/ });
  t.throws(() => groupNorm(x, { groups: 3, weight: ctx.zeros([5]), bias: ctx.zeros([6]) }), { message: /^groupNorm: weight: shape \[5\], expected \[6\]/ });
  t.throws(() => groupNorm(x, { groups: 3, eps: -1 }), { message: /^groupNorm: eps:/ });
  t.throws(() => groupNorm(x, { groups: 3 }, x), { message: /^groupNorm: out: must not share/ });
  t.throws(() => groupNormFramewise(x), { message: /^groupNormFramewise: x: rank 3 .*expected rank 5/ });
  t.throws(() => groupNormFramewise(ctx.zeros([1, 6, 2, 2, 2])), { message: /^groupNormFramewise: groups: 4 groups per frame do not divide C = 6/ });
  t.throws(() => groupNormFramewise(ctx.zeros([1, 4, 2, 2, 2]), { weight: ctx.zeros([4]), bias: ctx.zeros([4]) }), { message: /^groupNormFramewise: weight: shape \[4\], expected \[8\]/ });
  t.throws(() => adaGroupNorm(x, ctx.zeros([2, 6]), ctx.zeros([6]), { groups: 3 }), { message: /^adaGroupNorm: shift: rank 1|^adaGroupNorm: shift: shape \[6\], expected \[2,6\]/ });
});

// ---- goldens (max abs error <= 1e-4, golden README) ------------------------------------------

for (const name of ['ldm_adagroupnorm_c64_e48', 'ldm_adagroupnorm_c128_e512']) {
  test(`golden ${name}: linear(meanPool(cond)) -> adaGroupNorm`, async (t) => {
    const ctx = await gpu();
    const g = await loadGolden(name);
    const [x, cond, w, b] = ['in/x', 'in/cond', 'linear.weight', 'linear.bias'].map((k) => ctx.fromArray(g.f32(k), g.entry(k).shape));
    const C = x!.shape[1]!;
    const B = x!.shape[0]!;
    const e = linear(meanPool(cond!), w!, b);
    // [scale | shift] halves of the linear output; a [B, 2C] row split is a strided copy, done on the host here.
    const ev = await e.read();
    const half = (o: number) => Float32Array.from({ length: B * C }, (_, i) => ev[Math.floor(i / C) * 2 * C + o + (i % C)]!);
    const y = adaGroupNorm(x!, ctx.fromArray(half(0), [B, C]), ctx.fromArray(half(C), [B, C]));
    const r = assertClose(t, await y.read(), g.f32('out/y'), { atol: 1e-4, shape: x!.shape, name });
    t.log(`max abs err ${r.maxAbs.toExponential(2)} vs out/y`);
  });
}

test('golden ldm_residual_c32: GN+SiLU -> causalConv3d -> GN+SiLU -> causalConv3d + x', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_residual_c32');
  const p = (k: string) => ctx.fromArray(g.f32(k), g.entry(k).shape);
  const x = p('in/x');
  let h = groupNorm(x, { weight: p('_residual.0.weight'), bias: p('_residual.0.bias'), silu: true });
  h = causalConv3d(h, p('_residual.2.conv.weight'), { bias: p('_residual.2.conv.bias') });
  h = groupNorm(h, { weight: p('_residual.3.weight'), bias: p('_residual.3.bias'), silu: true });
  h = causalConv3d(h, p('_residual.5.conv.weight'), { bias: p('_residual.5.conv.bias'), residual: x });
  const r = assertClose(t, await h.read(), g.f32('out/y'), { atol: 1e-4, shape: x.shape });
  t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
});

test('golden ldm_residual_la_c12_f5: frame-wise GN+SiLU -> causalConv3d, twice, + x', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_residual_la_c12_f5');
  const p = (k: string) => ctx.fromArray(g.f32(k), g.entry(k).shape);
  const x = p('in/x');
  let h = groupNormFramewise(x, { weight: p('_residual.0.weight'), bias: p('_residual.0.bias'), silu: true });
  h = causalConv3d(h, p('_residual.2.conv.weight'), { bias: p('_residual.2.conv.bias') });
  h = groupNormFramewise(h, { weight: p('_residual.3.weight'), bias: p('_residual.3.bias'), silu: true });
  h = causalConv3d(h, p('_residual.5.conv.weight'), { bias: p('_residual.5.conv.bias'), residual: x });
  const r = assertClose(t, await h.read(), g.f32('out/y'), { atol: 1e-4, shape: x.shape });
  t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
});

test('golden falcon_vqgan_residual_c64: GN+SiLU -> conv2d, twice, + x', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('falcon_vqgan_residual_c64');
  const p = (k: string) => ctx.fromArray(g.f32(k), g.entry(k).shape);
  const x = p('in/x');
  let h = groupNorm(x, { weight: p('_residual.0.weight'), bias: p('_residual.0.bias'), silu: true });
  h = conv2d(h, p('_residual.2.weight'), { bias: p('_residual.2.bias') });
  h = groupNorm(h, { weight: p('_residual.3.weight'), bias: p('_residual.3.bias'), silu: true });
  h = conv2d(h, p('_residual.5.weight'), { bias: p('_residual.5.bias'), residual: x });
  const r = assertClose(t, await h.read(), g.f32('out/y'), { atol: 1e-4, shape: x.shape });
  t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
});
