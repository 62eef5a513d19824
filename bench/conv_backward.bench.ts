// conv_backward: dx and dw of a 3x3 conv2d, and of the micro LDM's causal convs on 2-frame clips
// (batch 16: a residual conv at 10x10 and conv_in, 7x7x7 from RGB, dw only). Compute-bound, flops =
// 2 x the forward's (one GEMM each; on 2 frames counted over the taps that read a frame, as the
// forward skips the causal zero frames). Roofline: the FMA ceiling rows. The causal 3-D gradients
// against TF.js's are in peers/peers.bench.ts (conv_backward rows).
import { causalConv3dBackward, conv2dBackward } from '../kernels/index.js';
import type { Tensor } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('conv_backward', 'conv2d 3x3 dx+dw [1,128,64,64]->128', { flops: 2 * 2 * 128 * 128 * 9 * 64 * 64 }, false, (ctx) => {
    const [x, w, g] = [t(ctx, [1, 128, 64, 64], 1), t(ctx, [128, 128, 3, 3], 2, 0.1), t(ctx, [1, 128, 64, 64], 3)];
    return { ...keepLast(() => Object.values(conv2dBackward(x, w, g)).filter((v): v is Tensor => !!v)), dispose: () => [x, w, g].forEach((v) => v.dispose()) };
  }),
  // Time taps that read a frame: 3 of 2 x 3 (3x3x3), 3 of 2 x 7 (7x7x7).
  finiteCase('conv_backward', 'causal 3x3x3 dx+dw [16,64,2,10,10]->64', { flops: 2 * 2 * 64 * 64 * 9 * 3 * 16 * 100 }, false, (ctx) => {
    const [x, w, g] = [t(ctx, [16, 64, 2, 10, 10], 1), t(ctx, [64, 64, 3, 3, 3], 2, 0.1), t(ctx, [16, 64, 2, 10, 10], 3)];
    return { ...keepLast(() => Object.values(causalConv3dBackward(x, w, g)).filter((v): v is Tensor => !!v)), dispose: () => [x, w, g].forEach((v) => v.dispose()) };
  }),
  finiteCase('conv_backward', 'causal 7x7x7 dw [16,3,2,20,20]->32', { flops: 2 * 32 * 3 * 49 * 3 * 16 * 400 }, false, (ctx) => {
    const [x, w, g] = [t(ctx, [16, 3, 2, 20, 20], 1), t(ctx, [32, 3, 7, 7, 7], 2, 0.1), t(ctx, [16, 32, 2, 20, 20], 3)];
    return { ...keepLast(() => Object.values(causalConv3dBackward(x, w, g, { input: false })).filter((v): v is Tensor => !!v)), dispose: () => [x, w, g].forEach((v) => v.dispose()) };
  }),
];
