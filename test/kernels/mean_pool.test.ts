import test from 'ava';
import { KernelArgError, meanPool, meanPoolRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerance (kernels/mean_pool.ts): 1e-6 + 1e-5 * mean |x|; inputs are O(1) here.
const TOL = { atol: 2e-6 };

// [shape, startAxis]: [B,C,T,H,W] with T = 1, odd spatial sizes, n < WG, n not a multiple of WG,
// the LDM condition [1,512,5,16,16] (n = 1280), and pooling a single element.
const CASES: [number[], number][] = [
  [[1, 3, 1, 1, 1], 2],
  [[2, 5, 1, 7, 9], 2],
  [[1, 4, 3, 17, 13], 2],
  [[1, 512, 5, 16, 16], 2],
  [[3, 257], 1],
  [[6, 1], 1],
  [[2, 3, 4], 3],
];

test('mean_pool long rows with a large mean (n = 32768) stay accurate', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape = [1, 2, 2, 128, 128];
  const x = rng.array(2 * 32768, 99, 101);
  const r = assertClose(t, await meanPool(ctx.fromArray(x, shape)).read(), meanPoolRef(x, shape), { atol: 2e-5, name: t.title });
  t.log(`max abs err ${r.maxAbs.toExponential(2)} on a mean of ~100 (f32 ulp 7.6e-6)`);
});

for (const [shape, axis] of CASES) {
  test(`mean_pool x=[${shape}] startAxis=${axis}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const x = rng.array(shape.reduce((a, b) => a * b, 1), -1, 3);
    const y = meanPool(ctx.fromArray(x, shape), axis);
    t.deepEqual(y.shape, shape.slice(0, axis));
    assertClose(t, await y.read(), meanPoolRef(x, shape, axis), { ...TOL, shape: shape.slice(0, axis), name: t.title });
  });
}

test('mean_pool random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 6; k++) {
    const shape = [rng.int(1, 2), rng.int(1, 9), rng.int(1, 4), rng.int(1, 20), rng.int(1, 20)];
    const x = rng.array(shape.reduce((a, b) => a * b, 1));
    const y = await meanPool(ctx.fromArray(x, shape)).read();
    assertClose(t, y, meanPoolRef(x, shape), { ...TOL, name: `seed ${rng.seed} x=[${shape}]` });
  }
});

test('mean_pool: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 3, 4]);
  t.throws(() => meanPool(x, 0), { instanceOf: KernelArgError, message: /^mean_pool: startAxis: expected an integer in 1\.\.3/ });
  t.throws(() => meanPool(x, 4), { instanceOf: KernelArgError, message: /^mean_pool: startAxis:/ });
  t.throws(() => meanPool(ctx.zeros([2, 0]), 1), { instanceOf: KernelArgError, message: /^mean_pool: x: shape \[2,0\] pools over zero elements/ });
  t.throws(() => meanPool(x, 2, ctx.zeros([3, 2])), { instanceOf: KernelArgError, message: /^mean_pool: out: shape \[3,2\], expected \[2,3\]/ });
});
