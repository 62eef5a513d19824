// Backward kernels and the optimizer at model-like shapes, and one training step of a small
// tokenizer end to end (forward on the tape, backward, AdamW). Conv3d and matmul gradients against
// TF.js's are in peers/peers.bench.ts (conv_backward, matmul_backward rows). Memory-bound kernels report
// GB/s (roofline: the copy kernel); the conv and attention backward GFLOP/s (FMA ceiling rows).
import {
  adamwStep,
  attentionBackward,
  conv2dBackward,
  embeddingBackward,
  fsqBackward,
  groupNormBackward,
  reduceSum,
  rmsNormBackward,
  siluMulBackward,
  softmaxBackward,
  softmaxCrossEntropy,
  unaryBackward,
  upsampleNearest2xBackward,
} from '../kernels/index.js';
import type { GpuContext, Tensor } from '../kernels/index.js';
import { mse } from '../src/graph/ops.js';
import { randomInitSource } from '../src/graph/weights.js';
import { ImageTokenizer, SMALL_TOKENIZER } from '../src/models/videoworld/tokenizer.js';
import { Tape, accumulateGrads } from '../src/graph/autograd.js';
import { goBoardImages } from '../src/train/go-data.js';
import { AdamW } from '../src/train/optim.js';
import { type BenchCase, pattern } from './harness.js';

type Made = { run: () => void; out: () => Tensor[]; dispose: () => void };

/** A case whose check is: every output finite and not all zero (the kernels' tests compare with references). */
function bench(kernel: string, shape: string, cost: { flops?: number; bytes?: number }, quick: boolean, make: (ctx: GpuContext) => Made): BenchCase {
  return {
    kernel,
    shape,
    ...cost,
    quick,
    setup: async (ctx) => {
      const m = make(ctx);
      return {
        run: m.run,
        check: async () => {
          for (const t of m.out()) {
            const v = await t.read();
            if (!v.every(Number.isFinite) || v.every((x) => x === 0)) throw new Error(`${kernel} bench ${shape}: output ${t.label} is not finite or all zero`);
          }
        },
        dispose: m.dispose,
      };
    },
  };
}

const t = (ctx: GpuContext, shape: number[], seed: number, scale = 1) => ctx.fromArray(pattern(shape.reduce((a, b) => a * b, 1), seed, scale), shape);

/** Runs `f`, keeps its last outputs for the check and frees the previous ones. */
function keep(f: () => Tensor[]): Pick<Made, 'run' | 'out'> {
  let last: Tensor[] = [];
  return {
    run: () => {
      for (const x of last) x.dispose();
      last = f();
    },
    out: () => last,
  };
}

const N = 4 << 20;

export const cases: BenchCase[] = [
  bench('unary_backward', `silu' [${N}]`, { bytes: 12 * N }, true, (ctx) => {
    const [x, g] = [t(ctx, [N], 1), t(ctx, [N], 2)];
    return { ...keep(() => [unaryBackward('silu', x, g)]), dispose: () => (x.dispose(), g.dispose()) };
  }),
  bench('unary_backward', `siluMul' [${N}]`, { bytes: 20 * N }, false, (ctx) => {
    const [a, b, g] = [t(ctx, [N], 1), t(ctx, [N], 2), t(ctx, [N], 3)];
    return { ...keep(() => Object.values(siluMulBackward(a, b, g))), dispose: () => (a.dispose(), b.dispose(), g.dispose()) };
  }),
  bench('softmax_backward', '[4096,1024]', { bytes: 12 * 4096 * 1024 }, true, (ctx) => {
    const [y, g] = [t(ctx, [4096, 1024], 1), t(ctx, [4096, 1024], 2)];
    return { ...keep(() => [softmaxBackward(y, g)]), dispose: () => (y.dispose(), g.dispose()) };
  }),
  bench('cross_entropy', 'loss + dlogits [256,16384]', { bytes: 12 * 256 * 16384 }, true, (ctx) => {
    const x = t(ctx, [256, 16384], 1, 4);
    const ids = Int32Array.from({ length: 256 }, (_, i) => (i * 7919) % 16384);
    return {
      ...keep(() => {
        const r = softmaxCrossEntropy(x, ids);
        r.perRow.dispose();
        return [r.loss, r.dlogits!];
      }),
      dispose: () => x.dispose(),
    };
  }),
  bench('reduce', `bias grad [${N / 512},512]`, { bytes: 4 * N }, true, (ctx) => {
    const x = t(ctx, [N / 512, 512], 1);
    return { ...keep(() => [reduceSum(x, [N / 512, 512, 1])]), dispose: () => x.dispose() };
  }),
  bench('optimizer', `AdamW ${N} params`, { bytes: 4 * 7 * N }, true, (ctx) => {
    const [p, g, m, v] = [t(ctx, [N], 1), t(ctx, [N], 2), ctx.zeros([N]), ctx.zeros([N])];
    let step = 0;
    return { run: () => adamwStep(p, g, m, v, { lr: 1e-4, step: ++step }), out: () => [p, m, v], dispose: () => [p, g, m, v].forEach((x) => x.dispose()) };
  }),
  bench('fsq_backward', 'STE [16384,6]', { bytes: 12 * 16384 * 6 }, true, (ctx) => {
    const [u, g] = [t(ctx, [16384, 6], 1, 2), t(ctx, [16384, 6], 2)];
    return { ...keep(() => [fsqBackward(u, g, { levels: [8, 8, 8, 5, 5, 5] })]), dispose: () => (u.dispose(), g.dispose()) };
  }),
  bench('resample', 'nearest2x backward [1,128,256,256]', { bytes: 5 * 128 * 128 * 128 * 4 }, true, (ctx) => {
    const g = t(ctx, [1, 128, 256, 256], 1);
    return { ...keep(() => [upsampleNearest2xBackward(g)]), dispose: () => g.dispose() };
  }),
  bench('embedding_backward', 'scatter-add 2048 ids x 1024 -> [16384,1024]', { bytes: 4 * (2048 * 1024 + 16384 * 1024) }, true, (ctx) => {
    const g = t(ctx, [2048, 1024], 1);
    const ids = Int32Array.from({ length: 2048 }, (_, i) => (i * 40503) % 16384);
    return { ...keep(() => [embeddingBackward(ids, g, 16384)]), dispose: () => g.dispose() };
  }),
  bench('norm_backward', 'groupNorm+SiLU backward [1,128,64,64]', { bytes: 4 * 3 * 128 * 64 * 64 }, true, (ctx) => {
    const [x, g, w, b] = [t(ctx, [1, 128, 64, 64], 1), t(ctx, [1, 128, 64, 64], 2), t(ctx, [128], 3), t(ctx, [128], 4)];
    return {
      ...keep(() => Object.values(groupNormBackward(x, g, { weight: w, bias: b, silu: true })).filter((v): v is Tensor => !!v)),
      dispose: () => [x, g, w, b].forEach((v) => v.dispose()),
    };
  }),
  bench('norm_backward', 'rmsNorm backward [4096,1024]', { bytes: 4 * 3 * 4096 * 1024 }, false, (ctx) => {
    const [x, g, w] = [t(ctx, [4096, 1024], 1), t(ctx, [4096, 1024], 2), t(ctx, [1024], 3)];
    return { ...keep(() => Object.values(rmsNormBackward(x, w, g))), dispose: () => [x, g, w].forEach((v) => v.dispose()) };
  }),
  bench('attention_backward', 'causal L=256 4x64', { flops: 2 * 4 * 4 * 256 * 256 * 64 / 2 }, true, (ctx) => {
    const s = [1, 4, 256, 64];
    const [q, k, v, o, g] = [1, 2, 3, 4, 5].map((i) => t(ctx, s, i));
    return { ...keep(() => Object.values(attentionBackward(q!, k!, v!, o!, g!, { causal: true }))), dispose: () => [q, k, v, o, g].forEach((x) => x!.dispose()) };
  }),
  bench('conv_backward', 'conv2d 3x3 dx+dw [1,128,64,64]->128', { flops: 2 * 2 * 128 * 128 * 9 * 64 * 64 }, false, (ctx) => {
    const [x, w, g] = [t(ctx, [1, 128, 64, 64], 1), t(ctx, [128, 128, 3, 3], 2, 0.1), t(ctx, [1, 128, 64, 64], 3)];
    return { ...keep(() => Object.values(conv2dBackward(x, w, g)).filter((v): v is Tensor => !!v)), dispose: () => [x, w, g].forEach((v) => v.dispose()) };
  }),
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
