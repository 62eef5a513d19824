/**
 * Board images at model resolution and reading boards back from (generated) images.
 *
 * Grid images: the 256x256 render resampled so every intersection owns a `pointPixels` square cell,
 * on a 10x10 grid of cells (the 10th column and row are off-board margin). A micro model's tokenizer
 * that downsamples by 2 * pointPixels then sees exactly 2x2 intersections per token, always the same
 * ones, instead of a token boundary cutting through stones.
 *
 * The reader classifies every intersection as empty / black / white by the nearest template: the
 * same geometry rendered empty, all black and all white. Unlike upstream's morphology on the
 * difference image (extract.ts) it needs no clean single-stone diff, so captures, noise elsewhere and
 * several changed stones are seen as what they are.
 */
import { BOARD_SIZE, type Colour, type GoBoard, type Point, gtpName } from './board.js';
import type { RasterImage } from './png.js';
import { BOARD_IMAGE_SIZE, GRID_ORIGIN, GRID_SPACING, emptyBoardImage, renderBoard } from './render.js';

/** Where intersection (row, col) lies in an image: its cell is `spacing` pixels wide, centred on it. */
export interface BoardGeometry {
  /** Image side in pixels. */
  size: number;
  /** Pixel centre of the first line (column A, top row 9). */
  origin: number;
  spacing: number;
}

/** Upstream's 256x256 renders. */
export const RENDER_GEOMETRY: BoardGeometry = { size: BOARD_IMAGE_SIZE, origin: GRID_ORIGIN, spacing: GRID_SPACING };

/** Cells per side of a grid image: the board plus one margin cell (so it halves evenly). */
export const GRID_CELLS = BOARD_SIZE + 1;

export function gridGeometry(pointPixels: number): BoardGeometry {
  if (!Number.isInteger(pointPixels) || pointPixels < 1) throw new RangeError(`gridGeometry: pointPixels ${pointPixels} must be an integer >= 1`);
  return { size: GRID_CELLS * pointPixels, origin: (pointPixels - 1) / 2, spacing: pointPixels };
}

/** Source-pixel weights of each output pixel along one axis: an exact box filter over the cell's span. */
type Tap = { index: number; weight: number; outside: boolean };

function axisWeights(pointPixels: number): Tap[][] {
  const step = GRID_SPACING / pointPixels;
  const out: Tap[][] = [];
  for (let u = 0; u < GRID_CELLS * pointPixels; u++) {
    // A cell is exactly an intersection's 29-pixel stamp window, so it shows that point alone.
    const lo = GRID_ORIGIN - (GRID_SPACING - 1) / 2 + u * step;
    const hi = lo + step;
    const taps: Tap[] = [];
    for (let s = Math.floor(lo); s < hi; s++) {
      const w = Math.min(hi, s + 1) - Math.max(lo, s);
      // Outside the render: the nearest edge pixel of the empty board (stones clipped at the edge
      // must not leak into the margin cells, so every cell depends on its own point only).
      if (w > 0) taps.push({ index: Math.min(BOARD_IMAGE_SIZE - 1, Math.max(0, s)), weight: w / step, outside: s < 0 || s >= BOARD_IMAGE_SIZE });
    }
    out.push(taps);
  }
  return out;
}

/** A 256x256 render -> the grid image with `pointPixels` per intersection (10 * pointPixels square). */
export function gridImage(render: RasterImage, pointPixels: number): RasterImage {
  if (render.width !== BOARD_IMAGE_SIZE || render.height !== BOARD_IMAGE_SIZE || render.channels !== 3) {
    throw new RangeError(`gridImage: expected a ${BOARD_IMAGE_SIZE}x${BOARD_IMAGE_SIZE} RGB render, got ${render.width}x${render.height}x${render.channels}`);
  }
  const w = axisWeights(pointPixels);
  const empty = emptyBoardImage().data;
  const S = w.length;
  const data = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (const ty of w[y]!) {
          for (const tx of w[x]!) acc += ty.weight * tx.weight * (ty.outside || tx.outside ? empty : render.data)[(ty.index * BOARD_IMAGE_SIZE + tx.index) * 3 + c]!;
        }
        data[(y * S + x) * 3 + c] = Math.round(acc);
      }
    }
  }
  return { width: S, height: S, channels: 3, data };
}

const gridTemplateCache = new Map<number, RasterImage[]>();

/**
 * The model-resolution image of a position, equal to gridImage(renderBoard(position)) byte for byte
 * but assembled from per-point cells (each cell sees only its own stamp window): fast enough to
 * render training batches on the fly.
 */
export function renderGrid(position: GoBoard | Iterable<{ colour: Colour; row: number; col: number }>, pointPixels: number): RasterImage {
  const tpl = gridTemplateCache.get(pointPixels) ?? templates(gridGeometry(pointPixels));
  gridTemplateCache.set(pointPixels, tpl);
  const out = { ...tpl[0]!, data: tpl[0]!.data.slice() };
  const S = out.width;
  const stones = 'stones' in position ? position.stones() : position;
  for (const { colour, row, col } of stones) {
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row >= BOARD_SIZE || col >= BOARD_SIZE) throw new RangeError(`renderGrid: stone at row ${row}, col ${col} is off the 9x9 board`);
    const src = tpl[colour === 'b' ? 1 : 2]!.data;
    const x0 = col * pointPixels;
    const y0 = (BOARD_SIZE - 1 - row) * pointPixels;
    for (let y = y0; y < y0 + pointPixels; y++) out.data.set(src.subarray((y * S + x0) * 3, (y * S + x0 + pointPixels) * 3), (y * S + x0) * 3);
  }
  return out;
}

/** The geometry of an image: upstream's 256 render, or a grid image (10 * pointPixels). */
export function geometryOf(img: RasterImage): BoardGeometry {
  if (img.width !== img.height) throw new RangeError(`geometryOf: ${img.width}x${img.height} is not square`);
  if (img.width === BOARD_IMAGE_SIZE) return RENDER_GEOMETRY;
  if (img.width % GRID_CELLS === 0) return gridGeometry(img.width / GRID_CELLS);
  throw new RangeError(`geometryOf: ${img.width}x${img.height} is neither the ${BOARD_IMAGE_SIZE} render nor a grid image (a multiple of ${GRID_CELLS})`);
}

/** Pixel rectangle [x0, x1) x [y0, y1) of an intersection's cell, clipped to the image. */
function cellRect(g: BoardGeometry, row: number, col: number): [number, number, number, number] {
  const half = (g.spacing - 1) / 2;
  const x0 = Math.round(g.origin + g.spacing * col - half);
  const y0 = Math.round(g.origin + g.spacing * (BOARD_SIZE - 1 - row) - half);
  return [Math.max(0, x0), Math.min(g.size, x0 + g.spacing), Math.max(0, y0), Math.min(g.size, y0 + g.spacing)];
}

const STATES: readonly (Colour | null)[] = [null, 'b', 'w'];
const templateCache = new Map<number, RasterImage[]>();

function templates(g: BoardGeometry): RasterImage[] {
  let t = templateCache.get(g.size);
  if (!t) {
    const all = (colour: Colour) => Array.from({ length: BOARD_SIZE * BOARD_SIZE }, (_, i) => ({ colour, row: Math.floor(i / BOARD_SIZE), col: i % BOARD_SIZE }));
    const renders = [renderBoard([]), renderBoard(all('b')), renderBoard(all('w'))];
    t = g === RENDER_GEOMETRY || g.size === BOARD_IMAGE_SIZE ? renders : renders.map((r) => gridImage(r, g.spacing));
    templateCache.set(g.size, t);
  }
  return t;
}

export interface BoardReading {
  /** Row-major by sgfmill (row, col): index row * 9 + col; null = empty. */
  points: (Colour | null)[];
  /**
   * Per point, how clearly the nearest template won: (d2 - d1) / (d2 + d1) of the two smallest
   * squared distances, in [0, 1]. Near 0 means the cell looks like neither state.
   */
  confidence: Float32Array;
}

/** Classifies every intersection of an RGB board image (256 render or grid image). */
export function readBoard(img: RasterImage): BoardReading {
  if (img.channels !== 3) throw new RangeError(`readBoard: expected RGB, got ${img.channels} channels`);
  const g = geometryOf(img);
  const tpl = templates(g);
  const points: (Colour | null)[] = [];
  const confidence = new Float32Array(BOARD_SIZE * BOARD_SIZE);
  for (let row = 0; row < BOARD_SIZE; row++) {
    for (let col = 0; col < BOARD_SIZE; col++) {
      const [x0, x1, y0, y1] = cellRect(g, row, col);
      const d = tpl.map((t) => {
        let s = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const o = (y * g.size + x) * 3;
            for (let c = 0; c < 3; c++) s += (img.data[o + c]! - t.data[o + c]!) ** 2;
          }
        }
        return s;
      });
      const order = [0, 1, 2].sort((a, b) => d[a]! - d[b]!);
      points.push(STATES[order[0]!]!);
      const [d1, d2] = [d[order[0]!]!, d[order[1]!]!];
      confidence[row * BOARD_SIZE + col] = d1 + d2 > 0 ? (d2 - d1) / (d2 + d1) : 0;
    }
  }
  return { points, confidence };
}

/** The board's points in readBoard's order. */
export function boardPoints(board: GoBoard): (Colour | null)[] {
  const out: (Colour | null)[] = [];
  for (let row = 0; row < BOARD_SIZE; row++) for (let col = 0; col < BOARD_SIZE; col++) out.push(board.get(row, col));
  return out;
}

export type MoveReading =
  | {
      ok: true;
      /** The new stone of the mover's colour; null = the board is unchanged (a pass). */
      move: Point | null;
      gtp: string;
      /** Stones that disappeared (the caller checks them against the captures the move makes). */
      removed: Point[];
    }
  | { ok: false; error: string; added: Point[]; removed: Point[] };

/**
 * The move that turned `before` into the image's board, for `mover`: exactly one new stone of the
 * mover's colour on an empty point (stones removed alongside are reported, not judged), or no change
 * at all (a pass). Anything else is an error that says what changed, never a guess.
 */
export function readMove(before: GoBoard, mover: Colour, after: BoardReading | RasterImage): MoveReading {
  const reading = 'points' in after ? after : readBoard(after);
  const prev = boardPoints(before);
  const added: Point[] = [];
  const removed: Point[] = [];
  const foreign: string[] = [];
  prev.forEach((was, i) => {
    const now = reading.points[i]!;
    if (was === now) return;
    const p = { row: Math.floor(i / BOARD_SIZE), col: i % BOARD_SIZE };
    if (was !== null && now !== null) foreign.push(`${gtpName(p.row, p.col)} (${was === 'b' ? 'black' : 'white'} became ${now === 'b' ? 'black' : 'white'})`);
    else if (was !== null) removed.push(p);
    else if (now === mover) added.push(p);
    else foreign.push(`${gtpName(p.row, p.col)} (the opponent's colour appeared)`);
  });
  const names = (ps: Point[]) => ps.map((p) => gtpName(p.row, p.col)).join(' ');
  if (foreign.length) return { ok: false, error: `several stones changed: ${foreign.join(', ')}`, added, removed };
  if (added.length > 1) return { ok: false, error: `several stones changed: ${added.length} new ${mover === 'b' ? 'black' : 'white'} stones (${names(added)})`, added, removed };
  if (added.length === 1) return { ok: true, move: added[0]!, gtp: gtpName(added[0]!.row, added[0]!.col), removed };
  if (removed.length) return { ok: false, error: `no new stone, but ${removed.length} stone(s) vanished (${names(removed)})`, added, removed };
  return { ok: true, move: null, gtp: 'pass', removed };
}
