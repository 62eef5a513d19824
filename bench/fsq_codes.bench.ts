// fsq_codes: FSQ indices back to codes (and the project_out linear). Memory-bound, bytes = indices
// read + codes written (weights included, they are tiny). Roofline: the copy kernel on the same
// byte count, run in the same session (row impl 'copy-roofline'); target >= 50% of its GB/s.
import { fsqIndicesToCodes, fsqIndicesToCodesRef } from '../kernels/index.js';
import { type BenchCase, copyRoofline, pattern } from './harness.js';

const LEVELS = [8, 8, 8, 5, 5, 5];

/** fsqIndicesToCodes for M indices, projected to D (D = 6: no projection). */
function decode(M: number, D: number, quick: boolean): BenchCase {
  const proj = D !== LEVELS.length;
  return {
    kernel: 'fsq_codes',
    shape: `[${M}] -> [${M},${D}]${proj ? ' project_out' : ''}`,
    bytes: 4 * (M + (proj ? 7 * D : 0) + M * D),
    quick,
    setup: async (ctx) => {
      const ids = Int32Array.from({ length: M }, (_, i) => (i * 7919) % 64000);
      const wv = pattern(6 * D, 4);
      const bv = pattern(D, 5, 0.1);
      const idx = ctx.fromArray(ids, [M], 'i32');
      const projectOut = proj ? { weight: ctx.fromArray(wv, [D, 6]), bias: ctx.fromArray(bv, [D]) } : undefined;
      const out = ctx.tensor([M, D]);
      return {
        run: () => void fsqIndicesToCodes(idx, { levels: LEVELS, projectOut, out }),
        check: async () => {
          const ref = fsqIndicesToCodesRef(ids.subarray(0, 64), LEVELS, proj ? { weight: wv, bias: bv, dim: D } : undefined);
          const got = await out.read();
          for (let i = 0; i < ref.length; i++) if (!(Math.abs(got[i]! - ref[i]!) <= 1e-5)) throw new Error(`fsq_codes bench: [${i}] ${got[i]} vs ${ref[i]}`);
        },
        dispose: () => (idx.dispose(), projectOut?.weight.dispose(), projectOut?.bias.dispose(), out.dispose()),
      };
    },
  };
}

const M = 1 << 18;
export const cases: BenchCase[] = [
  decode(M, 6, true),
  decode(M / 64, 256, true),
  decode(M / 64, 512, false),
  copyRoofline('fsq_codes', 4 * (M / 64) * 257, true),
];
