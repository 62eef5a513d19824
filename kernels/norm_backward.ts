/**
 * Normalisation backward (wgsl/norm_backward_*.wgsl): gradients of the forwards in group_norm.ts and
 * row_norm.ts, given g = dL/dy.
 *   groupNormBackward     y = act(xhat * w + b), xhat = (x - mean) rstd per set, act = SiLU or identity;
 *                         x [B, C, ...S] (framewise: [B, C, T, H, W], per-frame sets, affine [T*C]).
 *   adaGroupNormBackward  the same with w = 1 + scale[b, c], b = shift[b, c].
 *   With gz = g * act'(z) (z = xhat w + b recomputed, not stored) and N the set size:
 *     dx = rstd (w gz - sum_set(w gz) / N - xhat sum_set(w gz xhat) / N)
 *     dweight[k] / dscale[b, c] = sum gz xhat,   dbias[k] / dshift[b, c] = sum gz
 *     over the elements that use that affine entry (batch and spatial; one (b, c) row for AdaGN).
 *   rmsNormBackward       y = w x r, r = rsqrt(mean(x^2) + eps), rows of x [..., D]:
 *     dx = r (w g - x r^2 sum_j(w_j g_j x_j) / D),   dweight = sum_rows g x r.
 *   layerNormBackward     y = xhat w + b, xhat = (x - mean) rstd, rstd = rsqrt(var + eps) (biased var),
 *                         rows of x [..., D]; with gw = g w:
 *     dx = rstd (gw - mean(gw) - xhat mean(gw xhat)),   dweight = sum_rows g xhat,   dbias = sum_rows g.
 * Passes (GroupNorm): groupNormStats' (count, mean, M2) per set; per 4096-element chunk of one channel
 * row the partial sums (sum gz, sum gz xhat); one invocation per set sums them in chunk order per row
 * (AdaGN's dshift / dscale as they are) and weights the rows into the set sums; dx per chunk; the
 * affine gradients as column sums of the [B, K] row sums over the batch. RMSNorm: one workgroup per row
 * (dx and r), then a column reduction in chunks of 128 rows. LayerNorm: one workgroup per row, two
 * passes as the forward (sums of x and gw, then of the centred c, c^2 and gw c, so a large mean does
 * not cancel; sum c also corrects the f32 mean's rounding), writing dx and g xhat; then the same
 * column reduction of g xhat and of g. Every sum runs in a fixed order (strided
 * partial sums, radix-16 trees, sequential merges; no atomics), so results are bitwise reproducible.
 * Numerics: f32 throughout. Tolerance vs the double references, per output tensor:
 * |err| <= 1e-5 scale + 1e-5 |ref|, scale = max|ref| (measured <= 4.3e-7 scale). dx is a difference of
 * O(rstd |w gz|) terms minus set means that are f32 sums of N terms, and the parameter gradients are
 * sums of up to B * S terms of random sign, whose rounding follows the summed magnitudes rather than
 * the (smaller) result: hence a budget relative to the tensor's largest value. RMSNorm's dx cancels
 * outright where x^2 dominates eps (D = 1: dx = r w g eps / (x^2 + eps)), so its scale is max |r w g|;
 * LayerNorm's dx likewise (D = 1: dx = 0), scale max |rstd w g|.
 *
 * line budget: the backwards of three norm families (GroupNorm with its frame-wise and adaptive
 * forms, LayerNorm, RMSNorm) share the column-sum pass, the checks and the references.
 */
import { expectTensor, sameContext } from './core/check.js';
import { foldGrid, type GpuContext } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { unusedBinding } from './core/bindings.js';
import { type GroupNormAffine, type GroupNormGeometry, chunkGrid, chunking, framewiseGeometry, groupGeometry } from './core/group_chunk.js';
import { type GroupNormOptions, type GroupNormRefArgs, groupNormStats } from './group_norm.js';
import { norm_backward_colsum as colsumShader, norm_backward_gn as gnShader, norm_backward_gn_sets as setsShader, norm_backward_ln as lnShader, norm_backward_rms as rmsShader } from './wgsl.gen.js';

// The partial-sum pass has barriers: the tuning table's normStatsWg, as group_norm_stats. The dx
// pass has none and runs 256 wide, 16 elements per invocation, as the forward apply pass.
const DX_WG = 256;
/** Rows per invocation of the column sums: 128 sequential f32 adds, then another level. */
const COL_ROWS = 128;
/** One invocation per set / per output column: no barriers, any width. */
const LINEAR_WG = 64;

/** The forward's options (groupNorm / groupNormFramewise), plus which of the two it was. */
export interface GroupNormBackwardOptions extends GroupNormOptions {
  /** x [B, C, T, H, W] normalised per frame (groupNormFramewise): 4 groups per frame by default, weight / bias [T*C]. */
  framewise?: boolean;
}

/** adaGroupNorm's options (groups default 32, eps default 1e-5, silu). */
export type AdaGroupNormBackwardOptions = Omit<GroupNormOptions, 'weight' | 'bias'>;

export interface GroupNormGrads {
  dx: Tensor<'f32'>;
  dweight: Tensor<'f32'> | null;
  dbias: Tensor<'f32'> | null;
}

export interface AdaGroupNormGrads {
  dx: Tensor<'f32'>;
  /** [B, C] */
  dscale: Tensor<'f32'>;
  /** [B, C] */
  dshift: Tensor<'f32'>;
}

export interface LayerNormGrads {
  dx: Tensor<'f32'>;
  /** [D], when a weight was given. */
  dweight: Tensor<'f32'> | null;
  /** [D], when a bias was given. */
  dbias: Tensor<'f32'> | null;
}

export interface RmsNormGrads {
  dx: Tensor<'f32'>;
  /** [D] */
  dweight: Tensor<'f32'>;
}

function geometry(k: string, shape: readonly number[], G: number, framewise: boolean): GroupNormGeometry {
  return framewise ? framewiseGeometry(k, shape, G) : groupGeometry(k, shape, G);
}

function epsOf(k: string, eps: number | undefined, def: number): number {
  const e = eps ?? def;
  if (typeof e !== 'number' || !(e >= 0) || !Number.isFinite(e)) throw new KernelArgError(k, 'eps', `expected a finite number >= 0, got ${String(eps)}`);
  return e;
}

function checkInputs(k: string, x: Tensor, g: Tensor, framewise: boolean): void {
  expectTensor(k, 'x', x, framewise ? { dtype: 'f32', rank: 5 } : { dtype: 'f32' });
  if (x.shape.length < 2) throw new KernelArgError(k, 'x', `rank ${x.shape.length}, expected [B, C, ...spatial]`);
  expectTensor(k, 'g', g, { dtype: 'f32', shape: x.shape });
}

/**
 * The GroupNorm passes: dx plus the per-row sums (sum gz, sum gz xhat), [B*T*C] each (row (b, t, c)).
 * x.size > 0.
 */
function gnBackward(k: string, x: Tensor, g: Tensor, geom: GroupNormGeometry, aff: GroupNormAffine, silu: boolean, eps: number, framewise: boolean) {
  const ctx = x.ctx;
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  const st = groupNormStats(x, { groups: geom.groups, framewise });
  const { sets, params: chunked } = chunking(geom);
  const { n_wg, segs } = chunked;
  const params = { ...chunked, aff_b: aff.aff_b, aff_t: aff.aff_t, eps };
  const overrides = { AFFINE: aff.mode, SILU: silu ? 1 : 0 };
  const weight = aff.weight ?? st;
  const bias = aff.bias ?? st;

  const part = ctx.tensor([n_wg, 2], 'f32', `${k}.partials`);
  const partGrid = chunkGrid(ctx, n_wg, geom.len, ctx.tuning.normStatsWg);
  ctx.dispatch(gnShader, { overrides: { ...overrides, WG: ctx.tuning.normStatsWg, DX: 0, LANE_CHUNKS: partGrid.LANE_CHUNKS }, bindings: { x, g, stats: st, weight, bias, set_sums: st, out: part }, params, workgroups: partGrid.workgroups });
  const nrows = sets * geom.rows;
  const sumG = ctx.tensor([nrows], 'f32', `${k}.sum_g`);
  const sumGx = ctx.tensor([nrows], 'f32', `${k}.sum_gx`);
  const setSums = ctx.tensor([sets, 2], 'f32', `${k}.set_sums`);
  ctx.dispatch(setsShader, {
    overrides: { WG: LINEAR_WG, AFFINE: aff.mode },
    bindings: { part, weight, sum_g: sumG, sum_gx: sumGx, set_sums: setSums },
    params: { sets, rows: geom.rows, segs, frames: geom.frames, groups: geom.groups, aff_b: aff.aff_b, aff_t: aff.aff_t },
    workgroups: foldGrid(Math.ceil(sets / LINEAR_WG), maxWg),
  });
  part.dispose();
  const dx = ctx.tensor(x.shape, 'f32', `${k}.dx`);
  const dxGrid = chunkGrid(ctx, n_wg, geom.len, DX_WG);
  ctx.dispatch(gnShader, { overrides: { ...overrides, WG: DX_WG, DX: 1, LANE_CHUNKS: dxGrid.LANE_CHUNKS }, bindings: { x, g, stats: st, weight, bias, set_sums: setSums, out: dx }, params, workgroups: dxGrid.workgroups });
  st.dispose();
  setSums.dispose();
  return { dx, sumG, sumGx };
}

/**
 * Column sums of a [rows, d] matrix (a, or a * b * s[row] with `product`), in a fixed order: chunks of
 * COL_ROWS rows, then the chunk sums the same way until one row is left. rows >= 1, d >= 1.
 */
function columnSums(ctx: GpuContext, label: string, rows: number, d: number, a: Tensor, product?: { b: Tensor; s: Tensor }): Tensor<'f32'> {
  let src = a;
  let prod = product;
  for (;;) {
    const chunks = Math.ceil(rows / COL_ROWS);
    const out = ctx.tensor(chunks === 1 ? [d] : [chunks, d], 'f32', label);
    const n = chunks * d;
    ctx.dispatch(colsumShader, {
      overrides: { WG: LINEAR_WG, PRODUCT: prod ? 1 : 0 },
      bindings: { a: src, b: prod?.b ?? src, s: prod?.s ?? src, out },
      params: { rows, d, rows_per: COL_ROWS, n },
      workgroups: foldGrid(Math.ceil(n / LINEAR_WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    });
    if (src !== a) src.dispose();
    if (chunks === 1) return out;
    src = out;
    rows = chunks;
    prod = undefined;
  }
}

/**
 * Backward of groupNorm (x [B, C, ...S]) or, with `framewise`, groupNormFramewise (x [B, C, T, H, W]),
 * with the forward's options; g = dL/dy like x. dweight / dbias only when weight / bias were given.
 * @example
 * const { dx, dweight, dbias } = groupNormBackward(x, dy, { weight: gn.w, bias: gn.b, silu: true });
 */
export function groupNormBackward(x: Tensor, g: Tensor, o: GroupNormBackwardOptions = {}): GroupNormGrads {
  const k = 'groupNormBackward';
  const framewise = !!o.framewise;
  checkInputs(k, x, g, framewise);
  const geom = geometry(k, x.shape, o.groups ?? (framewise ? 4 : 32), framewise);
  const [, C] = x.shape as [number, number];
  const K = framewise ? geom.frames * C : C;
  if (!o.weight !== !o.bias) throw new KernelArgError(k, o.weight ? 'bias' : 'weight', 'give both weight and bias, or neither (as the forward)');
  if (o.weight) {
    expectTensor(k, 'weight', o.weight, { dtype: 'f32', shape: [K] });
    expectTensor(k, 'bias', o.bias, { dtype: 'f32', shape: [K] });
  }
  const eps = epsOf(k, o.eps, 1e-6);
  sameContext(k, { x, g, weight: o.weight, bias: o.bias });
  const ctx = x.ctx;
  if (x.size === 0) {
    return { dx: ctx.tensor(x.shape, 'f32', `${k}.dx`), dweight: o.weight ? ctx.zeros([K]) : null, dbias: o.weight ? ctx.zeros([K]) : null };
  }
  const aff: GroupNormAffine = o.weight ? { mode: 1, weight: o.weight, bias: o.bias, aff_b: 0, aff_t: framewise ? C : 0 } : { mode: 0, aff_b: 0, aff_t: 0 };
  const { dx, sumG, sumGx } = gnBackward(k, x, g, geom, aff, !!o.silu, eps, framewise);
  // Row (b, t, c) = b * K + (t * C + c): the affine entry's gradient is a column sum over the batch.
  const dweight = o.weight ? columnSums(ctx, `${k}.dweight`, geom.batch, K, sumGx) : null;
  const dbias = o.weight ? columnSums(ctx, `${k}.dbias`, geom.batch, K, sumG) : null;
  sumG.dispose();
  sumGx.dispose();
  return { dx, dweight, dbias };
}

/**
 * Backward of adaGroupNorm: y = GN(x) * (1 + scale) + shift (then SiLU with `silu`), scale, shift [B, C].
 * @example
 * const { dx, dscale, dshift } = adaGroupNormBackward(x, scale, shift, dy);   // eps 1e-5, 32 groups
 */
export function adaGroupNormBackward(x: Tensor, scale: Tensor, shift: Tensor, g: Tensor, o: AdaGroupNormBackwardOptions = {}): AdaGroupNormGrads {
  const k = 'adaGroupNormBackward';
  checkInputs(k, x, g, false);
  const [B, C] = x.shape as [number, number];
  expectTensor(k, 'scale', scale, { dtype: 'f32', shape: [B, C] });
  expectTensor(k, 'shift', shift, { dtype: 'f32', shape: [B, C] });
  const geom = geometry(k, x.shape, o.groups ?? 32, false);
  const eps = epsOf(k, o.eps, 1e-5);
  sameContext(k, { x, scale, shift, g });
  const ctx = x.ctx;
  if (x.size === 0) return { dx: ctx.tensor(x.shape, 'f32', `${k}.dx`), dscale: ctx.zeros([B, C]), dshift: ctx.zeros([B, C]) };
  const { dx, sumG, sumGx } = gnBackward(k, x, g, geom, { mode: 2, weight: scale, bias: shift, aff_b: C, aff_t: 0 }, !!o.silu, eps, false);
  return { dx, dscale: sumGx.reshape([B, C]), dshift: sumG.reshape([B, C]) };
}

/**
 * Backward of rmsNorm (y = w x rsqrt(mean(x^2) + eps) over the last dim of x [..., D], weight [D]).
 * @example
 * const { dx, dweight } = rmsNormBackward(h, norm.w, dy);   // h [19, 1024], eps 1e-6
 */
export function rmsNormBackward(x: Tensor, weight: Tensor, g: Tensor, o: { eps?: number } = {}): RmsNormGrads {
  const k = 'rmsNormBackward';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  if (x.shape.length < 1) throw new KernelArgError(k, 'x', 'rank 0, expected [..., D]');
  const D = x.shape[x.shape.length - 1]!;
  expectTensor(k, 'weight', weight, { dtype: 'f32', shape: [D] });
  expectTensor(k, 'g', g, { dtype: 'f32', shape: x.shape });
  const eps = epsOf(k, o.eps, 1e-6);
  sameContext(k, { x, weight, g });
  const ctx = x.ctx;
  const dx = ctx.tensor(x.shape, 'f32', `${k}.dx`);
  if (x.size === 0) return { dx, dweight: ctx.zeros([D]) };
  const rows = x.size / D;
  const rstd = ctx.tensor([rows], 'f32', `${k}.rstd`);
  ctx.dispatch(rmsShader, { overrides: { WG: ctx.tuning.rowWg }, bindings: { x, weight, g, dx, rstd }, params: { rows, d: D, eps }, workgroups: foldGrid(rows, ctx.limits.maxComputeWorkgroupsPerDimension) });
  const dweight = columnSums(ctx, `${k}.dweight`, rows, D, g, { b: x, s: rstd });
  rstd.dispose();
  return { dx, dweight };
}

/**
 * Backward of layerNorm (y = (x - mean) / sqrt(var + eps) * w + b over the last dim of x [..., D],
 * weight / bias [D] optional, a bias only with a weight, as the forward). dweight / dbias only when
 * weight / bias were given.
 * @example
 * const { dx, dweight, dbias } = layerNormBackward(q, dy, { weight: ln.w, bias: ln.b });   // eps 1e-5
 */
export function layerNormBackward(x: Tensor, g: Tensor, o: { weight?: Tensor; bias?: Tensor; eps?: number } = {}): LayerNormGrads {
  const k = 'layerNormBackward';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  if (x.shape.length < 1) throw new KernelArgError(k, 'x', 'rank 0, expected [..., D]');
  const D = x.shape[x.shape.length - 1]!;
  expectTensor(k, 'g', g, { dtype: 'f32', shape: x.shape });
  if (o.weight) expectTensor(k, 'weight', o.weight, { dtype: 'f32', shape: [D] });
  if (o.bias) {
    if (!o.weight) throw new KernelArgError(k, 'bias', 'a bias needs a weight too (as the forward)');
    expectTensor(k, 'bias', o.bias, { dtype: 'f32', shape: [D] });
  }
  const eps = epsOf(k, o.eps, 1e-5);
  sameContext(k, { x, g, weight: o.weight, bias: o.bias });
  const ctx = x.ctx;
  const dx = ctx.tensor(x.shape, 'f32', `${k}.dx`);
  if (x.size === 0) return { dx, dweight: o.weight ? ctx.zeros([D]) : null, dbias: o.bias ? ctx.zeros([D]) : null };
  const rows = x.size / D;
  // Without a weight the shader writes no g xhat: a cached stand-in fills the binding.
  const gxh = o.weight ? ctx.tensor(x.shape, 'f32', `${k}.g_xhat`) : unusedBinding(ctx, `${k}.g_xhat`);
  ctx.dispatch(lnShader, {
    overrides: { WG: ctx.tuning.rowWg, WEIGHT: o.weight ? 1 : 0 },
    bindings: { x, weight: o.weight ?? x, g, dx, gxh },
    params: { rows, d: D, eps },
    workgroups: foldGrid(rows, ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  const dweight = o.weight ? columnSums(ctx, `${k}.dweight`, rows, D, gxh) : null;
  if (o.weight) gxh.dispose();
  const dbias = o.bias ? columnSums(ctx, `${k}.dbias`, rows, D, g) : null;
  return { dx, dweight, dbias };
}

// ---- CPU references (float64) ------------------------------------------------------------------

type RefAffine = NonNullable<GroupNormRefArgs['affine']>;

/** Doubles; eps rounded to f32 as the shader's uniform (and the forward references). */
function gnBackwardRefGeom(x: ArrayLike<number>, gy: ArrayLike<number>, g: GroupNormGeometry, epsIn: number, silu: boolean, affine?: RefAffine) {
  const eps = Math.fround(epsIn);
  const dx = new Float64Array(x.length);
  const dw = affine ? new Float64Array(affine.weight.length) : null;
  const db = affine ? new Float64Array(affine.weight.length) : null;
  const n = g.rows * g.len;
  for (let b = 0; b < g.batch; b++) {
    for (let t = 0; t < g.frames; t++) {
      for (let gi = 0; gi < g.groups; gi++) {
        const base = b * g.batch_stride + t * g.frame_stride + gi * g.rows * g.row_stride;
        let s = 0;
        for (let r = 0; r < g.rows; r++) for (let i = 0; i < g.len; i++) s += x[base + r * g.row_stride + i]!;
        const mean = s / n;
        let v = 0;
        for (let r = 0; r < g.rows; r++) for (let i = 0; i < g.len; i++) v += (x[base + r * g.row_stride + i]! - mean) ** 2;
        const rstd = 1 / Math.sqrt(v / n + eps);
        // h = dL/dxhat = gz * w; pass 1 sums h and h * xhat over the set, pass 2 writes dx.
        const hs = new Float64Array(n);
        let s1 = 0;
        let s2 = 0;
        for (let r = 0; r < g.rows; r++) {
          const c = gi * g.rows + r;
          const k = affine ? b * affine.aff_b + t * affine.aff_t + c : 0;
          const w = affine ? (affine.mode === 2 ? 1 + affine.weight[k]! : affine.weight[k]!) : 1;
          const sh = affine ? affine.bias[k]! : 0;
          for (let i = 0; i < g.len; i++) {
            const j = base + r * g.row_stride + i;
            const xh = (x[j]! - mean) * rstd;
            let gz = gy[j]!;
            if (silu) {
              const z = xh * w + sh;
              const sg = 1 / (1 + Math.exp(-z));
              gz *= sg * (1 + z * (1 - sg));
            }
            if (dw && db) {
              dw[k] = dw[k]! + gz * xh;
              db[k] = db[k]! + gz;
            }
            const h = gz * w;
            hs[r * g.len + i] = h;
            s1 += h;
            s2 += h * xh;
          }
        }
        for (let r = 0; r < g.rows; r++) {
          for (let i = 0; i < g.len; i++) {
            const j = base + r * g.row_stride + i;
            const xh = (x[j]! - mean) * rstd;
            dx[j] = rstd * (hs[r * g.len + i]! - s1 / n - (xh * s2) / n);
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/** Reference for groupNormBackward (framewise: groupNormFramewise's geometry, weight/bias [T*C]). */
export function groupNormBackwardRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  g: ArrayLike<number>,
  o: { groups?: number; eps?: number; weight?: ArrayLike<number>; bias?: ArrayLike<number>; silu?: boolean; framewise?: boolean } = {},
): { dx: Float64Array; dweight: Float64Array | null; dbias: Float64Array | null } {
  const framewise = !!o.framewise;
  const geom = geometry('groupNormBackwardRef', shape, o.groups ?? (framewise ? 4 : 32), framewise);
  const affine = o.weight && o.bias ? { mode: 1 as const, weight: o.weight, bias: o.bias, aff_b: 0, aff_t: framewise ? shape[1]! : 0 } : undefined;
  const r = gnBackwardRefGeom(x, g, geom, o.eps ?? 1e-6, !!o.silu, affine);
  return { dx: r.dx, dweight: r.dw, dbias: r.db };
}

/** Reference for adaGroupNormBackward (scale, shift [B, C]). */
export function adaGroupNormBackwardRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  scale: ArrayLike<number>,
  shift: ArrayLike<number>,
  g: ArrayLike<number>,
  o: { groups?: number; eps?: number; silu?: boolean } = {},
): { dx: Float64Array; dscale: Float64Array; dshift: Float64Array } {
  const geom = geometry('adaGroupNormBackwardRef', shape, o.groups ?? 32, false);
  const r = gnBackwardRefGeom(x, g, geom, o.eps ?? 1e-5, !!o.silu, { mode: 2, weight: scale, bias: shift, aff_b: shape[1]!, aff_t: 0 });
  return { dx: r.dx, dscale: r.dw!, dshift: r.db! };
}

/** Reference for rmsNormBackward over rows of D (eps rounded to f32, as rowNormRef). */
export function rmsNormBackwardRef(x: ArrayLike<number>, D: number, w: ArrayLike<number>, g: ArrayLike<number>, eps = 1e-6): { dx: Float64Array; dweight: Float64Array } {
  const e = Math.fround(eps);
  const dx = new Float64Array(x.length);
  const dweight = new Float64Array(D);
  for (let base = 0; base < x.length; base += D) {
    let q = 0;
    let dot = 0;
    for (let j = 0; j < D; j++) {
      q += x[base + j]! ** 2;
      dot += w[j]! * g[base + j]! * x[base + j]!;
    }
    const r = 1 / Math.sqrt(q / D + e);
    for (let j = 0; j < D; j++) {
      dx[base + j] = r * (w[j]! * g[base + j]! - (x[base + j]! * r * r * dot) / D);
      dweight[j] = dweight[j]! + g[base + j]! * x[base + j]! * r;
    }
  }
  return { dx, dweight };
}

/**
 * Reference for layerNormBackward over rows of D (eps rounded to f32, as rowNormRef); dweight / dbias
 * when weight / bias are given.
 */
export function layerNormBackwardRef(
  x: ArrayLike<number>,
  D: number,
  g: ArrayLike<number>,
  o: { weight?: ArrayLike<number>; bias?: ArrayLike<number>; eps?: number } = {},
): { dx: Float64Array; dweight: Float64Array | null; dbias: Float64Array | null } {
  const e = Math.fround(o.eps ?? 1e-5);
  const w = o.weight;
  const dx = new Float64Array(x.length);
  const dweight = w ? new Float64Array(D) : null;
  const dbias = o.bias ? new Float64Array(D) : null;
  const xh = new Float64Array(D);
  for (let base = 0; base < x.length; base += D) {
    let mean = 0;
    for (let j = 0; j < D; j++) mean += x[base + j]!;
    mean /= D;
    let q = 0;
    for (let j = 0; j < D; j++) q += (x[base + j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(q / D + e);
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < D; j++) {
      xh[j] = (x[base + j]! - mean) * rstd;
      const gw = g[base + j]! * (w ? w[j]! : 1);
      s1 += gw;
      s2 += gw * xh[j]!;
      if (dweight) dweight[j] = dweight[j]! + g[base + j]! * xh[j]!;
      if (dbias) dbias[j] = dbias[j]! + g[base + j]!;
    }
    for (let j = 0; j < D; j++) dx[base + j] = rstd * (g[base + j]! * (w ? w[j]! : 1) - s1 / D - (xh[j]! * s2) / D);
  }
  return { dx, dweight, dbias };
}
