import test from 'ava';
import { KernelArgError } from '../../kernels/core/errors.js';
import { softmaxRef } from '../../kernels/softmax.js';
import { softmaxBackward, softmaxBackwardRef } from '../../kernels/softmax_backward.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerance (kernels/softmax_backward.ts): |dx - ref| <= 2e-6 max|ref| + 1e-5 |ref|.
const tol = (ref: Float64Array) => ({ atol: 2e-6 * ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0), rtol: 1e-5 });

/** A softmax output as the GPU sees it (f32) for logits uniform in [-lo, lo]. */
function softmaxInput(rng: Rng, n: number, d: number, spread: number): Float32Array {
  return Float32Array.from(softmaxRef(rng.array(n, -spread, spread), d));
}

// [shape, scale]: D = 1, odd D, D around the 32-wide stride, long rows, the vocabulary; 1..37 rows.
const CASES: [number[], number][] = [
  [[1], 1],
  [[37, 1], 1],
  [[5, 3], 1],
  [[1, 5], 0.5],
  [[2, 3, 33], 0.125],
  [[17, 1000], 2],
  [[3, 5000], 1],
  [[1, 160005], 1],
];

for (const [shape, scale] of CASES) {
  test(`softmaxBackward y=[${shape}] scale=${scale}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const n = shape.reduce((a, b) => a * b, 1);
    const d = shape[shape.length - 1]!;
    const y = softmaxInput(rng, n, d, 8);
    const g = rng.array(n, -1, 1);
    const dx = await softmaxBackward(ctx.fromArray(y, shape), ctx.fromArray(g, shape), { scale }).read();
    const ref = softmaxBackwardRef(y, g, d, { scale });
    assertClose(t, dx, ref, { ...tol(ref), shape, name: t.title });
  });
}

test('softmaxBackward random shapes (seeded), bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 8; k++) {
    const shape = [rng.int(1, 37), rng.pick([1, 3, 5, 33, 64, 1000, 5000])];
    const [r, d] = shape as [number, number];
    const y = softmaxInput(rng, r * d, d, 20);
    const g = rng.array(r * d, -3, 3);
    const scale = rng.pick([1, 0.5, 1 / Math.sqrt(64)]);
    const [yt, gt] = [ctx.fromArray(y, shape), ctx.fromArray(g, shape)];
    const a = await softmaxBackward(yt, gt, { scale }).read();
    t.deepEqual(a, await softmaxBackward(yt, gt, { scale }).read());
    const ref = softmaxBackwardRef(y, g, d, { scale });
    assertClose(t, a, ref, { ...tol(ref), shape, name: `seed ${rng.seed} [${shape}] scale ${scale}` });
  }
});

test('softmaxBackward of a saturated softmax (logits ~80) and of a uniform g is finite and ~0', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [r, d] = [7, 1000];
  const y = softmaxInput(rng, r * d, d, 80);
  const g = rng.array(r * d, -1, 1);
  const dx = await softmaxBackward(ctx.fromArray(y, [r, d]), ctx.fromArray(g, [r, d])).read();
  t.true(dx.every(Number.isFinite));
  const ref = softmaxBackwardRef(y, g, d);
  assertClose(t, dx, ref, { ...tol(ref), shape: [r, d] });
  // A constant g moves along the softmax's null direction: dx = y (c - c sum y) ~ 0.
  const flat = await softmaxBackward(ctx.fromArray(y, [r, d]), ctx.fromArray(new Float32Array(r * d).fill(0.75), [r, d])).read();
  t.true(flat.every((v) => Math.abs(v) < 1e-6), `max |dx| ${Math.max(...flat.map(Math.abs))}`);
});

// softmaxRef rounds scale * x to f32 (what the shader sees), so a perturbation must keep x +- h
// exact in f32: x on a 2^-12 grid in [-4, 4] and h = 2^-20 (~1e-6) make every x +- h an f32, and
// temperature 0.5 (scale 2) keeps 2 (x +- h) exact.
test('softmaxBackwardRef matches central differences of softmaxRef', (t) => {
  const rng = Rng.fromString(t.title);
  const h = 2 ** -20;
  for (const [r, d, temperature] of [[3, 5, 1], [2, 33, 0.5], [1, 1, 1], [4, 7, 0.5]] as const) {
    const x = Float64Array.from({ length: r * d }, () => Math.round(rng.uniform(-4, 4) * 4096) / 4096);
    const G = Float64Array.from({ length: r * d }, () => rng.uniform(-1, 1));
    const L = (v: Float64Array) => softmaxRef(v, d, { temperature }).reduce((s, y, i) => s + y * G[i]!, 0);
    const an = softmaxBackwardRef(softmaxRef(x, d, { temperature }), G, d, { scale: 1 / temperature });
    const amax = Math.max(...an.map(Math.abs));
    for (let k = 0; k < 6; k++) {
      const i = rng.int(0, r * d - 1);
      const xp = x.slice();
      const xm = x.slice();
      xp[i]! += h;
      xm[i]! -= h;
      t.is(Math.fround(xp[i]! / temperature), xp[i]! / temperature);
      const fd = (L(xp) - L(xm)) / (2 * h);
      t.true(Math.abs(fd - an[i]!) <= 1e-6 * amax + 1e-9, `[${r},${d}] T=${temperature} x[${i}]: fd ${fd}, analytic ${an[i]}`);
    }
  }
});

test('softmaxBackward: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const y = ctx.zeros([2, 3]);
  t.throws(() => softmaxBackward(ctx.zeros([2, 0]), ctx.zeros([2, 0])), { instanceOf: KernelArgError, message: /^softmax_backward: y: shape \[2,0\] needs rank >= 1 and a last dim >= 1/ });
  t.throws(() => softmaxBackward(ctx.zeros([2, 3], 'i32'), y), { instanceOf: KernelArgError, message: /^softmax_backward: y: dtype i32, expected f32/ });
  t.throws(() => softmaxBackward(y, ctx.zeros([3, 2])), { instanceOf: KernelArgError, message: /^softmax_backward: g: shape \[3,2\], expected \[2,3\]/ });
  t.throws(() => softmaxBackward(y, y, { scale: NaN }), { instanceOf: KernelArgError, message: /^softmax_backward: scale: expected a finite number, got NaN/ });
});
