import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RasterImage, decodePng, toRgb } from '../../src/go/png.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

/** ../shared/golden/go (see its README). */
export const GO_GOLDEN = join(GOLDEN_DIR, 'go');

export function goFile(rel: string): Buffer {
  return readFileSync(join(GO_GOLDEN, rel));
}

export function goJson<T>(rel: string): T {
  return JSON.parse(goFile(rel).toString('utf8')) as T;
}

const rgbCache = new Map<string, RasterImage>();

/** A golden PNG as RGB, the way the generator read it (PIL convert('RGB')); cached, do not mutate. */
export function goRgb(rel: string): RasterImage {
  let img = rgbCache.get(rel);
  if (!img) rgbCache.set(rel, (img = toRgb(decodePng(goFile(rel)))));
  return img;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface GoldenMove {
  colour: 'b' | 'w';
  row: number;
  col: number;
  gtp: string;
  captures: { row: number; col: number; gtp: string }[];
}

export interface GoldenStone {
  colour: 'b' | 'w';
  row: number;
  col: number;
  gtp: string;
}

export interface RenderJson {
  stamp_model: { renders_reproduced_exactly: string };
  battle_denorm_lut: { lut: number[] };
  images: { file: string; name: string; sha256_rgb: string; sha256_denorm_rgb: string; moves: GoldenMove[]; stones_on_board: GoldenStone[]; stamp_model_exact: boolean }[];
}

export interface ExtractPair {
  id: number;
  category: string;
  description: string;
  before: string;
  after: string;
  before_kind: 'denorm_render' | 'raw_render';
  perturbation: { kind: string };
  position_moves: GoldenMove[];
  new_moves: GoldenMove[];
  board_before: GoldenStone[];
  result: { ok: true; grid_x: number; grid_y: number } | { ok: false; exception: string; message: string };
  battle: { row?: number; col?: number; gtp?: string; accepted: boolean; captures_if_played?: [number, number][]; retry_reason?: string };
  debug: {
    gray_nonzero_after_band: number;
    thresh_count: number;
    erode_count: number;
    dilation_count: number;
    n_contours: number;
    contour_areas: number[];
    contour_first_points_xy: [number, number][];
    chosen_index?: number;
    chosen_contour_xy?: [number, number][];
    m00?: number;
    m10?: number;
    m01?: number;
    cx?: number;
    cy?: number;
    dilation_png: string;
    thresh_png: string;
  };
}
