// fsq_round / fsq_codes: memory-bound. Roofline: the copy kernel on the same byte count, run in the
// same session (row impl 'copy-roofline'); target >= 50% of its GB/s.
// bytes = inputs read once + outputs written once (weights included, they are tiny).
import { copy, fsqIndicesToCodes, fsqIndicesToCodesRef, fsqQuantize, fsqQuantizeRef } from '../kernels/index.js';
import { type BenchCase, pattern } from './harness.js';

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

/** The copy kernel over `bytes`: the roofline the rows above are judged against. */
function roofline(kernel: string, bytes: number, quick: boolean): BenchCase {
  const n = Math.ceil(bytes / 8);
  return {
    kernel,
    impl: 'copy-roofline',
    shape: `copy [${n}] f32`,
    bytes: 8 * n,
    quick,
    setup: async (ctx) => {
      const src = ctx.fromArray(pattern(n, 6), [n]);
      const dst = ctx.tensor([n]);
      return {
        run: () => void copy(src, dst),
        check: async () => {
          if ((await dst.read())[n - 1] !== (await src.read())[n - 1]) throw new Error('copy roofline: wrong result');
        },
        dispose: () => (src.dispose(), dst.dispose()),
      };
    },
  };
}

const M = 1 << 18;
export const cases: BenchCase[] = [
  quantize(M, 6, true),
  quantize(M / 8, 256, true),
  quantize(M / 16, 512, false),
  roofline('fsq_round', 4 * (M * 6 + M * 6 + M), true),
  decode(M, 6, true),
  decode(M / 64, 256, true),
  decode(M / 64, 512, false),
  roofline('fsq_codes', 4 * (M / 64) * 257, true),
];
