/**
 * `videoworld eval-go`: how well a model plays. It plays games as Black and White alternately
 * against a uniformly random legal player or the reference MCTS player, and checks the tokenizer on
 * the positions those games reach (never trained on: they come from play against this opponent).
 *
 * legal_rate: share of model turns where a generated board gave a legal move (one new stone of the
 * model's colour, legal under the rules and not into its own single-point eye, or a capture read
 * from vanished stones: modelMove) within the retries, or the model passed (its unchanged
 * board the likelier outcome, see modelMove's passAt); a turn without either is played as a pass. win_rate: area scoring with komi.
 * tokenizer_board_accuracy: share of intersections read back correctly (readBoard) from
 * tokenize -> detokenize.
 */
import type { GpuContext } from '../../kernels/index.js';
import type { Colour, GoBoard } from '../go/board.js';
import { GoGame, type Rules } from '../go/engine.js';
import { type Player, RandomPlayer, ReferencePlayer } from '../go/players.js';
import { boardPoints, readBoard } from '../go/read.js';
import { denormalizeImage, normalizeImage } from '../go/render.js';
import { boardImage, modelMove } from '../models/videoworld/go-player.js';
import type { VideoWorldPreset } from '../models/videoworld/presets.js';
import type { ImageTokenizer } from '../models/videoworld/tokenizer.js';
import type { VideoWorldGo } from '../models/videoworld/videoworld.js';

export interface EvalGoOptions {
  games?: number;
  positions?: number;
  seed?: number;
  opponent?: 'random' | 'reference';
  /** Reference opponent's playouts per move (default 300, as the training games). */
  playouts?: number;
  tries?: number;
  /** modelMove's passAt (default 0.5). */
  passAt?: number;
  /** modelMove's inferCaptures (default true). */
  inferCaptures?: boolean;
  /** modelMove's eyeFills (default false). */
  eyeFills?: boolean;
  /** modelMove's retryOver (default 'change'). */
  retryOver?: 'change' | 'action';
  rules?: Rules;
  komi?: number;
  /** Moves (both sides, passes included) after which a game is scored as it stands. */
  maxMoves?: number;
  log?: (line: string) => void;
  /** Also log one line per model turn: the move, its tries, why each failed try failed. */
  logTurns?: boolean;
}

export interface EvalGoResult {
  legal_rate: number;
  win_rate: number;
  games: number;
  positions: number;
  tokenizer_board_accuracy: number;
  seconds: number;
  opponent: string;
  model_turns: number;
  wins_as_black: number;
  wins_as_white: number;
  mean_tries: number;
  /** Turns played as a pass: the model's own (modelMove's passAt) plus turns without a legal move. */
  model_passes: number;
  /** Of those, the model's own passes (counted as legal turns). */
  model_chosen_passes: number;
  /** Model moves read from a capture shown without its capturing stone (modelMove's inferCaptures). */
  implied_captures: number;
}

export async function evaluateGo(ctx: GpuContext, model: VideoWorldGo, o: EvalGoOptions = {}): Promise<EvalGoResult> {
  const games = o.games ?? 100;
  const wanted = o.positions ?? 500;
  const seed = o.seed ?? 1;
  const opponent = o.opponent ?? 'random';
  const log = o.log ?? (() => {});
  for (const [k, v] of Object.entries({ games, positions: wanted, seed })) if (!Number.isInteger(v) || v < 0) throw new RangeError(`evaluateGo: ${k} ${v} (an integer >= 0)`);
  if (opponent !== 'random' && opponent !== 'reference') throw new RangeError(`evaluateGo: opponent '${String(opponent)}' (random | reference)`);
  const t0 = performance.now();
  let turns = 0;
  let legal = 0;
  let tries = 0;
  let passes = 0;
  let chosenPasses = 0;
  let implied = 0;
  const wins: Record<Colour, number> = { b: 0, w: 0 };
  const seen: GoBoard[] = [];
  for (let g = 0; g < games; g++) {
    const colour: Colour = g % 2 === 0 ? 'b' : 'w';
    const gameSeed = (Math.imul(seed, 7919) + g) >>> 0;
    const opp: Player = opponent === 'random' ? new RandomPlayer(gameSeed) : new ReferencePlayer({ seed: gameSeed, playouts: o.playouts ?? 300 });
    const game = new GoGame({ rules: o.rules ?? 'standard', komi: o.komi ?? 7.5 });
    const maxMoves = o.maxMoves ?? 200;
    let gameTurns = 0;
    let gameLegal = 0;
    while (!game.isOver() && game.moves.length < maxMoves) {
      if (game.toPlay !== colour) {
        game.play(opp.choose(game));
        continue;
      }
      seen.push(game.board());
      const r = await modelMove(ctx, model, game, { tries: o.tries ?? 10, passAt: o.passAt, inferCaptures: o.inferCaptures, eyeFills: o.eyeFills, retryOver: o.retryOver, seed: (gameSeed * 131 + game.moves.length) >>> 0 });
      gameTurns++;
      tries += r.tries;
      if (r.ok) gameLegal++;
      if (r.move === null) passes++;
      if (r.ok && r.move === null) chosenPasses++;
      if (r.impliedCapture) implied++;
      if (o.logTurns) {
        const what = r.ok ? `${r.gtp}${r.impliedCapture ? ' (an implied capture)' : ''}` : 'no legal move, played as a pass';
        const pass = r.unchangedProbability === undefined ? '' : `, P(unchanged) ${r.unchangedProbability.toFixed(3)}`;
        log(`game ${g + 1} move ${game.moves.length + 1}: ${what} after ${r.tries} ${r.tries === 1 ? 'try' : 'tries'}${pass}${r.reasons.length ? `; ${r.reasons.join('; ')}` : ''}`);
      }
      game.play(r.ok ? r.move : null);
    }
    turns += gameTurns;
    legal += gameLegal;
    const score = game.score();
    if (score.winner === colour) wins[colour]++;
    const done = g + 1;
    log(`game ${done}/${games}: model ${colour === 'b' ? 'Black' : 'White'} vs ${opponent}, ${game.result()} after ${game.moves.length} moves (${score.winner === colour ? 'won' : 'lost'}); legal ${gameLegal}/${gameTurns}; so far won ${wins.b + wins.w}/${done}, legal ${(legal / Math.max(1, turns)).toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const accuracy = await tokenizerBoardAccuracy(ctx, model.tokenizer, model.preset, spread(seen, wanted));
  log(`tokenizer: ${accuracy.positions} positions, ${(100 * accuracy.accuracy).toFixed(2)}% of intersections read back`);
  return {
    legal_rate: turns ? legal / turns : 0,
    win_rate: games ? (wins.b + wins.w) / games : 0,
    games,
    positions: accuracy.positions,
    tokenizer_board_accuracy: accuracy.accuracy,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    opponent,
    model_turns: turns,
    wins_as_black: wins.b,
    wins_as_white: wins.w,
    mean_tries: turns ? tries / turns : 0,
    model_passes: passes,
    model_chosen_passes: chosenPasses,
    implied_captures: implied,
  };
}

/** Up to n items spread evenly over the list. */
function spread<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
}

/** Share of intersections readBoard recovers from tokenize -> detokenize of each position's image. */
export async function tokenizerBoardAccuracy(ctx: GpuContext, tokenizer: ImageTokenizer, preset: VideoWorldPreset, boards: GoBoard[]): Promise<{ accuracy: number; positions: number }> {
  const S = preset.imageSize;
  const per = 3 * S * S;
  let right = 0;
  let total = 0;
  for (let i = 0; i < boards.length; i += 32) {
    const chunk = boards.slice(i, i + 32);
    const x = new Float32Array(chunk.length * per);
    chunk.forEach((b, j) => x.set(normalizeImage(boardImage(preset, b), 'render'), j * per));
    const img = ctx.scope(() => {
      const enc = tokenizer.encode(ctx.fromArray(x, [chunk.length, 3, S, S]));
      const [, h, w] = enc.indices.shape as [number, number, number];
      return tokenizer.decode(enc.indices, [chunk.length, h, w]);
    });
    const out = await img.read();
    img.dispose();
    chunk.forEach((b, j) => {
      const got = readBoard(denormalizeImage(out.subarray(j * per, (j + 1) * per), S, S)).points;
      boardPoints(b).forEach((p, k) => {
        total++;
        if (got[k] === p) right++;
      });
    });
  }
  return { accuracy: total ? right / total : 0, positions: boards.length };
}
