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
