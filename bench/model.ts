// npm run bench:model [-- --preset go|tiny] [--stages encode,decode,ldm,prefill,decode-token] [--json]
// End-to-end stage timings of the VideoWorld Go model on the adapter, with peak GPU memory per
// stage (pool high-water mark, weights included) and GFLOP/s against the spec's FLOP counts
// (videoworld-spec 8.2: image encoder 116.0, decoder 198.0, transformer prefill of 19 tokens
// with last-position logits 12.1, one decode step 0.944; LDM encode of a 2-frame clip 1610).
// Weights are deterministic stand-ins (hinit-v1): timings do not depend on their values.
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LatentDynamicsModel } from '../src/models/videoworld/ldm.js';
import { PRESETS } from '../src/models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../src/models/videoworld/videoworld.js';
import { createNodeContext } from '../src/node.js';

const { values } = parseArgs({ options: { preset: { type: 'string', default: 'tiny' }, stages: { type: 'string', default: 'encode,decode,prefill,decode-token,ldm' }, json: { type: 'boolean', default: false } } });
const preset = PRESETS[values.preset as 'go' | 'tiny'];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
const stages = new Set(values.stages!.split(','));
// Spec FLOP counts are for the go sizes; the tiny preset reports times only.
const GFLOP: Record<string, number> = preset.name === 'go' ? { encode: 116.0, decode: 198.0, prefill: 12.1, 'decode-token': 0.944, ldm: 1610 } : {};

const ctx = await createNodeContext();
const rows: Record<string, unknown>[] = [];
const MiB = (b: number) => b / 2 ** 20;
const log = (s: string) => (values.json ? process.stderr.write(s + '\n') : console.log(s));

async function stage(name: string, run: () => Promise<unknown>, reps = 1): Promise<void> {
  if (!stages.has(name)) return;
  await run(); // warm-up: pipelines compiled, buffers pooled
  await ctx.sync();
  ctx.pool.resetPeak();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    await ctx.sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1]!;
  const s = ctx.pool.getStats();
  const gflop = GFLOP[name];
  const row = { bench: 'model', preset: preset.name, stage: name, ms_median: ms, runs: reps, gflops: gflop ? gflop / (ms / 1000) : null, peak_mib: MiB(s.peak), live_mib: MiB(s.inUse), loadavg: loadavg()[0], adapter: ctx.adapterInfo, date: new Date().toISOString() };
  rows.push(row);
  if (values.json) console.log(JSON.stringify(row));
  log(`${name.padEnd(13)} ${ms.toFixed(0).padStart(8)} ms  ${gflop ? (gflop / (ms / 1000)).toFixed(2).padStart(7) + ' GFLOP/s' : '              '}  peak ${MiB(s.peak).toFixed(0)} MiB (live after: ${MiB(s.inUse).toFixed(0)} MiB)`);
}

try {
  log(`adapter: ${ctx.adapterInfo}; preset ${preset.name}; load average ${loadavg()[0]!.toFixed(2)}`);
  const model = new VideoWorldGo(preset);
  const t0 = performance.now();
  await model.load(ctx, randomWeights(model));
  const weightsMiB = MiB(model.paramCount() * 4);
  log(`weights: ${(model.paramCount() / 1e6).toFixed(1)} M params = ${weightsMiB.toFixed(0)} MiB, uploaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const S = preset.imageSize;
  const image = ctx.fromArray(new Float32Array(3 * S * S).map((_, i) => Math.sin(i) * 0.9), [1, 3, S, S]);
  const n = model.imageTokens;
  const side = Math.sqrt(n);
  const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 64000);
  await stage('encode', async () => {
    const e = model.tokenizer.encode(image);
    await e.indices.read();
    for (const t of [e.indices, e.encoderOut, e.postEncode]) t.dispose();
  });
  await stage('decode', async () => {
    const img = model.tokenizer.decode(ids, [1, side, side]);
    await img.read();
    img.dispose();
  });
  const prompt = model.prompt(ids);
  const lm = model.transformer;
  await stage('prefill', async () => {
    const caches = lm.newCaches(ctx, 1, prompt.length + 1);
    const logits = lm.forward(ctx, [prompt], { caches, lastOnly: true });
    await logits.read();
    logits.dispose();
    for (const c of caches) c.dispose();
  });
  const caches = lm.newCaches(ctx, 1, prompt.length + 64);
  await lm.forward(ctx, [prompt], { caches, lastOnly: true }).read();
  await stage('decode-token', async () => {
    const logits = lm.forward(ctx, [[prompt[1]!]], { caches, lastOnly: true });
    await logits.read();
    logits.dispose();
  }, 8);
  for (const c of caches) c.dispose();
  model.dispose();
  if (stages.has('ldm')) {
    const ldm = new LatentDynamicsModel(preset.ldm);
    await ldm.load(ctx, randomWeights(ldm));
    log(`LDM weights: ${(ldm.paramCount() / 1e6).toFixed(1)} M params = ${MiB(ldm.paramCount() * 4).toFixed(0)} MiB`);
    const L = preset.name === 'go' ? 128 : 32;
    const clip = ctx.fromArray(new Float32Array(3 * 2 * L * L).map((_, i) => Math.cos(i) * 0.9), [1, 3, 2, L, L]);
    await stage('ldm', async () => {
      const e = ldm.encode(clip);
      await e.indices.read();
      for (const t of [e.indices, e.codes, e.features, e.preEncodeOut]) t.dispose();
    });
    ldm.dispose();
  }
  const outDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(outDir, { recursive: true });
  for (const r of rows) appendFileSync(join(outDir, `${new Date().toISOString().slice(0, 10)}.jsonl`), JSON.stringify(r) + '\n');
} finally {
  ctx.destroy();
}
