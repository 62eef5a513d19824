/**
 * vq_lookup: nearest codebook entry under L2 (the VQ-VAE lookup), wgsl/vq_lookup.wgsl.
 *
 *   idx[n] = argmin_v ||x_n − c_v||² = argmin_v (||c_v||² − 2 x_n·c_v), ties -> lowest v
 *
 * Layouts: x f32 [N, E], codebook f32 [V, E] (row-major), indices i32 [N], codes [N, E] (optional,
 * gathered with gather_rows). ||x_n||² is dropped: it is the same for every v and adding it in
 * f32 would only cost precision. Three launches: code norms [V] (reduceSum of squares), partial
 * argmins of a tiled x·cᵀ GEMM over `splits` slices of the codebook (argmin fused into the
 * epilogue, so the [N, V] distance matrix never exists), and a combine over the slices
 * (wgsl/vq_combine.wgsl). The partial pass is
 * wgsl/vq_lookup_sg.wgsl where the adapter has subgroups of >= 8 (matmul_packed_sg's tile over
 * x^T and the codebook in column blocks (kernels/pack.ts), both made per call), else the 4x4 tiled
 * pass of wgsl/vq_lookup.wgsl; both sum in the same order, so they differ (fma contraction is
 * up to each pipeline's compiler) at most on near-tie rows.
 * Rows with NaN input (or distances that overflow f32) return index -1.
 * Tolerance: f32 distances differ from exact ones by at most tau = 2·E·2^-24·(||x||² + ||c_a||² +
 * ||c_b||²) for a pair (a, b) (fma dot-product error bound γ_E·Σ|x c| <= E·u·(||x||²+||c||²)/2,
 * doubled for 2x·c, plus the norms), so the index must equal the float64 argmin except on rows whose
 * two best float64 distances are within tau of each other; `vqNearTies` lists those rows.
 * Exactly equal f32 distances (duplicated codes) always resolve to the lowest index.
 */
import { knobs } from './core/knobs.js';
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { gatherRows } from './gather_rows.js';
import { packBlocks, packedBlocksSize, transposePadded } from './pack.js';
import { reduceSum } from './reduce.js';
import { vq_combine as combineShader, vq_lookup as shader, vq_lookup_sg as sgShader } from './wgsl.gen.js';

const WGX = 8;
const WGY = 8;
/** Codebook bytes per slice: small enough to stay in a core's L2 while every row group reads it. */
const SLICE_BYTES = 256 * 1024;
const COMBINE_WG = 64;

export interface VqNearestOptions {
  /** Also return the chosen codebook rows [N, E]. */
  returnCodes?: boolean;
  out?: Tensor;
}

/**
 * Nearest codebook rows for each input row.
 * @example
 * const { indices, codes } = vqNearest(x, codebook, { returnCodes: true }); // [N] i32, [N, E]
 */
export function vqNearest(x: Tensor, codebook: Tensor, opts: VqNearestOptions = {}): { indices: Tensor<'i32'>; codes?: Tensor<'f32'> } {
  const K = 'vq_lookup';
  expectTensor(K, 'x', x, { dtype: 'f32', rank: 2 });
  expectTensor(K, 'codebook', codebook, { dtype: 'f32', rank: 2, shape: [null, x.shape[1]!] });
  sameContext(K, { x, codebook, out: opts.out });
  const [N, E] = x.shape as [number, number];
  const V = codebook.shape[0]!;
  if (V < 1 || E < 1) throw new KernelArgError(K, 'codebook', `needs at least one code of at least one element, got [${codebook.shape.join(',')}]`);
  const ctx = x.ctx;
  const maxBind = ctx.limits.maxStorageBufferBindingSize;
  for (const [name, t] of [['x', x], ['codebook', codebook]] as const) {
    if (t.byteLength > maxBind) throw new KernelArgError(K, name, `${t} is ${t.byteLength} bytes, over the ${maxBind}-byte binding limit`);
  }
  const packedBytes = Math.ceil(V / 16) * 16 * E * 4;
  const sgOk = ctx.hasSubgroups(8) && packedBytes <= maxBind;
  // The partial-argmin pass: wgsl/vq_lookup_sg.wgsl where the adapter has subgroups of >= 8 and the
  // packed codebook fits one binding, else wgsl/vq_lookup.wgsl (the vqLookup knob forces one).
  const forced = knobs().vqLookup;
  if (forced === 'subgroup' && !sgOk) throw new KernelArgError(K, 'knobs.vqLookup', `'subgroup' needs the 'subgroups' feature, subgroupMinSize >= 8 and a packed codebook (${packedBytes} bytes) within the ${maxBind}-byte binding limit`);
  if (forced !== undefined && forced !== 'subgroup' && forced !== 'tiled') throw new KernelArgError(K, 'knobs.vqLookup', `'${String(forced)}' is not one of subgroup, tiled`);
  const sg = (forced ?? (sgOk && ctx.useCpuSubgroupVariants() ? 'subgroup' : 'tiled')) === 'subgroup';
  const indices = outTensor(K, x, [N], 'i32', opts.out, 'vq.indices');
  if (N === 0) return { indices, codes: opts.returnCodes ? ctx.tensor([0, E], 'f32', 'vq.codes') : undefined };
  const sgWg = N > 128 ? 32 : 8;
  const rowGroups = sg ? Math.ceil(N / (4 * sgWg)) : Math.ceil(N / (4 * WGY));
  const colBlock = sg ? 32 : 4 * WGX;
  // Slices of at most SLICE_BYTES of codebook (reused from cache by every row group), and enough
  // of them to give the tuning table's vqMinWorkgroups when N is small.
  const bySize = Math.ceil((V * E * 4) / SLICE_BYTES);
  const byCount = Math.ceil(ctx.tuning.vqMinWorkgroups / rowGroups);
  const splits = Math.min(Math.ceil(V / colBlock), Math.max(1, bySize, byCount), ctx.limits.maxComputeWorkgroupsPerDimension);
  const span = Math.ceil(V / splits / colBlock) * colBlock;
  const slices = Math.ceil(V / span);
  const cn = ctx.tensor([V], 'f32', 'vq.norms');
  const part = ctx.tensor([slices, N, 2], 'u32', 'vq.partial');
  const params = { n: N, v: V, e: E, span, splits: slices };
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (rowGroups > maxWg) throw new KernelArgError(K, 'x', `${N} rows need ${rowGroups} row groups, over ${maxWg}`);
  // ||c_v||^2 in one fixed order per code: duplicated codes get equal norms.
  reduceSum(codebook, [1, V, E], cn, { square: true });
  if (sg) {
    const xt = transposePadded(x, false, 1, N, E);
    // Blocks of RN = 16 codes (vq_lookup_sg.wgsl).
    const blocks = { batch: 1, n: V, k: E, r: 16, trans: true };
    const cbp = ctx.tensor([packedBlocksSize(blocks)], 'f32', 'vq.packedCodebook');
    packBlocks(ctx, codebook, cbp, blocks);
    ctx.dispatch(sgShader, { overrides: { WG: sgWg }, bindings: { xt, cbp, cn, part }, params, workgroups: [rowGroups, slices] });
    xt.dispose();
    cbp.dispose();
  } else ctx.dispatch(shader, { overrides: { WGX, WGY }, bindings: { x, cb: codebook, cn, part }, params, workgroups: [rowGroups, slices] });
  ctx.dispatch(combineShader, { overrides: { WG: COMBINE_WG }, bindings: { part, idx: indices }, params, workgroups: foldGrid(Math.ceil(N / COMBINE_WG), maxWg) });
  cn.dispose();
  part.dispose();
  return { indices, codes: opts.returnCodes ? gatherRows(codebook, indices) : undefined };
}

function sqDist(x: ArrayLike<number>, xo: number, c: ArrayLike<number>, co: number, E: number): number {
  let s = 0;
  for (let k = 0; k < E; k++) {
    const d = x[xo + k]! - c[co + k]!;
    s += d * d;
  }
  return s;
}

function sqNorm(a: ArrayLike<number>, o: number, E: number): number {
  let s = 0;
  for (let k = 0; k < E; k++) s += a[o + k]! * a[o + k]!;
  return s;
}

/** Float64 reference: argmin_v ||x_n − c_v||² (ties -> lowest index), x [N, E], codebook [V, E]. */
export function vqNearestRef(x: ArrayLike<number>, codebook: ArrayLike<number>, N: number, V: number, E: number): Int32Array {
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = Infinity;
    let bi = -1;
    for (let v = 0; v < V; v++) {
      const d = sqDist(x, n * E, codebook, v * E, E);
      if (d < best) {
        best = d;
        bi = v;
      }
    }
    out[n] = bi;
  }
  return out;
}

/** The f32 error bound on the distance gap between codes a and b for one row (see the header). */
export function vqTieTolerance(xNorm2: number, aNorm2: number, bNorm2: number, E: number): number {
  return 2 * E * 2 ** -24 * (xNorm2 + aNorm2 + bNorm2);
}

export interface VqNearTie {
  row: number;
  best: number;
  second: number;
  /** Float64 distance of `second` minus that of `best` (>= 0). */
  gap: number;
  tol: number;
}

/**
 * Rows whose two best float64 distances are within the f32 tolerance: there an f32 lookup may
 * legitimately return `second`. Tests use it to accept (and report) those rows instead of hiding them.
 */
export function vqNearTies(x: ArrayLike<number>, codebook: ArrayLike<number>, N: number, V: number, E: number): VqNearTie[] {
  const ties: VqNearTie[] = [];
  const cn = Float64Array.from({ length: V }, (_, v) => sqNorm(codebook, v * E, E));
  for (let n = 0; n < N; n++) {
    let b1 = -1;
    let b2 = -1;
    let d1 = Infinity;
    let d2 = Infinity;
    for (let v = 0; v < V; v++) {
      const d = sqDist(x, n * E, codebook, v * E, E);
      if (d < d1) {
        b2 = b1;
        d2 = d1;
        b1 = v;
        d1 = d;
      } else if (d < d2) {
        b2 = v;
        d2 = d;
      }
    }
    if (b2 < 0) continue;
    const tol = vqTieTolerance(sqNorm(x, n * E, E), cn[b1]!, cn[b2]!, E);
    if (d2 - d1 <= tol) ties.push({ row: n, best: b1, second: b2, gap: d2 - d1, tol });
  }
  return ties;
}
