/**
 * One move of the `tiny` preset with its deterministic stand-in weights and a fixed sampling seed:
 * the tokens must come out the same on every adapter (Dawn in Node, the browser's WebGPU).
 * Browser-safe.
 */
import type { GpuContext } from '../../kernels/index.js';
import { GoGame, normalizeImage, parseGtp } from '../../src/go/index.js';
import { boardImage } from '../../src/models/videoworld/go-player.js';
import { PRESETS } from '../../src/models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../../src/models/videoworld/videoworld.js';

export const TINY_MOVE = { moves: ['D6', 'E5'], seed: 1234, temperature: 1 } as const;

export interface TinyMoveResult {
  boardIndices: number[];
  tokens: number[];
  ms: { load: number; move: number };
}

export async function tinyMove(ctx: GpuContext, onProgress?: (what: string) => void): Promise<TinyMoveResult> {
  const t0 = performance.now();
  const model = new VideoWorldGo(PRESETS.tiny);
  await model.load(ctx, randomWeights(model), { onProgress: (done, total) => onProgress?.(`weights ${done}/${total}`) });
  const t1 = performance.now();
  const game = GoGame.fromMoves(TINY_MOVE.moves.map((m) => parseGtp(m)));
  const S = PRESETS.tiny.imageSize;
  const image = ctx.fromArray(normalizeImage(boardImage(PRESETS.tiny, game.board()), 'render'), [1, 3, S, S]);
  const r = await model.move(ctx, image, {
    sampling: { seed: TINY_MOVE.seed, temperature: TINY_MOVE.temperature },
    toPlay: game.toPlay,
    onToken: (_id, step) => onProgress?.(`token ${step + 1}`),
  });
  image.dispose();
  r.nextImage.dispose();
  model.dispose();
  return { boardIndices: [...r.boardIndices], tokens: r.tokens, ms: { load: t1 - t0, move: performance.now() - t1 } };
}
