import test from 'ava';
import { KernelArgError, softmax, softmaxRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerance (kernels/softmax.ts): |out - ref| <= 1e-6 + 2e-5 * ref.
const TOL = { atol: 1e-6, rtol: 2e-5 };

// [shape, temperature]: D = 1, odd D, D just over each register-path PER step (with rowWg 32:
// 33 -> PER 2, 100 -> 4, 200 -> 8, 500 -> 16), D just under/over the register path (1024), the
// vocabulary.
const CASES: [number[], number][] = [
  [[1], 1],
  [[5, 1], 1],
  [[3, 7], 1],
  [[2, 33], 1],
  [[100], 1.5],
  [[3, 200], 1],
  [[2, 500], 0.9],
  [[2, 1, 1023], 0.7],
  [[1024], 1],
  [[2, 1025], 2],
  [[1, 160005], 1],
];

for (const [shape, temperature] of CASES) {
  test(`softmax x=[${shape}] temperature=${temperature}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const x = rng.array(shape.reduce((a, b) => a * b, 1), -8, 8);
    const d = shape[shape.length - 1]!;
    const y = await softmax(ctx.fromArray(x, shape), { temperature }).read();
    assertClose(t, y, softmaxRef(x, d, { temperature }), { ...TOL, shape, name: t.title });
  });
}

test('softmax large logits do not overflow and rows sum to 1', async (t) => {
  const ctx = await gpu();
  const x = new Float32Array([1e30, 1e30 - 1e24, -1e30, 88, 89, 90, 1000, -1000, 0]);
  const y = await softmax(ctx.fromArray(x, [3, 3])).read();
  assertClose(t, y, softmaxRef(x, 3), { ...TOL, shape: [3, 3] });
  for (let r = 0; r < 3; r++) t.true(Math.abs(y[3 * r]! + y[3 * r + 1]! + y[3 * r + 2]! - 1) < 1e-6);
});

test('softmax random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 6; k++) {
    const shape = [rng.int(1, 4), rng.int(1, 2100)];
    const x = rng.array(shape[0]! * shape[1]!, -20, 20);
    const temperature = rng.pick([0.5, 1, 1.5]);
    const y = await softmax(ctx.fromArray(x, shape), { temperature }).read();
    assertClose(t, y, softmaxRef(x, shape[1]!, { temperature }), { ...TOL, shape, name: `seed ${rng.seed} x=[${shape}] T=${temperature}` });
  }
});

test('softmax writes into out', async (t) => {
  const ctx = await gpu();
  const out = ctx.zeros([2, 3]);
  t.is(softmax(ctx.fromArray([1, 2, 3, 4, 5, 6], [2, 3]), {}, out), out);
  assertClose(t, await out.read(), softmaxRef([1, 2, 3, 4, 5, 6], 3), TOL);
});

test('softmax: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 3]);
  t.throws(() => softmax(ctx.zeros([2, 0])), { instanceOf: KernelArgError, message: /^softmax: x: shape \[2,0\] needs rank >= 1 and a last dim >= 1/ });
  t.throws(() => softmax(ctx.zeros([3], 'i32')), { instanceOf: KernelArgError, message: /^softmax: x: dtype i32, expected f32/ });
  t.throws(() => softmax(x, { temperature: 0 }), { instanceOf: KernelArgError, message: /^softmax: temperature: expected a finite number > 0/ });
  t.throws(() => softmax(x, {}, ctx.zeros([3, 2])), { instanceOf: KernelArgError, message: /^softmax: out: shape \[3,2\], expected \[2,3\]/ });
});
