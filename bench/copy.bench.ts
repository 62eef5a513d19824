// copy: the memory roofline. Bytes = one read + one write of every element.
import { copy } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

export const cases: BenchCase[] = [1 << 20, 16 << 20].map((n) => ({
  kernel: 'copy',
  shape: `[${n}] f32`,
  bytes: 8 * n,
  quick: true,
  setup: async (ctx) => {
    const src = ctx.fromArray(new Float32Array(n).map((_, i) => i % 1000), [n]);
    const dst = ctx.tensor([n]);
    return {
      run: () => void copy(src, dst),
      check: async () => {
        const y = await dst.read();
        if (y[n - 1] !== (n - 1) % 1000) throw new Error('copy bench: wrong result');
      },
      dispose: () => (src.dispose(), dst.dispose()),
    };
  },
}));
