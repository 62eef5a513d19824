// embedding_backward: scatter-add of row gradients into the table's gradient. Memory-bound, bytes =
// the gradient rows read + the table gradient written. Roofline: the copy kernel.
import { embeddingBackward } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('embedding_backward', 'scatter-add 2048 ids x 1024 -> [16384,1024]', { bytes: 4 * (2048 * 1024 + 16384 * 1024) }, true, (ctx) => {
    const g = t(ctx, [2048, 1024], 1);
    const ids = Int32Array.from({ length: 2048 }, (_, i) => (i * 40503) % 16384);
    return { ...keepLast(() => [embeddingBackward(ids, g, 16384)]), dispose: () => g.dispose() };
  }),
];
