import test from 'ava';
import { Tape, accumulateGrads, noGrad } from '../../src/graph/autograd.js';
import { mse } from '../../src/graph/ops.js';
import { randomInitSource } from '../../src/graph/weights.js';
import { LatentDynamicsModel, SMALL_LDM } from '../../src/models/videoworld/ldm.js';
import { AdamW } from '../../src/train/optim.js';
import { centralDifference } from '../helpers/fd.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// The LDM end to end on the tape: encoder -> query-former -> FSQ (straight-through) -> AdaGN decoder.
// Every executed parameter gets a finite, non-zero gradient; the never-executed tail layers (an
// upstream quirk, kept for their state_dict keys) get none. Decoder-side gradients (after the FSQ,
// where the straight-through estimator and the true function agree) match central differences of
// the f32 forward (h = 1e-2; see qformer-grad.test.ts for the bound). A few AdamW steps lower the loss.
test.serial('LDM: reconstruction loss backpropagates through every executed block; decoder gradients match central differences', async (t) => {
  const ctx = await gpu();
  const m = new LatentDynamicsModel(SMALL_LDM).train();
  await m.load(ctx, randomInitSource(m.namedParams(), 1));
  const rng = Rng.fromString(t.title);
  const clip = ctx.fromArray(rng.array(2 * 3 * 2 * 32 * 32), [2, 3, 2, 32, 32]);
  const lossOf = () => {
    const e = m.encode(clip);
    return mse(m.decode(e.codes, e.preEncodeOut), clip);
  };
  const tape = new Tape(ctx).watchParams(m);
  const loss = tape.run(() => ctx.scope(lossOf));
  const grads = tape.backward(loss);
  const tails = /^(encoder\.encoder_layers\.2\.|decoder\.decoder_layers\.3\.)/;
  for (const p of m.parameters()) {
    const g = grads.get(p.t);
    if (tails.test(p.key)) {
      t.falsy(g, `${p.key} is never executed upstream, yet got a gradient`);
      continue;
    }
    t.truthy(g, `${p.key}: no gradient`);
    if (!g) continue;
    const v = await g.read();
    t.true(v.every(Number.isFinite) && v.some((x) => x !== 0), `${p.key}: gradient not finite or all zero`);
  }
  const f = async () => (await noGrad(ctx, () => ctx.scope(lossOf)).read())[0]!;
  for (const key of ['decoder.conv_out.conv.bias', 'decoder.conv_out.conv.weight', 'decoder.decoder_layers.0.linear.weight', 'decoder.decoder_layers.2.net.0.conv.bias']) {
    const p = m.parameters().find((q) => q.key === key)!;
    const gx = await grads.get(p.t)!.read();
    const scale = Math.max(...gx.map(Math.abs));
    const i = gx.indexOf(gx.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)));
    const fd = await centralDifference(p.t, i, 1e-2, f);
    t.true(Math.abs(fd - gx[i]!) <= 2e-2 * scale + 1e-5, `${key}[${i}]: tape ${gx[i]}, central difference ${fd}`);
  }
  accumulateGrads(m.parameters(), grads);
  const opt = new AdamW(m.parameters(), { lr: 3e-4, weightDecay: 0 });
  const losses = [(await loss.read())[0]!];
  opt.step();
  opt.zeroGrad();
  for (let s = 0; s < 3; s++) {
    const tp = new Tape(ctx).watchParams(m);
    const l = tp.run(() => ctx.scope(lossOf));
    accumulateGrads(m.parameters(), tp.backward(l));
    losses.push((await l.read())[0]!);
    opt.step();
    opt.zeroGrad();
  }
  t.log(`MSE over 4 AdamW steps: ${losses.map((x) => x.toFixed(4)).join(' -> ')}`);
  t.true(losses.at(-1)! < losses[0]!, losses.join(', '));
  opt.dispose();
  m.dispose();
});

// batchNormCodes standardises FSQ's inputs over the batch (the micro Go LDM's codes collapsed to one
// without it); foldCodeNorm moves those statistics into project_in, after which the plain inference
// path must give the same codes as the batch-normalised one on that batch.
test.serial('LDM: batchNormCodes spreads a fresh model\'s codes; folding the batch statistics gives the plain path the same codes', async (t) => {
  const ctx = await gpu();
  const m = new LatentDynamicsModel(SMALL_LDM).train();
  await m.load(ctx, randomInitSource(m.namedParams(), 3));
  const rng = Rng.fromString(t.title);
  const B = 16;
  const clip = ctx.fromArray(rng.array(B * 3 * 2 * 32 * 32), [B, 3, 2, 32, 32]);
  const codesOf = async (batchNormCodes: boolean) => {
    const ids = noGrad(ctx, () => ctx.scope(() => m.encode(clip, { batchNormCodes }).indices));
    const v = [...(await ids.read())];
    ids.dispose();
    return v;
  };
  const plain = await codesOf(false);
  const normed = await codesOf(true);
  const L = SMALL_LDM.levels.length;
  const u = noGrad(ctx, () => ctx.scope(() => m.projectIn.forward(m.encode(clip).features.reshape([B, SMALL_LDM.dim]))));
  const uv = await u.read();
  u.dispose();
  const mean = Array.from({ length: L }, (_, l) => uv.filter((_, i) => i % L === l).reduce((a, b) => a + b, 0) / B);
  const variance = Array.from({ length: L }, (_, l) => uv.filter((_, i) => i % L === l).reduce((a, b) => a + (b - mean[l]!) ** 2, 0) / B);
  t.log(`distinct codes of ${B} clips: plain ${new Set(plain).size}, batch-normalised ${new Set(normed).size}; input std per level ${variance.map((v) => Math.sqrt(v).toExponential(2)).join(' ')}`);
  t.true(new Set(normed).size >= B / 2, `batch-normalised codes: ${normed.join(',')}`);
  await m.foldCodeNorm(mean, variance);
  const folded = await codesOf(false);
  const same = folded.filter((c, i) => c === normed[i]).length;
  t.true(same >= B - 1, `folded plain path: ${folded.join(',')} vs batch-normalised ${normed.join(',')}`);
  await t.throwsAsync(() => m.foldCodeNorm([0], [1]), { message: /foldCodeNorm: 6 means and variances/ });
});
