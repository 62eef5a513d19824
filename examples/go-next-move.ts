// The API of one model move: a position in, the model's move and its boards (PNG) out.
//
//   npx tsx examples/go-next-move.ts                          # the micro model trained in this project
//   npx tsx examples/go-next-move.ts --preset tiny            # stand-in weights: runs every stage, boards are noise
//   npx tsx examples/go-next-move.ts --moves "D6 E5 C3" --preset go --weights go_fsq.pth,go_battle.pth
//
// The CLI does the same with progress and a JSON line: `videoworld move --moves "D6 E5"`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { replayMoveList } from '../src/apps/go-commands.js';
import { loadGoModel } from '../src/apps/go-model.js';
import { encodePng, renderBoard } from '../src/go/index.js';
import { modelMove } from '../src/models/videoworld/go-player.js';
import { createNodeContext } from '../src/node.js';

const { values: o } = parseArgs({
  options: {
    moves: { type: 'string', default: 'D6 E5' },
    preset: { type: 'string' },
    weights: { type: 'string' },
    out: { type: 'string', default: join(tmpdir(), 'videoworld-next-move') },
  },
});

// The position: a GoGame (moves alternate from Black; standard rules: no suicide, positional
// superko). replayMoveList throws naming the first bad move, e.g. "move 3 (E5): occupied".
const game = replayMoveList(o.moves!, 'standard');

const ctx = await createNodeContext();
try {
  // micro (default: weights/go-micro.safetensors), tiny or go (stand-in weights unless --weights).
  const { model, weightsLabel } = await loadGoModel(ctx, { preset: o.preset, weights: o.weights?.split(',') });
  // Up to 10 generations (try 1 greedy, then sampled), each read off the generated board and
  // checked against the game's rules (the default reader classifies every intersection and diffs).
  const r = await modelMove(ctx, model, game, { tries: 10, seed: 1 });
  mkdirSync(o.out!, { recursive: true });
  writeFileSync(join(o.out!, 'input.png'), encodePng(renderBoard(game.board())));
  writeFileSync(join(o.out!, 'generated.png'), encodePng(r.generated)); // model resolution (tiny: 32 px)
  console.log(`weights: ${weightsLabel}`);
  console.log(r.ok ? `${game.toPlay === 'b' ? 'Black' : 'White'} plays ${r.gtp} after ${r.tries} tries, ${r.seconds.toFixed(1)} s` : `no legal move: ${r.reasons.join('; ')}`);
  console.log(`boards in ${o.out}`);
} finally {
  await ctx.destroy();
}
