// softmax over the last dim: memory-bound, bytes = read x + write out (the register path for
// D <= 1024 reads once; the streaming path for the vocabulary reads three times, counted once).
// Roofline: the copy kernel (bench/copy.bench.ts), same bytes per element.
import { softmax, softmaxRef } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

export const cases: BenchCase[] = ([[8192, 1024], [64, 512], [1, 160005]] as const).map(([rows, d]) => ({
  kernel: 'softmax',
  shape: `[${rows},${d}]`,
  bytes: 8 * rows * d,
  quick: rows !== 64,
  setup: async (ctx) => {
    const xv = new Float32Array(rows * d).map((_, i) => ((i * 7919) % 1000) / 100 - 5);
    const x = ctx.fromArray(xv, [rows, d]);
    const out = ctx.tensor([rows, d]);
    return {
      run: () => void softmax(x, {}, out),
      check: async () => {
        const y = await out.read();
        const ref = softmaxRef(xv.subarray(0, 2 * d), d);
        for (let i = 0; i < Math.min(rows, 2) * d; i++) if (Math.abs(y[i]! - ref[i]!) > 1e-6 + 2e-5 * ref[i]!) throw new Error(`softmax bench: mismatch at ${i}`);
      },
      dispose: () => (x.dispose(), out.dispose()),
    };
  },
}));
