// vq_lookup: compute-bound (2 N V E flops; the argmin epilogue and the norms are O(N V + V E)).
// Compared with our matmul on the same [N,E] x [V,E]^T product in the same run (impl 'matmul'),
// which writes the [N, V] distance-free product that a GEMM-then-argmin lookup would need.
// Roofline: the fma-scalar ceiling row of the same run (~72 GFLOP/s on the 2-core lavapipe machine).
// Measured 2026-11-22 (load 2.3-2.9), vq_lookup_sg: V=1024 25.5 GFLOP/s (our matmul 20.5: 124%),
// V=8192 36.8 (27.9: 132%), V=64000 43.9 (33.0: 133%); the tiled pass before it: 6.6-7.2.
import { matmul, vqNearest, vqNearestRef } from '../kernels/index.js';
import { vqNearTies } from '../kernels/internal.js';
import { type BenchCase, pattern } from './harness.js';

const N = 4096;
const E = 256;
const CHECK_ROWS = 16;

function vq(V: number, quick: boolean): BenchCase {
  return {
    kernel: 'vq_lookup',
    shape: `N=${N} E=${E} V=${V}`,
    flops: 2 * N * V * E,
    quick,
    setup: async (ctx) => {
      const xv = pattern(N * E, 1);
      const cv = pattern(V * E, 2);
      const x = ctx.fromArray(xv, [N, E]);
      const cb = ctx.fromArray(cv, [V, E]);
      const out = ctx.tensor([N], 'i32');
      return {
        run: () => void vqNearest(x, cb, { out }),
        check: async () => {
          // The first rows against float64; a differing row must be a reported near-tie.
          const got = await out.read();
          const xs = xv.subarray(0, CHECK_ROWS * E);
          const ref = vqNearestRef(xs, cv, CHECK_ROWS, V, E);
          const ties = new Set(vqNearTies(xs, cv, CHECK_ROWS, V, E).map((t) => t.row));
          for (let n = 0; n < CHECK_ROWS; n++) if (got[n] !== ref[n] && !ties.has(n)) throw new Error(`vq_lookup bench: row ${n}: ${got[n]} vs ${ref[n]}`);
        },
        dispose: () => (x.dispose(), cb.dispose(), out.dispose()),
      };
    },
  };
}

/** matmul over the codebook in slices whose [N, slice] product fits one storage binding (at
 * V = 64000 the full [4096, 64000] product is 1 GiB, which the fused lookup never materialises). */
function mm(V: number, quick: boolean): BenchCase {
  return {
    kernel: 'vq_lookup',
    impl: 'matmul',
    shape: `[${N},${E}]x[${V},${E}]^T`,
    flops: 2 * N * V * E,
    quick,
    setup: async (ctx) => {
      const xv = pattern(N * E, 1);
      const cv = pattern(V * E, 2);
      const x = ctx.fromArray(xv, [N, E]);
      const slice = Math.min(V, Math.floor(ctx.limits.maxStorageBufferBindingSize / (4 * N)));
      const parts = Array.from({ length: Math.ceil(V / slice) }, (_, i) => {
        const rows = Math.min(slice, V - i * slice);
        return { cb: ctx.fromArray(cv.subarray(i * slice * E, (i * slice + rows) * E), [rows, E]), out: ctx.tensor([N, rows]) };
      });
      return {
        run: () => {
          for (const p of parts) matmul(x, p.cb, { transB: true, out: p.out });
        },
        check: async () => {
          const last = parts[parts.length - 1]!;
          const rows = last.cb.shape[0]!;
          const y = await last.out.read();
          let ref = 0;
          for (let k = 0; k < E; k++) ref += xv[k]! * cv[(V - 1) * E + k]!;
          if (!(Math.abs(y[rows - 1]! - ref) < 1e-3)) throw new Error(`vq matmul bench: ${y[rows - 1]} vs ${ref}`);
        },
        dispose: () => {
          x.dispose();
          for (const p of parts) (p.cb.dispose(), p.out.dispose());
        },
      };
    },
  };
}

export const cases: BenchCase[] = [vq(1024, true), mm(1024, true), vq(8192, false), mm(8192, false), vq(64000, false), mm(64000, false)];
