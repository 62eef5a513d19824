// fourier_pe: compute-light, write-bound; bytes = write [2F,H,W] + read G. Tiny in the model
// (computed once per forward), benchmarked to show it is negligible.
import { fourierPe, fourierPeRef } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

export const cases: BenchCase[] = [
  { h: 16, w: 16, quick: true },
  { h: 128, w: 128, quick: false },
].map(({ h, w, quick }) => ({
  kernel: 'fourier_pe',
  shape: `F=256 H=${h} W=${w}`,
  bytes: 4 * (512 * h * w + 512),
  quick,
  setup: async (ctx) => {
    const gv = new Float32Array(512).map((_, i) => Math.sin(i * 1.7) * 3);
    const g = ctx.fromArray(gv, [2, 256]);
    const out = ctx.tensor([512, h, w]);
    return {
      run: () => void fourierPe(g, h, w, {}, out),
      check: async () => {
        const y = await out.read();
        const ref = fourierPeRef(gv, 256, h, w);
        for (let i = 0; i < y.length; i += 101) if (Math.abs(y[i]! - ref[i]!) > 1e-6) throw new Error(`fourier_pe bench: mismatch at ${i}`);
      },
      dispose: () => (g.dispose(), out.dispose()),
    };
  },
}));
