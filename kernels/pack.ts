/**
 * pack: the operand layouts of the register-tiled kernels, made on the GPU. Pure data movement,
 * so the tolerance is exact.
 *   packBlocks (wgsl/pack_blocks.wgsl): B [batch][K, n] (trans: [batch][n, K]) -> column blocks
 *     [batch][ceil(cols / r)][K][r] of columns nOff .. nOff + cols; columns past the last repeat it.
 *     The packed B of matmul_packed* (r = 16) and conv3d_causal's packed weight (n = Cout,
 *     K = Cin KT KH KW, r = output channels per invocation).
 *   transposePadded (wgsl/pack_transposed.wgsl): A [batch][M, K] (trans: [batch][K, M]) -> A^T
 *     [batch][K][MP], MP = M rounded up to 4, rows past M zero: matmul_packed*'s and vq_lookup_sg's A.
 * Both take bindings (a tensor or a buffer range), so a caller can pack a weight over the binding
 * limit in chunks.
 */
import { expectInt } from './core/check.js';
import { type Binding, type GpuContext, foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { f16Round, halfToFloat } from './core/ref_math.js';
import type { Tensor } from './core/tensor.js';
import { pack_blocks as blocksShader, pack_blocks_f16 as blocksF16Shader, pack_blocks_h16 as blocksH16Shader, pack_transposed as transposedShader } from './wgsl.gen.js';

const WG = 256;

export interface PackBlocksShape {
  batch: number;
  /** Columns of the bound source (its row length, or its row count when trans). */
  n: number;
  k: number;
  /** Block width, a multiple of 4. */
  r: number;
  trans: boolean;
  /** First column packed (default 0) and how many (default n - nOff). */
  nOff?: number;
  cols?: number;
  /** Store the blocks as f16 pairs in u32s (pack_blocks_f16; `out` then holds half the bytes). */
  f16?: boolean;
  /** The source holds f16 pairs in u32s (an f16 checkpoint's bits): moved as they are (pack_blocks_h16; needs f16). */
  srcF16?: boolean;
}

function blocksShape(p: PackBlocksShape): Required<PackBlocksShape> {
  const K = 'pack_blocks';
  for (const a of ['batch', 'n', 'k', 'r'] as const) expectInt(K, a, p[a], 1);
  if (p.r % 4 !== 0) throw new KernelArgError(K, 'r', `block width ${p.r} is not a multiple of 4`);
  const nOff = expectInt(K, 'nOff', p.nOff ?? 0);
  const cols = expectInt(K, 'cols', p.cols ?? p.n - nOff, 1);
  if (nOff + cols > p.n) throw new KernelArgError(K, 'cols', `columns ${nOff}..${nOff + cols - 1} of a source with ${p.n}`);
  if (p.srcF16 && !p.f16) throw new KernelArgError(K, 'srcF16', 'an f16 source packs into f16 blocks only (f16: true)');
  return { ...p, nOff, cols, f16: p.f16 ?? false, srcF16: p.srcF16 ?? false };
}

const floats = (s: Required<PackBlocksShape>) => s.batch * Math.ceil(s.cols / s.r) * s.k * s.r;

/** Floats packBlocks writes: batch * ceil(cols / r) * k * r. */
export function packedBlocksSize(p: PackBlocksShape): number {
  return floats(blocksShape(p));
}

/** Packs `src` into `out` (packedBlocksSize elements: f32, or f16 pairs in u32s). */
export function packBlocks(ctx: GpuContext, src: Binding, out: Binding, p: PackBlocksShape): void {
  const s = blocksShape(p);
  const vec4s = floats(s) / 4;
  ctx.dispatch(s.srcF16 ? blocksH16Shader : s.f16 ? blocksF16Shader : blocksShader, {
    overrides: { WG, R: s.r, TRANS: Number(s.trans) },
    bindings: { src, out },
    params: { batch: s.batch, n: s.n, k: s.k, cols: s.cols, n_off: s.nOff },
    workgroups: foldGrid(Math.ceil(vec4s / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** CPU reference of packBlocks: the values the readers see (f16: rounded to the nearest half; srcF16: src holds half bits). */
export function packBlocksRef(src: ArrayLike<number>, p: PackBlocksShape): Float32Array {
  const s = blocksShape(p);
  const nblk = Math.ceil(s.cols / s.r);
  const out = new Float32Array(floats(s));
  for (let z = 0; z < s.batch; z++) {
    for (let b = 0; b < nblk; b++) {
      for (let k = 0; k < s.k; k++) {
        for (let i = 0; i < s.r; i++) {
          const c = s.nOff + Math.min(b * s.r + i, s.cols - 1);
          const v = src[z * s.n * s.k + (s.trans ? c * s.k + k : k * s.n + c)]!;
          out[((z * nblk + b) * s.k + k) * s.r + i] = s.srcF16 ? halfToFloat(v) : s.f16 ? f16Round(v) : v;
        }
      }
    }
  }
  return out;
}

/** M rounded up to a multiple of 4: the row count of transposePadded's output. */
export const paddedRows = (M: number) => Math.ceil(M / 4) * 4;

/** A [batch][M, K] (trans: [batch][K, M]) -> zero-padded A^T [batch][K][paddedRows(M)], a new tensor. */
export function transposePadded(a: Tensor, trans: boolean, batch: number, M: number, K: number): Tensor<'f32'> {
  const k = 'pack_transposed';
  for (const [name, v] of Object.entries({ batch, M, K })) expectInt(k, name, v, 1);
  if (a.dtype !== 'f32') throw new KernelArgError(k, 'a', `dtype ${a.dtype}, expected f32`);
  if (a.size < batch * M * K) throw new KernelArgError(k, 'a', `${a.size} elements, expected at least ${batch} x ${M} x ${K}`);
  const ctx = a.ctx;
  const out = ctx.tensor([batch * K * paddedRows(M)], 'f32', 'pack_transposed.out');
  const blocks = batch * Math.ceil(K / 4) * (paddedRows(M) / 4);
  ctx.dispatch(transposedShader, {
    overrides: { WG, TRANS: Number(trans) },
    bindings: { src: a, out },
    params: { batch, m: M, k: K },
    workgroups: foldGrid(Math.ceil(blocks / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

/** CPU reference of transposePadded. */
export function transposePaddedRef(a: ArrayLike<number>, trans: boolean, batch: number, M: number, K: number): Float32Array {
  const MP = paddedRows(M);
  const out = new Float32Array(batch * K * MP);
  for (let z = 0; z < batch; z++) {
    for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) out[(z * K + k) * MP + m] = a[trans ? (z * K + k) * M + m : (z * M + m) * K + k]!;
  }
  return out;
}
