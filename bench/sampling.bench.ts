// sampling over the 160005-entry vocabulary, one row (the decode step): ms per token. bytes =
// one read of the logits (top-k adds 4 histogram passes, top-p 2 + 4 more, counted once), so
// GB/s against copy shows how far each mode is from a single streaming pass.
import { argmax, argmaxRef, sampleRef, sampleTokens } from '../kernels/index.js';
import type { SampleOptions } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

const V = 160005;
const MODES: [string, SampleOptions | null][] = [
  ['argmax', null],
  ['multinomial', { seed: 60 }],
  ['topK=50', { seed: 60, topK: 50 }],
  ['topK=50 topP=0.9', { seed: 60, topK: 50, topP: 0.9 }],
  ['topP=0.9', { seed: 60, topP: 0.9 }],
];

export const cases: BenchCase[] = MODES.map(([name, opts]) => ({
  kernel: 'sampling',
  shape: `${name} [1,${V}]`,
  bytes: 4 * V,
  quick: name !== 'topK=50',
  setup: async (ctx) => {
    const xv = new Float32Array(V).map((_, i) => Math.sin(i * 0.37) * 4 + ((i * 7919) % 101) / 50);
    const x = ctx.fromArray(xv, [1, V]);
    const out = ctx.tensor([1], 'i32');
    return {
      run: () => void (opts ? sampleTokens(x, opts, out) : argmax(x, out)),
      check: async () => {
        const [got] = await out.read();
        const [want] = opts ? sampleRef(xv, V, opts) : argmaxRef(xv, V);
        if (got !== want) throw new Error(`sampling bench ${name}: GPU ${got}, reference ${want}`);
      },
      dispose: () => (x.dispose(), out.dispose()),
    };
  },
}));
