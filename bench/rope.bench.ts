// rope: rotary position embedding of q at the go transformer's heads (16 x 64). Memory-bound,
// bytes = x read + out written (the cos/sin table is small). Roofline: the copy kernel.
import { rope, ropeRef, ropeTable, ropeTableData } from '../kernels/index.js';
import { type BenchCase, pattern } from './harness.js';

export const cases: BenchCase[] = [
  {
    kernel: 'rope',
    shape: 'q [1,16,44,64] at positions 0..43',
    bytes: 2 * 16 * 44 * 64 * 4,
    quick: true,
    setup: async (ctx) => {
      const shape = [1, 16, 44, 64] as const;
      const xa = pattern(16 * 44 * 64, 4);
      const pos = Int32Array.from({ length: 44 }, (_, i) => i);
      const x = ctx.fromArray(xa, shape);
      const p = ctx.fromArray(pos, [1, 44], 'i32');
      const table = ropeTable(ctx, 64, 64);
      const out = ctx.tensor(shape);
      return {
        run: () => void rope(x, p, table, out),
        check: async () => {
          const y = await out.read();
          const t = ropeTableData(64, 64);
          const ref = ropeRef(xa, shape, pos, t.cos, t.sin, 64);
          for (let i = 0; i < ref.length; i++) if (!(Math.abs(y[i]! - ref[i]!) <= 1e-6)) throw new Error(`rope bench: mismatch at ${i}`);
        },
        dispose: () => [x, p, out, table.cos, table.sin].forEach((t) => t.dispose()),
      };
    },
  },
];
