// End-to-end VideoWorld Go inference: board image -> image tokenizer -> InternLM transformer
// (prefill + KV-cache sampling) -> predicted next-board image.
//
//   npm run example                                   # tiny preset, deterministic stand-in weights
//   npx tsx examples/go-move.ts --preset go           # real sizes (slow on a software adapter)
//   npx tsx examples/go-move.ts --preset go --weights go_fsq.pth,go_battle.pth --seed 60
//
// Without --weights the model runs on hinit-v1 stand-in weights: every stage runs for real, but
// the predicted board is noise. Upstream's checkpoints (go_fsq.pth, go_battle.pth) are downloaded
// by the user; they load directly (no Python) or after `videoworld convert`.
import { parseArgs } from 'node:util';
import { PRESETS } from '../src/models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../src/models/videoworld/videoworld.js';
import { createNodeContext, openWeightFiles } from '../src/node.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tiny' },
    weights: { type: 'string' },
    seed: { type: 'string', default: '60' },
  },
});
const preset = PRESETS[values.preset as 'go' | 'tiny'];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);

/** The empty 9x9 board of upstream's renderer (orange, lines at 12 + 29k), box-filtered to `size`. */
function emptyBoard(size: number): Float32Array {
  const S = 256;
  const rgb = new Float32Array(3 * S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const line = [x, y].some((v) => v >= 12 && v <= 244 && (v - 12) % 29 === 0);
      const c = line ? [0, 0, 0] : [255, 165, 0];
      for (let k = 0; k < 3; k++) rgb[k * S * S + y * S + x] = c[k]!;
    }
  }
  const f = S / size;
  const out = new Float32Array(3 * size * size);
  for (let k = 0; k < 3; k++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += rgb[k * S * S + (y * f + dy) * S + x * f + dx]!;
        // The model's input normalisation: p/127 - 1, clamped to [-1, 1] (spec 2.1).
        out[k * size * size + y * size + x] = Math.min(1, Math.max(-1, s / (f * f) / 127 - 1));
      }
    }
  }
  return out;
}

const ctx = await createNodeContext();
try {
  console.log(`adapter: ${ctx.adapterInfo}`);
  const files = values.weights ? values.weights.split(',') : [];
  const opened = files.length ? await openWeightFiles(files) : null;
  for (const n of opened?.notes ?? []) console.log(n);
  let transformer = preset.transformer;
  const inferred = opened?.transformer;
  if (inferred && inferred.numHeads) {
    transformer = { ...transformer, numLayers: inferred.numLayers, hiddenSize: inferred.hiddenSize, intermediateSize: inferred.intermediateSize, vocabSize: inferred.vocabSize, numHeads: inferred.numHeads, bias: inferred.qkvBias };
    console.log(`transformer from checkpoint: ${inferred.numLayers} layers, hidden ${inferred.hiddenSize}, ${inferred.numHeads} heads, MLP ${inferred.intermediateSize}`);
  }
  const model = new VideoWorldGo(preset, transformer);
  console.log(`preset ${preset.name}: tokenizer ${(model.tokenizer.paramCount() / 1e6).toFixed(1)} M params, transformer ${(model.transformer.paramCount() / 1e6).toFixed(1)} M`);
  if (!opened) console.log('no --weights: using deterministic stand-in weights (hinit-v1); the predicted board is noise');
  const t0 = performance.now();
  let last = -1;
  await model.load(ctx, opened?.source ?? randomWeights(model), {
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (pct >= last + 10 || done === total) {
        process.stdout.write(`${process.stdout.isTTY ? '\r' : '\n'}loading weights ${pct}% (${done}/${total})`);
        last = pct;
      }
    },
  });
  console.log(`\nloaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await opened?.close();

  const S = preset.imageSize;
  const image = ctx.fromArray(emptyBoard(S), [1, 3, S, S]);
  process.stdout.write('generated tokens:');
  const r = await model.move(ctx, image, {
    sampling: { seed: Number(values.seed) },
    onToken: (id) => void process.stdout.write(` ${id}`),
  });
  console.log();
  console.log(`board tokens (FSQ indices): ${Array.from(r.boardIndices).join(' ')}`);
  console.log(`latent-action tokens: ${r.actionTokens.join(' ')}`);
  console.log(`next-board indices: ${Array.from(r.nextIndices).join(' ')}`);
  const px = await r.nextImage.read();
  let min = Infinity;
  let max = -Infinity;
  for (const v of px) [min, max] = [Math.min(min, v), Math.max(max, v)];
  console.log(`next board image [${r.nextImage.shape.join(',')}], values in [${min.toFixed(3)}, ${max.toFixed(3)}]`);
  const t = r.timings;
  console.log(`timings: encode ${t.encodeMs.toFixed(0)} ms, prefill ${t.prefillMs.toFixed(0)} ms, decode ${t.decodeMsPerToken.toFixed(1)} ms/token, image decode ${t.imageDecodeMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms`);
  const pool = ctx.pool.getStats();
  console.log(`GPU memory: peak ${(pool.peak / 2 ** 20).toFixed(0)} MiB pooled, ${ctx.stats.dispatches} dispatches, ${ctx.stats.submits} submits`);
} finally {
  ctx.destroy();
}
