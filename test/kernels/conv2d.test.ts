import test from 'ava';
import { KernelArgError, PackedConvWeight, conv2d, conv2dGeometry, convRef, upsampleNearest2x } from '../../kernels/index.js';
import { convTolerance } from '../../kernels/internal.js';
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
});
