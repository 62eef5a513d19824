/**
 * Board images as upstream's battle loop makes them (spec 2.1, 2.2; golden/go/README "Rendering: an
 * exact model").
 *
 * `render_next_state` draws the board with matplotlib Agg and saves it at exactly 256x256, so its
 * bilinear resize is a copy. Every stone is the same anti-aliased marker stamped at an integer
 * offset, and its 29x29 window around the intersection never overlaps a neighbour's, so the image is
 * upstream's `empty_board.png` with one 29x29 stamp per stone pasted centred on its intersection and
 * clipped to the canvas. That reproduces all 30 golden renders bit for bit (captured stones are just
 * absent: upstream removes their artists). The empty board and the stamps are embedded (assets.ts).
 *
 * Model input: later turns `clamp(p/127 - 1, -1, 1)` (float64, then float32; 255 -> 1.0079 -> 1);
 * turn 0 reads empty_board.png through the dataset's Normalize: `(float32(p/255) - 0.5) * 2` in
 * float32. Model output / battle-loop view: `uint8(clamp((x + 1) * 127, 0, 255))` in float32 with
 * truncation, which is not the inverse (255 -> 254, several values p -> p-1).
 */
import { EMPTY_BOARD_PNG_BASE64, STAMP_BLACK_PNG_BASE64, STAMP_WHITE_PNG_BASE64 } from './assets.js';
import { type Colour, type Stone, BOARD_SIZE, GoBoard, replayMoves } from './board.js';
import { type RasterImage, decodePng, toRgb } from './png.js';

export const BOARD_IMAGE_SIZE = 256;
/** Pixel of the first line (A / row 9) and the spacing of the lines. */
export const GRID_ORIGIN = 12;
export const GRID_SPACING = 29;
export const STAMP_SIZE = 29;

/** Intersection pixel (x right, y down) of sgfmill (row, col); row 0 is the bottom line. */
export function intersectionPixel(row: number, col: number): { x: number; y: number } {
  return { x: GRID_ORIGIN + GRID_SPACING * col, y: GRID_ORIGIN + GRID_SPACING * (BOARD_SIZE - 1 - row) };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64Bytes(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of clean) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

let assets: { board: RasterImage; stamps: Record<Colour, RasterImage> } | undefined;

function loadAssets(): NonNullable<typeof assets> {
  assets ??= {
    board: toRgb(decodePng(base64Bytes(EMPTY_BOARD_PNG_BASE64))),
    stamps: { b: decodePng(base64Bytes(STAMP_BLACK_PNG_BASE64)), w: decodePng(base64Bytes(STAMP_WHITE_PNG_BASE64)) },
  };
  return assets;
}

function copyImage(img: RasterImage): RasterImage {
  return { ...img, data: img.data.slice() };
}

/** Upstream's empty_board.png as 256x256 RGB (a fresh copy): the turn-0 input and the render of no stones. */
export function emptyBoardImage(): RasterImage {
  return copyImage(loadAssets().board);
}

/** The 29x29 RGB stamp of one stone over the grid cross (a fresh copy). */
export function stoneStamp(colour: Colour): RasterImage {
  return copyImage(loadAssets().stamps[colour]);
}

/** 256x256 RGB image of the stones on `position` (a GoBoard or a list of stones). */
export function renderBoard(position: GoBoard | Iterable<Stone>): RasterImage {
  const stones = position instanceof GoBoard ? position.stones() : position;
  const img = emptyBoardImage();
  const S = BOARD_IMAGE_SIZE;
  const half = (STAMP_SIZE - 1) / 2;
  for (const { colour, row, col } of stones) {
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row >= BOARD_SIZE || col >= BOARD_SIZE) throw new RangeError(`renderBoard: stone at row ${row}, col ${col} is off the 9x9 board`);
    const stamp = loadAssets().stamps[colour];
    if (!stamp) throw new RangeError(`renderBoard: colour ${String(colour)} (expected 'b' or 'w')`);
    const { x: cx, y: cy } = intersectionPixel(row, col);
    for (let sy = 0; sy < STAMP_SIZE; sy++) {
      const y = cy - half + sy;
      if (y < 0 || y >= S) continue;
      for (let sx = 0; sx < STAMP_SIZE; sx++) {
        const x = cx - half + sx;
        if (x < 0 || x >= S) continue;
        const d = (y * S + x) * 3;
        const s = (sy * STAMP_SIZE + sx) * 3;
        img.data[d] = stamp.data[s]!;
        img.data[d + 1] = stamp.data[s + 1]!;
        img.data[d + 2] = stamp.data[s + 2]!;
      }
    }
  }
  return img;
}

/** Replays `moves` on a fresh 9x9 board (captures and suicide as upstream) and renders the result. */
export function renderMoves(moves: readonly Stone[]): RasterImage {
  return renderBoard(replayMoves(moves).board);
}

export type NormalizeMode = 'render' | 'first-turn';

function checkRgb(fn: string, img: RasterImage): void {
  if (img.channels !== 3 || img.data.length !== img.width * img.height * 3) throw new RangeError(`${fn}: expected an RGB image (channels 3, ${img.width}x${img.height}x3 bytes), got channels ${img.channels}, ${img.data.length} bytes`);
}

/** uint8 -> model input value for one pixel (see the header for the two upstream formulas). */
export function normalizeValue(p: number, mode: NormalizeMode = 'render'): number {
  if (mode === 'first-turn') return Math.fround(Math.fround(Math.fround(p / 255) - 0.5) * 2);
  return Math.fround(Math.min(1, Math.max(-1, p / 127 - 1)));
}

/** Model output value -> uint8, as `torch.clamp((x + 1) * 127, 0, 255)` (float32) then `astype(uint8)`. */
export function denormalizeValue(x: number): number {
  const v = Math.fround(Math.fround(Math.fround(x) + 1) * 127);
  // NaN stays NaN through torch.clamp; numpy's float->uint8 cast of NaN is platform-defined (0 on x86).
  if (Number.isNaN(v)) return 0;
  return Math.trunc(Math.min(255, Math.max(0, v)));
}

/** RGB HWC uint8 -> float32 NCHW [1, 3, H, W] model input. */
export function normalizeImage(img: RasterImage, mode: NormalizeMode = 'render'): Float32Array {
  checkRgb('normalizeImage', img);
  const lut = new Float32Array(256);
  for (let p = 0; p < 256; p++) lut[p] = normalizeValue(p, mode);
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let i = 0; i < hw; i++) {
    out[i] = lut[img.data[i * 3]!]!;
    out[hw + i] = lut[img.data[i * 3 + 1]!]!;
    out[2 * hw + i] = lut[img.data[i * 3 + 2]!]!;
  }
  return out;
}

/** Float NCHW [1, 3, H, W] (or CHW) -> RGB HWC uint8, with upstream's truncating de-normalisation. */
export function denormalizeImage(x: Float32Array | Float64Array, width = BOARD_IMAGE_SIZE, height = BOARD_IMAGE_SIZE): RasterImage {
  const hw = width * height;
  if (x.length !== 3 * hw) throw new RangeError(`denormalizeImage: ${x.length} values, expected 3x${height}x${width} = ${3 * hw}`);
  const data = new Uint8Array(3 * hw);
  for (let i = 0; i < hw; i++) {
    for (let c = 0; c < 3; c++) data[i * 3 + c] = denormalizeValue(x[c * hw + i]!);
  }
  return { width, height, channels: 3, data };
}

/** The battle loop's view of its own input board: render -> normalise -> float32 -> de-normalise. */
export function battleView(img: RasterImage): RasterImage {
  return denormalizeImage(normalizeImage(img, 'render'), img.width, img.height);
}
