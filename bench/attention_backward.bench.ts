// attention_backward: dq, dk, dv of causal attention. Compute-bound, flops = twice the forward's
// (4 B NH L^2 HD, halved for the causal mask). Roofline: the FMA ceiling rows of the same run.
import { attentionBackward } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('attention_backward', 'causal L=256 4x64', { flops: 2 * 4 * 4 * 256 * 256 * 64 / 2 }, true, (ctx) => {
    const s = [1, 4, 256, 64];
    const [q, k, v, o, g] = [1, 2, 3, 4, 5].map((i) => t(ctx, s, i));
    return { ...keepLast(() => Object.values(attentionBackward(q!, k!, v!, o!, g!, { causal: true }))), dispose: () => [q, k, v, o, g].forEach((x) => x!.dispose()) };
  }),
];
