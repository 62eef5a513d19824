// row_norm (LayerNorm / RMSNorm over the last dim): bytes = read x + write y (8 per element);
// roofline = the copy kernel. [19, 1024] is the InternLM prompt (78 KiB: dispatch-latency bound),
// [4096, 1024] measures bandwidth.
import { layerNorm, rmsNorm, rowNormRef } from '../kernels/index.js';
import { compareClose } from '../test/helpers/close.js';
import type { BenchCase } from './harness.js';

const shapes: [number, number][] = [[19, 1024], [4096, 1024]];
export const cases: BenchCase[] = shapes.flatMap(([R, D]) =>
  (['rms', 'layer'] as const).map((kind) => ({
    kernel: 'row_norm',
    shape: `${kind} [${R},${D}]`,
    bytes: 8 * R * D,
    quick: kind === 'rms',
    setup: async (ctx) => {
      const xv = new Float32Array(R * D).map((_, i) => ((i * 7919) % 2001) / 500 - 2);
      const wv = new Float32Array(D).map((_, i) => 1 + (i % 13) / 26);
      const bv = new Float32Array(D).map((_, i) => (i % 7) / 14);
      const [x, w, b, out] = [ctx.fromArray(xv, [R, D]), ctx.fromArray(wv, [D]), ctx.fromArray(bv, [D]), ctx.tensor([R, D])];
      return {
        run: () => void (kind === 'rms' ? rmsNorm(x, { weight: w }, out) : layerNorm(x, { weight: w, bias: b }, out)),
        check: async () => {
          const r = compareClose(await out.read(), rowNormRef(kind, xv, D, kind === 'rms' ? { weight: wv } : { weight: wv, bias: bv }), { atol: 2e-6, rtol: 2e-6 });
          if (!r.ok) throw new Error(`row_norm bench: ${r.report}`);
        },
        dispose: () => [x, w, b, out].forEach((t) => t.dispose()),
      };
    },
  })),
);
