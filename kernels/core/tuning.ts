/**
 * The adapter tuning table: which kernel variants and grid sizes each class of adapter gets. The
 * one place where kernels learn what they run on; a kernel asks `ctx.tuning` (or
 * `ctx.useCpuSubgroupVariants()`), never the adapter's name. Figures behind each entry are in
 * bench/README.md.
 *
 * Override for a benchmark or a test with `ctx.tune({ ... })` (it returns the previous values), or
 * pick another entry at creation: createContext({ adapterClass }), in Node also
 * VIDEOWORLD_ADAPTER_CLASS=lavapipe|swiftshader|gpu.
 */

/** Adapter classes with an entry in the table. */
export type AdapterClass = 'lavapipe' | 'swiftshader' | 'gpu';

export interface KernelTuning {
  /**
   * The lane-per-row subgroup variants written for CPU SIMD lanes (attention_rows,
   * attention_backward_sg_*, conv3d_causal_sg, matmul_packed_sg, vq_lookup_sg): they broadcast from
   * lanes 0..7 and hold hundreds of floats per invocation in registers. Used only where the adapter
   * also has subgroups of >= 8 (GpuContext.hasSubgroups(8)).
   */
  cpuSubgroupVariants: boolean;
  /** Workgroups a matmul grid should reach: tiles shrink (down to 4 wide) until it does. */
  matmulMinWorkgroups: number;
  /** Workgroups a vq_lookup grid should reach when N is small (codebook columns are split). */
  vqMinWorkgroups: number;
  /**
   * GroupNorm passes over rows of at most this many elements give each row to one invocation
   * instead of a workgroup (lib/group_chunk.wgsl): small maps over a large batch.
   */
  normLaneLen: number;
  /**
   * Attention with head dim > 64, no mask and no causal mask runs as two matmuls and a softmax
   * (scores of at most 64 MiB) instead of the tiled flash kernel, whose first dispatch at HD 512
   * (the tokenizer's) JIT-compiles for ~57 s on lavapipe (bench:model --cold).
   */
  wideAttentionUnfused: boolean;
}

export const TUNING_TABLE: Readonly<Record<AdapterClass, { why: string; tuning: Readonly<KernelTuning> }>> = {
  lavapipe: {
    why: "Mesa's llvmpipe: 8-lane SIMD per CPU core; a load whose address is not a compile-time constant runs as a loop over the lanes, so the broadcast variants win (2-6x); a few workgroups per core suffice",
    tuning: { cpuSubgroupVariants: true, matmulMinWorkgroups: 4, vqMinWorkgroups: 16, normLaneLen: 64, wideAttentionUnfused: true },
  },
  swiftshader: {
    why: "Chromium's CPU adapter: subgroups of 4, too narrow for the broadcast variants",
    tuning: { cpuSubgroupVariants: false, matmulMinWorkgroups: 4, vqMinWorkgroups: 16, normLaneLen: 64, wideAttentionUnfused: true },
  },
  gpu: {
    why: 'any other adapter: the portable tiled variants (the CPU variants would spill registers on a GPU); grid sizes not yet measured on GPUs',
    tuning: { cpuSubgroupVariants: false, matmulMinWorkgroups: 4, vqMinWorkgroups: 16, normLaneLen: 32, wideAttentionUnfused: false },
  },
};

/** The class of an adapter from its description (vendor / architecture / device / description). */
export function adapterClass(description: string): AdapterClass {
  if (/llvmpipe|lavapipe/i.test(description)) return 'lavapipe';
  if (/swiftshader/i.test(description)) return 'swiftshader';
  return 'gpu';
}

/** Checks an override: known keys, booleans and positive integers where they belong. */
export function checkTuning(t: Partial<KernelTuning>): void {
  const base = TUNING_TABLE.gpu.tuning;
  for (const [k, v] of Object.entries(t)) {
    if (!(k in base)) throw new RangeError(`tune: unknown key '${k}' (one of ${Object.keys(base).join(', ')})`);
    const want = typeof base[k as keyof KernelTuning];
    if (typeof v !== want || (want === 'number' && !(Number.isInteger(v) && (v as number) >= 1))) throw new RangeError(`tune: ${k} must be ${want === 'number' ? 'an integer >= 1' : 'a boolean'}, got ${String(v)}`);
  }
}
