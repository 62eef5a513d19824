import test from 'ava';
import { randomInitSource } from '../../src/graph/weights.js';
import { crossEntropy, mse, reshape } from '../../src/graph/ops.js';
import { InternLM } from '../../src/models/videoworld/internlm.js';
import { ImageTokenizer, type TokenizerConfig } from '../../src/models/videoworld/tokenizer.js';
import { goBoardImages } from '../../src/train/go-data.js';
import { trainLoop } from '../../src/train/loop.js';
import { AdamW, warmupCosine } from '../../src/train/optim.js';
import { gpu } from '../helpers/gpu.js';

// The end-to-end learning checks: each must reach its target loss within 2 minutes on
// the 2-core dev machine (lavapipe). They stop as soon as the target is reached.

/** A small tokenizer of the same family (GroupNorm's 32 groups need widths of 32k). */
export const OVERFIT_TOKENIZER: TokenizerConfig = {
  encoder: { inChannels: 3, outChannels: 32, width: 32, depth: 1, widthMults: [1, 1, 1], attentionLayer: 2, refineLayer: 3 },
  decoder: { inChannels: 32, outChannels: 3, width: 32, depth: 1, widthMults: [1, 1, 1], attentionLayer: 0, refineLayer: 0, hiddenChannels: 32 },
  levels: [8, 8, 8, 5, 5, 5],
  dim: 32,
};

test.serial('overfit: a tiny tokenizer reconstructs 16 rendered Go boards (MSE < 1e-3 within 2 minutes)', async (t) => {
  const ctx = await gpu();
  const S = 32;
  const N = 16;
  const { images } = goBoardImages(N, S, 7);
  const tok = new ImageTokenizer(OVERFIT_TOKENIZER).train();
  await tok.load(ctx, randomInitSource(tok.namedParams(), 1));
  const x = ctx.fromArray(images, [N, 3, S, S]);
  const opt = new AdamW(tok.parameters(), { lr: 2e-3, weightDecay: 0 });
  const steps = 400;
  const r = await trainLoop({
    ctx,
    model: tok,
    optimizer: opt,
    steps,
    batch: () => x,
    loss: (b) => mse(tok.reconstruct(b).recon, b),
    schedule: warmupCosine({ lr: 2e-3, warmupSteps: 10, totalSteps: steps, minLr: 2e-4 }),
    clip: 1,
    targetLoss: 1e-3,
    log: (l) => t.log(l),
    logEvery: 25,
  });
  t.log(`tokenizer: ${r.steps} steps, ${r.seconds.toFixed(1)} s, final MSE ${r.losses.at(-1)}`);
  t.true(r.losses.at(-1)! < 1e-3, `MSE ${r.losses.at(-1)} after ${r.steps} steps`);
  t.true(r.seconds < 120, `${r.seconds.toFixed(1)} s`);
  opt.dispose();
  tok.dispose();
  x.dispose();
});

test.serial('overfit: a tiny transformer memorizes a fixed token sequence (loss < 0.01 within 2 minutes)', async (t) => {
  const ctx = await gpu();
  const lm = new InternLM({ vocabSize: 64, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, rmsNormEps: 1e-6, bias: true, maxPositions: 64 }).train();
  await lm.load(ctx, randomInitSource(lm.namedParams(), 2));
  const L = 32;
  const seq = Array.from({ length: L + 1 }, (_, i) => (i * 37 + 11) % 64);
  const opt = new AdamW(lm.parameters(), { lr: 3e-3, weightDecay: 0 });
  const r = await trainLoop({
    ctx,
    model: lm,
    optimizer: opt,
    steps: 300,
    batch: () => seq,
    loss: (s) => crossEntropy(reshape(lm.forward(ctx, [s.slice(0, L)]), [L, 64]), Int32Array.from(s.slice(1))),
    targetLoss: 0.01,
    log: (l) => t.log(l),
    logEvery: 25,
  });
  t.log(`transformer: ${r.steps} steps, ${r.seconds.toFixed(1)} s, final loss ${r.losses.at(-1)}`);
  t.true(r.losses.at(-1)! < 0.01, `loss ${r.losses.at(-1)} after ${r.steps} steps`);
  t.true(r.seconds < 120, `${r.seconds.toFixed(1)} s`);
  opt.dispose();
  lm.dispose();
});
