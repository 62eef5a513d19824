// npm run bench:model [-- --preset go|tiny] [--stages encode,decode,ldm,prefill,decode-token,move] [--dtype f32,f16] [--weights F | --write-weights F] [--profile] [--json]
// npm run bench:model -- --cold [--preset go|tiny] [--dtype f16|f32] [--shader-cache]: a fresh process's first move
// after the weight upload (Mesa's on-disk shader cache in a new empty directory, so every pipeline
// compiles, as on a fresh machine; --shader-cache keeps the user's: a later launch on the same
// machine), then the same move warm. VIDEOWORLD_COMPILE_CHILD=0 compiles without the child process
// (childCompileHelps).
// End-to-end stage timings of the VideoWorld Go model on the adapter, with peak GPU memory per
// stage (pool high-water mark, weights included) and GFLOP/s against the spec's FLOP counts
// (videoworld-spec 8.2: image encoder 116.0, decoder 198.0, transformer prefill of 19 tokens
// with last-position logits 12.1, one decode step 0.944; LDM encode of a 2-frame clip 1610).
// Weights are deterministic stand-ins (hinit-v1): timings do not depend on their values.
// `move` is one whole battle attempt (encode, prefill, the generated tokens, image decode). With
// --preset go each stage is also given as a ratio to upstream PyTorch on this machine type
// (UPSTREAM_MS); --dtype takes a list and runs each storage in turn. --write-weights F saves the
// stand-ins as an f16 safetensors file; --weights F loads that file instead of generating them,
// so the upload is a checkpoint's (cold start from safetensors). --profile runs each stage but
// the move once more with every dispatch timed and prints the pipelines that took the most GPU time.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LatentDynamicsModel } from '../src/models/videoworld/ldm.js';
import { PRESETS } from '../src/models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../src/models/videoworld/videoworld.js';
import { childCompileHelps, createNodeContext } from '../src/node.js';
import { loadGoModel, warmGoPipelines } from '../src/apps/go-model.js';
import { writeSafetensorsStream } from '../src/io/file-node.js';
import { toHalves } from '../src/io/safetensors.js';
import { type PipelineSpec, type Tensor, type WeightDtype, isWeightDtype } from '../kernels/index.js';
import { passDurationsMs } from './harness.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tiny' },
    stages: { type: 'string', default: 'encode,decode,prefill,decode-token,move,ldm' },
    json: { type: 'boolean', default: false },
    cold: { type: 'boolean', default: false },
    'shader-cache': { type: 'boolean', default: false },
    dtype: { type: 'string' },
    weights: { type: 'string' },
    'write-weights': { type: 'string' },
    'write-pipelines': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const preset = PRESETS[values.preset as 'go' | 'tiny'];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
// Default: both storages; a cold start is one process's first move, in f16 (the apps' default).
const dtypes = values.dtype?.split(',') ?? (values.cold ? ['f16'] : ['f32', 'f16']);
for (const d of dtypes) if (!isWeightDtype(d)) throw new Error(`--dtype must be f32, f16 or a list of them (f32,f16), got '${d}'`);
const runDtypes = (values.cold ? dtypes.slice(0, 1) : dtypes) as WeightDtype[];
const stages = new Set(values.stages!.split(','));
// Spec FLOP counts are for the go sizes; the tiny preset reports times only.
const GFLOP: Record<string, number> = preset.name === 'go' ? { encode: 116.0, decode: 198.0, prefill: 12.1, 'decode-token': 0.944, ldm: 1610 } : {};
// Upstream PyTorch 2.x on this machine type (2 cores, float32, OpenBLAS, 2 threads, random weights,
// the go preset's shapes; issue #16): encode, prefill of the prompt, one decode step, image decode,
// and a move = encode + prefill + 20 decode steps + decode.
const UPSTREAM_MS: Record<string, number> = preset.name === 'go' ? { encode: 2100, prefill: 760, 'decode-token': 160, decode: 2350, move: 10000 } : {};

// Read when the driver loads, i.e. by createNodeContext below; an empty cache rather than none, as
// on a fresh machine (a child process compiling for this one shares it: childCompileHelps).
const coldCache = values.cold && !values['shader-cache'] ? mkdtempSync(join(tmpdir(), 'videoworld-mesa-cache-')) : null;
if (coldCache) process.env.MESA_SHADER_CACHE_DIR = coldCache;
const ctx = await createNodeContext();
const rows: Record<string, unknown>[] = [];
const MiB = (b: number) => b / 2 ** 20;
const log = (s: string) => (values.json ? process.stderr.write(s + '\n') : console.log(s));

async function stage(dtype: WeightDtype, name: string, run: () => Promise<unknown>, reps = 1, extra: Record<string, number> = {}): Promise<void> {
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
  const up = UPSTREAM_MS[name];
  const row = { bench: 'model', preset: preset.name, dtype, stage: name, ms_median: ms, runs: reps, gflops: gflop ? gflop / (ms / 1000) : null, x_upstream: up ? ms / up : null, ...extra, peak_mib: MiB(s.peak), live_mib: MiB(s.inUse), loadavg: loadavg()[0], adapter: ctx.adapterInfo, date: new Date().toISOString() };
  rows.push(row);
  if (values.json) console.log(JSON.stringify(row));
  const info = Object.entries(extra).map(([k, v]) => ` ${k} ${v}`).join('');
  log(`${dtype} ${name.padEnd(13)} ${ms.toFixed(0).padStart(8)} ms  ${gflop ? (gflop / (ms / 1000)).toFixed(2).padStart(7) + ' GFLOP/s' : '              '}${up ? `  ${(ms / up).toFixed(2)}x upstream (${up} ms)` : ''}  peak ${MiB(s.peak).toFixed(0)} MiB (live after: ${MiB(s.inUse).toFixed(0)} MiB)${info}`);
  // A move's thousands of dispatches are its stages' (profile those).
  if (name !== 'move') await profileStage(name, run);
}

/**
 * GPU time of each dispatch from now on (firstOnly: of each pipeline's first dispatch only), each
 * in its own timestamped pass, keyed by shader id and overrides. On lavapipe a shader is
 * JIT-compiled when it first runs (creating the pipeline takes milliseconds), so the first
 * dispatches are where a cold start goes. read() stops recording and resolves the timestamps.
 */
function timeDispatches(firstOnly: boolean): { read(): Promise<{ key: string; ms: number }[]> } {
  if (!ctx.features.has('timestamp-query')) throw new Error(`bench:model ${firstOnly ? '--cold' : '--profile'}: the adapter has no timestamp-query`);
  const MAX = 2048;
  const querySet = ctx.device.createQuerySet({ type: 'timestamp', count: 2 * MAX });
  const seen = new Set<string>();
  const keys: string[] = [];
  let pending: string | null = null;
  const dispatch = ctx.dispatch.bind(ctx);
  const endPass = () => (ctx as unknown as { endPass(): void }).endPass();
  ctx.passTimestamps = () => {
    if (pending === null || keys.length === MAX) return undefined;
    keys.push(pending);
    return { querySet, beginningOfPassWriteIndex: 2 * keys.length - 2, endOfPassWriteIndex: 2 * keys.length - 1 };
  };
  ctx.dispatch = (shader, spec) => {
    const key = `${shader.id} ${JSON.stringify(spec.overrides ?? {})}`;
    if (firstOnly && seen.has(key)) return dispatch(shader, spec);
    seen.add(key);
    endPass();
    pending = key;
    try {
      dispatch(shader, spec);
      endPass();
    } finally {
      pending = null;
    }
  };
  return {
    async read() {
      ctx.dispatch = dispatch;
      ctx.passTimestamps = null;
      await ctx.sync();
      const ms = await passDurationsMs(ctx, querySet, keys.length);
      querySet.destroy();
      if (keys.length === MAX) log(`  (only the first ${MAX} dispatches were timed)`);
      return keys.map((key, i) => ({ key, ms: ms[i]! }));
    },
  };
}

/** --profile: one more run of a stage with every dispatch timed, summed by pipeline, largest first. */
async function profileStage(name: string, run: () => Promise<unknown>): Promise<void> {
  if (!values.profile) return;
  const timing = timeDispatches(false);
  await run();
  const times = await timing.read();
  const byKey = new Map<string, { n: number; ms: number }>();
  for (const { key, ms } of times) {
    const a = byKey.get(key) ?? { n: 0, ms: 0 };
    a.n++;
    a.ms += ms;
    byKey.set(key, a);
  }
  const total = times.reduce((a, t) => a + t.ms, 0);
  log(`  ${name} profile: ${times.length} dispatches, GPU ${total.toFixed(0)} ms (each dispatch in its own pass)`);
  for (const [key, a] of [...byKey].sort((x, y) => y[1].ms - x[1].ms).slice(0, 12)) {
    log(`  ${a.ms.toFixed(1).padStart(9)} ms ${((100 * a.ms) / total).toFixed(1).padStart(5)}% ${String(a.n).padStart(4)}x  ${key.length > 100 ? `${key.slice(0, 100)}...` : key}`);
  }
}

/** The per-stage timings of the tokenizer and transformer (the default mode). */
async function stageTimings(dtype: WeightDtype, model: VideoWorldGo, image: Tensor): Promise<void> {
  const n = model.imageTokens;
  const side = Math.sqrt(n);
  const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 64000);
  await stage(dtype, 'encode', async () => {
    const e = model.tokenizer.encode(image);
    await e.indices.read();
    for (const t of [e.indices, e.encoderOut, e.postEncode]) t.dispose();
  });
  await stage(dtype, 'decode', async () => {
    const img = model.tokenizer.decode(ids, [1, side, side]);
    await img.read();
    img.dispose();
  });
  const prompt = model.prompt(ids);
  const lm = model.transformer;
  await stage(dtype, 'prefill', async () => {
    const caches = lm.newCaches(ctx, 1, prompt.length + 1);
    const logits = lm.forward(ctx, [prompt], { caches, lastOnly: true });
    await logits.read();
    logits.dispose();
    for (const c of caches) c.dispose();
  });
  const caches = lm.newCaches(ctx, 1, prompt.length + 64);
  await lm.forward(ctx, [prompt], { caches, lastOnly: true }).read();
  await stage(dtype, 'decode-token', async () => {
    const logits = lm.forward(ctx, [[prompt[1]!]], { caches, lastOnly: true });
    await logits.read();
    logits.dispose();
  }, 8);
  for (const c of caches) c.dispose();
  // The move's own split (its timings): where a whole attempt goes, beside the stages above.
  const move = { tokens: 0, encode_ms: 0, prefill_ms: 0, ms_per_token: 0, image_decode_ms: 0 };
  await stage(dtype, 'move', async () => {
    const r = await model.move(ctx, image, { sampling: { greedy: true } });
    await r.nextImage.read();
    r.nextImage.dispose();
    const t = r.timings;
    Object.assign(move, { tokens: r.tokens.length, encode_ms: Math.round(t.encodeMs), prefill_ms: Math.round(t.prefillMs), ms_per_token: Math.round(t.decodeMsPerToken), image_decode_ms: Math.round(t.imageDecodeMs) });
  }, 1, move);
}

/** Records this process's pipelines (loading and a move) as GO_PIPELINES[key] in src/apps/go-pipelines.ts. */
async function writePipelines(key: string): Promise<void> {
  const file = fileURLToPath(new URL('../src/apps/go-pipelines.ts', import.meta.url));
  const all: Record<string, PipelineSpec[]> = { ...(await import('../src/apps/go-pipelines.js')).GO_PIPELINES, [key]: ctx.pipelineSpecs() };
  const body = Object.keys(all).sort().map((k) => `  ${JSON.stringify(k)}: [\n${all[k]!.map((p) => `    ${JSON.stringify(p)},`).join('\n')}\n  ],`).join('\n');
  writeFileSync(file, `${PIPELINES_HEADER}export const GO_PIPELINES: Record<string, PipelineSpec[]> = {\n${body}\n};\n`);
  log(`wrote ${all[key]!.length} pipelines as GO_PIPELINES['${key}'] to ${file}`);
}

const PIPELINES_HEADER = `// Generated by \`npm run bench:model -- --cold --preset P --dtype D --write-pipelines\` (a fresh
// process: loading, then one move): the pipelines a go move creates (GpuContext.pipelineSpecs),
// by preset and weight dtype, recorded on lavapipe. loadGoModel warms them while the weights load
// (kernels/pipelines.ts); regenerate after changing which kernels or overrides a move uses.
import type { PipelineSpec } from '../../kernels/index.js';

`;

if (values['write-weights']) {
  // The stand-ins in f16, tensor by tensor (the file never sits whole in memory).
  const model = new VideoWorldGo(preset);
  const src = randomWeights(model);
  const specs = [...model.namedParams()].map((p) => ({ name: p.key, dtype: 'F16' as const, shape: [...p.shape] }));
  await writeSafetensorsStream(values['write-weights'], specs, async (t) => toHalves(await src.f32(t.name)), { metadata: { note: `bench:model stand-ins (hinit-v1), preset ${preset.name}` } });
  log(`wrote ${specs.length} stand-in tensors (f16) to ${values['write-weights']}`);
  await ctx.destroy();
  process.exit(0);
}

try {
  if (values.cold && dtypes.length > 1) log(`cold start: one process's first move, with the first of --dtype ${values.dtype} (${runDtypes[0]})`);
  for (const dtype of runDtypes) {
    log(`adapter: ${ctx.adapterInfo}; preset ${preset.name}; weights ${dtype}; load average ${loadavg()[0]!.toFixed(2)}`);
    // The previous storage's buffers are freed by a submit, then destroyed: each peak is its own.
    await ctx.sync();
    ctx.pool.trim();
    ctx.pool.resetPeak();
    const t0 = performance.now();
    // As the apps load (warming the recorded pipelines meanwhile), except when recording them anew.
    const warm = !values['write-pipelines'];
    const model = values.weights ? (await loadGoModel(ctx, { preset: preset.name, weights: [values.weights], dtype, warm })).model : new VideoWorldGo(preset).withWeightDtype(dtype);
    if (!values.weights) {
      await Promise.all([warm && warmGoPipelines(ctx, preset.name, dtype), model.load(ctx, randomWeights(model))]);
    }
    // Until the GPU is done with loading (packing, pipelines warmed meanwhile): all of it is the upload.
    await ctx.sync();
    const uploadS = (performance.now() - t0) / 1000;
    const weightsMiB = MiB(model.paramCount() * 4);
    const how = values.weights ? `read from ${values.weights}` : 'stand-ins generated on the host';
    log(`weights: ${(model.paramCount() / 1e6).toFixed(1)} M params = ${weightsMiB.toFixed(0)} MiB, ${how} and uploaded in ${uploadS.toFixed(1)} s${warm ? ` (${ctx.stats.pipelines} pipelines compiled meanwhile)` : ''}`);
    log(`GPU memory after loading: ${MiB(ctx.pool.getStats().inUse).toFixed(0)} MiB resident (peak while packing ${MiB(ctx.pool.getStats().peak).toFixed(0)} MiB)`);
    const S = preset.imageSize;
    const image = ctx.fromArray(new Float32Array(3 * S * S).map((_, i) => Math.sin(i) * 0.9), [1, 3, S, S]);
    if (values.cold) {
      const firstRuns = timeDispatches(true);
      // One battle attempt (encode, prefill, the generated tokens, decode), cold then warm.
      const once = async () => {
        const p0 = ctx.stats.pipelines;
        const m0 = performance.now();
        const r = await model.move(ctx, image, { sampling: { greedy: true } });
        await r.nextImage.read();
        r.nextImage.dispose();
        return { s: (performance.now() - m0) / 1000, pipelines: ctx.stats.pipelines - p0, tokens: r.tokens.length };
      };
      const cold = await once();
      const compiles = (await firstRuns.read()).sort((a, b) => b.ms - a.ms);
      const warm = await once();
      const compileS = compiles.reduce((a, c) => a + c.ms, 0) / 1000;
      const row = { bench: 'model', preset: preset.name, dtype, stage: 'cold-start', compile_s: compileS, slowest_compiles: compiles.slice(0, 8), shader_cache: values['shader-cache'], compile_child: childCompileHelps(ctx), upload_s: uploadS, first_move_s: cold.s, pipelines_compiled: cold.pipelines, warm_move_s: warm.s, tokens: cold.tokens, cold_total_s: uploadS + cold.s, loadavg: loadavg()[0], adapter: ctx.adapterInfo, date: new Date().toISOString() };
      rows.push(row);
      if (values.json) console.log(JSON.stringify(row));
      log(`cold start (${values['shader-cache'] ? "Mesa's shader cache kept" : 'empty shader cache'}${childCompileHelps(ctx) ? ', a child process compiling too' : ''}): weights uploaded in ${uploadS.toFixed(1)} s; first move ${cold.s.toFixed(1)} s (${cold.pipelines} pipelines, their first dispatches ${compileS.toFixed(1)} s, ${cold.tokens} tokens); the same move warm ${warm.s.toFixed(1)} s; upload + first move ${(uploadS + cold.s).toFixed(1)} s`);
      for (const c of compiles.slice(0, 8)) log(`  first dispatch ${(c.ms / 1000).toFixed(1).padStart(6)} s  ${c.key.length > 100 ? `${c.key.slice(0, 100)}...` : c.key}`);
      if (values['write-pipelines']) await writePipelines(`${preset.name}-${dtype}`);
    } else {
      await stageTimings(dtype, model, image);
    }
    image.dispose();
    model.dispose();
  }
  if (stages.has('ldm') && !values.cold) {
    // The LDM stage is measured with f32 weights.
    const ldm = new LatentDynamicsModel(preset.ldm);
    await ldm.load(ctx, randomWeights(ldm));
    log(`LDM weights: ${(ldm.paramCount() / 1e6).toFixed(1)} M params = ${MiB(ldm.paramCount() * 4).toFixed(0)} MiB`);
    const L = preset.name === 'go' ? 128 : 32;
    const clip = ctx.fromArray(new Float32Array(3 * 2 * L * L).map((_, i) => Math.cos(i) * 0.9), [1, 3, 2, L, L]);
    await stage('f32', 'ldm', async () => {
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
  await ctx.destroy();
  if (coldCache) rmSync(coldCache, { recursive: true, force: true });
}
