import test from 'ava';
import { createNodeContext } from '../../src/node.js';
import { gpu } from '../helpers/gpu.js';
import { type WeightSource, safetensorsSource } from '../../src/graph/weights.js';
import { parseSafetensors, serializeSafetensors, toHalves } from '../../src/io/safetensors.js';
import { openSafetensorsFile } from '../../src/node.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternLM } from '../../src/models/videoworld/internlm.js';
import { internlmConfig } from '../../src/verify.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';

// Tolerance: the 1e-4 max abs on logits and block outputs (f32 vs upstream f32; the
// f32-vs-f64 gap of these files is ~1e-6).
const TOL = 1e-4;

const rows = (ids: Int32Array, B: number, L: number) => Array.from({ length: B }, (_, b) => Array.from(ids.subarray(b * L, (b + 1) * L)));

test('internlm: lastOnly logits equal the last row of the full pass; memory does not grow over decode steps', async (t) => {
  const ctx = await createNodeContext(); // own context: pool counters must not see other tests
  t.teardown(() => ctx.destroy());
  const g = await loadGolden('internlm_tiny_lm');
  const cfg = internlmConfig(JSON.parse(g.metadata.ctor!));
  const lm = new InternLM(cfg);
  const report = await lm.load(ctx, safetensorsSource(g));
  t.deepEqual(report.unexpected, []);
  const [B, L] = g.entry('in/input_ids').shape as [number, number];
  const ids = rows(g.i32('in/input_ids'), B, L);
  const V = cfg.vocabSize;

  const full = await lm.forward(ctx, ids).read();
  assertClose(t, full, g.f32('out/logits'), { atol: TOL, shape: [B, L, V], name: 'logits' });
  const last = await lm.forward(ctx, ids, { lastOnly: true }).read();
  for (let b = 0; b < B; b++) {
    const row = full.subarray((b * L + L - 1) * V, (b * L + L) * V);
    assertClose(t, last.subarray(b * V, (b + 1) * V), row, { atol: 1e-6, name: `lastOnly row ${b}` });
  }
  // Decode steps against a KV cache: after the first step, no new buffers and no growth in use.
  const caches = lm.newCaches(ctx, B, 40);
  await lm.forward(ctx, ids, { caches, lastOnly: true }).read();
  const step = async () => {
    const logits = lm.forward(ctx, ids.map((r) => [r[0]!]), { caches, lastOnly: true });
    await logits.read();
    logits.dispose();
  };
  // Two warm-up steps: a buffer released after a step's submit becomes reusable at the next one.
  await step();
  await step();
  const before = ctx.pool.getStats();
  for (let i = 0; i < 10; i++) await step();
  const after = ctx.pool.getStats();
  t.is(after.created, before.created, 'no createBuffer in later decode steps');
  t.is(after.inUse, before.inUse, 'no growth in live buffers');
  for (const c of caches) c.dispose();
  lm.dispose();
});

test('internlm.generate: greedy tokens from the KV cache equal the argmax of full passes; seeded sampling repeats', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('internlm_tiny_lm');
  const cfg = internlmConfig(JSON.parse(g.metadata.ctor!));
  const lm = new InternLM(cfg);
  await lm.load(ctx, safetensorsSource(g));
  const prompt = [5, 17, 3, 88];
  const streamed: number[] = [];
  const r = await lm.generate(ctx, prompt, { maxNewTokens: 6, sampling: { greedy: true }, onToken: (id) => void streamed.push(id) });
  t.is(r.tokens.length, 6);
  t.deepEqual(streamed, r.tokens);
  const seq = [...prompt, ...r.tokens];
  const full = await lm.forward(ctx, [seq.slice(0, -1)]).read();
  const V = cfg.vocabSize;
  for (let i = 0; i < r.tokens.length; i++) {
    const row = full.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
    t.is(r.tokens[i], row.indexOf(Math.max(...row)), `token ${i}`);
  }
  const a = await lm.generate(ctx, prompt, { maxNewTokens: 5, sampling: { seed: 7, temperature: 1.5 } });
  const b = await lm.generate(ctx, prompt, { maxNewTokens: 5, sampling: { seed: 7, temperature: 1.5 } });
  t.deepEqual(a.tokens, b.tokens);
  const stop = await lm.generate(ctx, prompt, { maxNewTokens: 6, sampling: { greedy: true }, stopTokens: [r.tokens[2]!] });
  t.deepEqual(stop.tokens, r.tokens.slice(0, r.tokens.indexOf(r.tokens[2]!) + 1));
  t.is(stop.stoppedBy, 'stop');
  await t.throwsAsync(() => lm.generate(ctx, prompt, { maxNewTokens: 100 }), { message: /exceeds maxPositions 64/ });
  lm.dispose();
});

test('internlm with f16 weights: the tables are built while loading (no f32 copy kept; chunking: test/kernels), logits within the f16 verdict; reloading as f32 drops them', async (t) => {
  const ctx = await createNodeContext(); // own context: pool counters must not see other tests
  t.teardown(() => ctx.destroy());
  const g = await loadGolden('internlm_tiny_lm');
  const cfg = internlmConfig(JSON.parse(g.metadata.ctor!));
  const [B, L] = g.entry('in/input_ids').shape as [number, number];
  const ids = rows(g.i32('in/input_ids'), B, L);
  const ref = g.f32('out/logits');
  const maxAbs = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const lm = new InternLM(cfg).withWeightDtype('f16');
  await lm.load(ctx, safetensorsSource(g));
  t.is(lm.embed.tensor, null, 'the f32 embedding table is not kept');
  t.is(lm.lmHead.tensor, null, 'the f32 output projection is not kept');
  // verify --dtype f16's verdict: max abs error <= 5e-3 of the largest reference logit.
  assertClose(t, await lm.forward(ctx, ids).read(), ref, { atol: 5e-3 * maxAbs, shape: [B, L, cfg.vocabSize], name: 'f16 logits' });
  lm.withWeightDtype('f32');
  await lm.load(ctx, safetensorsSource(g));
  t.truthy(lm.embed.tensor, 'f32: the plain embedding table is the lookup table again');
  assertClose(t, await lm.forward(ctx, ids).read(), ref, { atol: TOL, shape: [B, L, cfg.vocabSize], name: 'logits after reloading as f32' });
  lm.dispose();
});

test('internlm f16 from an f16 checkpoint: weights packed from their bits (no f32 detour), the same logits as through f32; a file-backed source reads the bits', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('internlm_tiny_lm');
  const cfg = internlmConfig(JSON.parse(g.metadata.ctor!));
  const [B, L] = g.entry('in/input_ids').shape as [number, number];
  const ids = rows(g.i32('in/input_ids'), B, L);
  const weights = safetensorsSource(g);
  // Norm weights stay F32 (a mixed file): halves() is null for them.
  const record = (k: string) => (k.includes('norm') ? { dtype: 'F32' as const, shape: [...weights.shape(k)!], data: weights.f32(k) as Float32Array } : { dtype: 'F16' as const, shape: [...weights.shape(k)!], data: toHalves(weights.f32(k) as Float32Array) });
  const bytes = serializeSafetensors(Object.fromEntries(weights.keys().map((k) => [k, record(k)])));
  const file = parseSafetensors(bytes, 'f16.safetensors');
  const taken: string[] = [];
  const counting: WeightSource = { ...safetensorsSource(file), halves: (k) => { const h = file.halves(k); if (h) taken.push(k); return h; } };
  const viaF32: WeightSource = { keys: () => file.names, shape: (k) => file.entry(k).shape, f32: (k, into) => file.f32(k, into) };
  const logits = async (src: WeightSource) => {
    const lm = new InternLM(cfg).withWeightDtype('f16');
    await lm.load(ctx, src);
    const y = await lm.forward(ctx, ids).read();
    lm.dispose();
    return y;
  };
  const direct = await logits(counting);
  // Every projection, the embedding and the output projection; norms, biases and inv_freq go through f32.
  t.is(taken.length, 7 * cfg.numLayers + 2, taken.join(', '));
  t.deepEqual(direct, await logits(viaF32), 'bitwise the f32 detour');
  const dir = mkdtempSync(join(tmpdir(), 'vw-f16-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'w.safetensors'), bytes);
  const st = await openSafetensorsFile(join(dir, 'w.safetensors'));
  try {
    const k = taken[0]!;
    t.deepEqual(await st.halves(k), file.halves(k));
    const into = new Uint16Array(file.halves(k)!.length + 3);
    const got = await st.halves(k, into);
    t.is(got!.buffer, into.buffer, 'read into the caller scratch');
    t.deepEqual(got, file.halves(k));
    t.is(await st.halves('model.norm.weight'), null, 'an F32 tensor has no halves');
    t.is(file.halves('model.norm.weight'), null);
  } finally {
    await st.close();
  }
});
