/**
 * fsq_round: finite scalar quantization (upstream `finite_scalar_quantization.py`, spec 3.4), with
 * an optional fused project_in linear (wgsl/fsq_round.wgsl). Also `fsqCodesToIndices`.
 *
 *   u = project_in(z) (or z), bounded = tanh(u + shift)·half_l − offset, q = round_half_even(bounded)
 *   code = q / (L div 2), index = Σ (q + L div 2)·basis     (basis = cumulative product of levels)
 *
 * half_l = (L−1)(1+1e-3)/2, offset = 0.5 for even L, shift = atanh(offset/half_l): computed here in
 * float32 exactly as torch does (checked against the golden's aux/half_l, aux/shift) and compiled
 * into the pipeline as override constants (one pipeline per level list): on lavapipe every storage
 * load is a per-lane gather, and loading per-level constants per row measured slower.
 * u -> q is a monotone step function of the float32 u, so the host finds its L−1 thresholds by
 * bisection over float32 with `fsqBound` (upstream's float32 arithmetic, tanh correctly rounded to
 * f32), and digit = #{thresholds <= u} is bit-exact with torch for every u, exact .5 ties included.
 * Lists with <= 48 thresholds (the model's [8,8,8,5,5,5] has 33) compile them in and count in
 * registers; longer lists evaluate WGSL tanh + round (NOT exact alone: a few-ulp tanh or an fma in
 * `t·half_l − offset` flips values on .5, and the fsq_nodim golden fails) and let a threshold from
 * a storage table decide wherever the bound lies within 1e-3 of a .5 boundary.
 *
 * Layouts: channel-last z [..., D] -> codes [..., nl], indices [...]; channel-first (default for
 * rank >= 4, as upstream) z [B, D, ...spatial] -> codes [B, nl, ...spatial], indices [B, ...spatial].
 * project_in weight [nl, D], bias [nl] (torch Linear layout). Without project_in, D must equal nl.
 * Limits: 1 <= nl <= 8, every L >= 2, prod(levels) <= 2^24 (upstream sums the index in float32;
 * beyond 2^24 its indices are inexact), and the bound must reach exactly L rounded values (false for
 * L >~ 1000 with eps 1e-3, where upstream emits indices outside its own codebook).
 * Tolerance: indices and codes exact vs `fsqQuantizeRef` given the same u. u = project_in(z) is an
 * f32 dot product (sequential fma over D): within ~1e-6 relative of torch's sgemm, so an index may
 * differ from the reference only where the reference's bounded value is within ~1e-4 of a .5 boundary.
 * The plan (constants, thresholds) that fsq_codes and fsq_backward share: kernels/core/fsq_plan.ts.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { type GpuContext, foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { knobs } from './core/knobs.js';
import type { Tensor } from './core/tensor.js';
import { type FsqPlan, type Linear, type LinearData, expectLinear, fsqBound, fsqPlan, fsqRowsPerInvocation, roundHalfEven } from './core/fsq_plan.js';
import { unusedBinding } from './core/bindings.js';
import { fsq_round as shader } from './wgsl.gen.js';

const WG = 256;
/** Level lists with at most this many thresholds (T0..T47 in the shader) compile them in. */
const CONST_THRESHOLDS = 48;
const f32 = Math.fround;

/** The shaders' `tab` buffer for a plan (uploaded once per context and level list). */
export function fsqTable(ctx: GpuContext, plan: FsqPlan): Tensor {
  const key = plan.levels.join(',');
  return ctx.constant(`fsq.tab[${key}]`, () => {
    const nThr = plan.levels.reduce((a, L) => a + L - 1, 0);
    const tab = new Uint32Array(32 + nThr);
    let slot = 0;
    plan.levels.forEach((L, k) => {
      tab.set([L, plan.hw[k]!, plan.basis[k]!, slot], 4 * k);
      tab.set(new Uint32Array(plan.thresholds[k]!.buffer), 32 + slot);
      slot += L - 1;
    });
    return ctx.fromArray(tab, [tab.length], 'u32', `fsq.tab[${key}]`);
  });
}

/** Rows, per-row dims and spatial extent of a channel-last or channel-first tensor. */
function rowLayout(kernel: string, x: Tensor, channelFirst: boolean): { rows: number; dim: number; spatial: number; lead: number[]; space: number[] } {
  if (channelFirst) {
    if (x.shape.length < 3) throw new KernelArgError(kernel, 'z', `channel-first input needs rank >= 3 [B, C, ...spatial], got [${x.shape.join(',')}]`);
    const space = x.shape.slice(2);
    const spatial = space.reduce((a, b) => a * b, 1);
    return { rows: x.shape[0]! * spatial, dim: x.shape[1]!, spatial, lead: [x.shape[0]!], space };
  }
  if (x.shape.length < 2) throw new KernelArgError(kernel, 'z', `channel-last input needs rank >= 2 [..., C], got [${x.shape.join(',')}]`);
  const lead = x.shape.slice(0, -1);
  return { rows: lead.reduce((a, b) => a * b, 1), dim: x.shape[x.shape.length - 1]!, spatial: 1, lead, space: [] };
}

export interface FsqQuantizeOptions {
  levels: readonly number[];
  /** torch Linear(dim -> len(levels)): weight [nl, dim], bias [nl]. */
  projectIn?: Linear;
  /** Channels in dim 1 (NCHW / NCDHW). Default: rank >= 4, as upstream. */
  channelFirst?: boolean;
  out?: { codes?: Tensor; indices?: Tensor };
}

/**
 * FSQ forward (without project_out): normalised codes and int32 indices.
 * @example
 * const { codes, indices } = fsqQuantize(z, { levels: [8, 8, 8, 5, 5, 5], projectIn: { weight, bias } });
 */
export function fsqQuantize(z: Tensor, opts: FsqQuantizeOptions): { codes: Tensor<'f32'>; indices: Tensor<'i32'> } {
  const K = 'fsq_round';
  const plan = fsqPlan(opts.levels, K);
  const nl = plan.levels.length;
  expectTensor(K, 'z', z, { dtype: 'f32' });
  const cf = opts.channelFirst ?? z.shape.length >= 4;
  const lay = rowLayout(K, z, cf);
  if (opts.projectIn) expectLinear(K, 'projectIn', opts.projectIn, nl, lay.dim);
  else if (lay.dim !== nl) throw new KernelArgError(K, 'z', `channel dim ${lay.dim} must equal len(levels) = ${nl} without projectIn (shape [${z.shape.join(',')}])`);
  sameContext(K, { z, w: opts.projectIn?.weight, b: opts.projectIn?.bias, codes: opts.out?.codes, indices: opts.out?.indices });
  const codesShape = cf ? [...lay.lead, nl, ...lay.space] : [...lay.lead, nl];
  const idxShape = cf ? [...lay.lead, ...lay.space] : lay.lead;
  const codes = outTensor(K, z, codesShape, 'f32', opts.out?.codes, 'fsq.codes');
  const indices = outTensor(K, z, idxShape, 'i32', opts.out?.indices, 'fsq.indices');
  dispatchRound(z, lay, plan, opts.projectIn, codes, indices, false, knobs().fsqConstThresholds ?? true);
  return { codes, indices };
}

export interface FsqCodesToIndicesOptions {
  levels: readonly number[];
  channelFirst?: boolean;
  out?: Tensor;
}

/** Upstream `codes_to_indices`: normalised codes [..., nl] (or [B, nl, ...] channel-first) -> int32 indices. */
export function fsqCodesToIndices(codes: Tensor, opts: FsqCodesToIndicesOptions): Tensor<'i32'> {
  const K = 'fsq_round';
  const plan = fsqPlan(opts.levels, K);
  expectTensor(K, 'codes', codes, { dtype: 'f32' });
  const cf = opts.channelFirst ?? codes.shape.length >= 4;
  const lay = rowLayout(K, codes, cf);
  if (lay.dim !== plan.levels.length) throw new KernelArgError(K, 'codes', `channel dim ${lay.dim} must equal len(levels) = ${plan.levels.length} (shape [${codes.shape.join(',')}])`);
  sameContext(K, { codes, out: opts.out });
  const indices = outTensor(K, codes, cf ? [...lay.lead, ...lay.space] : lay.lead, 'i32', opts.out, 'fsq.indices');
  dispatchRound(codes, lay, plan, undefined, unusedBinding(codes.ctx, 'fsq.codes'), indices, true);
  return indices;
}

/** The level list compiled into fsq_round: one pipeline per list (a model uses one or two). */
function fsqOverrides(plan: FsqPlan, constThresholds: boolean): Record<string, number> {
  const o: Record<string, number> = { WG, NL: plan.levels.length };
  plan.levels.forEach((L, k) => {
    o[`L${k}`] = L;
    o[`H${k}`] = plan.halfL[k]!;
    o[`SH${k}`] = plan.shift[k]!;
  });
  const thr = plan.thresholds.flatMap((t) => [...t]);
  if (constThresholds && thr.length <= CONST_THRESHOLDS) {
    o.CONST_THR = 1;
    thr.forEach((v, i) => (o[`T${i}`] = v));
  }
  return o;
}

function dispatchRound(z: Tensor, lay: { rows: number; dim: number; spatial: number }, plan: FsqPlan, proj: Linear | undefined, codes: Tensor, indices: Tensor, fromCodes: boolean, constThresholds = true): void {
  const ctx = z.ctx;
  const rowsPer = fsqRowsPerInvocation(lay.rows, proj !== undefined);
  ctx.dispatch(shader, {
    overrides: { ...fsqOverrides(plan, constThresholds), R: rowsPer },
    bindings: {
      z,
      w: proj?.weight ?? unusedBinding(ctx, 'fsq.w'),
      bias: proj?.bias ?? unusedBinding(ctx, 'fsq.bias'),
      tab: fsqTable(ctx, plan),
      codes,
      indices,
    },
    params: {
      rows: lay.rows,
      dim: lay.dim,
      spatial: lay.spatial,
      has_proj: proj ? 1 : 0,
      has_bias: proj?.bias ? 1 : 0,
      from_codes: fromCodes ? 1 : 0,
    },
    workgroups: foldGrid(Math.ceil(lay.rows / (rowsPer * WG)), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
}

/**
 * CPU reference, channel-last rows: z [rows, dim] -> codes [rows, nl], indices [rows], plus the
 * float32 `bounded` values (for near-tie reporting) and u = project_in(z) (f64 sum, rounded to f32).
 * Computed directly (tanh, round half to even), not through the thresholds the GPU uses.
 */
export function fsqQuantizeRef(z: ArrayLike<number>, rows: number, dim: number, levels: readonly number[], proj?: LinearData): { codes: Float64Array; indices: Int32Array; bounded: Float32Array; u: Float32Array } {
  const plan = fsqPlan(levels);
  const nl = plan.levels.length;
  const codes = new Float64Array(rows * nl);
  const indices = new Int32Array(rows);
  const bounded = new Float32Array(rows * nl);
  const uu = new Float32Array(rows * nl);
  for (let r = 0; r < rows; r++) {
    let index = 0;
    for (let k = 0; k < nl; k++) {
      let u: number;
      if (proj) {
        let acc = proj.bias ? proj.bias[k]! : 0;
        for (let d = 0; d < dim; d++) acc += proj.weight[k * dim + d]! * z[r * dim + d]!;
        u = f32(acc);
      } else u = f32(z[r * dim + k]!);
      const b = fsqBound(u, plan.halfL[k]!, plan.offset[k]!, plan.shift[k]!);
      const q = roundHalfEven(b);
      uu[r * nl + k] = u;
      bounded[r * nl + k] = b;
      codes[r * nl + k] = f32(q / plan.hw[k]!);
      index += (q + plan.hw[k]!) * plan.basis[k]!;
    }
    indices[r] = index;
  }
  return { codes, indices, bounded, u: uu };
}

/** CPU reference of upstream codes_to_indices on channel-last rows [rows, nl]. */
export function fsqCodesToIndicesRef(codes: ArrayLike<number>, rows: number, levels: readonly number[]): Int32Array {
  const plan = fsqPlan(levels);
  const nl = plan.levels.length;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let k = 0; k < nl; k++) {
      const digit = f32(f32(f32(codes[r * nl + k]!) * plan.hw[k]!) + plan.hw[k]!);
      acc = f32(acc + f32(digit * plan.basis[k]!));
    }
    out[r] = Math.trunc(acc);
  }
  return out;
}
