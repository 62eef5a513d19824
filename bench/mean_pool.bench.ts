// mean_pool over trailing dims: memory-bound, bytes = read x + write [rows]. Roofline: copy
// (which moves twice the bytes per element, so half its time per element is the bound here).
import { meanPool, meanPoolRef } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

const SHAPES: number[][] = [[1, 512, 5, 16, 16], [1, 128, 2, 128, 128]];

export const cases: BenchCase[] = SHAPES.map((shape) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const rows = shape[0]! * shape[1]!;
  return {
    kernel: 'mean_pool',
    shape: `[${shape}]`,
    bytes: 4 * (n + rows),
    quick: true,
    setup: async (ctx) => {
      const xv = new Float32Array(n).map((_, i) => (i % 13) - 6);
      const x = ctx.fromArray(xv, shape);
      const out = ctx.tensor(shape.slice(0, 2));
      return {
        run: () => void meanPool(x, 2, out),
        check: async () => {
          const y = await out.read();
          const ref = meanPoolRef(xv, shape, 2);
          for (let i = 0; i < rows; i++) if (Math.abs(y[i]! - ref[i]!) > 1e-5) throw new Error(`mean_pool bench: mismatch at ${i}`);
        },
        dispose: () => (x.dispose(), out.dispose()),
      };
    },
  };
});
