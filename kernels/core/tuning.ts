/**
 * The adapter tuning table: which kernel variants, tiles, workgroup widths and grid sizes each
 * class of adapter gets. The one place where kernels learn what they run on; a kernel reads
 * `ctx.tuning` (or `ctx.useCpuSubgroupVariants()`), never the adapter's name. Every value was
 * measured on lavapipe (2 cores, 8-lane SIMD); the figures are in bench/README.md, Design
 * measurements, under the section each field names.
 *
 * Selection (tuningFor): the CPU entries only behind an explicit check of the adapter's
 * description (llvmpipe/lavapipe, SwiftShader); any other adapter is `gpu`. The adapter's subgroup
 * sizes (ctx.adapterFacts) then gate what needs them: the CPU subgroup variants broadcast from
 * lanes 0..7, so no entry picks them below subgroupMinSize 8. Splitting `gpu` by vendor,
 * architecture or subgroup size waits for GPU measurements. Limits enter where a tile must fit
 * them (flashTiles: workgroup memory; chooseMatmulTiles: invocations per workgroup); the widths
 * here are powers of two <= 256, which every WebGPU device allows.
 *
 * Override for a benchmark or a test with `ctx.tune({ ... })` (it returns the previous values), or
 * pick another entry at creation: createContext({ adapterClass }), in Node also
 * VIDEOWORLD_ADAPTER_CLASS=lavapipe|swiftshader|gpu. Per-call knobs (withKnobs) win over both.
 */
/** Adapter classes with an entry in the table. */
export type AdapterClass = 'lavapipe' | 'swiftshader' | 'gpu';

/** What the table's entry is chosen by (recorded as ctx.adapterFacts). */
export interface AdapterFacts {
  /** vendor / architecture / device / description, as GPUAdapterInfo gives them. */
  description: string;
  /** GPUAdapterInfo.subgroupMinSize / subgroupMaxSize; 0 where the adapter does not say. */
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

export interface KernelTuning {
  /**
   * The lane-per-row subgroup variants written for CPU SIMD lanes (attention_rows,
   * attention_backward_sg_*, conv3d_causal_sg, matmul_packed_sg, vq_lookup_sg): they broadcast from
   * lanes 0..7 and hold hundreds of floats per invocation in registers. Used only where the adapter
   * also has subgroups of >= 8 (GpuContext.hasSubgroups(8)).
   */
  cpuSubgroupVariants: boolean;
  /**
   * Lanes one CPU core runs together: the workgroup the tile rules fall back to when few outputs
   * would leave lanes idle (conv3d_causal small frames, matmul_packed few rows).
   */
  simdRowWg: number;
  /** conv3d_causal's register tile, rm the largest channel block (conv3d_causal: the register tile sweep). */
  convTile: Readonly<{ wg: number; rm: number; rn: number }>;
  /** conv3d_causal_sg's tile; its 32 channels are fixed by the shader (conv3d_causal: conv3d_causal_sg). */
  convTileSg: Readonly<{ wg: number; rn: number }>;
  /** Workgroups a matmul / matmul_vec4 grid should reach: tiles shrink (down to 4 wide) until it does. */
  matmulMinWorkgroups: number;
  /** matmul_packed's widest workgroup: 32 lanes of 8 x 16 blocks, conv3d_causal's best tile (matmul). */
  packedMaxWg: number;
  /** Workgroups a matmul_packed grid should reach (shrinking toward simdRowWg): 4 per core (matmul). */
  packedMinWorkgroups: number;
  /** Workgroups a vq_lookup grid should reach when N is small (codebook columns are split). */
  vqMinWorkgroups: number;
  /**
   * Width of the one-workgroup-per-row reductions (row_norm and its backward, softmax,
   * softmax_backward, mean_pool, cross_entropy rows): a barrier walks every SIMD group of the
   * workgroup (Workgroup width of the barrier reductions).
   */
  rowWg: number;
  /** Width of the GroupNorm statistics and partial-sum passes, which have barriers (same section). */
  normStatsWg: number;
  /**
   * GroupNorm passes over rows of at most this many elements give each row to one invocation
   * instead of a workgroup (lib/group_chunk.wgsl): small maps over a large batch
   * (GroupNorm over many small maps).
   */
  normLaneLen: number;
  /** Query rows per workgroup of the tiled flash kernel for HD <= 64 and Lq > 16 (attention; no figure recorded). */
  flashBq: number;
  /**
   * Attention with head dim > 64, no mask and no causal mask runs as two matmuls and a softmax
   * (scores of at most 64 MiB) instead of the tiled flash kernel, whose first dispatch at HD 512
   * (the tokenizer's) JIT-compiles for ~57 s on lavapipe (bench:model --cold).
   */
  wideAttentionUnfused: boolean;
  /**
   * The packed GEMM without subgroup variants stages A and B in workgroup memory
   * (matmul_packed_wg: 8 x 8 invocations, a 32 x 32 tile), the shape WebGPU GEMMs use on GPUs,
   * instead of each invocation reading its own operands (matmul_packed). Off on CPU adapters, where
   * workgroup memory saves no load and every barrier costs (matmul: matmul_packed_wg). On for `gpu`
   * by that design alone: not yet measured on a GPU.
   */
  workgroupGemm: boolean;
}

/**
 * Tiles, widths and grid sizes measured on lavapipe. SwiftShader gets them unmeasured, and so do
 * GPUs: there is no GPU to tune on yet (a GPU would want wider workgroups than simdRowWg).
 */
const LAVAPIPE_SHAPES = {
  simdRowWg: 8,
  convTile: { wg: 32, rm: 16, rn: 8 },
  convTileSg: { wg: 32, rn: 4 },
  matmulMinWorkgroups: 4,
  packedMaxWg: 32,
  packedMinWorkgroups: 8,
  vqMinWorkgroups: 16,
  rowWg: 32,
  normStatsWg: 64,
  flashBq: 64,
} as const;

export const TUNING_TABLE: Readonly<Record<AdapterClass, { why: string; tuning: Readonly<KernelTuning> }>> = {
  lavapipe: {
    why: "Mesa's llvmpipe: 8-lane SIMD per CPU core; a load whose address is not a compile-time constant runs as a loop over the lanes, so the broadcast variants win (2-6x); a few workgroups per core suffice",
    tuning: { ...LAVAPIPE_SHAPES, cpuSubgroupVariants: true, normLaneLen: 1024, wideAttentionUnfused: true, workgroupGemm: false },
  },
  swiftshader: {
    why: "Chromium's CPU adapter: subgroups of 4, too narrow for the broadcast variants",
    tuning: { ...LAVAPIPE_SHAPES, cpuSubgroupVariants: false, normLaneLen: 64, wideAttentionUnfused: true, workgroupGemm: false },
  },
  gpu: {
    why: 'any other adapter: the portable tiled variants (the CPU variants would spill registers on a GPU) and the GEMM through workgroup memory; tiles and grid sizes not yet measured on GPUs',
    tuning: { ...LAVAPIPE_SHAPES, cpuSubgroupVariants: false, normLaneLen: 32, wideAttentionUnfused: false, workgroupGemm: true },
  },
};

/** The class of an adapter: CPU classes only by an explicit description check, else 'gpu'. */
export function adapterClass(a: AdapterFacts): AdapterClass {
  if (/llvmpipe|lavapipe/i.test(a.description)) return 'lavapipe';
  if (/swiftshader/i.test(a.description)) return 'swiftshader';
  return 'gpu';
}

/** The table's entry for an adapter (or for `cls`, chosen instead of its own class), fitted to its subgroup sizes. */
export function tuningFor(a: AdapterFacts, cls: AdapterClass = adapterClass(a)): KernelTuning {
  const t = { ...TUNING_TABLE[cls].tuning };
  if (a.subgroupMinSize < 8) t.cpuSubgroupVariants = false;
  return t;
}

/** Checks one number of an override: an integer >= 1; a width (`wg`, `*Wg`) a power of two <= 256. */
function checkCount(name: string, v: unknown): void {
  const width = /(^|\.)wg$|Wg$/.test(name);
  const ok = typeof v === 'number' && Number.isInteger(v) && v >= 1 && (!width || (v <= 256 && (v & (v - 1)) === 0));
  if (!ok) throw new RangeError(`tune: ${name} must be ${width ? 'a power of two <= 256' : 'an integer >= 1'}, got ${String(v)}`);
}

/** Checks an override: known keys; booleans, counts and whole tiles where they belong. */
export function checkTuning(t: Partial<KernelTuning>): void {
  const base = TUNING_TABLE.gpu.tuning;
  for (const [k, v] of Object.entries(t)) {
    if (!(k in base)) throw new RangeError(`tune: unknown key '${k}' (one of ${Object.keys(base).join(', ')})`);
    const want = base[k as keyof KernelTuning];
    if (typeof want === 'boolean') {
      if (typeof v !== 'boolean') throw new RangeError(`tune: ${k} must be a boolean, got ${String(v)}`);
    } else if (typeof want === 'number') checkCount(k, v);
    else {
      const keys = Object.keys(want).sort().join(', ');
      if (typeof v !== 'object' || v === null || Object.keys(v).sort().join(', ') !== keys) throw new RangeError(`tune: ${k} must be a whole tile { ${keys} }, got ${JSON.stringify(v)}`);
      for (const [f, n] of Object.entries(v)) checkCount(`${k}.${f}`, n);
    }
  }
}
