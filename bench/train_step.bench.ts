// train_step: one training step of a small tokenizer end to end (forward on the tape, backward,
// AdamW), wall time per step. Not a kernel family: the backward kernels and the optimizer have
// their own files (bench/<id>.bench.ts: unary_backward, softmax_backward, cross_entropy, reduce,
// optimizer, fsq_backward, resample, embedding_backward, norm_backward, attention_backward,
// conv_backward, matmul_backward).
import type { Tensor } from '../kernels/index.js';
import { mse } from '../src/graph/ops.js';
import { randomInitSource } from '../src/graph/weights.js';
import { ImageTokenizer, SMALL_TOKENIZER } from '../src/models/videoworld/tokenizer.js';
import { Tape, accumulateGrads } from '../src/graph/autograd.js';
import { goBoardImages } from '../src/train/go-data.js';
import { AdamW } from '../src/train/optim.js';
import type { BenchCase } from './harness.js';

export const cases: BenchCase[] = [
  {
    kernel: 'train_step',
    shape: 'SMALL_TOKENIZER fwd+bwd+AdamW, 16 Go boards 16x16',
    quick: true,
    setup: async (ctx) => {
      const tok = new ImageTokenizer(SMALL_TOKENIZER).train();
      await tok.load(ctx, randomInitSource(tok.namedParams(), 1));
      const x = ctx.fromArray(goBoardImages(16, 16, 7).images, [16, 3, 16, 16]);
      const opt = new AdamW(tok.parameters(), { lr: 1e-3 });
      let loss: Tensor | null = null;
      return {
        run: () => {
          loss?.dispose();
          const tape = new Tape(ctx).watchParams(tok);
          loss = tape.run(() => ctx.scope(() => mse(tok.reconstruct(x).recon, x)));
          accumulateGrads(tok.parameters(), tape.backward(loss));
          opt.step();
          opt.zeroGrad();
        },
        check: async () => {
          const v = (await loss!.read())[0]!;
          if (!Number.isFinite(v)) throw new Error(`train_step bench: loss ${v}`);
        },
        dispose: () => (loss?.dispose(), opt.dispose(), tok.dispose(), x.dispose()),
        note: `${tok.paramCount()} parameters`,
      };
    },
  },
];
