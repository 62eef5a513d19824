// gather_rows: memory-bound, bytes = ids + the gathered rows read once + written once. Roofline:
// the copy kernel (~3.5 GB/s on the 2-core lavapipe machine). The quick case already spans two
// binding chunks; the full case is the transformer's 160005 x 1024 table (625 MiB, 5 chunks).
import { gatherRows } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

function table(V: number, D: number, n: number, quick: boolean): BenchCase {
  return {
    kernel: 'gather_rows',
    shape: `[${V},${D}] ids [${n}]`,
    bytes: 4 * n + 8 * n * D,
    quick,
    setup: async (ctx) => {
      // Row v holds v + j / D, so every gathered value names its row.
      const t = ctx.tensor([V, D]);
      const rows = 4096;
      for (let r0 = 0; r0 < V; r0 += rows) {
        const nr = Math.min(rows, V - r0);
        const chunk = new Float32Array(nr * D);
        for (let i = 0; i < nr; i++) for (let j = 0; j < D; j++) chunk[i * D + j] = r0 + i + j / D;
        ctx.writeBuffer(t.buffer, r0 * D * 4, chunk);
      }
      const idv = Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % V);
      const ids = ctx.fromArray(idv, [n], 'i32');
      const out = ctx.tensor([n, D]);
      return {
        run: () => void gatherRows(t, ids, { out }),
        check: async () => {
          const y = await out.read();
          for (let i = 0; i < n; i += 97) for (const j of [0, D - 1]) if (y[i * D + j] !== Math.fround(idv[i]! + j / D)) throw new Error(`gather_rows bench: [${i},${j}] = ${y[i * D + j]}`);
        },
        dispose: () => (t.dispose(), ids.dispose(), out.dispose()),
      };
    },
  };
}

export const cases: BenchCase[] = [table(40000, 1024, 4096, true), table(160005, 1024, 4096, false)];
