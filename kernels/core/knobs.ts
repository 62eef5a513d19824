/**
 * Knobs: per-call overrides of what the tuning table and the shapes would choose (tiles, kernel
 * variants, the binding limit), for tests and benchmarks. They are not part of any kernel's
 * options: set them around kernel calls with `withKnobs` (videoworld-webgpu/kernels/internal).
 * Kernels record their dispatches synchronously, so a synchronous scope is exact even while other
 * async work interleaves.
 */

/** conv3d_causal's register tile. */
export interface ConvTile {
  wg: number;
  rm: number;
  rn: number;
  /** The conv3d_causal_sg variant (rm 32; needs ctx.hasSubgroups(8)): weights spread by subgroupBroadcast. */
  subgroup?: boolean;
}

/** matmul_packed's tile. */
export interface PackedTile {
  wg: number;
  /** Rows per invocation (the subgroup kernel: 4). */
  rm: number;
  /** 16-column blocks per workgroup: 1 or 2 (the subgroup kernel: 2). */
  cb: number;
  /** wgsl/matmul_packed_sg.wgsl (needs ctx.hasSubgroups(8)) instead of wgsl/matmul_packed.wgsl. */
  subgroup: boolean;
}

export interface Knobs {
  /** Largest storage binding in bytes, below the device's: forces the chunked paths (matmul, PackedMatmulWeight, softmaxCrossEntropy, embeddingBackward, gatherRows). */
  maxBindingBytes?: number;
  /** matmul's packed-GEMM tile. */
  packedTile?: PackedTile;
  /** causalConv3d's and conv2d's register tile. */
  convTile?: ConvTile;
  /** attentionFlash's kernel (default: flashKernel's choice). */
  attention?: 'rows' | 'tiled' | 'unfused';
  /** attentionBackward's kernel pair (default: attentionBackwardKernel's choice). */
  attentionBackward?: 'sg' | 'tiled';
  /** fsqQuantize: false forces the tanh + threshold-fallback path of long level lists (default: thresholds compiled in where they number <= 48). */
  fsqConstThresholds?: boolean;
  /** vqNearest's partial-argmin pass (default: 'subgroup' where the adapter suits it). */
  vqLookup?: 'subgroup' | 'tiled';
  /** Winograd F(2x2, 3x3) for eligible packed 3x3 convs: true at any size, false never (default: from WINOGRAD_MIN_TILES tiles). */
  convWinograd?: boolean;
  /** Bytes of the Winograd transforms per chunk of tiles (default 8 MiB). */
  winogradChunkBytes?: number;
  /** Bytes of conv_backward's columns matrix per chunk of whole frames (default 32 MiB). */
  convColsBytes?: number;
  /** Winograd's output tile: F(2x2, 3x3), F(4x4, 3x3) or F(6x6, 3x3) (default: conv_winograd's winogradTile). */
  winogradTile?: 2 | 4 | 6;
}

let active: Readonly<Knobs> = {};

/** The knobs in force (empty outside withKnobs). */
export function knobs(): Readonly<Knobs> {
  return active;
}

/**
 * Runs `fn` (synchronous: kernel calls) with `k` merged over the knobs in force.
 * @example
 * const y = withKnobs({ maxBindingBytes: 4096 }, () => matmul(a, b, { transB: true })); // chunked
 */
export function withKnobs<R>(k: Knobs, fn: () => R): R {
  const m = k.maxBindingBytes;
  if (m !== undefined && !(Number.isInteger(m) && m >= 1)) throw new RangeError(`withKnobs: maxBindingBytes ${m} (an integer >= 1)`);
  const prev = active;
  active = { ...prev, ...k };
  try {
    const r = fn();
    if (r instanceof Promise) throw new TypeError('withKnobs: fn returned a promise; knobs apply to synchronous kernel calls only (read results after the scope)');
    return r;
  } finally {
    active = prev;
  }
}

/** The binding limit a kernel plans with: the device's, or a smaller maxBindingBytes knob. */
export function bindingLimit(deviceLimit: number): number {
  return Math.min(active.maxBindingBytes ?? Infinity, deviceLimit);
}
