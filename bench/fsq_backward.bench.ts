// fsq_backward: the straight-through gradient of FSQ rounding. Memory-bound, bytes = u and g read
// + the gradient written. Roofline: the copy kernel.
import { fsqBackward } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

export const cases: BenchCase[] = [
  finiteCase('fsq_backward', 'STE [16384,6]', { bytes: 12 * 16384 * 6 }, true, (ctx) => {
    const [u, g] = [t(ctx, [16384, 6], 1, 2), t(ctx, [16384, 6], 2)];
    return { ...keepLast(() => [fsqBackward(u, g, { levels: [8, 8, 8, 5, 5, 5] })]), dispose: () => (u.dispose(), g.dispose()) };
  }),
];
