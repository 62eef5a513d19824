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
import { type Colour, GoBoard } from '../go/board.js';
import { GoGame, type Rules } from '../go/engine.js';
import { checkPart } from '../go/games.js';
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
  /**
   * Play only the games g with g % part.of === part.index (playEvalGames): each game depends on its
   * index alone, so part.of processes play the same games between them (the CLI's --workers).
   */
  part?: { index: number; of: number };
}

/** One evaluated game: what evaluateGo sums over games, and the positions the model saw. */
export interface EvalGameRecord {
  game: number;
  colour: Colour;
  won: boolean;
  turns: number;
  legal: number;
  tries: number;
  passes: number;
  chosenPasses: number;
  implied: number;
  /** The board before each model turn, in order. */
  boards: GoBoard[];
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
  const t0 = performance.now();
  return summarizeEval(ctx, model, await playEvalGames(ctx, model, o), o, t0);
}

/** The games of an evaluation (all of them, or o.part's), one record each, in game order. */
export async function playEvalGames(ctx: GpuContext, model: VideoWorldGo, o: EvalGoOptions = {}): Promise<EvalGameRecord[]> {
  const { games, seed, opponent } = checkEvalOptions(o);
  const { index, of } = checkPart('evaluateGo', o.part);
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const out: EvalGameRecord[] = [];
  let won = 0;
  let turns = 0;
  let legal = 0;
  for (let g = index; g < games; g += of) {
    const colour: Colour = g % 2 === 0 ? 'b' : 'w';
    const gameSeed = (Math.imul(seed, 7919) + g) >>> 0;
    const opp: Player = opponent === 'random' ? new RandomPlayer(gameSeed) : new ReferencePlayer({ seed: gameSeed, playouts: o.playouts ?? 300 });
    const game = new GoGame({ rules: o.rules ?? 'standard', komi: o.komi ?? 7.5 });
    const maxMoves = o.maxMoves ?? 200;
    const rec: EvalGameRecord = { game: g, colour, won: false, turns: 0, legal: 0, tries: 0, passes: 0, chosenPasses: 0, implied: 0, boards: [] };
    while (!game.isOver() && game.moves.length < maxMoves) {
      if (game.toPlay !== colour) {
        game.play(opp.choose(game));
        continue;
      }
      rec.boards.push(game.board());
      const r = await modelMove(ctx, model, game, { tries: o.tries ?? 10, passAt: o.passAt, inferCaptures: o.inferCaptures, eyeFills: o.eyeFills, retryOver: o.retryOver, seed: (gameSeed * 131 + game.moves.length) >>> 0 });
      rec.turns++;
      rec.tries += r.tries;
      if (r.ok) rec.legal++;
      if (r.move === null) rec.passes++;
      if (r.ok && r.move === null) rec.chosenPasses++;
      if (r.impliedCapture) rec.implied++;
      if (o.logTurns) {
        const what = r.ok ? `${r.gtp}${r.impliedCapture ? ' (an implied capture)' : ''}` : 'no legal move, played as a pass';
        const pass = r.unchangedProbability === undefined ? '' : `, P(unchanged) ${r.unchangedProbability.toFixed(3)}`;
        log(`game ${g + 1} move ${game.moves.length + 1}: ${what} after ${r.tries} ${r.tries === 1 ? 'try' : 'tries'}${pass}${r.reasons.length ? `; ${r.reasons.join('; ')}` : ''}`);
      }
      game.play(r.ok ? r.move : null);
    }
    const score = game.score();
    rec.won = score.winner === colour;
    out.push(rec);
    won += Number(rec.won);
    turns += rec.turns;
    legal += rec.legal;
    const mine = of > 1 ? ` of part ${index + 1}/${of}` : '';
    log(`game ${g + 1}/${games}: model ${colour === 'b' ? 'Black' : 'White'} vs ${opponent}, ${game.result()} after ${game.moves.length} moves (${rec.won ? 'won' : 'lost'}); legal ${rec.legal}/${rec.turns}; so far${mine} won ${won}/${out.length}, legal ${(legal / Math.max(1, turns)).toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  return out;
}

/**
 * evaluateGo's verdict from the records of every game (in any order: they are sorted by game, so
 * the tokenizer is checked on the same positions however the games were split); `t0` is when the
 * evaluation started (performance.now()).
 */
export async function summarizeEval(ctx: GpuContext, model: VideoWorldGo, records: readonly EvalGameRecord[], o: EvalGoOptions, t0: number): Promise<EvalGoResult> {
  const { games, opponent } = checkEvalOptions(o);
  const recs = [...records].sort((a, b) => a.game - b.game);
  const missing = Array.from({ length: games }, (_, g) => g).filter((g) => recs[g]?.game !== g);
  if (recs.length !== games || missing.length) throw new RangeError(`evaluateGo: records of ${recs.length} games for ${games} (missing or repeated: game ${missing.map((g) => g + 1).slice(0, 5).join(', ')})`);
  const sum = (k: 'turns' | 'legal' | 'tries' | 'passes' | 'chosenPasses' | 'implied') => recs.reduce((a, r) => a + r[k], 0);
  const turns = sum('turns');
  const wins = (c: Colour) => recs.filter((r) => r.won && r.colour === c).length;
  const accuracy = await tokenizerBoardAccuracy(ctx, model.tokenizer, model.preset, spread(recs.flatMap((r) => r.boards), o.positions ?? 500));
  (o.log ?? (() => {}))(`tokenizer: ${accuracy.positions} positions, ${(100 * accuracy.accuracy).toFixed(2)}% of intersections read back`);
  return {
    legal_rate: turns ? sum('legal') / turns : 0,
    win_rate: games ? (wins('b') + wins('w')) / games : 0,
    games,
    positions: accuracy.positions,
    tokenizer_board_accuracy: accuracy.accuracy,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    opponent,
    model_turns: turns,
    wins_as_black: wins('b'),
    wins_as_white: wins('w'),
    mean_tries: turns ? sum('tries') / turns : 0,
    model_passes: sum('passes'),
    model_chosen_passes: sum('chosenPasses'),
    implied_captures: sum('implied'),
  };
}

function checkEvalOptions(o: EvalGoOptions): { games: number; seed: number; opponent: 'random' | 'reference' } {
  const games = o.games ?? 100;
  const seed = o.seed ?? 1;
  const opponent = o.opponent ?? 'random';
  for (const [k, v] of Object.entries({ games, positions: o.positions ?? 500, seed })) if (!Number.isInteger(v) || v < 0) throw new RangeError(`evaluateGo: ${k} ${v} (an integer >= 0)`);
  if (opponent !== 'random' && opponent !== 'reference') throw new RangeError(`evaluateGo: opponent '${String(opponent)}' (random | reference)`);
  return { games, seed, opponent };
}

/** Records as one JSON line (boards as 'b' / 'w' / '.' strings, row-major): a worker process's output. */
export function encodeEvalRecords(records: readonly EvalGameRecord[]): string {
  return JSON.stringify(records.map((r) => ({ ...r, boards: r.boards.map(pointsText) })));
}

/** encodeEvalRecords' inverse. */
export function decodeEvalRecords(text: string): EvalGameRecord[] {
  const recs = JSON.parse(text) as (Omit<EvalGameRecord, 'boards'> & { boards: string[] })[];
  return recs.map((r) => ({ ...r, boards: r.boards.map(boardFromPoints) }));
}

function pointsText(b: GoBoard): string {
  return boardPoints(b).map((c) => c ?? '.').join('');
}

// Stones placed in row-major order never leave a group without a liberty (a group of a legal
// position keeps its own liberty, a part of it the empty points of the rest), so nothing is
// captured on the way; the check below holds that.
function boardFromPoints(text: string): GoBoard {
  const side = Math.sqrt(text.length);
  const b = new GoBoard(side);
  [...text].forEach((c, i) => {
    if (c === 'b' || c === 'w') b.play(Math.floor(i / side), i % side, c);
    else if (c !== '.') throw new RangeError(`decodeEvalRecords: board character '${c}' (b, w or .)`);
  });
  if (pointsText(b) !== text) throw new RangeError(`decodeEvalRecords: ${text} is not a legal position (a group without liberty)`);
  return b;
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
