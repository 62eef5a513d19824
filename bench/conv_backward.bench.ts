// conv_backward: dx and dw of a 3x3 conv2d. Compute-bound, flops = 2 x the forward's (one GEMM
// each). Roofline: the FMA ceiling rows. The causal 3-D gradients against TF.js's are in
// peers/peers.bench.ts (conv_backward rows).
import { conv2dBackward } from '../kernels/index.js';
import type { Tensor } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('conv_backward', 'conv2d 3x3 dx+dw [1,128,64,64]->128', { flops: 2 * 2 * 128 * 128 * 9 * 64 * 64 }, false, (ctx) => {
    const [x, w, g] = [t(ctx, [1, 128, 64, 64], 1), t(ctx, [128, 128, 3, 3], 2, 0.1), t(ctx, [1, 128, 64, 64], 3)];
    return { ...keepLast(() => Object.values(conv2dBackward(x, w, g)).filter((v): v is Tensor => !!v)), dispose: () => [x, w, g].forEach((v) => v.dispose()) };
  }),
];
