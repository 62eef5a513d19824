import test from 'ava';
import { KernelArgError, fourierPe, fourierPeRef } from '../../kernels/index.js';
import { assertClose, compareClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { loadGolden } from '../helpers/golden.js';
import { Rng } from '../helpers/rng.js';

// Tolerance (kernels/fourier_pe.ts, golden README): max abs error <= 1e-4 for both variants.
const TOL = { atol: 1e-4 };

for (const [name, h, w] of [['pe', 16, 16], ['pe_8x4', 8, 4]] as const) {
  for (const rangeReduce of [true, false]) {
    test(`fourier_pe golden ldm_pos_embedding_random out/${name} H=${h} W=${w} rangeReduce=${rangeReduce}`, async (t) => {
      const ctx = await gpu();
      const gold = await loadGolden('ldm_pos_embedding_random');
      const gData = gold.f32('positional_encoding_gaussian_matrix');
      const y = await fourierPe(ctx.fromArray(gData, [2, 256]), h, w, { rangeReduce }).read();
      const shape = [512, h, w];
      const vsF32 = assertClose(t, y, gold.f32(`out/${name}`), { ...TOL, shape, name: `${t.title} vs out/` });
      const vs64 = assertClose(t, y, gold.f32(`ref64/${name}`), { ...TOL, shape, name: `${t.title} vs ref64/` });
      const vsRef = compareClose(y, fourierPeRef(gData, 256, h, w), TOL);
      let maxPhase = 0;
      for (let k = 0; k < 256; k++) maxPhase = Math.max(maxPhase, 2 * Math.PI * (Math.abs(gData[k]!) + Math.abs(gData[256 + k]!)));
      t.log(`max |p| ${maxPhase.toFixed(1)}; max abs err vs upstream f32 ${vsF32.maxAbs.toExponential(2)}, vs ref64 ${vs64.maxAbs.toExponential(2)}, vs fourierPeRef ${vsRef.maxAbs.toExponential(2)}`);
      // The reduced phase is exact to ~1e-7 turns, so it also tracks the float64 reference closely.
      t.true(rangeReduce ? vsRef.maxAbs <= 1e-6 : vsRef.ok, vsRef.report);
    });
  }
}

// Odd grids and F, and a wide G (|p| up to ~150): the reduced phase stays within 1e-6 of float64.
const CASES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [7, 5, 3, 1.7],
  [3, 1, 9, 1.7],
  [64, 6, 10, 8],
];
for (const [f, h, w, std] of CASES) {
  test(`fourier_pe F=${f} H=${h} W=${w} std=${std}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const gData = Float32Array.from({ length: 2 * f }, () => std * rng.normal());
    const y = await fourierPe(ctx.fromArray(gData, [2, f]), h, w).read();
    const r = assertClose(t, y, fourierPeRef(gData, f, h, w), { atol: 1e-6, shape: [2 * f, h, w], name: t.title });
    t.log(`max abs err ${r.maxAbs.toExponential(2)}`);
  });
}

test('fourier_pe: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  t.throws(() => fourierPe(ctx.zeros([3, 4]), 2, 2), { instanceOf: KernelArgError, message: /^fourier_pe: g: shape \[3,4\], expected \[2,\*\]/ });
  t.throws(() => fourierPe(ctx.zeros([2, 4]), 0, 2), { instanceOf: KernelArgError, message: /^fourier_pe: h: expected an integer >= 1/ });
  t.throws(() => fourierPe(ctx.zeros([2, 4]), 2, 2, {}, ctx.zeros([8, 2, 3])), { instanceOf: KernelArgError, message: /^fourier_pe: out: shape \[8,2,3\], expected \[8,2,2\]/ });
});
