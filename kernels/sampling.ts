/**
 * sampling: next-token selection from logits [B, V] (wgsl/sampling.wgsl), one workgroup per row.
 *   argmax(logits)            -> i32 [B], ties -> lowest index.
 *   sampleTokens(logits, o)   -> i32 [B]: a draw from softmax(logits / temperature) after top-k
 *                                and top-p (HF order), or the argmax when `greedy`.
 *   sample(logits, o)         -> Promise<Int32Array>: the same, read back.
 * The draw is Gumbel-max (argmax of z + g over the kept set, exactly a multinomial draw from the
 * renormalised softmax) with g from a pcg4d hash of (token, row, step, seed): same seed and step,
 * same token; vary `step` per generated token. Top-k / top-p thresholds come from a radix select
 * on the order-preserving u32 keys of z (no sort); top-p masses are u32 fixed point (2^30 per
 * unit of the top-k softmax), so that search is exact integer arithmetic. Ties at a threshold
 * are kept together (top-k may keep more than k tokens when the k-th value is tied).
 * Reference: sampleRef / argmaxRef use the same hash, keys and fixed-point rule; the Gumbel
 * score and exp are in doubles there and in f32 on the GPU.
 * Tolerance: argmax exact. Sampling: the same token unless the reference's two best scores are
 * within 1e-5 (f32 score rounding) or a token's top-p mass sits within ~1e-7 of the cut.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { sampling as shader } from './wgsl.gen.js';

const WG = 256;

export interface SampleOptions {
  /** RNG seed, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** RNG counter (e.g. the decode step), an integer in [0, 2^32). Default 0. */
  step?: number;
  /** Logits are divided by it (> 0). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off, the default). */
  topK?: number;
  /** Keep the smallest top set whose mass reaches p, in (0, 1] (1 = off, the default). */
  topP?: number;
  /** Return the argmax instead of sampling. */
  greedy?: boolean;
}

interface Resolved {
  seed: number;
  step: number;
  invTemp: number;
  topK: number;
  topP: number;
  greedy: boolean;
}

function resolve(kernel: string, o: SampleOptions): Resolved {
  const u32 = (name: string, v: number | undefined) => {
    const x = v ?? 0;
    if (!Number.isInteger(x) || x < 0 || x >= 2 ** 32) throw new KernelArgError(kernel, name, `expected an integer in [0, 2^32), got ${String(v)}`);
    return x;
  };
  const t = o.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new KernelArgError(kernel, 'temperature', `expected a finite number > 0, got ${String(o.temperature)} (use greedy for argmax)`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new KernelArgError(kernel, 'topP', `expected a number in (0, 1], got ${String(o.topP)}`);
  return { seed: u32('seed', o.seed), step: u32('step', o.step), invTemp: Math.fround(1 / t), topK: u32('topK', o.topK), topP: Math.fround(topP), greedy: o.greedy === true };
}

function dispatch(kernel: string, logits: Tensor, r: Resolved, out: Tensor | undefined): Tensor<'i32'> {
  expectTensor(kernel, 'logits', logits, { dtype: 'f32', rank: 2 });
  sameContext(kernel, { logits, out });
  const [rows, v] = logits.shape as [number, number];
  if (v < 1) throw new KernelArgError(kernel, 'logits', `shape [${rows},${v}] needs V >= 1`);
  const dst = outTensor(kernel, logits, [rows], 'i32', out);
  logits.ctx.dispatch(shader, {
    overrides: r.greedy ? { WG, GREEDY: 1 } : { WG },
    bindings: { x: logits, out: dst },
    params: { rows, v, seed: r.seed, step: r.step, inv_temp: r.invTemp, top_k: r.topK, top_p: r.topP },
    workgroups: foldGrid(rows, logits.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** Index of the largest logit per row of [B, V] (ties: lowest index), as i32 [B]. */
export function argmax(logits: Tensor, out?: Tensor): Tensor<'i32'> {
  return dispatch('argmax', logits, { seed: 0, step: 0, invTemp: 1, topK: 0, topP: 1, greedy: true }, out);
}

/** Records the sampling of one token per row of logits [B, V]; returns i32 [B] on the GPU. */
export function sampleTokens(logits: Tensor, opts: SampleOptions = {}, out?: Tensor): Tensor<'i32'> {
  return dispatch('sampling', logits, resolve('sampling', opts), out);
}

/**
 * Samples one token per row and reads the ids back.
 * @example const [id] = await sample(logits, { seed: 60, step: t, topK: 50, topP: 0.9 });
 */
export async function sample(logits: Tensor, opts: SampleOptions = {}): Promise<Int32Array> {
  const ids = sampleTokens(logits, opts);
  try {
    return await ids.read();
  } finally {
    ids.dispose();
  }
}

// ---- CPU reference -------------------------------------------------------------------------

/** pcg4d (Jarzynski & Olano 2020), first lane, as the shader computes it. */
export function pcg4dX(a: number, b: number, c: number, d: number): number {
  let v = [a, b, c, d].map((x) => (Math.imul(x, 1664525) + 1013904223) >>> 0) as [number, number, number, number];
  const round = () => {
    v[0] = (v[0] + Math.imul(v[1], v[3])) >>> 0;
    v[1] = (v[1] + Math.imul(v[2], v[0])) >>> 0;
    v[2] = (v[2] + Math.imul(v[0], v[1])) >>> 0;
    v[3] = (v[3] + Math.imul(v[1], v[2])) >>> 0;
  };
  round();
  v = v.map((x) => (x ^ (x >>> 16)) >>> 0) as typeof v;
  round();
  return v[0];
}

/** The Gumbel noise of token i in `row` (doubles from the same 24-bit uniform as the shader). */
export function gumbelRef(i: number, row: number, step: number, seed: number): number {
  const u = ((pcg4dX(i, row, step, seed) >>> 8) + 0.5) * 2 ** -24;
  return -Math.log(-Math.log(u));
}

/** Per-token scores of one row: z (greedy) or z + g, and -Infinity for tokens top-k/top-p drop. */
export function sampleScoresRef(row: ArrayLike<number>, rowIndex: number, opts: SampleOptions = {}): Float64Array {
  const r = resolve('sampling', opts);
  const v = row.length;
  const z = Float64Array.from({ length: v }, (_, i) => Math.fround(row[i]! * r.invTemp));
  const out = new Float64Array(v);
  if (r.greedy) return z;
  const kept = new Uint8Array(v).fill(1);
  const desc = [...z].sort((a, b) => b - a);
  if (r.topK > 0 && r.topK < v) {
    const kth = desc[r.topK - 1]!;
    for (let i = 0; i < v; i++) if (z[i]! < kth) kept[i] = 0;
  }
  if (r.topP < 1) {
    const m = desc[0]!;
    let s = 0;
    for (let i = 0; i < v; i++) if (kept[i]) s += Math.exp(Math.fround(z[i]! - m));
    const scale = Math.fround(2 ** 30 / Math.fround(s));
    const q = Float64Array.from(z, (zi, i) => (kept[i] ? Math.floor(Math.fround(Math.fround(Math.exp(Math.fround(zi - m))) * scale)) : 0));
    const total = q.reduce((a, b) => a + b, 0);
    const target = Math.max(1, Math.floor(Math.fround(r.topP * Math.fround(total))));
    // Walk distinct values from the top; the cut is the first value whose cumulative mass reaches target.
    const order = [...z.keys()].filter((i) => kept[i]).sort((a, b) => z[b]! - z[a]!);
    let cum = 0;
    let cut = -Infinity;
    for (let j = 0; j < order.length; j++) {
      cum += q[order[j]!]!;
      const last = j + 1 === order.length || z[order[j + 1]!]! !== z[order[j]!]!;
      if (last && cum >= target) {
        cut = z[order[j]!]!;
        break;
      }
    }
    for (let i = 0; i < v; i++) if (z[i]! < cut) kept[i] = 0;
  }
  for (let i = 0; i < v; i++) out[i] = kept[i] ? z[i]! + gumbelRef(i, rowIndex, r.step, r.seed) : -Infinity;
  return out;
}

function argmaxRow(scores: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (scores[i]! !== -Infinity && (best < 0 || scores[i]! > scores[best]!)) best = i;
  return best < 0 ? 0 : best;
}

/** CPU reference of sampleTokens over logits [B, V] (row-major). */
export function sampleRef(logits: ArrayLike<number>, v: number, opts: SampleOptions = {}): Int32Array {
  const rows = logits.length / v;
  const out = new Int32Array(rows);
  for (let b = 0; b < rows; b++) out[b] = argmaxRow(sampleScoresRef(Array.prototype.slice.call(logits, b * v, (b + 1) * v) as number[], b, opts));
  return out;
}

/** CPU reference of argmax (ties: lowest index). */
export function argmaxRef(logits: ArrayLike<number>, v: number): Int32Array {
  return sampleRef(logits, v, { greedy: true });
}
