/**
 * The FSQ plan shared by fsq_round, fsq_codes and fsq_backward: a level list's float32 constants
 * (upstream's half_l, offset, shift) and digit thresholds, computed as kernels/fsq_round.ts
 * describes, plus the project_in / project_out Linear those kernels fuse.
 */
import { expectTensor } from './check.js';
import { KernelArgError } from './errors.js';
import type { Tensor } from './tensor.js';

const EPS = 1e-3;
const MAX_LEVELS = 8;
const f32 = Math.fround;

/** A torch Linear's weight [rows, cols] and bias [rows]. */
export interface Linear {
  weight: Tensor;
  bias?: Tensor;
}

/** Per-level float32 constants and digit thresholds of one level list. */
export interface FsqPlan {
  levels: number[];
  hw: number[];
  basis: number[];
  halfL: number[];
  offset: number[];
  shift: number[];
  /** thresholds[k][j]: smallest float32 u with digit_k(u) >= j + 1. */
  thresholds: Float32Array[];
  nCodes: number;
}

/** JS Math.round rounds .5 up; torch.round and WGSL round() round half to even. */
export function roundHalfEven(x: number): number {
  const fl = Math.floor(x);
  const d = x - fl;
  const r = d < 0.5 ? fl : d > 0.5 ? fl + 1 : fl % 2 === 0 ? fl : fl + 1;
  // torch keeps the sign of zero (round(-0.5) = -0).
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

/** Upstream's bound() for one value in float32 (every step rounded with Math.fround). */
export function fsqBound(u: number, halfL: number, offset: number, shift: number): number {
  return f32(f32(f32(Math.tanh(f32(f32(u) + shift))) * halfL) - offset);
}

const planCache = new Map<string, FsqPlan>();
const u32Bits = new Uint32Array(1);
const f32View = new Float32Array(u32Bits.buffer);
const keyToF32 = (k: number) => ((u32Bits[0] = k >= 0 ? k : (-k | 0x80000000) >>> 0), f32View[0]!);

/** Validates a level list and computes its constants and thresholds (cached per list). */
export function fsqPlan(levels: readonly number[], kernel = 'fsq_round'): FsqPlan {
  if (!Array.isArray(levels) || levels.length < 1 || levels.length > MAX_LEVELS) {
    throw new KernelArgError(kernel, 'levels', `expected 1..${MAX_LEVELS} levels, got ${Array.isArray(levels) ? `${levels.length} ([${levels.join(',')}])` : String(levels)}`);
  }
  const key = levels.join(',');
  const hit = planCache.get(key);
  if (hit) return hit;
  let nCodes = 1;
  for (const L of levels) {
    if (!Number.isInteger(L) || L < 2) throw new KernelArgError(kernel, 'levels', `every level must be an integer >= 2, got [${key}]`);
    nCodes *= L;
  }
  if (nCodes > 2 ** 24) throw new KernelArgError(kernel, 'levels', `prod(levels) = ${nCodes} exceeds 2^24 (upstream's float32 index sum is inexact there)`);
  const plan: FsqPlan = { levels: [...levels], hw: [], basis: [], halfL: [], offset: [], shift: [], thresholds: [], nCodes };
  let basis = 1;
  for (const L of levels) {
    const hw = Math.floor(L / 2);
    const halfL = f32(f32(f32(L - 1) * f32(1 + EPS)) / 2);
    const offset = L % 2 === 0 ? 0.5 : 0;
    const shift = f32(Math.atanh(f32(offset / halfL)));
    const q = (u: number) => roundHalfEven(fsqBound(u, halfL, offset, shift));
    const qlo = q(-Infinity);
    const qhi = q(Infinity);
    if (qlo !== -hw || qhi !== L - 1 - hw) {
      throw new KernelArgError(kernel, 'levels', `level ${L}: the eps=${EPS} bound rounds to ${qhi - qlo + 1} values [${qlo}, ${qhi}], not ${L}`);
    }
    // Bisection over float32 values ordered as integers (-inf .. +inf); q is monotone in u.
    const thr = new Float32Array(L - 1);
    for (let j = 1; j < L; j++) {
      let lo = -0x7f800000;
      let hi = 0x7f800000;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (q(keyToF32(mid)) >= qlo + j) hi = mid;
        else lo = mid;
      }
      thr[j - 1] = keyToF32(hi);
    }
    plan.hw.push(hw);
    plan.basis.push(basis);
    plan.halfL.push(halfL);
    plan.offset.push(offset);
    plan.shift.push(shift);
    plan.thresholds.push(thr);
    basis *= L;
  }
  planCache.set(key, plan);
  return plan;
}

/** Row counts from which fsq_round and fsq_codes run several rows per invocation. */
export const FSQ_MANY_ROWS = 4096;

/**
 * Rows per invocation (R in wgsl/fsq_round.wgsl and fsq_codes.wgsl): R rows share each weight
 * load, which pays where rows are many (R = 8 ran 2x R = 2 with a projection of D = 256), but the
 * R-times unrolled body is slow to JIT on lavapipe (fsq_round with the go levels: R = 8 ~8 s, R = 1
 * ~0.9 s, busy machine), a cost every cold start pays; a model's FSQ sees 16-400 rows, run as
 * R = 1 in microseconds. Figures: bench/README.md, Design measurements: fsq_round.
 */
export function fsqRowsPerInvocation(rows: number, projected: boolean): number {
  return rows < FSQ_MANY_ROWS ? 1 : projected ? 8 : 4;
}

/** Checks a Linear's weight [rows, cols] and bias [rows]. */
export function expectLinear(kernel: string, arg: string, lin: Linear, rows: number | null, cols: number | null): void {
  expectTensor(kernel, `${arg}.weight`, lin.weight, { dtype: 'f32', rank: 2, shape: [rows, cols] });
  if (lin.bias !== undefined) expectTensor(kernel, `${arg}.bias`, lin.bias, { dtype: 'f32', shape: [lin.weight.shape[0]!] });
}

/** Host data of a Linear for the references: weight row-major [rows, cols]. */
export interface LinearData {
  weight: ArrayLike<number>;
  bias?: ArrayLike<number>;
}
