// matmul_backward: the gradients of a linear layer (linearBackward: dx = g @ w, dw = g^T @ x, two
// matmuls, no shader of its own). Compute-bound, flops = 2 x 2 M N K. Roofline: the FMA ceiling
// rows of the same run. Shapes: the go transformer's MLP up-projection (no bias: H 1024 -> I 2816)
// over a 19-token prompt, and the micro transformer's (128 -> 344) over a training batch of
// 16 sequences x 56 tokens (`npm run train:go-micro`). dA + dB of plain matmuls against
// TF.js's are in peers/peers.bench.ts (matmul_backward rows).
import { linearBackward, linearBackwardRef } from '../kernels/index.js';
import type { Tensor } from '../kernels/index.js';
import { type BenchCase, keepLast, pattern } from './harness.js';

function linearGrad(M: number, N: number, K: number, quick: boolean): BenchCase {
  return {
    kernel: 'matmul_backward',
    shape: `linear dx+dw x[${M},${K}] w[${N},${K}]`,
    flops: 4 * M * N * K,
    quick,
    setup: async (ctx) => {
      const [xv, wv, gv] = [pattern(M * K, 1), pattern(N * K, 2), pattern(M * N, 3)];
      const [x, w, g] = [ctx.fromArray(xv, [M, K]), ctx.fromArray(wv, [N, K]), ctx.fromArray(gv, [M, N])];
      const k = keepLast(() => {
        const r = linearBackward(x, w, g);
        return [r.dx!, r.dw];
      });
      return {
        run: k.run,
        // Against the double reference, at kernels/matmul_backward.ts's tolerance (contraction N for dx, M for dw).
        check: async () => {
          const ref = linearBackwardRef(xv, [M, K], wv, [N, K], gv);
          const [dx, dw] = k.out() as [Tensor, Tensor];
          for (const [name, got, want, len] of [['dx', await dx.read(), ref.dx!, N], ['dw', await dw.read(), ref.dw, M]] as const) {
            const bad = want.findIndex((r, i) => !(Math.abs(got[i]! - r) <= 1e-5 * Math.sqrt(len) + 1e-5 * Math.abs(r)));
            if (bad >= 0) throw new Error(`matmul_backward bench: ${name}[${bad}] = ${got[bad]}, expected ${want[bad]}`);
          }
        },
        dispose: () => [x, w, g, ...k.out()].forEach((t) => t.dispose()),
      };
    },
  };
}

export const cases: BenchCase[] = [linearGrad(19, 2816, 1024, true), linearGrad(896, 344, 128, false)];
