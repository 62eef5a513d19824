// norm_backward: GroupNorm (+ SiLU) and RMSNorm backward. Memory-bound, bytes = x and g read + dx
// written (the parameter gradients are tiny). Roofline: the copy kernel.
import { groupNormBackward, rmsNormBackward } from '../kernels/index.js';
import type { Tensor } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('norm_backward', 'groupNorm+SiLU backward [1,128,64,64]', { bytes: 4 * 3 * 128 * 64 * 64 }, true, (ctx) => {
    const [x, g, w, b] = [t(ctx, [1, 128, 64, 64], 1), t(ctx, [1, 128, 64, 64], 2), t(ctx, [128], 3), t(ctx, [128], 4)];
    return {
      ...keepLast(() => Object.values(groupNormBackward(x, g, { weight: w, bias: b, silu: true })).filter((v): v is Tensor => !!v)),
      dispose: () => [x, g, w, b].forEach((v) => v.dispose()),
    };
  }),
  finiteCase('norm_backward', 'rmsNorm backward [4096,1024]', { bytes: 4 * 3 * 4096 * 1024 }, false, (ctx) => {
    const [x, g, w] = [t(ctx, [4096, 1024], 1), t(ctx, [4096, 1024], 2), t(ctx, [1024], 3)];
    return { ...keepLast(() => Object.values(rmsNormBackward(x, w, g))), dispose: () => [x, g, w].forEach((v) => v.dispose()) };
  }),
];
