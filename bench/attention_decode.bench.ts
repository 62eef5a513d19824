// attention_decode: the split-K decode step, one query row against Lk cached keys and values.
// Memory-bound at these shapes: bytes = the K and V rows read (flops = 4 * NH * Lk * HD, shown
// too); tokens/s = 1000 / ms. Roofline: the copy kernel. Shapes carry the scratch bytes each call
// allocates (the split-K partials, NH x splits x (HD + 4) floats), never Lk x Lk.
import { attentionDecode } from '../kernels/index.js';
import { decodeScratchBytes } from '../kernels/internal.js';
import type { BenchCase } from './harness.js';
import { attentionInputs, checkRows } from './attention.bench.js';

const decode = (NH: number, Lk: number, HD: number): BenchCase => ({
  kernel: 'attention_decode',
  shape: `Lq=1 Lk=${Lk} ${NH}x${HD}, scratch ${decodeScratchBytes(1, NH, HD, Lk)} B`,
  flops: 4 * NH * Lk * HD,
  bytes: 2 * NH * Lk * HD * 4,
  quick: true,
  setup: async (ctx) => {
    const { qa, ka, va, q, k, v, out, dispose } = attentionInputs(ctx, NH, 1, Lk, HD);
    return {
      run: () => void attentionDecode(q, k, v, { out }),
      check: () => checkRows(out, qa, ka, va, NH, 1, Lk, HD, 'attention_decode'),
      dispose,
    };
  },
});

// The go transformer's heads (16 x 64), at a short and a long context.
export const cases: BenchCase[] = [decode(16, 44, 64), decode(16, 2048, 64)];
