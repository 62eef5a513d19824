import test from 'ava';
import { randomInitSource } from '../../src/graph/weights.js';
import { crossEntropy, mse, reshape } from '../../src/graph/ops.js';
import { InternLM } from '../../src/models/videoworld/internlm.js';
import { ImageTokenizer, SMALL_TOKENIZER } from '../../src/models/videoworld/tokenizer.js';
import { goBoardImages } from '../../src/train/go-data.js';
import { trainLoop } from '../../src/train/loop.js';
import { AdamW, warmupCosine } from '../../src/train/optim.js';
import { gpu } from '../helpers/gpu.js';

// The end-to-end learning checks: each must reach its target loss within a step budget
// and stops as soon as it does. Their wall times on the 2-core dev machine (83 s and 1.6 s, under the
// issue's 2 minutes) are logged here and reported in the README; tests do not assert on time.


test.serial('overfit: a small tokenizer reconstructs 16 rendered Go boards at 16x16 (MSE < 1e-3 within 2 minutes)', async (t) => {
  const ctx = await gpu();
  const S = 16;
  const N = 16;
  const { images } = goBoardImages(N, S, 7);
  const tok = new ImageTokenizer(SMALL_TOKENIZER).train();
  await tok.load(ctx, randomInitSource(tok.namedParams(), 1));
  const x = ctx.fromArray(images, [N, 3, S, S]);
  const opt = new AdamW(tok.parameters(), { lr: 5e-3, weightDecay: 0 });
  const steps = 300;
  const allocated: number[] = [];
  const r = await trainLoop({
    ctx,
    model: tok,
    optimizer: opt,
    steps,
    batch: () => x,
    loss: (b) => mse(tok.reconstruct(b).recon, b),
    schedule: warmupCosine({ lr: 5e-3, warmupSteps: 10, totalSteps: steps, minLr: 5e-4 }),
    clip: 1,
    targetLoss: 1e-3,
    log: (l) => t.log(l),
    logEvery: 25,
    evalEvery: 25,
    onEval: () => void allocated.push(ctx.pool.getStats().allocated),
  });
  // The pool holds the same GPU memory from the first evaluation to the last: nothing grows with steps.
  t.true(allocated.length >= 2 && allocated.every((a) => a === allocated[0]), `pool bytes allocated every 25 steps: ${allocated.join(', ')}`);
  t.log(`tokenizer: ${r.steps} steps, ${r.seconds.toFixed(1)} s, final MSE ${r.losses.at(-1)}`);
  t.true(r.losses.at(-1)! < 1e-3, `MSE ${r.losses.at(-1)} after ${r.steps} steps`);
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
  opt.dispose();
  lm.dispose();
});
