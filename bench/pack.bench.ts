// pack: the packing passes before a packed GEMM (kernels/pack.ts): pure data movement, bytes =
// source read + packed copy written, checked exactly. Roofline: the copy kernel. Shapes: the go
// transformer's MLP up-projection weight (nn.Linear [2816,1024]) as f32, f16 and f16-checkpoint
// bits, and A^T for a 19-token prompt and the micro transformer's training activations.
import { f16Round, halfToFloat, toHalves } from '../kernels/core/ref_math.js';
import { packBlocks, packBlocksRef, packedBlocksSize, transposePadded, transposePaddedRef } from '../kernels/pack.js';
import { type BenchCase, pattern } from './harness.js';

/** The packing passes before a packed GEMM (kernels/pack.ts): data movement, checked exactly. */
function packing(kernel: 'pack_blocks' | 'pack_blocks_f16' | 'pack_blocks_h16' | 'pack_transposed', rows: number, cols: number): BenchCase {
  // pack_blocks_h16: the source is f16 bits (an f16 checkpoint's weight), moved as they are.
  const srcF16 = kernel === 'pack_blocks_h16';
  const f16 = kernel === 'pack_blocks_f16' || srcF16;
  const toBlocks = kernel !== 'pack_transposed';
  const blocks = { batch: 1, n: rows, k: cols, r: 16, trans: true, f16, srcF16 };
  const outFloats = toBlocks ? packedBlocksSize(blocks) : cols * Math.ceil(rows / 4) * 4;
  return {
    kernel,
    shape: toBlocks ? `nn.Linear weight [${rows},${cols}]${srcF16 ? ' (f16)' : ''} -> blocks of 16${f16 ? ' (f16)' : ''}` : `A [${rows},${cols}] -> A^T padded`,
    bytes: (srcF16 ? 2 : 4) * rows * cols + (f16 ? 2 : 4) * outFloats,
    quick: true,
    setup: async (ctx) => {
      const v = srcF16 ? pattern(rows * cols, 9).map(f16Round) : pattern(rows * cols, 9);
      const src = srcF16 ? ctx.fromArray(new Uint32Array(toHalves(v).buffer), [(rows * cols) / 2], 'u32') : ctx.fromArray(v, [rows, cols]);
      let out = f16 ? ctx.tensor([outFloats / 2], 'u32') : ctx.tensor([outFloats]);
      const run = () => {
        if (toBlocks) return packBlocks(ctx, src, out, blocks);
        out.dispose();
        out = transposePadded(src, false, 1, rows, cols);
      };
      return {
        run,
        check: async () => {
          const raw = await out.read();
          const got = f16 ? Float32Array.from({ length: raw.length * 2 }, (_, i) => halfToFloat((raw[i >> 1]! >>> (16 * (i & 1))) & 0xffff)) : raw;
          const want = toBlocks ? packBlocksRef(srcF16 ? toHalves(v) : v, blocks) : transposePaddedRef(v, false, 1, rows, cols);
          const bad = want.findIndex((w, i) => got[i] !== w);
          if (bad >= 0) throw new Error(`${kernel} bench: element ${bad} is ${got[bad]}, expected ${want[bad]}`);
        },
        dispose: () => (src.dispose(), out.dispose()),
      };
    },
  };
}

export const cases: BenchCase[] = [
  packing('pack_blocks', 2816, 1024),
  packing('pack_blocks_f16', 2816, 1024),
  packing('pack_blocks_h16', 2816, 1024),
  packing('pack_transposed', 19, 1024),
  // The micro transformer's training activations (16 sequences x 56 tokens, MLP width).
  packing('pack_transposed', 896, 344),
];
