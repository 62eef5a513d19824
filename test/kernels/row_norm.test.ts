import test from 'ava';
import { KernelArgError, layerNorm, rmsNorm, rowNormRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// kernels/row_norm.ts: atol 2e-6 + rtol 2e-6 for O(1) data.
const TOL = { atol: 2e-6, rtol: 2e-6 };

// [shape]: D = 1 (LayerNorm output is exactly the bias), odd D below and above the workgroup
// width, D = 1023, the InternLM [19, 1024] and a QFormer [1, 1, 512] row.
const SHAPES = [[3, 1], [7], [2, 3, 7], [5, 65], [2, 1023], [19, 1024], [1, 1, 512]];

for (const shape of SHAPES) {
  for (const kind of ['layer', 'rms'] as const) {
    test(`row_norm ${kind} x=[${shape}]`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const D = shape[shape.length - 1]!;
      const x = rng.array(shape.reduce((a, b) => a * b, 1), -2, 3);
      const w = rng.array(D, 0.5, 1.5);
      const b = rng.array(D, -0.5, 0.5);
      const xt = ctx.fromArray(x, shape);
      const wt = ctx.fromArray(w, [D]);
      if (kind === 'layer') {
        assertClose(t, await layerNorm(xt, { weight: wt, bias: ctx.fromArray(b, [D]) }).read(), rowNormRef('layer', x, D, { weight: w, bias: b }), { ...TOL, shape, name: 'affine' });
        assertClose(t, await layerNorm(xt).read(), rowNormRef('layer', x, D), { ...TOL, shape, name: 'no affine' });
      } else {
        assertClose(t, await rmsNorm(xt, { weight: wt }).read(), rowNormRef('rms', x, D, { weight: w }), { ...TOL, shape, name: 'weight' });
        assertClose(t, await rmsNorm(xt).read(), rowNormRef('rms', x, D), { ...TOL, shape, name: 'no weight' });
      }
    });
  }
}

test('row_norm layerNorm: large mean (|mean| / std = 1000) stays accurate', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const x = new Float32Array(4 * 999).map(() => 1000 + rng.normal());
  // One-pass E[x^2] - E[x]^2 would be off by ~3e-2; f32 rounding of x and mean costs ~6e-5.
  const r = assertClose(t, await layerNorm(ctx.fromArray(x, [4, 999])).read(), rowNormRef('layer', x, 999), { atol: 1e-4 });
  t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
});

test('row_norm random shapes and eps (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 8; k++) {
    const shape = Array.from({ length: rng.int(1, 3) }, () => rng.int(1, 300));
    const D = shape[shape.length - 1]!;
    const kind = rng.pick(['layer', 'rms'] as const);
    const eps = rng.pick([1e-5, 1e-6, 0.1]);
    const x = rng.array(shape.reduce((a, b) => a * b, 1), -3, 3);
    const w = rng.array(D);
    const out = ctx.tensor(shape);
    const y = kind === 'layer' ? layerNorm(ctx.fromArray(x, shape), { weight: ctx.fromArray(w, [D]), eps }, out) : rmsNorm(ctx.fromArray(x, shape), { weight: ctx.fromArray(w, [D]), eps }, out);
    t.is(y, out);
    assertClose(t, await out.read(), rowNormRef(kind, x, D, { weight: w, eps }), { ...TOL, shape, name: `seed ${rng.seed} ${kind} [${shape}] eps ${eps}` });
  }
});

test('row_norm: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 6]);
  t.throws(() => layerNorm(x, { weight: ctx.zeros([5]) }), { instanceOf: KernelArgError, message: /^layerNorm: weight: shape \[5\], expected \[6\]/ });
  t.throws(() => layerNorm(x, { bias: ctx.zeros([6]) }), { message: /^layerNorm: bias: a bias needs a weight/ });
  t.throws(() => rmsNorm(x, { weight: ctx.zeros([6]), bias: ctx.zeros([6]) } as never), { message: /^rmsNorm: bias: RMSNorm has no bias/ });
  t.throws(() => rmsNorm(x, { eps: NaN }), { message: /^rmsNorm: eps:/ });
  t.throws(() => rmsNorm(ctx.zeros([6], 'i32')), { message: /^rmsNorm: x: dtype i32/ });
  t.throws(() => layerNorm(x, {}, ctx.zeros([6, 2])), { message: /^layerNorm: out: shape \[6,2\], expected \[2,6\]/ });
});
