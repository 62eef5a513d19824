/**
 * The model as a Go player: the position's board image in, a generated next-board image out, the
 * move read off it and checked against the game's rules, with upstream's retry loop (a new sample
 * when the generated board gives no legal move).
 *
 * Try 0 samples greedily (the model's most likely move); retries sample at temperature 1 with a
 * fresh seed, as upstream's loop resamples. For the micro model the board is generated conditioned
 * on changing (requireChange: decoded token by token, greedy copies the whole board), and try k takes
 * the k-th likeliest first change with the rest of the board greedy (changeRank), so no two tries
 * repeat a board and a retry does not corrupt the board's other stones. A model trained on LDM
 * action codes (one action token) decodes the same way after its likeliest action code, so the
 * paper's ablation (with and without latent actions) compares the same decoding; with retryOver
 * 'action' its tries rank the action codes instead.
 *
 * A board whose only change is that opponent stones vanished reads as the capture that removes
 * exactly them, when one legal move does (inferCaptures): the micro model's likeliest change is often
 * a capture whose capturing stone lies in another token, which greedy decoding then leaves out.
 * A move into the mover's own single-point eye is a failed try (eyeFills false): the reference
 * player whose games the micro model learned from never plays one, and a model's low-ranked retries
 * that do fill their eyes give whole groups away.
 */
import type { GpuContext, SampleOptions } from '../../../kernels/index.js';
import { type Colour, type Point, gtpName } from '../../go/board.js';
import type { GoGame } from '../../go/engine.js';
import { type RasterImage, denormalizeImage, locateNewStone, normalizeImage, renderBoard, battleView, BOARD_IMAGE_SIZE } from '../../go/index.js';
import { readBoard, readMove, renderGrid } from '../../go/read.js';
import type { VideoWorldPreset } from './presets.js';
import type { VideoWorldGo } from './videoworld.js';

/** Box filter (down) or nearest (up) between the 256x256 board and `size`. */
export function resizeImage(img: RasterImage, size: number): RasterImage {
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

/** The model's input image of a position (RGB at the preset's size). */
export function boardImage(preset: VideoWorldPreset, position: Parameters<typeof renderBoard>[0]): RasterImage {
  if (preset.image.kind === 'grid') return renderGrid(position, preset.image.pointPixels);
  return resizeImage(renderBoard(position), preset.imageSize);
}

export type MoveReader = 'grid' | 'upstream';

export interface ModelMoveOptions {
  /** Generation attempts before giving up (upstream: 10). */
  tries?: number;
  /** Seed of the first sampled retry; retry k uses seed + k. */
  seed?: number;
  /** 'grid' (default): classify every point and diff; 'upstream': the battle loop's morphology (one new stone). */
  reader?: MoveReader;
  /**
   * Generate boards that differ from the input (VideoWorldGo MoveOptions.requireChange). Default:
   * on for the micro layouts (no action tokens, or one LDM action token), off otherwise (upstream's loop).
   */
  requireChange?: boolean;
  /**
   * With requireChange: pass when the model's probability that the board stays unchanged is at least
   * this on the first try (default 0.5: an unchanged board is then likelier than every change
   * together). The training games' passes repeat the position, so this is the model's own pass; without it,
   * a board generated to change every turn fills the player's own eyes at the end of a game.
   */
  passAt?: number;
  /**
   * Grid reader: read a board on which only opponent stones vanished as the one legal move that
   * captures exactly those stones (default true; false: such a board is a failed try, as upstream's reader).
   */
  inferCaptures?: boolean;
  /** Accept a move into the mover's own single-point eye (default false: a failed try). */
  eyeFills?: boolean;
  /**
   * What try k ranks: 'change' (default) the k-th likeliest first change after the likeliest action
   * code; 'action' (a layout with one LDM action token) the k-th likeliest action code, then its
   * likeliest board: where the LDM's codes name the move, a retry is another move, as the paper's
   * latent action is.
   */
  retryOver?: 'change' | 'action';
  onTry?: (t: { attempt: number; tokens: number[]; move: string | null; reason: string | null; ms: number; impliedCapture?: boolean }) => void;
  /** Called with each generated token (attempt, step). */
  onToken?: (id: number, step: number, attempt: number) => void;
}

export interface ModelMoveResult {
  /** A legal move was read, or the model passed (move null); false when no try gave one (the caller decides, e.g. to pass). */
  ok: boolean;
  move: Point | null;
  gtp: string | null;
  tries: number;
  /** The move was read from a capture shown without its capturing stone (inferCaptures). */
  impliedCapture: boolean;
  /** Why each failed attempt failed. */
  reasons: string[];
  /** Wall time of the generation attempts (encode, tokens, decode, reading), seconds. */
  seconds: number;
  input: RasterImage;
  /** The generated board of the last attempt. */
  generated: RasterImage;
  stagesMs: { encode: number; prefill: number; tokens: number; decode: number; tokensPerSecond: number };
  /** With requireChange: the model's probability that the board stays as it is (VideoWorldGo MoveResult). */
  unchangedProbability?: number;
}

/** One model move for the side to play in `game` (the game is not changed). */
export async function modelMove(ctx: GpuContext, model: VideoWorldGo, game: GoGame, o: ModelMoveOptions = {}): Promise<ModelMoveResult> {
  const tries = o.tries ?? 10;
  if (!Number.isInteger(tries) || tries < 1) throw new RangeError(`modelMove: tries ${tries} (an integer >= 1)`);
  const preset = model.preset;
  // One action token trained on LDM codes (actionOffset set).
  const ldmAction = model.tokens.actionTokens === 1 && model.tokens.actionOffset !== undefined;
  const requireChange = o.requireChange ?? (model.tokens.actionTokens === 0 || ldmAction);
  const retryOver = o.retryOver ?? 'change';
  if (retryOver !== 'change' && retryOver !== 'action') throw new RangeError(`modelMove: retryOver '${String(retryOver)}' (change or action)`);
  if (retryOver === 'action' && !ldmAction) {
    throw new RangeError(`modelMove: retryOver 'action' needs a layout with one LDM action token (this one has ${model.tokens.actionTokens}${model.tokens.actionOffset === undefined ? ', no actionOffset' : ''})`);
  }
  const passAt = o.passAt ?? 0.5;
  if (!(passAt > 0 && passAt <= 1)) throw new RangeError(`modelMove: passAt ${passAt} (a probability in (0, 1]; 1 never passes unless certain)`);
  const S = preset.imageSize;
  const before = game.board();
  const mover: Colour = game.toPlay;
  const input = boardImage(preset, before);
  const x = normalizeImage(input, 'render');
  const reasons: string[] = [];
  const stages = { encode: 0, prefill: 0, tokens: 0, decode: 0, tokensPerSecond: 0 };
  let generated = input;
  let generatedTokens = 0;
  let unchanged: number | undefined;
  const t0 = performance.now();
  for (let attempt = 0; attempt < tries; attempt++) {
    const ta = performance.now();
    const sampling: SampleOptions = attempt === 0 ? { greedy: true } : { seed: ((o.seed ?? 0) + attempt) >>> 0, temperature: 1 };
    const image = ctx.fromArray(x, [1, 3, S, S]);
    const changeRank = requireChange ? (retryOver === 'action' ? 0 : attempt) : undefined;
    const actionRank = retryOver === 'action' ? attempt : undefined;
    const r = await model.move(ctx, image, { sampling, toPlay: mover, requireChange, changeRank, actionRank, onToken: o.onToken && ((id, step) => o.onToken!(id, step, attempt)) });
    image.dispose();
    generated = denormalizeImage(await r.nextImage.read(), S, S);
    r.nextImage.dispose();
    unchanged ??= r.unchangedProbability;
    const n = r.tokens.length;
    stages.encode += r.timings.encodeMs;
    stages.prefill += r.timings.prefillMs;
    stages.tokens += r.timings.totalMs - r.timings.encodeMs - r.timings.prefillMs - r.timings.imageDecodeMs;
    stages.decode += r.timings.imageDecodeMs;
    generatedTokens += n;
    if (attempt === 0 && requireChange && (unchanged ?? 0) >= passAt) {
      o.onTry?.({ attempt, tokens: r.tokens, move: 'pass', reason: null, ms: performance.now() - ta });
      return { ok: true, move: null, gtp: 'pass', tries: 1, impliedCapture: false, reasons, seconds: (performance.now() - t0) / 1000, input, generated: input, stagesMs: stages, unchangedProbability: unchanged };
    }
    let reason: string | null = null;
    let move: Point | null = null;
    let gtp: string | null = null;
    let implied = false;
    if (o.reader === 'upstream') {
      const big = (img: RasterImage) => (img.width === BOARD_IMAGE_SIZE ? img : resizeImage(img, BOARD_IMAGE_SIZE));
      const m = locateNewStone(battleView(renderBoard(before)), big(generated));
      if (m.ok) [move, gtp] = [{ row: m.row, col: m.col }, m.gtp];
      else reason = m.error;
    } else {
      // readBoard knows the 256 render and grid images; other sizes (the tiny preset's 32) go through 256.
      const readable = generated.width === BOARD_IMAGE_SIZE || preset.image.kind === 'grid' ? generated : resizeImage(generated, BOARD_IMAGE_SIZE);
      const m = readMove(before, mover, readBoard(readable));
      // As upstream's loop: a board without a new stone is a failed try, not a pass (a model that
      // copies its input would otherwise "play" every turn by passing).
      const capture = !m.ok && o.inferCaptures !== false && m.added.length === 0 && m.removed.length > 0 ? game.captureMove(m.removed) : null;
      if (m.ok && m.move) [move, gtp] = [m.move, m.gtp];
      else if (capture) [move, gtp, implied] = [capture, gtpName(capture.row, capture.col), true];
      else reason = m.ok ? 'the generated board is unchanged (no new stone)' : m.error;
    }
    if (!reason) {
      const why = move ? game.whyIllegal(move) : null;
      if (why) reason = `${gtp} is illegal (${why})`;
      else if (move && !o.eyeFills && game.isOwnEye(move)) reason = `${gtp} fills its own eye`;
    }
    o.onTry?.({ attempt, tokens: r.tokens, move: reason ? null : gtp, reason, ms: performance.now() - ta, impliedCapture: implied });
    if (!reason) {
      stages.tokensPerSecond = stages.tokens > 0 ? (1000 * generatedTokens) / stages.tokens : 0;
      return { ok: true, move, gtp: move ? gtpName(move.row, move.col) : 'pass', tries: attempt + 1, impliedCapture: implied, reasons, seconds: (performance.now() - t0) / 1000, input, generated, stagesMs: stages, unchangedProbability: unchanged };
    }
    reasons.push(`try ${attempt + 1}: ${reason}`);
  }
  stages.tokensPerSecond = stages.tokens > 0 ? (1000 * generatedTokens) / stages.tokens : 0;
  return { ok: false, move: null, gtp: null, tries, impliedCapture: false, reasons, seconds: (performance.now() - t0) / 1000, input, generated, stagesMs: stages, unchangedProbability: unchanged };
}
