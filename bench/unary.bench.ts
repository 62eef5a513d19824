// unary: memory-bound, bytes = read x + write out (8 bytes per element); roofline = the copy kernel.
import { type UnaryOp, unary, unaryRef } from '../kernels/index.js';
import { compareClose } from '../test/helpers/close.js';
import type { BenchCase } from './harness.js';

const N = 16 << 20;
const ops: UnaryOp[] = ['silu', 'gelu', 'relu', 'scale', 'clamp'];

export const cases: BenchCase[] = ops.map((op) => ({
  kernel: 'unary',
  shape: `${op} [${N}] f32`,
  bytes: 8 * N,
  quick: op === 'silu' || op === 'gelu',
  setup: async (ctx) => {
    const xv = new Float32Array(N).map((_, i) => ((i * 7919) % 2001) / 125 - 8);
    const args = op === 'scale' ? { alpha: 1.5, beta: -0.25 } : op === 'clamp' ? { alpha: -1, beta: 1 } : {};
    const x = ctx.fromArray(xv, [N]);
    const out = ctx.tensor([N]);
    return {
      run: () => void unary(op, x, args, out),
      check: async () => {
        const y = await out.read();
        const r = compareClose(y.subarray(0, 1 << 16), unaryRef(op, xv.subarray(0, 1 << 16), args), { atol: 2e-6, rtol: 2e-6 });
        if (!r.ok) throw new Error(`unary bench ${op}: ${r.report}`);
      },
      dispose: () => (x.dispose(), out.dispose()),
    };
  },
}));
