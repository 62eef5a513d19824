/**
 * Reading the model's move off its generated board image: upstream's
 * `locate_new_piece_using_morphology(img0, img1)` (spec 2.5), reproduced operation for operation
 * on integers, including the OpenCV 4.x routines it calls:
 *
 *   d = absdiff(img1, img0)                               per channel, uint8
 *   g = cvtColor(d, COLOR_BGR2GRAY) on RGB data           (3735 d0 + 19235 d1 + 9798 d2 + 16384) >> 15
 *   g[g < 90] = 0; g[g > 220] = 0; threshold(g, 10, 255)  -> {0, 255}
 *   erode(2x2 ones), dilate(2x2 ones, iterations 2)      anchor (1,1): window {y-1,y} x {x-1,x};
 *                                                         pixels outside the image are neutral
 *   findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)      Suzuki-Abe border following as in
 *                                                         OpenCV's cvFindNextContour/icvFetchContour
 *   max(contours, key=contourArea)                        first of equal areas (Python max)
 *   M = moments(contour); cx = int(m10/m00), cy = int(m01/m00)
 *   grid = round((c - 12) / 29)                           (c - 12)/29 is never x.5: ties cannot occur
 *
 * The battle loop then plays col = grid_x, row = 8 - grid_y. Upstream's exceptions become typed
 * results: 'no-contour' (ValueError from max() of nothing: no change, a colour flip, noise),
 * 'zero-area' (ZeroDivisionError when m00 = 0) and 'off-board' (only possible for images larger
 * than 256 px; the board's play() would raise IndexError). Browser-safe.
 */
import { BOARD_SIZE, gtpName } from './board.js';
import type { RasterImage } from './png.js';
import { GRID_ORIGIN, GRID_SPACING } from './render.js';

/** A single-channel 8-bit image, row-major. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export type ContourPoint = [x: number, y: number];

export interface ContourMoments {
  m00: number;
  m10: number;
  m01: number;
}

export interface LocateDebug {
  grayNonzeroAfterBand: number;
  threshCount: number;
  erodeCount: number;
  dilationCount: number;
  /** Contours in findContours order. */
  contours: ContourPoint[][];
  contourAreas: number[];
  thresh: Mask;
  dilation: Mask;
  chosenIndex: number | null;
  moments: ContourMoments | null;
}

export type LocateFailure = 'no-contour' | 'zero-area' | 'off-board';

export type LocateResult =
  | { ok: true; gridX: number; gridY: number; row: number; col: number; gtp: string; cx: number; cy: number; debug?: LocateDebug }
  | { ok: false; error: 'no-contour' | 'zero-area'; message: string; debug?: LocateDebug }
  | { ok: false; error: 'off-board'; message: string; gridX: number; gridY: number; row: number; col: number; cx: number; cy: number; debug?: LocateDebug };

function checkPair(img0: RasterImage, img1: RasterImage): void {
  for (const [name, img] of [['img0', img0], ['img1', img1]] as const) {
    if (img.channels !== 3 || img.data.length !== img.width * img.height * 3) throw new RangeError(`locateNewStone: ${name} must be HxWx3 RGB uint8 (channels ${img.channels}, ${img.data.length} bytes for ${img.width}x${img.height})`);
  }
  // cv2.absdiff raises on a size mismatch; upstream's try/except would turn it into a retry.
  if (img0.width !== img1.width || img0.height !== img1.height) throw new RangeError(`locateNewStone: img0 is ${img0.width}x${img0.height}, img1 is ${img1.width}x${img1.height}`);
}

/**
 * absdiff then OpenCV's fixed-point BGR2GRAY (coefficients round(0.114, 0.587, 0.299 * 2^15)),
 * fed RGB as upstream does: channel 0 (R) gets the blue weight.
 */
export function diffGray(img0: RasterImage, img1: RasterImage): Mask {
  checkPair(img0, img1);
  const n = img0.width * img0.height;
  const g = new Uint8Array(n);
  const a = img0.data;
  const b = img1.data;
  for (let i = 0; i < n; i++) {
    const d0 = Math.abs(b[3 * i]! - a[3 * i]!);
    const d1 = Math.abs(b[3 * i + 1]! - a[3 * i + 1]!);
    const d2 = Math.abs(b[3 * i + 2]! - a[3 * i + 2]!);
    g[i] = (3735 * d0 + 19235 * d1 + 9798 * d2 + 16384) >> 15;
  }
  return { width: img0.width, height: img0.height, data: g };
}

/** `g[g<90]=0; g[g>220]=0; threshold(g, 10, 255, BINARY)`. */
export function bandThreshold(gray: Mask): Mask {
  const data = gray.data.map((v) => (v < 90 || v > 220 ? 0 : v > 10 ? 255 : 0));
  return { width: gray.width, height: gray.height, data };
}

/**
 * cv2.erode / cv2.dilate with a 2x2 ones kernel at OpenCV's default anchor (1,1): the output at
 * (x, y) is the min / max over {x-1, x} x {y-1, y}, pixels outside the image being neutral (OpenCV's
 * default border value). OpenCV runs iterations = k as one (k+1)x(k+1) rectangle with anchor (k,k),
 * which is the same as k passes here.
 */
export function morph2x2(mask: Mask, op: 'erode' | 'dilate', iterations = 1): Mask {
  const { width: w, height: h } = mask;
  let src = mask.data;
  const pick = op === 'erode' ? Math.min : Math.max;
  for (let it = 0; it < iterations; it++) {
    const dst = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = src[y * w + x]!;
        if (x > 0) v = pick(v, src[y * w + x - 1]!);
        if (y > 0) {
          v = pick(v, src[(y - 1) * w + x]!);
          if (x > 0) v = pick(v, src[(y - 1) * w + x - 1]!);
        }
        dst[y * w + x] = v;
      }
    }
    src = dst;
  }
  return { width: w, height: h, data: src };
}

// Chain-code directions of OpenCV (0 = +x, counter-clockwise on screen with y down).
const CODE_DX = [1, 1, 0, -1, -1, -1, 0, 1];
const CODE_DY = [0, -1, -1, -1, 0, 1, 1, 1];

/**
 * cv2.findContours(mask, RETR_EXTERNAL, CHAIN_APPROX_SIMPLE): outer borders of the 8-connected
 * foreground components, not those inside a hole of another component, in OpenCV's output order
 * (the reverse of discovery order: each new contour is inserted at the head of the frame's child
 * list). Points are pixel coordinates; runs in one direction are reduced to their end points.
 *
 * This follows OpenCV 4.x's contours.cpp for RETR_EXTERNAL: the image gets a 1-px zero frame
 * (findContours' copyMakeBorder), pixels become 0/1, the raster scan finds 0 -> 1 transitions, and
 * border following marks pixels 2 or, where the pixel's right neighbour was tested as background,
 * -126 (nbd | -128 as schar). An outer border whose last marked pixel to the left on the row is
 * positive lies inside another component's hole and is skipped.
 */
export function findExternalContours(mask: Mask): ContourPoint[][] {
  const { width: w, height: h } = mask;
  const W = w + 2;
  const img = new Int8Array(W * (h + 2));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img[(y + 1) * W + x + 1] = mask.data[y * w + x] ? 1 : 0;
  const deltas = [1, -W + 1, -W, -W - 1, -1, W - 1, W, W + 1];
  const delta = (s: number) => deltas[s & 7]!;
  const found: ContourPoint[][] = [];

  /** icvFetchContour for an outer border starting at img[i0], pixel (px, py), CHAIN_APPROX_SIMPLE. */
  const fetch = (i0: number, px: number, py: number): ContourPoint[] => {
    const pts: ContourPoint[] = [];
    let s = 4;
    let i1 = i0;
    do {
      s = (s - 1) & 7;
      i1 = i0 + delta(s);
    } while (img[i1] === 0 && s !== 4);
    if (s === 4) {
      // Single-pixel component (the left neighbour, direction 4, is background for an outer border).
      img[i0] = -126;
      pts.push([px, py]);
      return pts;
    }
    let i3 = i0;
    let prevS = s ^ 4;
    for (;;) {
      const sEnd = s;
      let i4 = i3;
      while (s < 15) {
        i4 = i3 + delta(++s);
        if (img[i4] !== 0) break;
      }
      s &= 7;
      if (((s - 1) >>> 0) < sEnd) img[i3] = -126;
      else if (img[i3] === 1) img[i3] = 2;
      if (s !== prevS) {
        pts.push([px, py]);
        prevS = s;
      }
      px += CODE_DX[s]!;
      py += CODE_DY[s]!;
      if (i4 === i0 && i3 === i1) break;
      i3 = i4;
      s = (s + 4) & 7;
    }
    return pts;
  };

  for (let y = 1; y <= h; y++) {
    let prev = 0;
    let lnbd = 0;
    for (let x = 1; x <= w; x++) {
      const i = y * W + x;
      const p = img[i]!;
      if (p === prev) continue;
      let isHole = false;
      let skip = false;
      if (!(prev === 0 && p === 1)) {
        if (p !== 0 || prev < 1) skip = true;
        else {
          if (prev & -2) lnbd = x - 1;
          isHole = true;
        }
      }
      // RETR_EXTERNAL: holes are never traced, nor outer borders inside a traced component.
      if (!skip && (isHole || img[y * W + lnbd]! > 0)) skip = true;
      if (skip) {
        prev = p;
        if (prev & -2) lnbd = x;
        continue;
      }
      lnbd = x;
      found.push(fetch(i, x - 1, y - 1));
      prev = img[i]!;
    }
  }
  return found.reverse();
}

/** cv2.contourArea(contour): |shoelace| over the vertices, accumulated in double as OpenCV does. */
export function contourArea(pts: readonly ContourPoint[]): number {
  if (pts.length === 0) return 0;
  let a = 0;
  let [px, py] = pts[pts.length - 1]!;
  for (const [x, y] of pts) {
    a += px * y - py * x;
    px = x;
    py = y;
  }
  return Math.abs(a * 0.5);
}

/**
 * m00, m10, m01 of cv2.moments(contour) (Green's theorem over the polygon; OpenCV's contourMoments).
 * The sums are exact integers in double; the final scaling multiplies by the same rounded constants
 * (0.5, 1/6 as a double) so truncating m10/m00 gives upstream's cx bit for bit. m00 = 0 when
 * |a00| <= FLT_EPSILON (degenerate polygon), where OpenCV leaves every moment 0.
 */
export function contourMoments(pts: readonly ContourPoint[]): ContourMoments {
  let a00 = 0;
  let a10 = 0;
  let a01 = 0;
  if (pts.length === 0) return { m00: 0, m10: 0, m01: 0 };
  let [xp, yp] = pts[pts.length - 1]!;
  for (const [x, y] of pts) {
    const dxy = xp * y - x * yp;
    a00 += dxy;
    a10 += dxy * (xp + x);
    a01 += dxy * (yp + y);
    xp = x;
    yp = y;
  }
  if (!(Math.abs(a00) > 1.1920928955078125e-7)) return { m00: 0, m10: 0, m01: 0 };
  const h = a00 > 0 ? 0.5 : -0.5;
  const s = a00 > 0 ? 0.16666666666666666 : -0.16666666666666666;
  return { m00: a00 * h, m10: a10 * s, m01: a01 * s };
}

/** Python's round() (half to even) for the grid index. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

function countNonZero(m: Mask): number {
  let n = 0;
  for (const v of m.data) if (v) n++;
  return n;
}

export interface LocateOptions {
  /** Attach the intermediate masks, contours and moments (costs two mask copies). */
  debug?: boolean;
}

/**
 * upstream locate_new_piece_using_morphology + the battle loop's grid -> move step.
 * `img0` is the de-normalised input board (see battleView), `img1` the generated image; both
 * HxWx3 RGB uint8 of the same size.
 */
export function locateNewStone(img0: RasterImage, img1: RasterImage, opts: LocateOptions = {}): LocateResult {
  const gray = diffGray(img0, img1);
  const thresh = bandThreshold(gray);
  const eroded = morph2x2(thresh, 'erode', 1);
  const dilation = morph2x2(eroded, 'dilate', 2);
  const contours = findExternalContours(dilation);
  const areas = contours.map(contourArea);
  let chosen: number | null = null;
  areas.forEach((a, i) => {
    if (chosen === null || a > areas[chosen]!) chosen = i;
  });
  const moments = chosen === null ? null : contourMoments(contours[chosen]!);
  const debug: LocateDebug | undefined = opts.debug
    ? {
        grayNonzeroAfterBand: gray.data.reduce((n, v) => n + (v >= 90 && v <= 220 ? 1 : 0), 0),
        threshCount: countNonZero(thresh),
        erodeCount: countNonZero(eroded),
        dilationCount: countNonZero(dilation),
        contours,
        contourAreas: areas,
        thresh,
        dilation,
        chosenIndex: chosen,
        moments,
      }
    : undefined;
  const withDebug = <T extends object>(r: T): T => (debug ? { ...r, debug } : r);
  if (moments === null) return withDebug({ ok: false as const, error: 'no-contour' as const, message: 'max() arg is an empty sequence' });
  if (moments.m00 === 0) return withDebug({ ok: false as const, error: 'zero-area' as const, message: 'float division by zero' });
  const cx = Math.trunc(moments.m10 / moments.m00);
  const cy = Math.trunc(moments.m01 / moments.m00);
  const gridX = roundHalfEven((cx - GRID_ORIGIN) / GRID_SPACING);
  const gridY = roundHalfEven((cy - GRID_ORIGIN) / GRID_SPACING);
  const col = gridX;
  const row = BOARD_SIZE - 1 - gridY;
  if (col < 0 || col >= BOARD_SIZE || row < 0 || row >= BOARD_SIZE) {
    return withDebug({ ok: false as const, error: 'off-board' as const, message: `grid (${gridX}, ${gridY}) is off the board`, gridX, gridY, row, col, cx, cy });
  }
  return withDebug({ ok: true as const, gridX, gridY, row, col, gtp: gtpName(row, col), cx, cy });
}
