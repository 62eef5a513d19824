import test, { type ExecutionContext } from 'ava';
import { type Tensor, fourierPeRef } from '../../kernels/index.js';
import { Tape, accumulateGrads, noGrad } from '../../src/graph/autograd.js';
import { mse } from '../../src/graph/ops.js';
import { randomInitSource } from '../../src/graph/weights.js';
import { GO_LDM, type LdmConfig, LatentDynamicsModel, SMALL_LDM, codeNormStats } from '../../src/models/videoworld/ldm.js';
import { AdamW } from '../../src/train/optim.js';
import { centralDifference } from '../helpers/fd.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// The LDM end to end on the tape: encoder -> query-former -> FSQ (straight-through) -> AdaGN decoder.
// Every executed parameter gets a finite, non-zero gradient; the never-executed tail layers (an
// upstream quirk, kept for their state_dict keys) get none. Decoder-side gradients (after the FSQ,
// where the straight-through estimator and the true function agree) match central differences of
// the f32 forward (h = 1e-2; see qformer-grad.test.ts for the bound). A few AdamW steps lower the loss.
/**
 * For each named parameter, the tape gradient's largest entry against a central difference (h 1e-2)
 * of the no-grad forward of lossOf; 2e-2 of that entry (plus 1e-5) allows for f32 rounding.
 */
async function largestEntriesMatchFd(t: ExecutionContext, m: LatentDynamicsModel, grads: Map<Tensor, Tensor>, keys: readonly string[], lossOf: () => Tensor): Promise<void> {
  const ctx = m.parameters()[0]!.t.ctx;
  const f = async () => (await noGrad(ctx, () => ctx.scope(lossOf)).read())[0]!;
  for (const key of keys) {
    const p = m.parameters().find((x) => x.key === key);
    if (!p) throw new Error(`no parameter ${key}`);
    const gx = (await grads.get(p.t)!.read()) as Float32Array;
    const scale = Math.max(...gx.map(Math.abs));
    const i = gx.indexOf(gx.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)));
    const fd = await centralDifference(p.t, i, 1e-2, f);
    t.true(Math.abs(fd - gx[i]!) <= 2e-2 * scale + 1e-5, `${key}[${i}]: tape ${gx[i]}, central difference ${fd}`);
  }
}

// The same with the micro Go LDM's positional options (peValues, codePe) on SMALL_LDM's widths.
const SMALL_PE_LDM: LdmConfig = { ...SMALL_LDM, encoder: { ...SMALL_LDM.encoder, peValues: true }, decoder: { ...SMALL_LDM.decoder, codePe: true } };
// And with the micro Go LDM's deltaTokens (the qformer reads frame 1's features minus those of (frame 0, frame 0)).
const SMALL_DELTA_LDM: LdmConfig = { ...SMALL_LDM, encoder: { ...SMALL_LDM.encoder, deltaTokens: true } };
const CONFIGS = [['upstream', SMALL_LDM], ['peValues + codePe', SMALL_PE_LDM], ['deltaTokens', SMALL_DELTA_LDM]] as const;
for (const [name, cfg] of CONFIGS) {
  test.serial(`LDM (${name}): reconstruction loss backpropagates through every executed block; decoder gradients match central differences`, async (t) => {
    const ctx = await gpu();
    const m = new LatentDynamicsModel(cfg).train();
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
    await largestEntriesMatchFd(t, m, grads, ['decoder.conv_out.conv.bias', 'decoder.conv_out.conv.weight', 'decoder.decoder_layers.0.linear.weight', 'decoder.decoder_layers.2.net.0.conv.bias'], lossOf);
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
}

// batchNormCodes standardises FSQ's inputs over the batch (the micro Go LDM's codes collapsed to one
// without it); foldCodeNorm moves those statistics into project_in, after which the plain inference
// path must give the same codes as the batch-normalised one on that batch.
test.serial('LDM: batchNormCodes spreads a fresh model\'s codes; the same statistics given as codeNorm, or folded, give the same codes', async (t) => {
  const ctx = await gpu();
  const m = new LatentDynamicsModel(SMALL_LDM).train();
  await m.load(ctx, randomInitSource(m.namedParams(), 3));
  const rng = Rng.fromString(t.title);
  const B = 16;
  const clip = ctx.fromArray(rng.array(B * 3 * 2 * 32 * 32), [B, 3, 2, 32, 32]);
  const codesOf = async (batchNormCodes: boolean, codeNorm?: { mean: number[]; variance: number[] }) => {
    const ids = noGrad(ctx, () => ctx.scope(() => m.encode(clip, { batchNormCodes, codeNorm }).indices));
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
  const { mean, variance } = codeNormStats(uv, L);
  t.log(`distinct codes of ${B} clips: plain ${new Set(plain).size}, batch-normalised ${new Set(normed).size}; input std per level ${variance.map((v) => Math.sqrt(v).toExponential(2)).join(' ')}`);
  t.true(new Set(normed).size >= B / 2, `batch-normalised codes: ${normed.join(',')}`);
  // The same statistics given as constants (codeNorm, what running statistics use) standardise alike.
  const given = await codesOf(false, { mean, variance });
  t.true(given.filter((c, i) => c === normed[i]).length >= B - 1, `codeNorm: ${given.join(',')} vs batch-normalised ${normed.join(',')}`);
  t.throws(() => m.encode(clip, { codeNorm: { mean: [0], variance: [1] } }), { message: /codeNorm: 6 means and variances/ });
  await m.foldCodeNorm(mean, variance);
  const folded = await codesOf(false);
  const same = folded.filter((c, i) => c === normed[i]).length;
  t.true(same >= B - 1, `folded plain path: ${folded.join(',')} vs batch-normalised ${normed.join(',')}`);
  await t.throwsAsync(() => m.foldCodeNorm([0], [1]), { message: /foldCodeNorm: 6 means and variances/ });
});

// Encoder-side gradients (before the FSQ, so no straight-through estimate in the way): a loss on the
// query-former's features against central differences of the same f32 forward, for a parameter of
// every encoder op kind (causal conv, strided conv, frame-wise norm, residual, attention, LayerNorm,
// the query embedding), with and without the positional options.
for (const [name, cfg] of CONFIGS) {
  test.serial(`LDM (${name}): encoder gradients match central differences`, async (t) => {
    const ctx = await gpu();
    const m = new LatentDynamicsModel(cfg).train();
    await m.load(ctx, randomInitSource(m.namedParams(), 5));
    const rng = Rng.fromString(t.title);
    const B = 2;
    const clip = ctx.fromArray(rng.array(B * 3 * 2 * 32 * 32), [B, 3, 2, 32, 32]);
    const target = ctx.fromArray(rng.array(B * cfg.dim), [B, cfg.dim, 1, 1, 1]);
    const lossOf = () => mse(m.encode(clip).features, target);
    const tape = new Tape(ctx).watchParams(m);
    const grads = tape.backward(tape.run(() => ctx.scope(lossOf)));
    const q = 'encoder.qformer.qformers.0';
    const keys = [
      'encoder.conv_in.conv.weight',
      'encoder.encoder_layers.0._conv.conv.weight',
      'encoder.encoder_layers.1._residual.0.weight',
      'encoder.encoder_layers.1._residual.5.conv.weight',
      'encoder.encoder_layers.1._shortcut.conv.weight',
      `${q}.layers.0.cross_attn_token_to_image.k_proj.weight`,
      `${q}.layers.1.cross_attn_token_to_image.v_proj.weight`,
      `${q}.final_attn_token_to_image.q_proj.weight`,
      `${q}.layers.0.norm2.weight`,
      'encoder.act.weight',
    ];
    await largestEntriesMatchFd(t, m, grads, keys, lossOf);
    m.dispose();
  });
}

// The positional encoding was once tiled over the batch with one concat of B * T copies along
// time and a reshape, which gave each clip of a batch the encoding's channels in another order: a
// clip's features then depended on its place in the batch (the goldens, batch 1, could not see it).
for (const [name, cfg] of CONFIGS.filter(([n]) => n !== 'peValues + codePe')) {
  test.serial(`LDM (${name}): a clip's features and code do not depend on its place in the batch`, async (t) => {
    const ctx = await gpu();
    const m = new LatentDynamicsModel(cfg);
    await m.load(ctx, randomInitSource(m.namedParams(), 9));
    const rng = Rng.fromString(t.title);
    const n = 3 * 2 * 32 * 32;
    const a = rng.array(n);
    const b = rng.array(n);
    // [a, b, a]: the first and the last clip are the same clip.
    const x = new Float32Array(3 * n);
    x.set(a, 0);
    x.set(b, n);
    x.set(a, 2 * n);
    const e = noGrad(ctx, () => ctx.scope(() => m.encode(ctx.fromArray(x, [3, 3, 2, 32, 32]))));
    const f = (await e.features.read()) as Float32Array;
    const ids = await e.indices.read();
    const D = cfg.dim;
    const diff = Math.max(...f.subarray(0, D).map((v, i) => Math.abs(v - f[2 * D + i]!)));
    t.log(`clip a at batch index 0 and 2: max feature difference ${diff}`);
    t.is(diff, 0);
    t.is(ids[0], ids[2]);
    for (const v of [e.features, e.indices, e.codes, e.preEncodeOut]) v.dispose();
    m.dispose();
  });
}

// deltaTokens: a clip whose frames are equal has d = 0 in every cell (keys = PE, values = 0), so its
// features do not depend on the frame; a clip with a change does. Wrong configurations are refused.
test.serial('LDM (deltaTokens): unchanged clips all get the same features, changed ones do not', async (t) => {
  const ctx = await gpu();
  const m = new LatentDynamicsModel(SMALL_DELTA_LDM);
  await m.load(ctx, randomInitSource(m.namedParams(), 7));
  const rng = Rng.fromString(t.title);
  const frame = () => rng.array(3 * 32 * 32);
  // [3, 2, 32, 32] from two frames [3, 32, 32].
  const clipOf = (a: Float32Array, b: Float32Array) => Float32Array.from({ length: 3 * 2 * 1024 }, (_, i) => (Math.floor(i / 1024) % 2 ? b : a)[Math.floor(i / 2048) * 1024 + (i % 1024)]!);
  const x = frame();
  const y = frame();
  const moved = x.slice();
  for (let c = 0; c < 3; c++) for (const p of [10 * 32 + 20, 10 * 32 + 21]) moved[c * 1024 + p]! += 1;
  const clips = [clipOf(x, x), clipOf(y, y), clipOf(x, moved)];
  const f = noGrad(ctx, () => ctx.scope(() => m.encode(ctx.fromArray(Float32Array.from(clips.flatMap((c) => [...c])), [3, 3, 2, 32, 32])).features));
  const v = (await f.read()) as Float32Array;
  f.dispose();
  const D = SMALL_DELTA_LDM.dim;
  const row = (i: number) => v.subarray(i * D, (i + 1) * D);
  const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((z, i) => Math.abs(z - b[i]!)));
  t.log(`features: unchanged x vs unchanged y differ by ${maxDiff(row(0), row(1)).toExponential(2)}, unchanged x vs x with a change by ${maxDiff(row(0), row(2)).toExponential(2)}`);
  t.true(maxDiff(row(0), row(1)) <= 1e-4, 'two unchanged clips should give the same features');
  t.true(maxDiff(row(0), row(2)) > 1e-3, 'a change should move the features');
  t.throws(() => new LatentDynamicsModel({ ...SMALL_DELTA_LDM, encoder: { ...SMALL_DELTA_LDM.encoder, frameNum: 3 } }), { message: /deltaTokens needs 2-frame clips and one action query, got frameNum 3/ });
  m.dispose();
});

// SAM's PositionEmbeddingRandom draws its fixed matrix from N(0, 1); an embedding-sized init
// (U(+-0.035), what the key's "embed" once matched) left the micro LDM's keys with a near-constant
// positional encoding for its whole training, as the matrix is never trained.
test('randomInitSource: the LDM positional-encoding matrix is N(0, 1) and its encoding varies across the grid', async (t) => {
  const m = new LatentDynamicsModel(GO_LDM);
  const key = 'encoder.pos_embedding.positional_encoding_gaussian_matrix';
  const g = await randomInitSource(m.namedParams(), 0).f32(key);
  const n = g.length;
  const mean = g.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  t.log(`${n} values: mean ${mean.toFixed(3)}, std ${std.toFixed(3)}`);
  t.true(Math.abs(mean) < 0.15 && std > 0.85 && std < 1.15, `mean ${mean}, std ${std}`);
  // sin(2 pi (x g0 + y g1)) over a 5x5 grid: each channel must swing, not sit near 0.
  const f = n / 2;
  const pe = fourierPeRef(g, f, 5, 5);
  let swing = 0;
  for (let k = 0; k < f; k++) {
    const ch = pe.subarray(k * 25, (k + 1) * 25);
    swing += Math.max(...ch) - Math.min(...ch);
  }
  t.true(swing / f > 0.8, `mean swing of the sine channels ${swing / f}`);
});
