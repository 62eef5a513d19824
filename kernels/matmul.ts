/**
 * matmul: out = act(op(a) @ op(b) + bias) + residual, batched (wgsl/matmul_packed_sg.wgsl,
 * wgsl/matmul_packed.wgsl, wgsl/matmul_packed_wg.wgsl, wgsl/matmul.wgsl, wgsl/matmul_vec4.wgsl),
 * and the packed weights' M = 1 path matmul_gemv (wgsl/matmul_gemv.wgsl).
 *
 * Layouts (row-major f32): a [..., M, K] (transA: [..., K, M]); b [..., K, N] (transB:
 * [..., N, K]); bias [N]; residual and out [..., M, N]. Batch dims broadcast when one side has
 * batch count 1 or no batch dims; otherwise both batch shapes must be equal. `linear(x, w)` is
 * x [..., K] @ w^T with w [N, K] (PyTorch layout), flattened to M = size / K rows.
 * The fast GEMM is the packed one: B from a blocked copy (16-column blocks), A transposed and
 * zero-padded to whole vec4s per call so lanes load contiguous floats, 128 scalar accumulators
 * per invocation. matmul_packed_sg (4 rows x 32 columns per lane, each step's B loaded once per
 * subgroup and shared with subgroupBroadcast, results stored as vec4s: N % 4 == 0) where the
 * adapter has subgroups of >= 8, else
 * matmul_packed (conv3d_causal's 8 x 16 micro-kernel), or on GPUs (the tuning table's
 * workgroupGemm) matmul_packed_wg (A and B staged in workgroup memory, 4 x 4 outputs an
 * invocation, 32 x 32 a workgroup: the WebGPU GEMMs' shape; not yet measured on a GPU). Used for a
 * PackedMatmulWeight (packed once, e.g. by the model while loading,
 * PackedMatmulWeight.linearFromHost) at any M, and for a plain B from PACK_PER_CALL_MIN_M rows on,
 * packing it per call (one read + write of B, cheap next to the product). Below that, two kernels
 * picked by chooseMatmulTiles: matmul_vec4 (B's contiguous dim a multiple of 4; uniform A loads,
 * vec4 B loads) and the any-shape matmul; both give each invocation 4x4 outputs in 16 f32
 * accumulators. One row times a PackedMatmulWeight (a decode step) is the GEMV: invocations own 8
 * packed columns each (one 16-byte weight load per k in f16) and stream the weight once; x is
 * copied into the context's uniform staging buffer (ctx.stageUniform) and read as a uniform where
 * its K / 4 vec4s fit 64 KiB (K <= 16384; X_UNIFORM), from storage past that; likewise the
 * subgroup kernel's few-rows tile reads one batch's A^T from up to 4 uniform windows (A_UNIFORM).
 * PackedMatmulWeight.concat packs weights side by side (a layer's q, k, v: one GEMV instead of
 * three) and hands back a view per part; linearSwiGLU runs gate and up views of one buffer as
 * one GEMV (GLU override: both weights per invocation, summed in two walks over k, silu(gate) * up
 * in the epilogue).
 * Weights over maxStorageBufferBindingSize (the 625 MiB [160005, 1024] output projection) are
 * bound as row chunks of a [N, K] b with {buffer, offset, size}, offsets aligned to
 * minStorageBufferOffsetAlignment, one launch per chunk.
 * A PackedMatmulWeight of dtype 'f16' stores its blocks as f16 pairs (pack_blocks_f16; half the
 * bytes a decode step streams) and the *_f16 shaders widen them to f32 on load: every product,
 * sum and epilogue is f32, so the result is the f32 result for the weight rounded to f16.
 * Numerics: f32 products and sums (fma), sequential over K per output; epilogue in f32.
 * Tolerance vs the double reference: atol 1e-5 * sqrt(K) + rtol 1e-5, for |a|, |b| <= 1. Each
 * fma rounds a partial sum of size ~sqrt(k/9) by up to half an ulp; K such errors of random sign
 * add up to ~2^-24 * K / 4 (1.5e-5 at K = 1024), so the bound keeps a 10x margin up to K = 1e4
 * while an indexing bug gives O(0.1) errors. The rtol covers a residual's magnitude and the
 * few-ulp exp/erf of the activations.
 *
 * line budget: six shader variants (tiled, vec4, packed, subgroup-packed, workgroup-packed, GEMV)
 * behind one entry, with the weight packing (and its concatenation into views) and the chunking of bindings over
 * the storage-binding limit they share.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { type Binding, type ContextLimits, type GpuContext, UNIFORM_STAGING_BYTES, UNIFORM_STAGING_WINDOWS, foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { withHostRows } from './core/bindings.js';
import { type PackedTile, bindingLimit, knobs } from './core/knobs.js';
import { type Tensor, type WeightDtype, checkWeightDtype, numel } from './core/tensor.js';
import type { KernelTuning } from './core/tuning.js';
import { erfRef } from './core/ref_math.js';
import { packBlocks, paddedRows, transposePadded } from './pack.js';
import { mul } from './binary.js';
import { matmul as shader, matmul_gemv as gemvShader, matmul_gemv_f16 as gemvF16Shader, matmul_packed as packedShader, matmul_packed_f16 as packedF16Shader, matmul_packed_sg as packedSgShader, matmul_packed_sg_f16 as packedSgF16Shader, matmul_packed_wg as packedWgShader, matmul_packed_wg_f16 as packedWgF16Shader, matmul_vec4 as vec4Shader } from './wgsl.gen.js';

export const MATMUL_ACTIVATIONS = ['none', 'silu', 'relu', 'gelu'] as const;
export type MatmulActivation = (typeof MATMUL_ACTIVATIONS)[number];

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** [N], added before the activation. */
  bias?: Tensor;
  activation?: MatmulActivation;
  /** Output-shaped, added after the activation. Must not be `out`. */
  residual?: Tensor;
  out?: Tensor;
}


/**
 * 'vec4' (wgsl/matmul_vec4.wgsl): workgroups of `wg` lanes own 4 rows x 4 wg columns; needs the
 * vec4 dim of B to be a multiple of 4. 'tiled' (wgsl/matmul.wgsl): any shape, wgx x wgy
 * invocations owning 4x4 outputs each.
 */
export type MatmulTiles = { variant: 'vec4'; wg: number } | { variant: 'tiled'; wgx: number; wgy: number };

/**
 * Kernel and workgroup shape for an [M, K] x [K, N] product (B^T [N, K] when transB). Prefers
 * the vec4 kernel (faster than the tiled one on lavapipe, where per-lane loads dominate) whenever B's
 * contiguous dim allows vec4 loads (and its grid of M/4 row groups fits). Shrinks workgroups until
 * the grid has `minWorkgroups` (the tuning table's matmulMinWorkgroups). The tiled shape uses as
 * few rows as M needs.
 */
export function chooseMatmulTiles(M: number, N: number, K: number, limits: Pick<ContextLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX' | 'maxComputeWorkgroupsPerDimension'>, minWorkgroups: number, transB = false): MatmulTiles {
  const maxInv = Math.min(64, limits.maxComputeInvocationsPerWorkgroup);
  if ((transB ? K : N) % 4 === 0 && Math.ceil(M / 4) <= limits.maxComputeWorkgroupsPerDimension) {
    let wg = Math.min(16, maxInv, limits.maxComputeWorkgroupSizeX);
    while (wg > 4 && Math.ceil(M / 4) * Math.ceil(N / (4 * wg)) < minWorkgroups) wg /= 2;
    return { variant: 'vec4', wg };
  }
  let wgy = 1;
  while (wgy < 8 && wgy * 4 < M && wgy * 2 <= maxInv) wgy *= 2;
  let wgx = Math.min(limits.maxComputeWorkgroupSizeX, Math.floor(maxInv / wgy));
  const groups = (x: number) => Math.ceil(N / (4 * x)) * Math.ceil(M / (4 * wgy));
  while (wgx > 4 && groups(wgx) < minWorkgroups) wgx /= 2;
  return { variant: 'tiled', wgx, wgy };
}

/** Row chunks [n0, rows) of an [N, K] f32 matrix so each binding fits maxBytes at an aligned offset. */
export function chunkRows(N: number, K: number, maxBytes: number, alignBytes: number): [number, number][] {
  const rowBytes = K * 4;
  if (N * rowBytes <= maxBytes) return [[0, N]];
  const gcd = (x: number, y: number): number => (y ? gcd(y, x % y) : x);
  const step = alignBytes / gcd(rowBytes, alignBytes);
  const rows = Math.floor(maxBytes / rowBytes / step) * step;
  if (rows < 1) throw new KernelArgError('matmul', 'b', `one aligned group of ${step} rows of ${rowBytes} bytes exceeds the binding limit ${maxBytes}`);
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < N; n0 += rows) out.push([n0, Math.min(rows, N - n0)]);
  return out;
}

/** Width of a packed block of B's columns (the RN of wgsl/matmul_packed.wgsl). */
export const PACK_RN = 16;
/**
 * Rows from which a plain B is packed per call: packing reads and writes B once (~2 K N floats),
 * which the packed kernel's speed-up over matmul_vec4 repays from about here on (figures:
 * bench/README.md, Design measurements: matmul).
 */
export const PACK_PER_CALL_MIN_M = 64;

/**
 * The packed GEMM's kernel, workgroup size, rows per lane and 16-column blocks per workgroup for
 * M rows and `groups` column blocks x batches; `subgroup`: the device can run matmul_packed_sg.
 * Workgroup widths come from the tuning table (packedMaxWg down to simdRowWg).
 */
export function choosePackedTile(M: number, groups: number, t: Pick<KernelTuning, 'packedMaxWg' | 'packedMinWorkgroups' | 'simdRowWg'>, subgroup = false): PackedTile {
  // matmul_packed_sg: 4 rows x 32 columns per lane (faster than matmul_packed; packedMatmul takes
  // its few-rows tile instead for M <= 32 of a large B).
  // matmul_packed: 8 rows x 16 columns (conv3d_causal's measured best) unless M is small: then up
  // to 3 rows per lane take two column blocks, which beats one there (figures: bench/README.md,
  // Design measurements: matmul). Few rows: one SIMD row of lanes shares them so few lanes idle;
  // otherwise workgroups shrink until the grid has packedMinWorkgroups.
  const rm = subgroup ? 4 : Math.min(8, Math.ceil(M / 8));
  const cb = subgroup || rm <= 3 ? 2 : 1;
  let wg = t.packedMaxWg;
  while (wg > t.simdRowWg && (wg * rm >= 2 * M || Math.ceil(M / (wg * rm)) * Math.ceil(groups / cb) < t.packedMinWorkgroups)) wg /= 2;
  return { wg, rm, cb, subgroup };
}

/**
 * op(B) of a matmul (or the weight of a `linear`) packed once into matmul_packed's blocked layout
 * ([batch][ceil(N/16)][K][16], see the shader), for weights used many times: the packed kernel
 * reads B with lane-uniform vec4 loads. Holds a copy: re-pack after changing the source.
 * @example
 * const pw = PackedMatmulWeight.linear(w);  const y = linear(x, pw, bias);  pw.dispose();
 */
export class PackedMatmulWeight {
  private constructor(
    readonly packed: Tensor,
    /** Logical shape of op(B): [..., K, N]. */
    readonly shape: readonly number[],
    /** Storage of the packed copy: 'f32', or 'f16' (half the bytes; the math stays f32). */
    readonly dtype: WeightDtype,
    /** First block of these columns in `packed` (non-zero for a view into a concat). */
    readonly block0 = 0,
  ) {}

  /**
   * Packs `parts` (unbatched, same K and dtype) side by side into one weight of all their columns,
   * and returns it with a view of each part's columns in it; the parts are disposed. A layer's
   * q, k, v projections (or gate and up) fused this way run as one GEMV and still one by one.
   * Every part but the last needs N a multiple of 16 (whole blocks), and each part's first byte
   * must meet minStorageBufferOffsetAlignment: `concatProblem` says why not, or null.
   * @example
   * const { whole, views: [q, k, v] } = PackedMatmulWeight.concat([pq, pk, pv]);
   */
  static concat(parts: readonly PackedMatmulWeight[]): { whole: PackedMatmulWeight; views: PackedMatmulWeight[] } {
    const problem = PackedMatmulWeight.concatProblem(parts);
    if (problem) throw new KernelArgError('PackedMatmulWeight.concat', 'parts', problem);
    const { ctx, dtype } = parts[0]!;
    const K = parts[0]!.shape[0]!;
    const blockBytes = K * PACK_RN * (dtype === 'f16' ? 2 : 4);
    const nblk = parts.map((w) => Math.ceil(w.shape[1]! / PACK_RN));
    const total = nblk.reduce((a, b) => a + b, 0);
    const N = parts.reduce((n, w) => n + w.shape[1]!, 0);
    const t = ctx.tensor([(total * blockBytes) / 4], dtype === 'f16' ? 'u32' : 'f32', 'matmul.packedConcat');
    const whole = new PackedMatmulWeight(t, [K, N], dtype);
    let blk = 0;
    const views = parts.map((w, i) => {
      ctx.copyBuffer(w.packed.buffer, w.block0 * blockBytes, t.buffer, blk * blockBytes, nblk[i]! * blockBytes);
      const view = new PackedMatmulWeight(t.retain(), w.shape, dtype, blk);
      blk += nblk[i]!;
      return view;
    });
    for (const w of parts) w.dispose();
    return { whole, views };
  }

  /** Why `parts` cannot be concatenated (see concat), or null. */
  static concatProblem(parts: readonly PackedMatmulWeight[]): string | null {
    if (parts.length === 0) return 'no parts';
    const [first] = parts as [PackedMatmulWeight];
    const align = first.ctx.limits.minStorageBufferOffsetAlignment;
    const blockBytes = first.shape[0]! * PACK_RN * (first.dtype === 'f16' ? 2 : 4);
    for (const [i, w] of parts.entries()) {
      if (w.packed.disposed) return `part ${i} was disposed`;
      if (w.shape.length !== 2) return `part ${i} is batched (shape [${w.shape}]), expected [K, N]`;
      if (w.ctx !== first.ctx || w.dtype !== first.dtype || w.shape[0] !== first.shape[0]) return `part ${i} is [${w.shape}] ${w.dtype}, part 0 [${first.shape}] ${first.dtype}: K, dtype and context must agree`;
      if (i < parts.length - 1 && w.shape[1]! % PACK_RN) return `part ${i} has N = ${w.shape[1]}, not a multiple of ${PACK_RN} (only the last part may end in a partial block)`;
    }
    if (blockBytes % align) return `a ${blockBytes}-byte packed block is not a multiple of minStorageBufferOffsetAlignment ${align}: the views could not be bound`;
    return null;
  }

  /** Packs b [..., K, N] (transB: [..., N, K]), stored as `dtype` (default 'f32'). */
  static pack(b: Tensor, o: { transB?: boolean; dtype?: WeightDtype } = {}): PackedMatmulWeight {
    expectTensor('PackedMatmulWeight', 'b', b, { dtype: 'f32' });
    const dtype = checkWeightDtype('PackedMatmulWeight', o.dtype);
    if (b.shape.length < 2) throw new KernelArgError('PackedMatmulWeight', 'b', `rank ${b.shape.length} (shape ${fmt(b.shape)}), expected rank >= 2`);
    const [b0, b1] = b.shape.slice(-2) as [number, number];
    const [K, N] = o.transB ? [b1, b0] : [b0, b1];
    const batchShape = b.shape.slice(0, -2);
    const maxBytes = bindingLimit(b.ctx.limits.maxStorageBufferBindingSize);
    return new PackedMatmulWeight(packB({ ctx: b.ctx, tensor: b }, o.transB ?? false, numel(batchShape), N, K, maxBytes, dtype === 'f16'), [...batchShape, K, N], dtype);
  }

  /**
   * Takes `packed` (f32, owned from here on) as op(B) of `shape` [..., K, N] already in the packed
   * layout [batch][ceil(N / PACK_RN)][K][PACK_RN] (columns past N are never read into outputs): for
   * a kernel that writes a weight in that layout itself (conv_winograd's transform).
   */
  static fromPacked(packed: Tensor, shape: readonly number[]): PackedMatmulWeight {
    expectTensor('PackedMatmulWeight', 'packed', packed, { dtype: 'f32' });
    if (shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new KernelArgError('PackedMatmulWeight', 'shape', `[${shape}], expected positive [..., K, N]`);
    const [K, N] = shape.slice(-2) as [number, number];
    const need = numel(shape.slice(0, -2)) * Math.ceil(N / PACK_RN) * K * PACK_RN;
    if (packed.size < need) throw new KernelArgError('PackedMatmulWeight', 'packed', `${packed.size} values, the packed layout of [${shape}] needs ${need}`);
    return new PackedMatmulWeight(packed, [...shape], 'f32');
  }

  /** Packs an nn.Linear weight [N, K] for `linear(x, packed)`. */
  static linear(weight: Tensor, o: { dtype?: WeightDtype } = {}): PackedMatmulWeight {
    expectTensor('PackedMatmulWeight', 'weight', weight, { dtype: 'f32', rank: 2 });
    return PackedMatmulWeight.pack(weight, { transB: true, dtype: o.dtype });
  }

  /**
   * Packs an nn.Linear weight [N, K] still on the host (a checkpoint's tensor), uploading it one
   * binding-sized row chunk at a time: the plain f32 copy is never whole on the GPU (the 625 MiB
   * lm_head costs its packed copy plus one chunk while loading, not both copies).
   */
  static linearFromHost(ctx: GpuContext, weight: Float32Array, shape: readonly [number, number], o: { dtype?: WeightDtype } = {}): PackedMatmulWeight {
    const [N, K] = shape;
    for (const d of shape) if (!Number.isInteger(d) || d < 1) throw new KernelArgError('PackedMatmulWeight', 'shape', `[${shape.join(',')}], expected a positive [N, K]`);
    if (weight.length !== N * K) throw new KernelArgError('PackedMatmulWeight', 'weight', `${weight.length} values, expected ${N} x ${K} = ${N * K}`);
    const dtype = checkWeightDtype('PackedMatmulWeight', o.dtype);
    const packed = packB({ ctx, host: weight }, true, 1, N, K, bindingLimit(ctx.limits.maxStorageBufferBindingSize), dtype === 'f16');
    return new PackedMatmulWeight(packed, [K, N], dtype);
  }

  /**
   * Packs an nn.Linear weight [N, K] held as f16 bits (an f16 checkpoint's tensor as stored) into
   * f16 blocks, uploading the halves chunk by chunk: no f32 copy on the host or the GPU. K even.
   */
  static linearFromHalves(ctx: GpuContext, halves: Uint16Array, shape: readonly [number, number]): PackedMatmulWeight {
    const [N, K] = shape;
    for (const d of shape) if (!Number.isInteger(d) || d < 1) throw new KernelArgError('PackedMatmulWeight', 'shape', `[${shape.join(',')}], expected a positive [N, K]`);
    if (K % 2) throw new KernelArgError('PackedMatmulWeight', 'shape', `K = ${K} is odd: rows of halves must fill whole u32 words`);
    if (halves.length !== N * K) throw new KernelArgError('PackedMatmulWeight', 'halves', `${halves.length} values, expected ${N} x ${K} = ${N * K}`);
    const packed = packB({ ctx, host: halves }, true, 1, N, K, bindingLimit(ctx.limits.maxStorageBufferBindingSize), true);
    return new PackedMatmulWeight(packed, [K, N], 'f16');
  }

  get ctx() {
    return this.packed.ctx;
  }

  dispose(): void {
    this.packed.dispose();
  }
}


/** Column-block chunks [blk0, blocks) of a packed B so each binding fits maxBytes (unbatched only). */
function packedChunks(ctx: Tensor['ctx'], N: number, K: number, batch: number, maxBytes: number, f16: boolean, alignMul = 1): [number, number][] {
  const nblk = Math.ceil(N / PACK_RN);
  const blockBytes = K * PACK_RN * (f16 ? 2 : 4);
  if (batch * nblk * blockBytes <= maxBytes) return [[0, nblk]];
  if (batch > 1) throw new KernelArgError('matmul', 'b', `a batched packed B of ${batch * nblk * blockBytes} bytes is over the ${maxBytes}-byte binding limit`);
  // chunkRows counts rows of 4-byte elements: a block is blockBytes / 4 of them.
  return chunkRows(nblk, blockBytes / 4, maxBytes, alignMul * ctx.limits.minStorageBufferOffsetAlignment);
}

/** What packB packs: a tensor, or host values of an [N, K] weight (f32, or f16 bits) uploaded chunk by chunk. */
type PackSource = { ctx: GpuContext; tensor: Tensor; host?: undefined } | { ctx: GpuContext; host: Float32Array | Uint16Array; tensor?: undefined };

function packB({ ctx, tensor: b, host }: PackSource, transB: boolean, batch: number, N: number, K: number, maxBytes: number, f16 = false): Tensor {
  const nblk = Math.ceil(N / PACK_RN);
  const packed = f16 ? ctx.tensor([(batch * nblk * K * PACK_RN) / 2], 'u32', 'matmul.packedB16') : ctx.tensor([batch * nblk * K * PACK_RN], 'f32', 'matmul.packedB');
  // Packing binds f32 source rows: with f16 blocks it goes by the source's chunks, at offsets whose
  // halves (the packed chunks) are aligned too. An f16 source goes by the f16 blocks' chunks.
  const srcF16 = host instanceof Uint16Array;
  const chunks = srcF16 ? packedChunks(ctx, N, K, batch, maxBytes, true) : packedChunks(ctx, N, K, batch, maxBytes, false, f16 ? 2 : 1);
  const srcFits = b !== undefined && b.byteLength <= maxBytes;
  if (b && !srcFits && !transB) throw new KernelArgError('matmul', 'b', `${b} is ${b.byteLength} bytes, over the ${maxBytes}-byte binding limit; only an unbatched transB [N, K] weight can be packed in row chunks`);
  for (const [blk0, blocks] of chunks) {
    const cols = Math.min(blocks * PACK_RN, N - blk0 * PACK_RN);
    const blockBytes = K * PACK_RN * 4;
    const outBlockBytes = f16 ? blockBytes / 2 : blockBytes;
    // A chunked [N, K] source starts at the same byte offset as its f32 packed blocks.
    const row0 = blk0 * PACK_RN;
    const out = chunks.length === 1 ? packed : { buffer: packed.buffer, offset: blk0 * outBlockBytes, size: blocks * outBlockBytes };
    const pack = (src: Binding, whole: boolean) => packBlocks(ctx, src, out, { batch, n: whole ? N : cols, k: K, r: PACK_RN, trans: transB, nOff: whole ? row0 : 0, cols, f16, srcF16 });
    if (host) withHostRows(ctx, host, row0, cols, K, 'matmul.packSource', (t) => pack(t, false));
    else pack(srcFits ? b! : { buffer: b!.buffer, offset: blk0 * blockBytes, size: cols * K * 4 }, srcFits);
  }
  return packed;
}

interface Plan {
  M: number;
  N: number;
  K: number;
  batch: number;
  aBatch: number;
  bBatch: number;
  outShape: number[];
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function plan(kernel: string, aShape: readonly number[], bShape: readonly number[], transA: boolean, transB: boolean): Plan {
  if (aShape.length < 2) throw new KernelArgError(kernel, 'a', `rank ${aShape.length} (shape ${fmt(aShape)}), expected rank >= 2 ([..., M, K])`);
  if (bShape.length < 2) throw new KernelArgError(kernel, 'b', `rank ${bShape.length} (shape ${fmt(bShape)}), expected rank >= 2 ([..., K, N])`);
  const [a0, a1] = aShape.slice(-2) as [number, number];
  const [b0, b1] = bShape.slice(-2) as [number, number];
  const [M, K] = transA ? [a1, a0] : [a0, a1];
  const [Kb, N] = transB ? [b1, b0] : [b0, b1];
  if (K !== Kb) throw new KernelArgError(kernel, 'b', `shape ${fmt(bShape)}${transB ? ' (transB)' : ''} has K = ${Kb}, but a ${fmt(aShape)}${transA ? ' (transA)' : ''} has K = ${K}`);
  const aB = aShape.slice(0, -2);
  const bB = bShape.slice(0, -2);
  const na = numel(aB);
  const nb = numel(bB);
  let batchShape: number[];
  if (na > 1 && nb > 1) {
    if (fmt(aB) !== fmt(bB)) throw new KernelArgError(kernel, 'b', `batch dims ${fmt(bB)} do not match a's ${fmt(aB)} (one side must have batch 1)`);
    batchShape = aB;
  } else batchShape = na > 1 ? aB : nb > 1 ? bB : aB.length >= bB.length ? aB : bB;
  return { M, N, K, batch: Math.max(na, nb), aBatch: na > 1 ? M * K : 0, bBatch: nb > 1 ? K * N : 0, outShape: [...batchShape, M, N] };
}

const ACT_CODE = (kernel: string, act: MatmulActivation | undefined): number => {
  const code = MATMUL_ACTIVATIONS.indexOf(act ?? 'none');
  if (code < 0) throw new KernelArgError(kernel, 'activation', `'${act}' is not one of ${MATMUL_ACTIVATIONS.join(', ')}`);
  return code;
};

function checkEpilogue(kernel: string, N: number, outShape: readonly number[], o: MatmulOptions): void {
  if (o.bias) expectTensor(kernel, 'bias', o.bias, { dtype: 'f32', shape: [N] });
  if (o.residual) {
    expectTensor(kernel, 'residual', o.residual, { dtype: 'f32', shape: outShape });
    if (o.out && o.residual.buffer === o.out.buffer) throw new KernelArgError(kernel, 'residual', 'must not be the out tensor (a dispatch cannot read and write one buffer)');
  }
}

/**
 * Batched matrix product with a fused epilogue: act(op(a) @ op(b) + bias) + residual.
 * @example
 * const c = matmul(ctx.fromArray([1, 2, 3, 4], [2, 2]), ctx.fromArray([1, 0, 0, 1], [2, 2]));
 * await c.read(); // [1, 2, 3, 4]
 */
export function matmul(a: Tensor, b: Tensor | PackedMatmulWeight, o: MatmulOptions = {}): Tensor<'f32'> {
  const kernel = 'matmul';
  expectTensor(kernel, 'a', a, { dtype: 'f32' });
  const pw = b instanceof PackedMatmulWeight ? b : null;
  if (pw) {
    if (pw.packed.disposed) throw new KernelArgError(kernel, 'b', 'the packed weight was disposed');
    if (o.transB) throw new KernelArgError(kernel, 'transB', 'a PackedMatmulWeight already holds op(B) as [..., K, N]');
  } else expectTensor(kernel, 'b', b, { dtype: 'f32' });
  sameContext(kernel, { a, b: pw ? pw.packed : (b as Tensor), bias: o.bias, residual: o.residual, out: o.out });
  const transA = o.transA ?? false;
  const transB = o.transB ?? false;
  const p = plan(kernel, a.shape, b.shape, transA, transB);
  const act = ACT_CODE(kernel, o.activation);
  checkEpilogue(kernel, p.N, p.outShape, o);
  const ctx = a.ctx;
  const maxBytes = bindingLimit(ctx.limits.maxStorageBufferBindingSize);
  for (const [name, t] of [['a', a], ['residual', o.residual]] as const) {
    if (t && t.byteLength > maxBytes) throw new KernelArgError(kernel, name, `${t} is ${t.byteLength} bytes, over the ${maxBytes}-byte binding limit (only a [N, K] transB weight is chunked)`);
  }
  if (numel(p.outShape) * 4 > maxBytes) throw new KernelArgError(kernel, 'out', `[${p.outShape}] is over the ${maxBytes}-byte binding limit`);
  const bt = pw ? pw.packed : (b as Tensor);
  const chunked = !pw && bt.byteLength > maxBytes;
  if (chunked && (!transB || p.bBatch !== 0)) throw new KernelArgError(kernel, 'b', `${bt} is ${bt.byteLength} bytes, over the ${maxBytes}-byte binding limit; only an unbatched transB [N, K] weight can be bound in row chunks`);
  if (p.batch > ctx.limits.maxComputeWorkgroupsPerDimension) throw new KernelArgError(kernel, 'a', `batch ${p.batch} exceeds ${ctx.limits.maxComputeWorkgroupsPerDimension}`);
  const tile = knobs().packedTile;
  if (tile?.subgroup && !ctx.hasSubgroups(8)) throw new KernelArgError(kernel, 'knobs.packedTile', `the subgroup kernel needs the 'subgroups' feature and subgroupMinSize >= 8`);
  if (tile?.subgroup && (tile.rm !== 4 || tile.cb !== 2)) throw new KernelArgError(kernel, 'knobs.packedTile', `the subgroup kernel has rm 4 and cb 2, got rm ${tile.rm}, cb ${tile.cb}`);
  if (tile?.subgroup && p.N % 4 !== 0) throw new KernelArgError(kernel, 'knobs.packedTile', `the subgroup kernel stores vec4s of a row: N = ${p.N} is not a multiple of 4`);
  const dst = outTensor(kernel, a, p.outShape, 'f32', o.out);
  if (dst.buffer === a.buffer || dst.buffer === bt.buffer) throw new KernelArgError(kernel, 'out', 'must not alias a or b');
  if (pw || (p.M >= PACK_PER_CALL_MIN_M && p.K > 0 && p.N > 0)) {
    if (numel(p.outShape) === 0) return dst;
    const bBatch = p.bBatch !== 0 ? p.batch : 1;
    packedMatmul(a, pw, bt, transB, p, bBatch, transA, act, o, dst, maxBytes);
    return dst;
  }
  const tiles = chooseMatmulTiles(p.M, p.N, p.K, ctx.limits, ctx.tuning.matmulMinWorkgroups, transB);
  const chunks = chunked ? chunkRows(p.N, p.K, maxBytes, ctx.limits.minStorageBufferOffsetAlignment) : [[0, p.N] as [number, number]];
  const v4 = tiles.variant === 'vec4';
  for (const [n0, rows] of chunks) {
    ctx.dispatch(v4 ? vec4Shader : shader, {
      overrides: { ...(v4 ? { WG: tiles.wg } : { WGX: tiles.wgx, WGY: tiles.wgy }), TRANS_A: Number(transA), TRANS_B: Number(transB), ACT: act },
      bindings: {
        a,
        b: chunked ? { buffer: bt.buffer, offset: n0 * p.K * 4, size: rows * p.K * 4 } : bt,
        bias: o.bias ?? a,
        res: o.residual ?? a,
        out: dst,
      },
      params: { m: p.M, n: rows, k: p.K, a_batch: p.aBatch, b_batch: v4 ? p.bBatch / 4 : p.bBatch, out_cols: p.N, n_off: n0, has_bias: o.bias ? 1 : 0, has_res: o.residual ? 1 : 0 },
      workgroups: v4 ? [Math.ceil(p.M / 4), Math.ceil(rows / (4 * tiles.wg)), p.batch] : [Math.ceil(rows / (4 * tiles.wgx)), Math.ceil(p.M / (4 * tiles.wgy)), p.batch],
    });
  }
  return dst;
}

/** The packed GEMM (and GEMV) with a packed weight, or a plain b packed here unless the subgroup kernel can read it as it is. */
function packedMatmul(a: Tensor, pw: PackedMatmulWeight | null, b: Tensor, transB: boolean, p: Plan, bBatch: number, transA: boolean, act: number, o: MatmulOptions, dst: Tensor, maxBytes: number): void {
  const ctx = a.ctx;
  const weight = pw?.packed ?? null;
  const f16 = pw?.dtype === 'f16';
  const nblk = Math.ceil(p.N / PACK_RN);
  // matmul_packed_sg stores whole vec4s of a row: N % 4 == 0.
  const tile = knobs().packedTile ?? choosePackedTile(p.M, nblk * p.batch, ctx.tuning, ctx.useCpuSubgroupVariants() && p.N % 4 === 0);
  const plainB = !weight && tile.subgroup && !transB && p.N % 4 === 0 && p.M > 1 && b.byteLength <= maxBytes;
  const packedB = weight ?? (plainB ? b : packB({ ctx, tensor: b }, transB, bBatch, p.N, p.K, maxBytes));
  // A few rows (M <= 32) of a large B on the subgroup kernel: its few-rows tile, 4 columns x all
  // rows a lane (lib/matmul_packed_sg_main.wgsl), unless a tile is forced. Each row-group count is
  // its own pipeline, so small products (the micro model's, whose M varies) keep the one 4-row tile.
  const few = tile.subgroup && !plainB && p.M <= FEW_ROWS_MAX && p.K * p.N >= FEW_ROWS_MIN_WEIGHT && !knobs().packedTile ? Math.ceil(p.M / 4) : 0;
  const blockBytes = p.K * PACK_RN * (f16 ? 2 : 4);
  const base = (pw?.block0 ?? 0) * blockBytes;
  if (p.M === 1 && p.batch === 1) {
    // x [1, K] is its own transpose.
    const xu = gemvX(a, p.K);
    for (const [blk0, blocks] of packedChunks(ctx, p.N, p.K, 1, maxBytes, f16)) {
      ctx.dispatch(f16 ? gemvF16Shader : gemvShader, {
        overrides: { WG: GEMV_WG, RN: PACK_RN, ACT: act, X_UNIFORM: xu.X_UNIFORM },
        bindings: { x: a, x4: a, xu: xu.binding, b: { buffer: packedB.buffer, offset: base + blk0 * blockBytes, size: blocks * blockBytes }, bias: o.bias ?? a, res: o.residual ?? a, out: dst },
        params: { n: Math.min(blocks * PACK_RN, p.N - blk0 * PACK_RN), k: p.K, n_off: blk0 * PACK_RN, has_bias: o.bias ? 1 : 0, has_res: o.residual ? 1 : 0, up_off: 0 },
        workgroups: foldGrid(Math.ceil((blocks * PACK_RN) / 8 / GEMV_WG), ctx.limits.maxComputeWorkgroupsPerDimension),
      });
    }
    if (packedB !== weight) packedB.dispose();
    return;
  }
  const at = transA && p.M % 4 === 0 ? a : transposePadded(a, transA, p.aBatch !== 0 ? p.batch : 1, p.M, p.K);
  const chunks = plainB ? [[0, nblk] as [number, number]] : packedChunks(ctx, p.N, p.K, bBatch, maxBytes, f16);
  // GPUs (the tuning table's workgroupGemm): A and B staged in workgroup memory, 32 x 32 tiles.
  const wg = !tile.subgroup && ctx.tuning.workgroupGemm && !knobs().packedTile;
  // The few-rows tile of one batch reads A^T from uniform windows where it fits them (A_UNIFORM).
  const aRow = paddedRows(p.M) * 4;
  const aUniform = few > 0 && p.batch === 1 && Math.ceil(p.K / Math.floor(UNIFORM_STAGING_BYTES / aRow)) <= UNIFORM_STAGING_WINDOWS;
  const au = tile.subgroup && !wg ? (aUniform ? ctx.stageUniform(at, p.K * aRow, aRow) : ctx.stageUniform(at, 0)) : [];
  for (const [blk0, blocks] of chunks) {
    const cols = Math.min(blocks * PACK_RN, p.N - blk0 * PACK_RN);
    const bind = chunks.length === 1 && !base ? packedB : { buffer: packedB.buffer, offset: base + blk0 * blockBytes, size: blocks * blockBytes };
    // b_batch counts vec4s of columns (one vec2<u32> each when f16).
    const params = { m: p.M, n: cols, k: p.K, a_batch: p.aBatch !== 0 ? p.K * paddedRows(p.M) : 0, b_batch: bBatch > 1 ? (p.K * (plainB ? p.N : nblk * PACK_RN)) / 4 : 0, out_cols: p.N, n_off: blk0 * PACK_RN, has_bias: o.bias ? 1 : 0, has_res: o.residual ? 1 : 0 };
    ctx.dispatch(wg ? (f16 ? packedWgF16Shader : packedWgShader) : tile.subgroup ? (f16 ? packedSgF16Shader : packedSgShader) : f16 ? packedF16Shader : packedShader, {
      overrides: wg ? { ACT: act } : tile.subgroup ? { WG: tile.wg, ACT: act, PLAIN_B: Number(plainB), ...(few ? { FEW: few } : {}), ...(aUniform ? { A_UNIFORM: 1 } : {}) } : { WG: tile.wg, RM: tile.rm, RN: PACK_RN, CB: tile.cb, ACT: act },
      bindings: { a: at, b: bind, bias: o.bias ?? a, res: o.residual ?? a, out: dst, ...(au.length ? { au0: au[0]!, au1: au[1]!, au2: au[2]!, au3: au[3]! } : {}) },
      params,
      workgroups: wg ? [Math.ceil(cols / 32), Math.ceil(p.M / 32), p.batch] : few ? [Math.ceil(cols / ((PACK_RN * tile.cb * tile.wg) / 8)), 1, p.batch] : [Math.ceil(cols / (PACK_RN * tile.cb)), Math.ceil(p.M / (tile.wg * tile.rm)), p.batch],
    });
  }
  if (at !== a) at.dispose();
  if (packedB !== weight && packedB !== b) packedB.dispose();
}

const GEMV_WG = 64;
/** Rows up to which the subgroup kernel takes its few-rows tile (8 row groups of 4), from K x N = FEW_ROWS_MIN_WEIGHT on (bench/README.md, tenth session). */
const FEW_ROWS_MAX = 32;
const FEW_ROWS_MIN_WEIGHT = 1 << 18;

/**
 * nn.Linear: act(x @ weight^T + bias) + residual with x [..., K], weight [N, K]; out [..., N].
 * One row (a decode step) times a PackedMatmulWeight takes the GEMV path: pack weights used more than once.
 * @example
 * const y = linear(x, w, b, { activation: 'silu' }); // x [19, 1024], w [2816, 1024] -> [19, 2816]
 */
export function linear(x: Tensor, weight: Tensor | PackedMatmulWeight, bias?: Tensor, o: Omit<MatmulOptions, 'transA' | 'transB' | 'bias'> = {}): Tensor<'f32'> {
  expectTensor('linear', 'x', x, { dtype: 'f32' });
  const pw = weight instanceof PackedMatmulWeight ? weight : null;
  if (pw) {
    if (pw.shape.length !== 2) throw new KernelArgError('linear', 'weight', `packed from rank ${pw.shape.length} (shape [${pw.shape}]), expected an nn.Linear [N, K] weight`);
  } else expectTensor('linear', 'weight', weight, { dtype: 'f32', rank: 2 });
  if (x.shape.length < 1) throw new KernelArgError('linear', 'x', 'rank 0, expected [..., K]');
  const K = x.shape[x.shape.length - 1]!;
  const [N, Kw] = pw ? [pw.shape[1]!, pw.shape[0]!] : (weight.shape as [number, number]);
  if (Kw !== K) throw new KernelArgError('linear', 'weight', `shape [${pw ? [N, Kw] : weight.shape}], expected [N, ${K}] (x is [${x.shape}])`);
  const outShape = [...x.shape.slice(0, -1), N];
  if (o.residual) expectTensor('linear', 'residual', o.residual, { dtype: 'f32', shape: outShape });
  if (o.out) expectTensor('linear', 'out', o.out, { dtype: 'f32', shape: outShape });
  const M = K === 0 ? 0 : x.size / K;
  const flat = (t: Tensor | undefined) => t?.reshape([M, N]);
  const y = matmul(x.reshape([M, K]), weight, { ...o, transB: !pw, bias, residual: flat(o.residual), out: flat(o.out) });
  return o.out ? (o.out as Tensor<'f32'>) : y.reshape(outShape);
}

/**
 * SwiGLU's gated product silu(x @ gate^T) * (x @ up^T): x [..., K], gate and up [N, K]; out [..., N].
 * One row (a decode step) with gate and up packed views of one PackedMatmulWeight.concat, gate's
 * columns first, is one GEMV that reads both weights (matmul_gemv with GLU); otherwise a SiLU-fused
 * linear, a linear and a product, the same f32 operations.
 * @example
 * const { views: [g, u] } = PackedMatmulWeight.concat([PackedMatmulWeight.linear(wg), PackedMatmulWeight.linear(wu)]);
 * const act = linearSwiGLU(x, g, u); // x [1, 1024] -> [1, 2816]
 */
export function linearSwiGLU(x: Tensor, gate: Tensor | PackedMatmulWeight, up: Tensor | PackedMatmulWeight): Tensor<'f32'> {
  const dims = (w: Tensor | PackedMatmulWeight) => (w instanceof PackedMatmulWeight ? [w.shape[1], w.shape[0]] : w.shape);
  if (dims(gate).join() !== dims(up).join()) throw new KernelArgError('linearSwiGLU', 'up', `[${dims(up)}], expected gate's shape [${dims(gate)}]`);
  const g = gate instanceof PackedMatmulWeight ? gate : null;
  const u = up instanceof PackedMatmulWeight ? up : null;
  const K = x.shape[x.shape.length - 1] ?? 0;
  const fused = g && u && x.size === K && K > 0 && g.shape.length === 2 && g.shape[0] === K && u.shape.length === 2 && !g.packed.disposed && !u.packed.disposed && g.packed.buffer === u.packed.buffer && g.dtype === u.dtype && g.block0 < u.block0;
  if (!fused) return mul(linear(x, gate, undefined, { activation: 'silu' }), linear(x, up));
  expectTensor('linearSwiGLU', 'x', x, { dtype: 'f32' });
  sameContext('linearSwiGLU', { x, gate: g.packed });
  const N = g.shape[1]!;
  const nblk = Math.ceil(N / PACK_RN);
  const blockBytes = K * PACK_RN * (g.dtype === 'f16' ? 2 : 4);
  const size = (u.block0 + nblk - g.block0) * blockBytes;
  if (size > bindingLimit(x.ctx.limits.maxStorageBufferBindingSize)) return mul(linear(x, gate, undefined, { activation: 'silu' }), linear(x, up));
  const out = x.ctx.tensor([...x.shape.slice(0, -1), N], 'f32', 'linearSwiGLU.out');
  const xu = gemvX(x, K);
  x.ctx.dispatch(g.dtype === 'f16' ? gemvF16Shader : gemvShader, {
    overrides: { WG: GEMV_WG, RN: PACK_RN, ACT: 0, GLU: 1, X_UNIFORM: xu.X_UNIFORM },
    bindings: { x, x4: x, xu: xu.binding, b: { buffer: g.packed.buffer, offset: g.block0 * blockBytes, size }, bias: x, res: x, out },
    params: { n: N, k: K, n_off: 0, has_bias: 0, has_res: 0, up_off: ((u.block0 - g.block0) * K * PACK_RN) / 8 },
    workgroups: foldGrid(Math.ceil((nblk * PACK_RN) / 8 / GEMV_WG), x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

/**
 * matmul_gemv's x as a uniform (X_UNIFORM) where its K / 4 vec4s fit the declared 64 KiB: x's
 * vec4s copied into the context's uniform staging buffer. Otherwise the shader reads x4 and xu is
 * bound unread.
 */
function gemvX(x: Tensor, K: number): { X_UNIFORM: number; binding: Binding } {
  const bytes = Math.floor(K / 4) * 16;
  const fits = bytes > 0 && bytes <= UNIFORM_STAGING_BYTES;
  return { X_UNIFORM: Number(fits), binding: x.ctx.stageUniform(x, fits ? bytes : 0)[0]! };
}

/** CPU reference in doubles: act(op(a) @ op(b) + bias) + residual, same shape rules as matmul. */
export function matmulRef(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], o: { transA?: boolean; transB?: boolean; bias?: ArrayLike<number>; activation?: MatmulActivation; residual?: ArrayLike<number> } = {}): { data: Float64Array; shape: number[] } {
  const transA = o.transA ?? false;
  const transB = o.transB ?? false;
  const p = plan('matmul', aShape, bShape, transA, transB);
  const { M, N, K } = p;
  const out = new Float64Array(p.batch * M * N);
  for (let z = 0; z < p.batch; z++) {
    const ab = z * p.aBatch;
    const bb = z * p.bBatch;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ab + (transA ? k * M + m : m * K + k)]! * b[bb + (transB ? n * K + k : k * N + n)]!;
        if (o.bias) s += o.bias[n]!;
        const act = o.activation ?? 'none';
        s = act === 'silu' ? s / (1 + Math.exp(-s)) : act === 'relu' ? Math.max(s, 0) : act === 'gelu' ? 0.5 * s * (1 + erfRef(s * Math.SQRT1_2)) : s;
        const i = (z * M + m) * N + n;
        out[i] = s + (o.residual ? o.residual[i]! : 0);
      }
    }
  }
  return { data: out, shape: p.outShape };
}
