// End-to-end VideoWorld Go inference, as upstream's battle loop (spec section 2): the board image
// -> image tokenizer -> InternLM transformer (prefill + KV-cache sampling) -> predicted next-board
// image -> the model's move read off it -> played on the board; then the human's move.
//
//   npm run example                                   # the micro model trained in this project
//   npx tsx examples/go-move.ts --human E5,C3,G7,pass  # the human's (White's) moves, one per turn
//   npx tsx examples/go-move.ts --preset tiny          # stand-in weights: every stage runs, boards are noise
//   npx tsx examples/go-move.ts --preset go --weights go_fsq.pth,go_battle.pth   # upstream's checkpoints
//
// The model plays Black. When a generated board gives no legal move, the loop samples again (up to
// --tries, upstream: 10) and passes if none comes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadGoModel } from '../src/apps/go-model.js';
import { GoGame, encodePng, parseGtp, renderBoard } from '../src/go/index.js';
import { modelMove } from '../src/models/videoworld/go-player.js';
import { createNodeContext } from '../src/node.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string' },
    weights: { type: 'string' },
    seed: { type: 'string', default: '60' },
    human: { type: 'string', default: 'E5,C3,G7,C7' },
    tries: { type: 'string', default: '10' },
    out: { type: 'string', default: join(tmpdir(), 'videoworld-go') },
  },
});
const human = values.human!.split(',').map((m) => {
  const name = m.trim();
  const p = name.toLowerCase() === 'pass' ? null : parseGtp(name);
  if (p === undefined || (p === null && name.toLowerCase() !== 'pass')) throw new Error(`--human ${name}: not a 9x9 GTP point (A1..J9, no I) or pass`);
  return { p, name };
});

const ctx = await createNodeContext();
try {
  console.log(`adapter: ${ctx.adapterInfo}`);
  const t0 = performance.now();
  const { model, weightsLabel, trained, notes } = await loadGoModel(ctx, { preset: values.preset, weights: values.weights?.split(',') });
  for (const n of notes) console.log(n);
  console.log(`weights: ${weightsLabel}`);
  console.log(`preset ${model.preset.name}: tokenizer ${(model.tokenizer.paramCount() / 1e6).toFixed(2)} M params, transformer ${(model.transformer.paramCount() / 1e6).toFixed(2)} M; loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (!trained) console.log('(stand-in weights: the generated boards are noise, so no move is expected to be read)');
  mkdirSync(values.out!, { recursive: true });
  const game = new GoGame();
  let seed = Number(values.seed);
  for (const [turn, h] of human.entries()) {
    const r = await modelMove(ctx, model, game, { tries: Number(values.tries), seed: seed++ });
    const png = join(values.out!, `turn${turn}-generated.png`);
    writeFileSync(png, encodePng(r.generated));
    const s = r.stagesMs;
    console.log(`turn ${turn}: Black (model) ${r.ok ? r.gtp : 'passes: no legal move'} after ${r.tries} ${r.tries === 1 ? 'try' : 'tries'}, ${r.seconds.toFixed(2)} s ` +
      `(encode ${s.encode.toFixed(0)} ms, prefill ${s.prefill.toFixed(0)} ms, ${s.tokensPerSecond.toFixed(0)} tokens/s, decode ${s.decode.toFixed(0)} ms); generated board ${png}`);
    for (const reason of r.reasons) console.log(`  ${reason}`);
    game.play(r.ok ? r.move : null);
    if (game.isOver()) break;
    const why = h.p && game.whyIllegal(h.p);
    if (why) {
      console.log(`turn ${turn}: White's ${h.name} is ${why}: the game ends`);
      break;
    }
    game.play(h.p);
    console.log(`turn ${turn}: White (human) ${h.name}`);
    if (game.isOver()) break;
  }
  const final = join(values.out!, 'final-board.png');
  writeFileSync(final, encodePng(renderBoard(game.board())));
  const sc = game.score();
  console.log(`moves: ${game.moves.length}, captures B ${game.captures.b} W ${game.captures.w}; area score B ${sc.black} W ${sc.white} (komi ${game.komi}); final board ${final}`);
  const pool = ctx.pool.getStats();
  console.log(`GPU memory: peak ${(pool.peak / 2 ** 20).toFixed(0)} MiB held by the buffer pool, ${ctx.stats.dispatches} dispatches, ${ctx.stats.submits} submits`);
} finally {
  await ctx.destroy();
}
