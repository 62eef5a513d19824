// resample: memory-bound, bytes = read x + write out (nearest2x writes 4 outputs per input, so 5
// floats per input element; depthToSpace2x moves each element once). Roofline: the copy kernel
// (~3.5 GB/s on the 2-core lavapipe machine). Measured 2026-11-21 (load 3.7-5.2): depthToSpace2x
// 1.24 GB/s, nearest2x 0.83 (copy 2.2 in the same run). The backward of nearest2x sums each 2x2
// block: bytes = the gradient read + dx written.
import { depthToSpace2x, resampleRef, upsampleNearest2x, upsampleNearest2xBackward } from '../kernels/index.js';
import { type BenchCase, finiteCase, keepLast, pattern, patternTensor } from './harness.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export const cases: BenchCase[] = [
  ...(
    [
      ['depthToSpace2x', [1, 512, 5, 16, 16]],
      ['nearest2x', [1, 128, 128, 128]],
    ] as const
  ).map(([mode, s]): BenchCase => ({
    kernel: 'resample',
    shape: `${mode} [${s}]`,
    bytes: 4 * numel(s) * (mode === 'nearest2x' ? 5 : 2),
    quick: true,
    setup: async (ctx) => {
      const xv = pattern(numel(s), 11);
      const x = ctx.fromArray(xv, s);
      const f = mode === 'nearest2x' ? upsampleNearest2x : depthToSpace2x;
      const out = f(x);
      return {
        run: () => void f(x, out),
        check: async () => {
          const got = await out.read();
          const ref = resampleRef(mode, xv, s);
          for (let i = 0; i < ref.length; i += 97) if (got[i] !== ref[i]) throw new Error(`resample bench: mismatch at ${i}`);
        },
        dispose: () => (x.dispose(), out.dispose()),
      };
    },
  })),
  finiteCase('resample', 'nearest2x backward [1,128,256,256]', { bytes: 5 * 128 * 128 * 128 * 4 }, true, (ctx) => {
    const g = patternTensor(ctx, [1, 128, 256, 256], 1);
    return { ...keepLast(() => [upsampleNearest2xBackward(g)]), dispose: () => g.dispose() };
  }),
];
