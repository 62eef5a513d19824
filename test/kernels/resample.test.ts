// resample: nearest 2x upsampling and 2x2 depth-to-space, forward and backward, against the CPU
// references on NCHW / NCDHW shapes with odd and 1-sized dims; the backward reference against
// float64 finite differences of the forward reference; bad inputs.
import test from 'ava';
import { KernelArgError } from '../../kernels/index.js';
import { type ResampleMode, depthToSpace2x, depthToSpace2xBackward, resampleBackwardRef, resampleRef, resampleShape, upsampleNearest2x, upsampleNearest2xBackward } from '../../kernels/resample.js';
import { assertClose, assertEqualInts } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

const FWD = { nearest2x: upsampleNearest2x, depthToSpace2x } as const;
const BWD = { nearest2x: upsampleNearest2xBackward, depthToSpace2x: depthToSpace2xBackward } as const;
/** Nearest backward vs the float64 sum: three float32 additions of |g| <= 1 (kernels/resample.ts). */
const NEAREST_BWD_TOL = 3 * 2 ** -24 * 4;

// Input shapes (the forward's x; the backward gets g of the forward output's shape).
const SHAPES: Record<ResampleMode, number[][]> = {
  // W % 4 == 0 (the last three) takes resample_nearest4.
  nearest2x: [[1, 1, 1, 1], [2, 3, 5, 7], [1, 32, 3, 5], [2, 3, 1, 4, 3], [1, 2, 3, 1, 5], [3, 5, 33, 17], [1, 1, 1, 4], [2, 3, 5, 12], [1, 2, 3, 3, 8]],
  depthToSpace2x: [[1, 4, 1, 1], [2, 12, 5, 7], [1, 32, 3, 5], [2, 32, 1, 4, 3], [2, 8, 5, 4, 3], [1, 4, 2, 1, 9], [3, 20, 19, 13]],
};

for (const mode of ['nearest2x', 'depthToSpace2x'] as const) {
  for (const shape of SHAPES[mode]) {
    test(`resample ${mode} x [${shape}] forward and backward`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const n = shape.reduce((a, b) => a * b, 1);
      const os = resampleShape('resample', mode, shape);
      const x = rng.array(n);
      const y = FWD[mode](ctx.fromArray(x, shape));
      t.deepEqual(y.shape, os);
      assertEqualInts(t, await y.read(), resampleRef(mode, x, shape), { shape: os, name: `${t.title} forward` });
      // Into a caller's out pre-filled with garbage: every element is written.
      const yo = ctx.fromArray(new Float32Array(os.reduce((a, b) => a * b, 1)).fill(NaN), os);
      t.is(FWD[mode](ctx.fromArray(x, shape), yo), yo);
      assertEqualInts(t, await yo.read(), resampleRef(mode, x, shape), { shape: os, name: `${t.title} forward into out` });
      if (mode === 'nearest2x' && shape[shape.length - 1]! % 4 === 0) t.true(ctx.pipelineSpecs().some((p) => p.shader === 'resample_nearest4'), 'W % 4 == 0 ran resample_nearest4');

      const g = rng.array(os.reduce((a, b) => a * b, 1));
      const dx = BWD[mode](ctx.fromArray(g, os));
      t.deepEqual(dx.shape, shape);
      const ref = resampleBackwardRef(mode, g, shape);
      const r = assertClose(t, await dx.read(), ref, { atol: mode === 'nearest2x' ? NEAREST_BWD_TOL : 0, shape, name: `${t.title} backward` });
      t.log(`backward max abs err ${r.maxAbs.toExponential(2)}`);
      // A caller's out is written in place (pre-filled with garbage: every element is written).
      const out = ctx.fromArray(new Float32Array(n).fill(NaN), shape);
      t.is(BWD[mode](ctx.fromArray(g, os), out), out);
      assertClose(t, await out.read(), ref, { atol: mode === 'nearest2x' ? NEAREST_BWD_TOL : 0, name: `${t.title} backward into out` });
    });
  }
}

test('resample: the nearest backward sums each 2x2 block in torch order (row-major)', async (t) => {
  const ctx = await gpu();
  // ((1 + 0) + 2^-24) + 2^-24 = 1 in float32 (each half-ulp term ties to even and is lost); a
  // pairwise or reversed order gives 1 + 2^-23.
  const e = 2 ** -24;
  const dx = await upsampleNearest2xBackward(ctx.fromArray([1, 0, e, e], [1, 1, 2, 2])).read();
  t.is(dx[0], 1);
});

test('resampleBackwardRef matches float64 finite differences of resampleRef', (t) => {
  const rng = Rng.fromString(t.title);
  const h = 1e-6;
  for (const [mode, shape] of [['nearest2x', [2, 3, 3, 5]], ['nearest2x', [1, 2, 2, 3, 1]], ['depthToSpace2x', [1, 8, 3, 2]], ['depthToSpace2x', [2, 4, 2, 3, 3]]] as [ResampleMode, number[]][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const os = resampleShape('resample', mode, shape);
    const x = Float64Array.from({ length: n }, () => rng.uniform());
    const G = Float64Array.from({ length: os.reduce((a, b) => a * b, 1) }, () => rng.uniform());
    const loss = (v: Float64Array) => resampleRef(mode, v, shape).reduce((s, y, i) => s + y * G[i]!, 0);
    const an = resampleBackwardRef(mode, G, shape);
    const bound = 1e-6 * an.reduce((m, v) => Math.max(m, Math.abs(v)), 0) + 1e-9;
    for (let j = 0; j < 8; j++) {
      const i = j === 0 ? 0 : j === 1 ? n - 1 : rng.int(0, n - 1);
      const v = Float64Array.from(x);
      v[i] = x[i]! + h;
      const lp = loss(v);
      v[i] = x[i]! - h;
      const fd = (lp - loss(v)) / (2 * h);
      t.true(Math.abs(fd - an[i]!) <= bound, `${mode} [${shape}] entry ${i}: fd ${fd} vs analytic ${an[i]}`);
    }
  }
});

test('resample: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const E = { instanceOf: KernelArgError };
  t.throws(() => upsampleNearest2x(ctx.zeros([2, 3, 4])), { ...E, message: /^upsampleNearest2x: x: rank 3 .*expected rank 4 or 5/ });
  t.throws(() => depthToSpace2x(ctx.zeros([1, 6, 2, 2])), { ...E, message: /^depthToSpace2x: x: channels 6 in \[1,6,2,2\] must be a multiple of 4/ });
  const x = ctx.zeros([1, 2, 3, 3]);
  t.throws(() => upsampleNearest2x(x, ctx.zeros([1, 2, 6, 5])), { ...E, message: /^upsampleNearest2x: out: shape \[1,2,6,5\], expected \[1,2,6,6\]/ });
  t.throws(() => upsampleNearest2xBackward(ctx.zeros([1, 2, 6, 5])), { ...E, message: /^upsampleNearest2xBackward: g: spatial dims 6x5 of \[1,2,6,5\] must be even/ });
  t.throws(() => depthToSpace2xBackward(ctx.zeros([1, 2, 3, 3, 4])), { ...E, message: /^depthToSpace2xBackward: g: spatial dims 3x4 of \[1,2,3,3,4\] must be even/ });
  t.throws(() => upsampleNearest2xBackward(ctx.zeros([2, 6, 6])), { ...E, message: /^upsampleNearest2xBackward: g: rank 3 .*expected rank 4 or 5/ });
  t.throws(() => depthToSpace2xBackward(ctx.zeros([1, 2, 6, 6], 'i32')), { ...E, message: /^depthToSpace2xBackward: g: dtype i32, expected f32/ });
  t.throws(() => depthToSpace2xBackward(ctx.zeros([1, 2, 6, 6]), ctx.zeros([1, 2, 3, 3])), { ...E, message: /^depthToSpace2xBackward: out: shape \[1,2,3,3\], expected \[1,8,3,3\]/ });
  const g = ctx.zeros([1, 1, 2, 2]);
  t.throws(() => depthToSpace2xBackward(g, g.reshape([1, 4, 1, 1])), { ...E, message: /^depthToSpace2xBackward: out: aliases g/ });
});
