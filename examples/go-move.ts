// End-to-end VideoWorld Go inference, as upstream's battle loop (spec section 2): the board image
// -> image tokenizer -> InternLM transformer (prefill + KV-cache sampling, streamed) -> predicted
// next-board image -> the model's move read off the two images -> played on the board.
//
//   npm run example                                   # tiny preset, deterministic stand-in weights
//   npx tsx examples/go-move.ts --preset go           # real sizes (slow on a software adapter)
//   npx tsx examples/go-move.ts --preset go --weights go_fsq.pth,go_battle.pth --human E5,C3,G7
//
// Without --weights the model runs on hinit-v1 stand-in weights: every stage runs for real, but
// the predicted board is noise and no move can be read off it (the loop reports why and retries,
// as upstream does). Upstream's checkpoints (go_fsq.pth, go_battle.pth) are downloaded by the
// user; they load directly, with no Python (or after `videoworld convert`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BoardError, GoBoard, type RasterImage, battleView, denormalizeImage, emptyBoardImage, encodePng, locateNewStone, normalizeImage, parseGtp, renderBoard } from '../src/go/index.js';
import { PRESETS } from '../src/models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../src/models/videoworld/videoworld.js';
import { createNodeContext, openWeightFiles } from '../src/node.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tiny' },
    weights: { type: 'string' },
    seed: { type: 'string', default: '60' },
    human: { type: 'string', default: 'E5,C3' },
    tries: { type: 'string', default: '2' },
    out: { type: 'string', default: join(tmpdir(), 'videoworld-go') },
  },
});
const preset = PRESETS[values.preset as 'go' | 'tiny'];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
// The human's (White's) moves, one per turn; the game runs one model move per human move.
const humanMoves = values.human!.split(',').map((m) => {
  const p = parseGtp(m.trim());
  if (!p) throw new Error(`--human ${m}: not a 9x9 GTP point (A1..J9, no I)`);
  return { ...p, name: m.trim() };
});

/** Box filter (down) or nearest (up) between the 256x256 board and the preset's image size. */
function resize(img: RasterImage, size: number): RasterImage {
  const out = new Uint8Array(size * size * 3);
  const f = img.width / size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        if (f <= 1) {
          out[(y * size + x) * 3 + c] = img.data[(Math.floor(y * f) * img.width + Math.floor(x * f)) * 3 + c]!;
          continue;
        }
        let sum = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) sum += img.data[((y * f + dy) * img.width + x * f + dx) * 3 + c]!;
        out[(y * size + x) * 3 + c] = Math.round(sum / (f * f));
      }
    }
  }
  return { width: size, height: size, channels: 3, data: out };
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
  mkdirSync(values.out!, { recursive: true });
  const save = (name: string, img: RasterImage) => {
    const path = join(values.out!, name);
    writeFileSync(path, encodePng(img));
    return path;
  };
  // Turn 0 as upstream: the empty board goes in (first-turn normalisation), the generated image is
  // only saved, and Black's move is forced to D6. Then the human (White) plays.
  const board = new GoBoard();
  let input = normalizeImage(resize(emptyBoardImage(), S), 'first-turn');
  let seed = Number(values.seed);
  for (const [turn, human] of humanMoves.entries()) {
    const before = renderBoard(board);
    let played: string | null = null;
    for (let attempt = 0; attempt < Number(values.tries) && !played; attempt++) {
      process.stdout.write(`turn ${turn} try ${attempt}: tokens`);
      const image = ctx.fromArray(input, [1, 3, S, S]);
      const r = await model.move(ctx, image, { sampling: { seed: seed++ }, onToken: (id) => void process.stdout.write(` ${id}`) });
      image.dispose();
      const out = denormalizeImage(await r.nextImage.read(), S, S);
      r.nextImage.dispose();
      const t = r.timings;
      console.log(`\n  board tokens ${Array.from(r.boardIndices.slice(0, 16)).join(' ')}${r.boardIndices.length > 16 ? ' ...' : ''}; latent actions ${r.actionTokens.join(' ')}`);
      console.log(`  encode ${t.encodeMs.toFixed(0)} ms, prefill ${t.prefillMs.toFixed(0)} ms, ${t.decodeMsPerToken.toFixed(1)} ms/token, image decode ${t.imageDecodeMs.toFixed(0)} ms; saved ${save(`turn${turn}-try${attempt}.png`, out)}`);
      if (turn === 0) {
        played = 'D6 (forced on turn 0, as upstream)';
        board.play(5, 3, 'b');
        break;
      }
      const move = locateNewStone(battleView(before), resize(out, 256));
      if (!move.ok) {
        console.log(`  no move in the generated image (${move.error}): retrying`);
        continue;
      }
      try {
        board.play(move.row, move.col, 'b');
        played = move.gtp;
      } catch (e) {
        if (!(e instanceof BoardError)) throw e;
        console.log(`  ${move.gtp} is ${e.kind}: retrying`);
      }
    }
    if (!played) {
      console.log(`turn ${turn}: no legal move after ${values.tries} tries: the game ends (upstream gives up after 10)`);
      break;
    }
    console.log(`turn ${turn}: Black plays ${played}`);
    if (board.get(human.row, human.col) !== null) {
      console.log(`turn ${turn}: White's ${human.name} is occupied: the game ends`);
      break;
    }
    board.play(human.row, human.col, 'w');
    console.log(`turn ${turn}: White (human) plays ${human.name}`);
    const next = renderBoard(board);
    save(`board-after-turn${turn}.png`, next);
    input = normalizeImage(resize(next, S), 'render');
  }
  const pool = ctx.pool.getStats();
  console.log(`GPU memory: peak ${(pool.peak / 2 ** 20).toFixed(0)} MiB held by the buffer pool, ${ctx.stats.dispatches} dispatches, ${ctx.stats.submits} submits`);
} finally {
  ctx.destroy();
}
