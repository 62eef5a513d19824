// binary add: memory-bound, bytes = read a + read b + write out.
import { add, binaryRef } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

export const cases: BenchCase[] = [1 << 20, 16 << 20].map((n) => ({
  kernel: 'binary',
  shape: `add [${n}] f32`,
  bytes: 12 * n,
  quick: true,
  setup: async (ctx) => {
    const av = new Float32Array(n).map((_, i) => (i % 7) - 3);
    const bv = new Float32Array(n).map((_, i) => (i % 5) * 0.5);
    const a = ctx.fromArray(av, [n]);
    const b = ctx.fromArray(bv, [n]);
    const out = ctx.tensor([n]);
    return {
      run: () => void add(a, b, out),
      check: async () => {
        const y = await out.read();
        const ref = binaryRef('add', av.subarray(0, 4096), [4096], bv.subarray(0, 4096), [4096]);
        for (let i = 0; i < 4096; i++) if (y[i] !== ref[i]) throw new Error(`binary bench: mismatch at ${i}`);
      },
      dispose: () => (a.dispose(), b.dispose(), out.dispose()),
    };
  },
}));
