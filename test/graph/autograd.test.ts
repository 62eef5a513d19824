import test from 'ava';
import { Tape, accumulateGrads, noGrad } from '../../src/graph/autograd.js';
import { Module } from '../../src/graph/module.js';
import { addOp, concatOp, linear, meanPoolOp, mse, mulOp, padOp, permuteOp, reshape, scaleOp, sliceOp, subOp } from '../../src/graph/ops.js';
import { randomInitSource } from '../../src/graph/weights.js';
import { Linear } from '../../src/models/videoworld/layers.js';
import { ImageTokenizer, SMALL_TOKENIZER } from '../../src/models/videoworld/tokenizer.js';
import { lossCurveSvg, trainLoop } from '../../src/train/loop.js';
import { restoreCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { SeededRng } from '../../src/graph/rng.js';
import { AdamW, SGD } from '../../src/train/optim.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

test.serial('retain: a held buffer survives dispose() of the tensor and returns to the pool with the last hold', async (t) => {
  const ctx = await gpu();
  await ctx.sync();
  const before = ctx.pool.getStats().inUse;
  const x = ctx.fromArray([1, 2, 3], [3]);
  const h = x.retain();
  x.dispose();
  t.false(h.disposed);
  t.deepEqual([...(await h.reshape([3]).read())], [1, 2, 3]);
  h.dispose();
  h.dispose();
  t.true(h.disposed);
  t.is(ctx.pool.getStats().inUse, before);
});

test.serial('tape: a tensor used twice gets the sum of its gradients (y = x*x + x -> 2x + 1)', async (t) => {
  const ctx = await gpu();
  const xs = Rng.fromString(t.title).array(7);
  const x = ctx.fromArray(xs, [7]);
  const tape = new Tape(ctx).watch(x);
  const y = tape.run(() => addOp(mulOp(x, x), x));
  const g = tape.backward(y).get(x)!;
  assertClose(t, await g.read(), Array.from(xs, (v) => 2 * v + 1), { atol: 1e-6 });
  t.is(tape.pending, 0);
});

test.serial('tape: slice, reshape, broadcast add and scale route gradients (bias gets the row sum)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xs = rng.array(12);
  const bs = rng.array(2);
  const x = ctx.fromArray(xs, [3, 4]);
  const b = ctx.fromArray(bs, [2]);
  const tape = new Tape(ctx).watch(x, b);
  const G = rng.array(6);
  const y = tape.run(() => scaleOp(addOp(reshape(sliceOp(x, 1, 1, 3), [3, 2]), b), 3));
  const grads = tape.backward(y, ctx.fromArray(G, [3, 2]));
  const gx = new Float64Array(12);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 2; c++) gx[r * 4 + 1 + c] = 3 * G[r * 2 + c]!;
  assertClose(t, await grads.get(x)!.read(), gx, { atol: 1e-6, name: 'dx' });
  assertClose(t, await grads.get(b)!.read(), [0, 1].map((c) => 3 * (G[c]! + G[2 + c]! + G[4 + c]!)), { atol: 1e-5, name: 'db' });
});

class Tiny extends Module {
  readonly fc = this.child('fc', new Linear('fc', 5, 3));
}

test.serial('tape: linear + mse gradients match the closed form; noGrad records nothing', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const m = new Tiny('').train();
  await m.load(ctx, randomInitSource(m.namedParams(), 3));
  const xs = rng.array(4 * 5);
  const ts = rng.array(4 * 3);
  const x = ctx.fromArray(xs, [4, 5]);
  const target = ctx.fromArray(ts, [4, 3]);
  const tape = new Tape(ctx).watchParams(m);
  noGrad(ctx, () => tape.run(() => noGrad(ctx, () => linear(x, m.fc.weight.t, m.fc.bias!.t))));
  t.is(tape.pending, 0);
  const loss = tape.run(() => mse(m.fc.forward(x), target));
  const grads = tape.backward(loss);
  const W = await m.fc.weight.t.read();
  const B = await m.fc.bias!.t.read();
  const dW = new Float64Array(15);
  const dB = new Float64Array(3);
  let L = 0;
  for (let i = 0; i < 4; i++) {
    for (let o = 0; o < 3; o++) {
      let y = B[o]!;
      for (let k = 0; k < 5; k++) y += xs[i * 5 + k]! * W[o * 5 + k]!;
      const d = y - ts[i * 3 + o]!;
      L += (d * d) / 12;
      dB[o]! += (2 * d) / 12;
      for (let k = 0; k < 5; k++) dW[o * 5 + k]! += ((2 * d) / 12) * xs[i * 5 + k]!;
    }
  }
  assertClose(t, await loss.read(), [L], { atol: 1e-6, rtol: 1e-5, name: 'loss' });
  assertClose(t, await grads.get(m.fc.weight.t)!.read(), dW, { atol: 1e-6, rtol: 1e-5, name: 'dW' });
  assertClose(t, await grads.get(m.fc.bias!.t)!.read(), dB, { atol: 1e-6, rtol: 1e-5, name: 'dB' });
  // Accumulating the same gradients twice doubles them.
  accumulateGrads(m.parameters(), grads);
  const tape2 = new Tape(ctx).watchParams(m);
  accumulateGrads(m.parameters(), tape2.backward(tape2.run(() => mse(m.fc.forward(x), target))));
  assertClose(t, await m.fc.bias!.grad!.read(), Array.from(dB, (v) => 2 * v), { atol: 1e-6, rtol: 1e-5, name: 'accumulated dB' });
  m.dispose();
});

test.serial('tape: backward without a recorded path is a named error; discard() frees saved activations', async (t) => {
  const ctx = await gpu();
  const x = ctx.fromArray([1, 2], [2]);
  const tape = new Tape(ctx);
  const y = tape.run(() => mulOp(x, x));
  t.throws(() => tape.backward(y), { message: /root does not depend on any watched tensor/ });
  await ctx.sync();
  const before = ctx.pool.getStats().inUse;
  tape.watch(x);
  const z = tape.run(() => mulOp(x, x));
  z.dispose();
  t.is(tape.pending, 1);
  tape.discard();
  t.is(tape.pending, 0);
  t.is(ctx.pool.getStats().inUse, before);
});

test.serial('training: GPU memory does not grow with steps; SGD and AdamW lower the loss; checkpoints resume bit-identically', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xs = rng.array(16 * 5);
  const ts = rng.array(16 * 3);
  const x = ctx.fromArray(xs, [16, 5]);
  const target = ctx.fromArray(ts, [16, 3]);
  const run = async (opt: 'sgd' | 'adamw', steps: number, resumeFrom?: Uint8Array) => {
    const m = new Tiny('').train();
    await m.load(ctx, randomInitSource(m.namedParams(), 4));
    const o = opt === 'sgd' ? new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }) : new AdamW(m.parameters(), { lr: 0.05 });
    const inUse: number[] = [];
    const allocated: number[] = [];
    let ckpt: Uint8Array | undefined;
    const resume = resumeFrom ? restoreCheckpoint(parseSafetensors(resumeFrom), m, o) : undefined;
    const r = await trainLoop({
      ctx, model: m, optimizer: o, steps, seed: 9, resume,
      batch: (_s, _m, r) => r.int(16),
      loss: () => mse(m.fc.forward(x), target),
      clip: 10,
      log: () => {},
      onEval: async () => {
        await ctx.sync();
        const st = ctx.pool.getStats();
        inUse.push(st.inUse);
        allocated.push(st.allocated);
      },
      evalEvery: 1,
      checkpoint: { every: 3, save: (b, s) => void (s === 3 ? (ckpt = b) : undefined) },
    });
    const w = await m.fc.weight.t.read();
    m.dispose();
    (o as AdamW | SGD).dispose();
    return { r, inUse, allocated, ckpt, w };
  };
  for (const kind of ['sgd', 'adamw'] as const) {
    const a = await run(kind, 6);
    t.true(a.r.losses.at(-1)! < a.r.losses[0]!, `${kind}: ${a.r.losses.join(', ')}`);
    t.true(a.inUse.slice(1).every((v) => v === a.inUse[1]), `${kind}: pool bytes in use per step ${a.inUse.join(', ')}`);
    t.true(a.allocated.slice(1).every((v) => v === a.allocated[1]), `${kind}: pool bytes allocated per step ${a.allocated.join(', ')}`);
    const b = await run(kind, 6, a.ckpt);
    t.deepEqual(b.r.losses, a.r.losses, `${kind}: resumed losses`);
    t.deepEqual([...b.w], [...a.w], `${kind}: resumed weights bit-identical`);
  }
});

test.serial('lossCurveSvg draws every finite loss; SeededRng permutations are seeded and complete', (t) => {
  const svg = lossCurveSvg([1, 0.5, 0.1, NaN, 0.01, 0.001], 'loss');
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.regex(svg, /log-scale loss/);
  const pts = /points="([^"]*)"/.exec(svg)![1]!.split(' ');
  t.is(pts.length, 5);
  for (const p of pts) t.regex(p, /^\d+(\.\d)?,\d+(\.\d)?$/);
  const a = new SeededRng(5).permutation(20);
  t.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
  t.deepEqual(new SeededRng(5).permutation(20), a);
  t.notDeepEqual(new SeededRng(6).permutation(20), a);
});

test.serial('restoreCheckpoint refuses a file that is not a training checkpoint, or another optimizer', async (t) => {
  const ctx = await gpu();
  const m = new Tiny('').train();
  await m.load(ctx, randomInitSource(m.namedParams(), 4));
  const sgd = new SGD(m.parameters(), { lr: 0.1 });
  const adam = new AdamW(m.parameters(), { lr: 0.1 });
  const bytes = await saveCheckpoint(m, sgd, { step: 3, rng: 7 });
  t.throws(() => restoreCheckpoint(parseSafetensors(bytes), m, adam), { message: /written by SGD, resuming with AdamW/ });
  t.throws(() => restoreCheckpoint(parseSafetensors(serializeSafetensors({})), m, sgd), { message: /not a training checkpoint/ });
  t.is(restoreCheckpoint(parseSafetensors(bytes), m, sgd).step, 3);
  sgd.dispose();
  adam.dispose();
  m.dispose();
});

test.serial('paths without a backward refuse to run under a recording tape instead of dropping gradients', async (t) => {
  const ctx = await gpu();
  const tok = new ImageTokenizer(SMALL_TOKENIZER);
  const image = ctx.zeros([1, 3, 16, 16]);
  const tape = new Tape(ctx).watch(image);
  t.throws(() => tape.run(() => tok.encode(image)), { message: /ImageTokenizer\.encode \(train through reconstruct\(\)\): has no backward yet/ });
  t.is(tape.pending, 0);
});

test.serial('tape: pad, concat, permute, sub and meanPool route gradients', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const as = rng.array(6);
  const bs = rng.array(4);
  const a = ctx.fromArray(as, [2, 3]);
  const b = ctx.fromArray(bs, [2, 2]);
  const tape = new Tape(ctx).watch(a, b);
  // y = meanPool(permute(concat([pad(a, cols +1), b], cols) - 1, [1, 0]) as [1, 6, 2], axis 2): [1, 6]
  const y = tape.run(() => {
    const c = concatOp([padOp(a, [[0, 0], [0, 1]]), b], 1); // [2, 6]
    const d = subOp(c, ctx.fromArray([1], [1]));
    return meanPoolOp(reshape(permuteOp(d, [1, 0]), [1, 6, 2]), 2); // mean over the 2 rows
  });
  const G = rng.array(6);
  const grads = tape.backward(y, ctx.fromArray(G, [1, 6]));
  // dy/dc[r, j] = G[j] / 2: a gets columns 0..2, b columns 4..5 (column 3 is the padding).
  assertClose(t, await grads.get(a)!.read(), [0, 1].flatMap(() => [0, 1, 2].map((j) => G[j]! / 2)), { atol: 1e-7, name: 'da' });
  assertClose(t, await grads.get(b)!.read(), [0, 1].flatMap(() => [4, 5].map((j) => G[j]! / 2)), { atol: 1e-7, name: 'db' });
});
