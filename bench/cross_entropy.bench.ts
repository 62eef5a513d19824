// cross_entropy: the loss and dlogits of softmax cross-entropy over a vocabulary. Memory-bound,
// bytes = logits read twice (max/sum, then dlogits) + dlogits written. Roofline: the copy kernel.
import { softmaxCrossEntropy } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('cross_entropy', 'loss + dlogits [256,16384]', { bytes: 12 * 256 * 16384 }, true, (ctx) => {
    const x = t(ctx, [256, 16384], 1, 4);
    const ids = Int32Array.from({ length: 256 }, (_, i) => (i * 7919) % 16384);
    return {
      ...keepLast(() => {
        const r = softmaxCrossEntropy(x, ids);
        r.perRow.dispose();
        return [r.loss, r.dlogits!];
      }),
      dispose: () => x.dispose(),
    };
  }),
];
