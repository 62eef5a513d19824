/** Games of the reference player (self-play or against a random player): the move lists the training videos are rendered from. */

import type { Colour, GoBoard, Point } from './board.js';
import { GoGame, type Rules } from './engine.js';
import { RandomPlayer, ReferencePlayer } from './players.js';

export interface GameRecord {
  moves: (Point | null)[];
  result: { winner: Colour; margin: number };
  /** The seed of the game's player: `playGame({ seed })` replays it. */
  seed: number;
  /** The colour of a uniformly random legal player (RandomPlayer, same seed); absent in self-play. */
  random?: Colour;
}

export interface PlayGameOptions {
  seed: number;
  playouts?: number;
  rules?: Rules;
  komi?: number;
  /** Safety cap on the number of moves (passes included), default 150; the position is then scored as it stands. */
  maxMoves?: number;
  /** The colour a uniformly random legal player takes (default: none, the reference player plays both). */
  random?: Colour;
}

/** One game of a ReferencePlayer against itself or a random player, scored by area with the given komi. */
export function playGame(o: PlayGameOptions): GameRecord {
  const maxMoves = o.maxMoves ?? 150;
  if (!Number.isInteger(maxMoves) || maxMoves < 0) throw new RangeError(`playGame: maxMoves ${maxMoves} (an integer >= 0)`);
  const game = new GoGame({ rules: o.rules, komi: o.komi });
  const player = new ReferencePlayer({ seed: o.seed, playouts: o.playouts });
  const random = o.random && new RandomPlayer(o.seed);
  while (!game.isOver() && game.moves.length < maxMoves) game.play((random && game.toPlay === o.random ? random : player).choose(game));
  const { winner, margin } = game.score();
  return { moves: [...game.moves], result: { winner, margin }, seed: o.seed, ...(o.random ? { random: o.random } : {}) };
}

/**
 * `count` games; game i uses seed (seed * 1000003 + i) >>> 0. With `vsRandom` the reference player
 * meets a random player, Black in even games and White in odd ones (positions the reference player's
 * self-play never reaches: what a model playing a weak opponent sees). With `part` only the games
 * i with i % part.of === part.index, in order: `part.of` processes make the same games between them
 * (mergeGameParts puts them back in order).
 */
export function generateGames(o: {
  count: number;
  seed: number;
  playouts?: number;
  rules?: Rules;
  komi?: number;
  maxMoves?: number;
  vsRandom?: boolean;
  part?: { index: number; of: number };
  onGame?: (i: number, game: GameRecord) => void;
}): GameRecord[] {
  if (!Number.isInteger(o.count) || o.count < 0) throw new RangeError(`generateGames: count ${o.count} (an integer >= 0)`);
  if (!Number.isFinite(o.seed)) throw new RangeError(`generateGames: seed ${o.seed} is not a finite number`);
  const { index, of } = checkPart('generateGames', o.part);
  const out: GameRecord[] = [];
  for (let i = index; i < o.count; i += of) {
    const random: Colour | undefined = o.vsRandom ? (i % 2 === 0 ? 'w' : 'b') : undefined;
    const rec = playGame({ seed: (Math.imul(o.seed >>> 0, 1000003) + i) >>> 0, playouts: o.playouts, rules: o.rules, komi: o.komi, maxMoves: o.maxMoves, random });
    o.onGame?.(i, rec);
    out.push(rec);
  }
  return out;
}

/** A split of indexed work into `of` parts, part `index` taking every of-th item from `index` (default: all of it). */
export function checkPart(fn: string, part: { index: number; of: number } = { index: 0, of: 1 }): { index: number; of: number } {
  const { index, of } = part;
  if (!Number.isInteger(of) || of < 1 || !Number.isInteger(index) || index < 0 || index >= of) throw new RangeError(`${fn}: part ${index} of ${of} (integers, 0 <= index < of)`);
  return part;
}

/** The games of generateGames' parts (parts[k]: part k of parts.length) in game order. */
export function mergeGameParts(parts: readonly (readonly GameRecord[])[]): GameRecord[] {
  const n = parts.length;
  const count = parts.reduce((a, p) => a + p.length, 0);
  return Array.from({ length: count }, (_, i) => {
    const g = parts[i % n]?.[Math.floor(i / n)];
    if (!g) throw new RangeError(`mergeGameParts: game ${i} is missing (part ${i % n} has ${parts[i % n]?.length ?? 0} games)`);
    return g;
  });
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
