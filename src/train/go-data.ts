/**
 * Training images of Go boards: seeded random games (uniformly random legal-looking moves on the
 * upstream board rules) rendered bit-exactly (src/go/render.ts) and area-downscaled to the model's
 * image size, normalized as the battle loop does (p/127 - 1, clamped), NCHW float32.
 */
import { BOARD_IMAGE_SIZE, type Colour, GoBoard, type RasterImage, normalizeValue, renderBoard } from '../go/index.js';
import { SeededRng } from '../graph/rng.js';

/** Box-filter downscale of a 256x256 RGB image by an integer factor (256 / size). */
export function downscaleImage(img: RasterImage, size: number): RasterImage {
  const f = img.width / size;
  if (!Number.isInteger(f) || img.height / size !== f || img.channels !== 3) throw new RangeError(`downscaleImage: ${img.width}x${img.height} RGB does not divide into ${size}x${size}`);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += img.data[((y * f + dy) * img.width + x * f + dx) * 3 + c]!;
        data[(y * size + x) * 3 + c] = Math.round(s / (f * f));
      }
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** A board after `moves` random moves (alternating colours, occupied points skipped). */
export function randomPosition(rng: SeededRng, moves: number): GoBoard {
  const board = new GoBoard();
  let colour: Colour = 'b';
  for (let m = 0; m < moves; m++) {
    const empty: [number, number][] = [];
    for (let r = 0; r < board.side; r++) for (let c = 0; c < board.side; c++) if (board.get(r, c) === null) empty.push([r, c]);
    if (!empty.length) break;
    const [r, c] = empty[rng.int(empty.length)]!;
    board.play(r, c, colour);
    colour = colour === 'b' ? 'w' : 'b';
  }
  return board;
}

/** `count` boards with 0..maxMoves random moves, rendered at size x size: float32 [count, 3, size, size]. */
export function goBoardImages(count: number, size: number, seed = 0, maxMoves = 40): { images: Float32Array; boards: GoBoard[] } {
  if (BOARD_IMAGE_SIZE % size) throw new RangeError(`goBoardImages: size ${size} must divide ${BOARD_IMAGE_SIZE}`);
  const rng = new SeededRng(seed);
  const hw = size * size;
  const images = new Float32Array(count * 3 * hw);
  const boards: GoBoard[] = [];
  for (let i = 0; i < count; i++) {
    const board = randomPosition(rng, rng.int(maxMoves + 1));
    boards.push(board);
    const img = downscaleImage(renderBoard(board), size);
    for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) images[(i * 3 + c) * hw + p] = normalizeValue(img.data[p * 3 + c]!);
  }
  return { images, boards };
}
