import test from 'ava';
import { KernelArgError, PackedConvWeight, conv2d, conv2dGeometry, convRef, groupNorm, groupNormRef, upsampleNearest2x } from '../../kernels/index.js';
import { convTolerance, withKnobs } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// conv2d runs conv3d_causal's kernel (T = KT = 1); its tiles and variants are tested there.
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const GOLDEN_TOL = 1e-4;

test('conv2d: 3x3 pad 1, 1x1, Downsample (pad bottom/right 1, stride 2), odd shapes', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const cases: [number[], number[], Parameters<typeof conv2d>[2]][] = [
    [[1, 3, 7, 9], [5, 3, 3, 3], {}],
    [[2, 6, 5, 4], [3, 6, 1, 1], {}],
    [[1, 4, 9, 8], [6, 4, 3, 3], { stride: 2, padding: [0, 1, 0, 1] }],
    [[1, 5, 1, 1], [2, 5, 3, 3], { activation: 'silu' }],
  ];
  for (const [xs, ws, o] of cases) {
    const g = conv2dGeometry(xs, ws, o?.stride, o?.padding);
    const x = rng.array(numel(xs));
    const w = rng.array(numel(ws));
    const bias = rng.array(ws[0]!);
    const y = conv2d(ctx.fromArray(x, xs), ctx.fromArray(w, ws), { ...o, bias: ctx.fromArray(bias, [ws[0]!]) });
    const oshape = [g.b, g.cout, g.ho, g.wo];
    t.deepEqual(y.shape, oshape);
    assertClose(t, await y.read(), convRef(x, w, g, { bias, activation: o?.activation }), { ...convTolerance(g), shape: oshape, name: `x=[${xs}] w=[${ws}]` });
  }
});

test('golden falcon_vqgan_downsample_c32 (pad right/bottom 1, conv 3x3 stride 2)', async (t) => {
  const ctx = await gpu();
  const f = await loadGolden('falcon_vqgan_downsample_c32');
  const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
  const y = conv2d(g('in/x'), g('_conv.weight'), { bias: g('_conv.bias'), stride: 2, padding: [0, 1, 0, 1] });
  t.deepEqual(y.shape, f.entry('out/y').shape);
  assertClose(t, await y.read(), f.f32('out/y'), { atol: GOLDEN_TOL, shape: y.shape });
});

test('golden falcon_vqgan_upsample_c32 (nearest 2x, conv 3x3 pad 1)', async (t) => {
  const ctx = await gpu();
  const f = await loadGolden('falcon_vqgan_upsample_c32');
  const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
  const y = conv2d(upsampleNearest2x(g('in/x')), g('_conv.weight'), { bias: g('_conv.bias') });
  t.deepEqual(y.shape, f.entry('out/y').shape);
  assertClose(t, await y.read(), f.f32('out/y'), { atol: GOLDEN_TOL, shape: y.shape });
});

// inputNorm: the Winograd input transform normalises as it reads (both tiles), the direct kernel
// gets groupNorm's output. Against groupNorm-then-conv2d on the same path (the same f32 formula,
// up to FMA contraction: 1e-5) and against the double reference (Winograd F(4x4)'s tolerance,
// kernels/conv_winograd.ts; inputs with |mean| 3 >> std to catch x * a + (shift - mean a)).
const NORM_CASES: [number[], number[], number, boolean, boolean][] = [
  // x, w, groups, silu, packed
  [[2, 32, 9, 11], [16, 32, 3, 3], 8, true, true],
  [[1, 16, 33, 34], [20, 16, 3, 3], 4, false, true],
  [[1, 16, 5, 6], [16, 16, 3, 3], 16, true, false],
  [[1, 24, 6, 5], [8, 24, 1, 1], 3, true, true],
  [[2, 16, 7, 16], [16, 16, 3, 3], 4, true, true],
];
for (const [xs, ws, groups, silu, packed] of NORM_CASES) {
  // 6: the Winograd path with F(6x6) tiles (three vec4s a patch row where W % 4 == 0).
  for (const winograd of [undefined, true, false, 6] as const) {
    test(`conv2d inputNorm x=[${xs}] w=[${ws}] groups ${groups}${silu ? ' silu' : ''}${packed ? ' packed' : ''} convWinograd ${winograd}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const g = conv2dGeometry(xs, ws);
      const [C, Cout] = [xs[1]!, ws[0]!];
      const x = rng.array(numel(xs)).map((v) => v + 3);
      const w = rng.array(numel(ws));
      const [gamma, beta, bias] = [rng.array(C).map((v) => 1 + v / 2), rng.array(C), rng.array(Cout)];
      const res = rng.array(g.b * Cout * g.ho * g.wo);
      const oshape = [g.b, Cout, g.ho, g.wo];
      const xt = ctx.fromArray(x, xs);
      const wt = packed ? PackedConvWeight.pack(ctx.fromArray(w, ws)) : ctx.fromArray(w, ws);
      const norm = { weight: ctx.fromArray(gamma, [C]), bias: ctx.fromArray(beta, [C]), groups, silu };
      const o = { bias: ctx.fromArray(bias, [Cout]), residual: ctx.fromArray(res, oshape) };
      const [f, u] = withKnobs(winograd === 6 ? { convWinograd: true, winogradTile: 6 } : { convWinograd: winograd }, () => [conv2d(xt, wt, { ...o, inputNorm: norm }), conv2d(groupNorm(xt, norm), wt, o)]);
      const [fused, unfused] = [await f!.read(), await u!.read()];
      assertClose(t, fused, unfused, { atol: 1e-5, rtol: 1e-5, shape: oshape, name: 'fused vs groupNorm then conv2d' });
      const xn = groupNormRef(x, xs, { groups, eps: 1e-6, weight: gamma, bias: beta, silu });
      const tol = winograd === false || !packed || ws[2] !== 3 ? convTolerance(g) : { atol: (winograd === 6 ? 1e-4 : 5e-5) * Math.sqrt(9 * C), rtol: 1e-5 };
      assertClose(t, fused, convRef(xn, w, g, { bias, residual: res }), { ...tol, shape: oshape, name: 'fused vs reference' });
    });
  }
}

test('conv2d: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([1, 3, 2, 4, 4]);
  const w = ctx.zeros([4, 3, 3, 3, 3]);
  t.throws(() => conv2d(ctx.zeros([1, 3, 4, 4]), ctx.zeros([4, 3, 3, 3]), { padding: [0, 3, 0, 0] }), { instanceOf: KernelArgError, message: /^conv2d: padding:/ });
  t.throws(() => conv2d(ctx.zeros([1, 3, 4, 4]), ctx.zeros([4, 3, 3, 3]), { stride: 3 }), { instanceOf: KernelArgError, message: /^conv2d: stride:/ });
  t.throws(() => conv2d(x, w), { instanceOf: KernelArgError, message: /^conv2d: x: rank 5/ });
  t.throws(() => conv2d(ctx.zeros([1, 3, 4, 4]), PackedConvWeight.pack(w)), { instanceOf: KernelArgError, message: /^conv2d: weight: packed from rank 5/ });
  t.throws(() => conv2d(ctx.zeros([1, 3, 4, 4]), ctx.zeros([4, 3, 2, 2])), { instanceOf: KernelArgError, message: /^conv2d: weight: kernel size 2/ });
  t.throws(() => conv2d(ctx.zeros([1, 3, 4, 4]), ctx.zeros([4, 5, 3, 3])), { instanceOf: KernelArgError, message: /^conv2d: weight: .*Cin 5.*Cin 3/ });
  const norm = { weight: ctx.zeros([4]), bias: ctx.zeros([4]) };
  t.throws(() => conv2d(ctx.zeros([1, 4, 4, 4]), ctx.zeros([4, 4, 3, 3]), { inputNorm: { ...norm, groups: 3 } }), { instanceOf: KernelArgError, message: /^conv2d: groups: 3 groups do not divide C = 4/ });
  t.throws(() => conv2d(ctx.zeros([1, 4, 4, 4]), ctx.zeros([4, 4, 3, 3]), { inputNorm: { ...norm, groups: 2, weight: ctx.zeros([3]) } }), { instanceOf: KernelArgError, message: /^conv2d: inputNorm.weight:/ });
  t.throws(() => conv2d(ctx.zeros([1, 4, 4, 4]), ctx.zeros([4, 4, 3, 3]), { inputNorm: { ...norm, groups: 2, eps: -1 } }), { instanceOf: KernelArgError, message: /^conv2d: inputNorm.eps:/ });
});
