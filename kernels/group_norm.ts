/**
 * GroupNorm family (wgsl/group_norm_stats.wgsl + wgsl/group_norm.wgsl, on vec4s group_norm_vec4.wgsl):
 *   groupNorm           x [B, C, ...S]: G groups of C/G channels, statistics over (C/G, ...S),
 *                       affine per channel (weight, bias [C]); spec: G = 32, eps 1e-6.
 *   groupNormFramewise  x [B, C, T, H, W]: the LDM encoder's "LA norm", GroupNorm(4T, C*T) on
 *                       x.permute(0,2,1,3,4): per frame t, 4 groups of C/4 channels over (C/4, H, W);
 *                       affine weight, bias [T*C] indexed t*C + c; eps 1e-6.
 *   adaGroupNorm        y = GN(x, no affine) * (1 + scale) + shift, scale/shift [B, C]; G = 32,
 *                       eps 1e-5 (the decoder's AdaGroupNorm; scale/shift come from a linear).
 * Each takes `silu: true` to apply SiLU after the affine (GN and SiLU run back to back in the model).
 *
 * Passes: (1) one workgroup per 4096-element chunk of one channel row reduces it to (count, mean,
 * M2): Welford's update per invocation (per vec4 where every chunk is whole vec4s: each vec4's own
 * (4, mean, M2) merged in), then Chan's merge in a radix-16 tree (workgroups of the
 * tuning table's normStatsWg: on lavapipe a barrier walks every SIMD group, so 64, not 256);
 * (2) while a set has more than one chunk, the same shader merges the partials; (3) one workgroup
 * per chunk normalises: y = (x - mean) rsqrt(M2/N + eps) w' + b'. Biased variance, as torch. All
 * f32; neither Welford nor the merge cancels when |mean| >> std (unlike E[x^2] - E[x]^2).
 * Tolerance vs the double reference: atol 2e-6 + rtol 2e-6 for O(1) data (f32 sums over <= 4096
 * terms per chunk); with |mean| = M >> std the f32 rounding of x and mean alone costs ~M * 6e-8 / std.
 */
import { expectEps, expectTensor, outTensor, sameContext } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { GROUP_CHUNK, type GroupNormAffine, type GroupNormGeometry, chunkGrid, chunking, framewiseGeometry, groupGeometry } from './core/group_chunk.js';
import { group_norm as applyShader, group_norm_stats as statsShader, group_norm_vec4 as applyVec4Shader } from './wgsl.gen.js';

const WG = 256;
export interface GroupNormOptions {
  /** Number of groups (groupNorm, adaGroupNorm: 32; groupNormFramewise: groups per frame, 4). */
  groups?: number;
  /** Added to the biased variance (groupNorm, groupNormFramewise: 1e-6; adaGroupNorm: 1e-5). */
  eps?: number;
  /** Affine scale: [C] (groupNorm) or [T*C] (groupNormFramewise). Give both weight and bias, or neither. */
  weight?: Tensor;
  bias?: Tensor;
  /** Apply SiLU after the affine. */
  silu?: boolean;
}

/**
 * Standard GroupNorm over [B, C, ...spatial] (C % groups == 0).
 * @example
 * const h = groupNorm(x, { weight: gn.w, bias: gn.b, silu: true });   // x [1,128,5,128,128], 32 groups
 */
export function groupNorm(x: Tensor, opts: GroupNormOptions = {}, out?: Tensor): Tensor<'f32'> {
  const k = 'groupNorm';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  if (x.shape.length < 2) throw new KernelArgError(k, 'x', `rank ${x.shape.length}, expected [B, C, ...spatial]`);
  const geom = groupGeometry(k, x.shape, opts.groups ?? 32);
  const C = x.shape[1]!;
  return run(k, x, geom, affineOf(k, opts, [C], 0, 0), opts, 1e-6, out);
}

/**
 * The LDM encoder's frame-wise GroupNorm ("LA norm") over [B, C, T, H, W]: per frame, `groups` (4) groups.
 * @example
 * const h = groupNormFramewise(x, { weight: w, bias: b, silu: true }); // x [1,C,5,H,W], w, b [5*C]
 */
export function groupNormFramewise(x: Tensor, opts: GroupNormOptions = {}, out?: Tensor): Tensor<'f32'> {
  const k = 'groupNormFramewise';
  expectTensor(k, 'x', x, { dtype: 'f32', rank: 5 });
  const [, C, T] = x.shape as [number, number, number];
  const geom = framewiseGeometry(k, x.shape, opts.groups ?? 4);
  return run(k, x, geom, affineOf(k, opts, [T * C], 0, C), opts, 1e-6, out);
}

/**
 * AdaGroupNorm: GN(x, `groups` groups, no affine) * (1 + scale) + shift, with scale and shift [B, C]
 * broadcast over the spatial dims of x [B, C, ...spatial].
 * @example
 * const y = adaGroupNorm(x, scale, shift);   // x [1,512,5,32,32], scale/shift [1,512], eps 1e-5
 */
export function adaGroupNorm(x: Tensor, scale: Tensor, shift: Tensor, opts: Omit<GroupNormOptions, 'weight' | 'bias'> = {}, out?: Tensor): Tensor<'f32'> {
  const k = 'adaGroupNorm';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  if (x.shape.length < 2) throw new KernelArgError(k, 'x', `rank ${x.shape.length}, expected [B, C, ...spatial]`);
  const [B, C] = x.shape as [number, number];
  expectTensor(k, 'scale', scale, { dtype: 'f32', shape: [B, C] });
  expectTensor(k, 'shift', shift, { dtype: 'f32', shape: [B, C] });
  const geom = groupGeometry(k, x.shape, opts.groups ?? 32);
  return run(k, x, geom, { mode: 2, weight: scale, bias: shift, aff_b: C, aff_t: 0 }, opts, 1e-5, out);
}

function affineOf(k: string, o: GroupNormOptions, shape: number[], aff_b: number, aff_t: number): GroupNormAffine {
  if (!o.weight !== !o.bias) throw new KernelArgError(k, o.weight ? 'bias' : 'weight', 'give both weight and bias, or neither');
  if (!o.weight) return { mode: 0, aff_b, aff_t };
  expectTensor(k, 'weight', o.weight, { dtype: 'f32', shape });
  expectTensor(k, 'bias', o.bias, { dtype: 'f32', shape });
  return { mode: 1, weight: o.weight, bias: o.bias, aff_b, aff_t };
}

/**
 * The statistics pass alone: (count, mean, M2) per normalisation set, [B*G, 3] (set order b, g) or,
 * with `framewise`, [B*T*G, 3] (order b, t, g); variance = M2 / count. For fusing the apply step
 * into a neighbouring kernel.
 */
export function groupNormStats(x: Tensor, opts: { groups?: number; framewise?: boolean } = {}): Tensor<'f32'> {
  const k = 'groupNormStats';
  expectTensor(k, 'x', x, opts.framewise ? { dtype: 'f32', rank: 5 } : { dtype: 'f32' });
  if (x.shape.length < 2) throw new KernelArgError(k, 'x', `rank ${x.shape.length}, expected [B, C, ...spatial]`);
  const g = opts.framewise ? framewiseGeometry(k, x.shape, opts.groups ?? 4) : groupGeometry(k, x.shape, opts.groups ?? 32);
  if (x.size === 0) throw new KernelArgError(k, 'x', `shape [${x.shape.join(',')}] has no elements (statistics undefined)`);
  return stats(k, x, g);
}

/** Whether every chunk starts at a multiple of 4 and holds a multiple of 4 elements: the passes then read (and the apply pass writes) vec4s. */
const wholeVec4s = (p: { len: number; chunk: number; row_stride: number; frame_stride: number; batch_stride: number }) =>
  [p.len, p.chunk, p.row_stride, p.frame_stride, p.batch_stride].every((v) => v % 4 === 0);

/** Passes 1 and 2: a [sets, 3] tensor of (count, mean, M2). */
function stats(k: string, x: Tensor, g: GroupNormGeometry): Tensor<'f32'> {
  const ctx = x.ctx;
  const { sets, params } = chunking(g);
  let st = ctx.tensor([params.n_wg, 3], 'f32', `${k}.stats`);
  const unused = { aff_b: 0, aff_t: 0, eps: 0 };
  const wg = ctx.tuning.normStatsWg;
  const first = chunkGrid(ctx, params.n_wg, g.len, wg);
  const vec4 = wholeVec4s(params);
  ctx.dispatch(statsShader, { overrides: { WG: wg, PARTIALS: 0, LANE_CHUNKS: first.LANE_CHUNKS, ...(vec4 ? { VEC4: 1 } : {}) }, bindings: { src: x, dst: st, src4: x }, params: { ...params, ...unused }, workgroups: first.workgroups });
  // Merge each set's partials (contiguous, `per` of them) until one triple per set is left.
  for (let per = params.n_wg / sets; per > 1; ) {
    const segs = Math.ceil(per / GROUP_CHUNK);
    const merged = ctx.tensor([sets * segs, 3], 'f32', `${k}.stats`);
    const grid = chunkGrid(ctx, sets * segs, per, wg);
    ctx.dispatch(statsShader, {
      overrides: { WG: wg, PARTIALS: 1, LANE_CHUNKS: grid.LANE_CHUNKS },
      bindings: { src: st, dst: merged, src4: st },
      params: { len: per, rows: 1, row_stride: per, frames: 1, frame_stride: 0, groups: sets, batch_stride: 0, chunk: GROUP_CHUNK, segs, n_wg: sets * segs, ...unused },
      workgroups: grid.workgroups,
    });
    st.dispose();
    st = merged;
    per = segs;
  }
  return st;
}

function run(k: string, x: Tensor, g: GroupNormGeometry, aff: GroupNormAffine, o: GroupNormOptions, defEps: number, out?: Tensor): Tensor<'f32'> {
  const eps = o.eps ?? defEps;
  expectEps(k, 'eps', eps);
  sameContext(k, { x, weight: aff.weight, bias: aff.bias, out });
  const dst = outTensor(k, x, x.shape, 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError(k, 'out', 'must not share its buffer with x');
  if (x.size === 0) return dst;
  const st = stats(k, x, g);
  const { params } = chunking(g);
  const grid = chunkGrid(x.ctx, params.n_wg, g.len, WG);
  x.ctx.dispatch(wholeVec4s(params) ? applyVec4Shader : applyShader, {
    overrides: { WG, AFFINE: aff.mode, SILU: o.silu ? 1 : 0, LANE_CHUNKS: grid.LANE_CHUNKS },
    bindings: { x, stats: st, weight: aff.weight ?? st, bias: aff.bias ?? st, out: dst },
    params: { ...params, aff_b: aff.aff_b, aff_t: aff.aff_t, eps },
    workgroups: grid.workgroups,
  });
  st.dispose();
  return dst;
}

/** Reference options: the geometry plus the affine arrays (mode 2 = AdaGroupNorm's 1 + scale). */
export interface GroupNormRefArgs {
  eps: number;
  silu?: boolean;
  affine?: { mode: 1 | 2; weight: ArrayLike<number>; bias: ArrayLike<number>; aff_b: number; aff_t: number };
}

/** CPU reference in doubles (two-pass mean and biased variance per set), any geometry. */
export function groupNormRefGeom(x: ArrayLike<number>, g: GroupNormGeometry, a: GroupNormRefArgs): Float64Array {
  const out = new Float64Array(x.length);
  const eps = Math.fround(a.eps);
  for (let b = 0; b < g.batch; b++) {
    for (let t = 0; t < g.frames; t++) {
      for (let gi = 0; gi < g.groups; gi++) {
        const base = b * g.batch_stride + t * g.frame_stride + gi * g.rows * g.row_stride;
        const n = g.rows * g.len;
        let s = 0;
        for (let r = 0; r < g.rows; r++) for (let i = 0; i < g.len; i++) s += x[base + r * g.row_stride + i]!;
        const mean = s / n;
        let v = 0;
        for (let r = 0; r < g.rows; r++) for (let i = 0; i < g.len; i++) v += (x[base + r * g.row_stride + i]! - mean) ** 2;
        const rstd = 1 / Math.sqrt(v / n + eps);
        for (let r = 0; r < g.rows; r++) {
          const c = gi * g.rows + r;
          let w = 1;
          let sh = 0;
          if (a.affine) {
            const k = b * a.affine.aff_b + t * a.affine.aff_t + c;
            w = a.affine.mode === 2 ? 1 + a.affine.weight[k]! : a.affine.weight[k]!;
            sh = a.affine.bias[k]!;
          }
          for (let i = 0; i < g.len; i++) {
            const j = base + r * g.row_stride + i;
            const y = (x[j]! - mean) * rstd * w + sh;
            out[j] = a.silu ? y / (1 + Math.exp(-y)) : y;
          }
        }
      }
    }
  }
  return out;
}

/** Reference for groupNorm (weight/bias [C] optional). */
export function groupNormRef(x: ArrayLike<number>, shape: readonly number[], o: { groups?: number; eps?: number; weight?: ArrayLike<number>; bias?: ArrayLike<number>; silu?: boolean } = {}): Float64Array {
  const g = groupGeometry('groupNormRef', shape, o.groups ?? 32);
  const affine = o.weight && o.bias ? { mode: 1 as const, weight: o.weight, bias: o.bias, aff_b: 0, aff_t: 0 } : undefined;
  return groupNormRefGeom(x, g, { eps: o.eps ?? 1e-6, silu: o.silu, affine });
}

/** Reference for groupNormFramewise (weight/bias [T*C] optional). */
export function groupNormFramewiseRef(x: ArrayLike<number>, shape: readonly number[], o: { groups?: number; eps?: number; weight?: ArrayLike<number>; bias?: ArrayLike<number>; silu?: boolean } = {}): Float64Array {
  const C = shape[1]!;
  const g = framewiseGeometry('groupNormFramewiseRef', shape, o.groups ?? 4);
  const affine = o.weight && o.bias ? { mode: 1 as const, weight: o.weight, bias: o.bias, aff_b: 0, aff_t: C } : undefined;
  return groupNormRefGeom(x, g, { eps: o.eps ?? 1e-6, silu: o.silu, affine });
}

/** Reference for adaGroupNorm (scale, shift [B, C]). */
export function adaGroupNormRef(x: ArrayLike<number>, shape: readonly number[], scale: ArrayLike<number>, shift: ArrayLike<number>, o: { groups?: number; eps?: number; silu?: boolean } = {}): Float64Array {
  const g = groupGeometry('adaGroupNormRef', shape, o.groups ?? 32);
  return groupNormRefGeom(x, g, { eps: o.eps ?? 1e-5, silu: o.silu, affine: { mode: 2, weight: scale, bias: shift, aff_b: shape[1]!, aff_t: 0 } });
}
