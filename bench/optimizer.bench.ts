// optimizer: one AdamW step. Memory-bound, bytes = p, g, m, v read + p, m, v written. Roofline:
// the copy kernel.
import { adamwStep } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

const N = 4 << 20;

export const cases: BenchCase[] = [
  finiteCase('optimizer', `AdamW ${N} params`, { bytes: 4 * 7 * N }, true, (ctx) => {
    const [p, g, m, v] = [t(ctx, [N], 1), t(ctx, [N], 2), ctx.zeros([N]), ctx.zeros([N])];
    let step = 0;
    return { run: () => adamwStep(p, g, m, v, { lr: 1e-4, step: ++step }), out: () => [p, m, v], dispose: () => [p, g, m, v].forEach((x) => x.dispose()) };
  }),
];
