// reduce: a bias gradient (sum over rows). Memory-bound, bytes = the input read once. Roofline:
// the copy kernel.
import { reduceSum } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

const N = 4 << 20;

export const cases: BenchCase[] = [
  finiteCase('reduce', `bias grad [${N / 512},512]`, { bytes: 4 * N }, true, (ctx) => {
    const x = t(ctx, [N / 512, 512], 1);
    return { ...keepLast(() => [reduceSum(x, [N / 512, 512, 1])]), dispose: () => x.dispose() };
  }),
];
