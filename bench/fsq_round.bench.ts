// fsq_round: memory-bound. Roofline: the copy kernel on the same byte count, run in the same
// session (row impl 'copy-roofline'); target >= 50% of its GB/s. The inverse (indices to codes)
// is in bench/fsq_codes.bench.ts.
// bytes = inputs read once + outputs written once (weights included, they are tiny).
import { fsqQuantize, fsqQuantizeRef } from '../kernels/index.js';
import { type BenchCase, copyRoofline, pattern } from './harness.js';

const LEVELS = [8, 8, 8, 5, 5, 5];

/** fsqQuantize on M channel-last rows of D (D = 6: no projection). */
function quantize(M: number, D: number, quick: boolean): BenchCase {
  const proj = D !== LEVELS.length;
  return {
    kernel: 'fsq_round',
    shape: `[${M},${D}]${proj ? ' project_in' : ''}`,
    bytes: 4 * (M * D + (proj ? 7 * D : 0) + M * 6 + M),
    quick,
    setup: async (ctx) => {
      const zv = pattern(M * D, 1, 2);
      const wv = pattern(6 * D, 2, 1 / Math.sqrt(D));
      const bv = pattern(6, 3, 0.1);
      const z = ctx.fromArray(zv, [M, D]);
      const projectIn = proj ? { weight: ctx.fromArray(wv, [6, D]), bias: ctx.fromArray(bv, [6]) } : undefined;
      const out = { codes: ctx.tensor([M, 6]), indices: ctx.tensor([M], 'i32') };
      return {
        run: () => void fsqQuantize(z, { levels: LEVELS, projectIn, out }),
        check: async () => {
          const rows = 256;
          const ref = fsqQuantizeRef(zv.subarray(0, rows * D), rows, D, LEVELS, proj ? { weight: wv, bias: bv } : undefined);
          const got = await out.indices.read();
          for (let r = 0; r < rows; r++) {
            const nearTie = ref.bounded.subarray(r * 6, r * 6 + 6).some((b) => Math.abs(Math.abs(b - Math.trunc(b)) - 0.5) < 1e-4);
            if (got[r] !== ref.indices[r] && !nearTie) throw new Error(`fsq_round bench: row ${r}: ${got[r]} vs ${ref.indices[r]}`);
          }
        },
        dispose: () => (z.dispose(), projectIn?.weight.dispose(), projectIn?.bias.dispose(), out.codes.dispose(), out.indices.dispose()),
      };
    },
  };
}

const M = 1 << 18;
export const cases: BenchCase[] = [
  quantize(M, 6, true),
  quantize(M / 8, 256, true),
  quantize(M / 16, 512, false),
  copyRoofline('fsq_round', 4 * (M * 6 + M * 6 + M), true),
];
