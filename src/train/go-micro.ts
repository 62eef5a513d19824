/**
 * Data for the micro Go model (scripts/train-go-micro.ts): board images and token sequences built
 * from game records. The model sees board frames only, as the paper's Go model does: a move reaches
 * the transformer as the LDM's latent code of the frame pair, never as a label.
 *
 * Augmentation: the 8 symmetries of the board, applied to the stones before rendering.
 */
import type { Colour, Point, Stone } from '../go/board.js';
import { type GoBoard, BOARD_SIZE, opponentOf } from '../go/board.js';
import { normalizeValue } from '../go/render.js';
import { renderGrid } from '../go/read.js';
import type { GoTokenLayout } from '../models/videoworld/presets.js';

/** Symmetry `sym` in 0..7 of a point: bit 2 transposes, bit 0 flips rows, bit 1 flips columns. */
export function transformPoint(p: Point, sym: number, side = BOARD_SIZE): Point {
  let [r, c] = [p.row, p.col];
  if (sym & 4) [r, c] = [c, r];
  if (sym & 1) r = side - 1 - r;
  if (sym & 2) c = side - 1 - c;
  return { row: r, col: c };
}

/** The stones of a position under symmetry `sym` (a legal position stays legal: nothing is captured). */
export function transformStones(board: GoBoard, sym: number): Stone[] {
  return board.stones().map((s) => ({ colour: s.colour, ...transformPoint(s, sym, board.side) }));
}

/**
 * Stones as the side that moved sees them: colours swapped when White moved, so that every LDM clip
 * shows Black's move (Go's colour symmetry; the transformer's sequence carries the side to move).
 * With raw colours a stone's sign flips its delta features, and the LDM's few code axes spent
 * themselves on the colour (README, "What the eleventh session found").
 */
export function moverStones(stones: readonly Stone[], mover: Colour): Stone[] {
  return mover === 'b' ? [...stones] : stones.map((s) => ({ ...s, colour: opponentOf(s.colour) }));
}

/** Writes the normalized NCHW model image ([3, S, S] float32, `p / 127 - 1`) of stones into `out` at `offset`. */
export function writeBoardImage(stones: Iterable<Stone>, pointPixels: number, out: Float32Array, offset: number, frameStride = 0, frame = 0): void {
  const img = renderGrid(stones, pointPixels);
  const hw = img.width * img.height;
  // Channel stride is hw for images [3, S, S], frames * hw for clips [3, T, S, S].
  const cs = frameStride ? frameStride * hw : hw;
  for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) out[offset + c * cs + frame * hw + p] = normalizeValue(img.data[p * 3 + c]!);
}

/** One transition of a game: the position before, the mover, and the position after (symmetry applied). */
export interface Transition {
  before: GoBoard;
  after: GoBoard;
  mover: Colour;
  /** The move (null = pass); kept for evaluation and diagnostics only, never shown to the model. */
  move: Point | null;
}

/**
 * The transformer's training sequence for one move, as the Go battle prompt lays it out:
 * <im_start> board <im_end> [side to move] <act_start> actions <act_end> <im_start> next board <im_end>.
 */
export function moveSequence(layout: GoTokenLayout, board: ArrayLike<number>, actions: readonly number[], next: ArrayLike<number>, toPlay: Colour): number[] {
  if (actions.length !== layout.actionTokens) throw new RangeError(`moveSequence: ${actions.length} action codes, the layout has ${layout.actionTokens}`);
  const img = (ids: ArrayLike<number>) => Array.from(ids, (i) => i + layout.imageOffset);
  return [
    layout.imStart,
    ...img(board),
    layout.imEnd,
    ...(layout.toPlay ? [layout.toPlay[toPlay]] : []),
    layout.actStart,
    ...actions.map((a) => a + (layout.actionOffset ?? 0)),
    layout.actEnd,
    layout.imStart,
    ...img(next),
    layout.imEnd,
  ];
}

/** Tokens of the prompt part of moveSequence (no loss on them: the board is given, not predicted). */
export function promptLength(layout: GoTokenLayout, boardTokens: number): number {
  return boardTokens + 3 + (layout.toPlay ? 1 : 0);
}

/** Next-token targets of a sequence with the prompt's positions set to `ignore`. */
export function sequenceTargets(seq: readonly number[], prompt: number, ignore: number): number[] {
  return seq.slice(1).map((t, i) => (i + 1 < prompt ? ignore : t));
}

/**
 * Board tokens by table, for a patch encoder (TokenizerConfig.patchEncoder): each token is its
 * patch's code alone, so a position's tokens are a lookup of (token, the states of the token's
 * q x q points) in a table of every state pattern, encoded once instead of every position.
 * q = points per token side (patch pixels / point pixels); patterns are base 3 over the q x q
 * points in row-major image order (0 empty, 1 black, 2 white).
 */
export class BoardTokenTable {
  /** codes[pattern * tokens + token]. */
  private constructor(
    readonly q: number,
    readonly side: number,
    private readonly codes: Int32Array,
  ) {}

  /** Encodes the 3^(q*q) pattern images with `encode` (images [n, 3, S, S] -> indices [n * tokens]). */
  static async build(encode: (images: Float32Array, n: number) => Promise<Int32Array>, imageSize: number, pointPixels: number, patch: number): Promise<BoardTokenTable> {
    const q = patch / pointPixels;
    const side = imageSize / patch;
    if (!Number.isInteger(q) || !Number.isInteger(side)) throw new RangeError(`BoardTokenTable: a ${patch}-pixel patch is not a whole number of ${pointPixels}-pixel points, or ${imageSize} not of patches`);
    const patterns = 3 ** (q * q);
    const per = 3 * imageSize * imageSize;
    const images = new Float32Array(patterns * per);
    for (let k = 0; k < patterns; k++) {
      // Image k: pattern k in every token (points off the board left out).
      const stones: Stone[] = [];
      for (let row = 0; row < BOARD_SIZE; row++) {
        for (let col = 0; col < BOARD_SIZE; col++) {
          const s = Math.floor(k / 3 ** digit(q, row, col)) % 3;
          if (s) stones.push({ row, col, colour: s === 1 ? 'b' : 'w' });
        }
      }
      writeBoardImage(stones, pointPixels, images, k * per);
    }
    const codes = await encode(images, patterns);
    if (codes.length !== patterns * side * side) throw new RangeError(`BoardTokenTable: encode gave ${codes.length} indices, expected ${patterns} x ${side * side}`);
    return new BoardTokenTable(q, side, codes);
  }

  /** The tokens of a position (row-major, as the tokenizer's indices). */
  tokens(stones: Iterable<Stone>): Int32Array {
    const n = this.side * this.side;
    const pattern = new Int32Array(n);
    for (const s of stones) pattern[tokenOf(this.q, this.side, s.row, s.col)]! += (s.colour === 'b' ? 1 : 2) * 3 ** digit(this.q, s.row, s.col);
    return pattern.map((k, t) => this.codes[k * n + t]!);
  }
}

/** Image rows run from the board's top (row BOARD_SIZE - 1) down; a point's token and its digit in the token's pattern. */
function tokenOf(q: number, side: number, row: number, col: number): number {
  return Math.floor((BOARD_SIZE - 1 - row) / q) * side + Math.floor(col / q);
}
function digit(q: number, row: number, col: number): number {
  return ((BOARD_SIZE - 1 - row) % q) * q + (col % q);
}
