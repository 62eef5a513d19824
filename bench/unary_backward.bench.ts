// unary_backward: memory-bound, bytes = inputs read + the gradient written. Roofline: the copy
// kernel (bench/copy.bench.ts). silu' reads x and g; the fused SwiGLU backward reads a, b, g and
// writes da, db.
import { siluMulBackward, unaryBackward } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, patternTensor as t } from './harness.js';

const N = 4 << 20;

export const cases: BenchCase[] = [
  finiteCase('unary_backward', `silu' [${N}]`, { bytes: 12 * N }, true, (ctx) => {
    const [x, g] = [t(ctx, [N], 1), t(ctx, [N], 2)];
    return { ...keepLast(() => [unaryBackward('silu', x, g)]), dispose: () => (x.dispose(), g.dispose()) };
  }),
  finiteCase('unary_backward', `siluMul' [${N}]`, { bytes: 20 * N }, false, (ctx) => {
    const [a, b, g] = [t(ctx, [N], 1), t(ctx, [N], 2), t(ctx, [N], 3)];
    return { ...keepLast(() => Object.values(siluMulBackward(a, b, g))), dispose: () => (a.dispose(), b.dispose(), g.dispose()) };
  }),
];
