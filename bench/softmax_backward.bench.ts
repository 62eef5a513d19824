// softmax_backward: memory-bound, bytes = y and g read + dx written. Roofline: the copy kernel.
import { softmaxBackward } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('softmax_backward', '[4096,1024]', { bytes: 12 * 4096 * 1024 }, true, (ctx) => {
    const [y, g] = [t(ctx, [4096, 1024], 1), t(ctx, [4096, 1024], 2)];
    return { ...keepLast(() => [softmaxBackward(y, g)]), dispose: () => (y.dispose(), g.dispose()) };
  }),
];
