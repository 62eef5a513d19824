/**
 * Data for the micro Go model (scripts/train-go-micro.ts): board images and token sequences built
 * from game records. The model sees board frames only, as the paper's Go model does: a move reaches
 * the transformer as the LDM's latent code of the frame pair, never as a label.
 *
 * Augmentation: the 8 symmetries of the board, applied to the stones before rendering.
 */
import type { Colour, Point, Stone } from '../go/board.js';
import { type GoBoard, BOARD_SIZE } from '../go/board.js';
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
