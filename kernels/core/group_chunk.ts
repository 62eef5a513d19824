/**
 * GroupNorm geometry and chunking shared by group_norm and norm_backward (and conv2d's fused input
 * norm): where a normalisation set's rows lie, and the per-chunk uniforms and grid of the passes
 * over them (wgsl/lib/group_chunk.wgsl).
 */
import { foldGrid, type GpuContext } from './context.js';
import { KernelArgError } from './errors.js';
import type { Tensor } from './tensor.js';

/** Elements per statistics/apply workgroup: 64 per stats invocation, 16 per apply invocation. */
export const GROUP_CHUNK = 4096;

/** Where the sets and rows of a GroupNorm lie in memory (see wgsl/group_norm_stats.wgsl). */
export interface GroupNormGeometry {
  len: number;
  rows: number;
  row_stride: number;
  frames: number;
  frame_stride: number;
  groups: number;
  batch_stride: number;
  batch: number;
}

/** The affine step: 0 none, 1 weight/bias per channel (or per frame and channel), 2 AdaGN's (1 + scale), shift per (b, c). */
export interface GroupNormAffine {
  mode: 0 | 1 | 2;
  weight?: Tensor;
  bias?: Tensor;
  aff_b: number;
  aff_t: number;
}

/** Geometry of a standard GroupNorm over [B, C, ...spatial] (throws when G does not divide C). */
export function groupGeometry(k: string, shape: readonly number[], G: number): GroupNormGeometry {
  const [B, C] = shape as [number, number];
  if (!Number.isInteger(G) || G < 1 || C % G) throw new KernelArgError(k, 'groups', `${G} groups do not divide C = ${C} (x [${shape.join(',')}])`);
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  return { len: S, rows: C / G, row_stride: S, frames: 1, frame_stride: 0, groups: G, batch_stride: C * S, batch: B };
}

/** Geometry of the frame-wise GroupNorm over [B, C, T, H, W]: per frame, G groups. */
export function framewiseGeometry(k: string, shape: readonly number[], G: number): GroupNormGeometry {
  const [B, C, T, H, W] = shape as [number, number, number, number, number];
  if (!Number.isInteger(G) || G < 1 || C % G) throw new KernelArgError(k, 'groups', `${G} groups per frame do not divide C = ${C}`);
  return { len: H * W, rows: C / G, row_stride: T * H * W, frames: T, frame_stride: H * W, groups: G, batch_stride: C * T * H * W, batch: B };
}

/** The sets and the chunked-pass uniforms shared by the statistics, apply and backward passes. */
export function chunking(g: GroupNormGeometry) {
  const segs = Math.ceil(g.len / GROUP_CHUNK);
  const sets = g.batch * g.frames * g.groups;
  const params = { len: g.len, rows: g.rows, row_stride: g.row_stride, frames: g.frames, frame_stride: g.frame_stride, groups: g.groups, batch_stride: g.batch_stride, chunk: GROUP_CHUNK, segs, n_wg: sets * g.rows * segs };
  return { sets, params };
}

/** LANE_CHUNKS and the grid of a pass over `n` chunks of rows of `len` elements (lib/group_chunk.wgsl). */
export function chunkGrid(ctx: GpuContext, n: number, len: number, wg: number): { LANE_CHUNKS: number; workgroups: ReturnType<typeof foldGrid> } {
  const lane = len <= ctx.tuning.normLaneLen;
  return { LANE_CHUNKS: lane ? 1 : 0, workgroups: foldGrid(lane ? Math.ceil(n / wg) : n, ctx.limits.maxComputeWorkgroupsPerDimension) };
}
