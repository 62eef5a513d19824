/** Self-play games of the reference player: the move lists the training videos are rendered from. */

import type { Colour, GoBoard, Point } from './board.js';
import { GoGame, type Rules } from './engine.js';
import { ReferencePlayer } from './players.js';

export interface GameRecord {
  moves: (Point | null)[];
  result: { winner: Colour; margin: number };
  /** The seed of the game's player: `playGame({ seed })` replays it. */
  seed: number;
}

export interface PlayGameOptions {
  seed: number;
  playouts?: number;
  rules?: Rules;
  komi?: number;
  /** Safety cap on the number of moves (passes included), default 150; the position is then scored as it stands. */
  maxMoves?: number;
}

/** One game of a ReferencePlayer against itself, scored by area with the given komi. */
export function playGame(o: PlayGameOptions): GameRecord {
  const maxMoves = o.maxMoves ?? 150;
  if (!Number.isInteger(maxMoves) || maxMoves < 0) throw new RangeError(`playGame: maxMoves ${maxMoves} (an integer >= 0)`);
  const game = new GoGame({ rules: o.rules, komi: o.komi });
  const player = new ReferencePlayer({ seed: o.seed, playouts: o.playouts });
  while (!game.isOver() && game.moves.length < maxMoves) game.play(player.choose(game));
  const { winner, margin } = game.score();
  return { moves: [...game.moves], result: { winner, margin }, seed: o.seed };
}

/** `count` self-play games; game i uses seed (seed * 1000003 + i) >>> 0. */
export function generateGames(o: {
  count: number;
  seed: number;
  playouts?: number;
  rules?: Rules;
  komi?: number;
  maxMoves?: number;
  onGame?: (i: number, game: GameRecord) => void;
}): GameRecord[] {
  if (!Number.isInteger(o.count) || o.count < 0) throw new RangeError(`generateGames: count ${o.count} (an integer >= 0)`);
  if (!Number.isFinite(o.seed)) throw new RangeError(`generateGames: seed ${o.seed} is not a finite number`);
  const out: GameRecord[] = [];
  for (let i = 0; i < o.count; i++) {
    const rec = playGame({ seed: (Math.imul(o.seed >>> 0, 1000003) + i) >>> 0, playouts: o.playouts, rules: o.rules, komi: o.komi, maxMoves: o.maxMoves });
    o.onGame?.(i, rec);
    out.push(rec);
  }
  return out;
}

/** The positions of a game: before move 0, then after each move (a pass repeats the position). */
export function gameStates(rec: Pick<GameRecord, 'moves'>, rules: Rules = 'standard'): GoBoard[] {
  const game = new GoGame({ rules });
  const out = [game.board()];
  for (const m of rec.moves) {
    game.play(m);
    out.push(game.board());
  }
  return out;
}
