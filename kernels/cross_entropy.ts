/**
 * cross_entropy: fused softmax cross-entropy with its gradient (wgsl/cross_entropy.wgsl), torch
 * F.cross_entropy(logits, targets, ignore_index, reduction) semantics:
 *   perRow[r] = logsumexp(x_r) - x_r[t_r]             (0 on rows with t_r == ignoreIndex)
 *   loss      = sum_r perRow[r] / count  (mean; count = number of non-ignored rows)  or  sum_r perRow[r]
 *   dlogits   = (softmax(x_r) - onehot(t_r)) / count  (mean; without "/ count" for sum),
 *               exactly 0 on ignored rows
 * i.e. dlogits = dloss/dlogits for an incoming gradient of 1 (scale it by the loss's gradient).
 * All rows ignored: the mean is 0 / 0 = NaN, as torch; perRow and dlogits are then all 0 (torch's
 * gradient is 0 there too). The count is computed on the GPU from the targets, so GPU targets need
 * no read-back; every reduction has a fixed order (deterministic bits).
 * Layouts: logits f32 [R, V] row-major, targets i32 [R] (a tensor or an Int32Array), loss [1],
 * perRow [R], dlogits [R, V]. Rows are streamed (V up to the 160005-entry vocabulary: one read of
 * the row for max and sum, with an online logsumexp, and one more for the gradient). Logits over
 * one storage binding (R = 300 rows of 160005 are 192 MB, lavapipe binds 128 MiB) are bound as
 * row chunks at aligned offsets, one launch per chunk, dlogits chunked alike.
 * Bad targets: host targets outside [0, V) that are not ignoreIndex throw a KernelArgError before
 * anything is recorded (torch raises too); a GPU target out of range makes its perRow entry and
 * dlogits row NaN, and so the loss NaN (it is counted as a valid row).
 * Tolerance vs the double reference: loss and perRow atol 1e-6 + rtol 1e-6 (a logsumexp of f32
 * exps summed in V / 32-term runs: measured 3e-7 relative at V = 160005; the sum over rows adds
 * ~log2(R) ulp); dlogits atol 1e-6 * max|ref| (softmax entries to a few ulp, p - 1 on the target
 * column to one ulp of 1, times the f32 1 / count). The golden (torch, 7 x 11) is held to the same.
 */
import { bindingLimit } from './core/knobs.js';
import { expectTensor, sameContext } from './core/check.js';
import { type GpuContext, foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { Tensor } from './core/tensor.js';
import { tableChunks, unusedBinding } from './core/bindings.js';
import { cross_entropy as shader } from './wgsl.gen.js';

const K = 'softmax_cross_entropy';
// Rows: the tuning table's rowWg, as softmax. Count and loss: one workgroup over all R rows.
const WG_RED = 256;

export interface SoftmaxCrossEntropyOptions {
  /** Target value whose rows are skipped (default -100, as torch). */
  ignoreIndex?: number;
  /** 'mean' over the non-ignored rows (default) or 'sum'. */
  reduction?: 'mean' | 'sum';
  /** Compute dlogits (default true). */
  grad?: boolean;
}

export interface SoftmaxCrossEntropyResult {
  /** [1] */
  loss: Tensor<'f32'>;
  /** [R], 0 on ignored rows. */
  perRow: Tensor<'f32'>;
  /** [R, V], or null when grad is false. */
  dlogits: Tensor<'f32'> | null;
}

function options(o: SoftmaxCrossEntropyOptions): { ignoreIndex: number; mean: boolean } {
  const ignoreIndex = o.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex) || ignoreIndex !== (ignoreIndex | 0)) throw new KernelArgError(K, 'ignoreIndex', `expected an int32 integer, got ${String(o.ignoreIndex)}`);
  const reduction = o.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new KernelArgError(K, 'reduction', `expected 'mean' or 'sum', got ${String(o.reduction)}`);
  return { ignoreIndex, mean: reduction === 'mean' };
}

function targetTensor(ctx: GpuContext, targets: Tensor | Int32Array, R: number, V: number, ignoreIndex: number): Tensor {
  if (targets instanceof Tensor) {
    expectTensor(K, 'targets', targets, { dtype: 'i32', shape: [R] });
    return targets;
  }
  if (!(targets instanceof Int32Array)) throw new KernelArgError(K, 'targets', 'expected an i32 Tensor or an Int32Array');
  if (targets.length !== R) throw new KernelArgError(K, 'targets', `${targets.length} targets, expected one per logits row (${R})`);
  const bad = targets.findIndex((t) => t !== ignoreIndex && (t < 0 || t >= V));
  if (bad >= 0) throw new KernelArgError(K, 'targets', `target ${targets[bad]} at row ${bad} is outside [0, ${V}) and is not ignoreIndex (${ignoreIndex})`);
  return ctx.fromArray(targets, [R], 'i32', `${K}.targets`);
}

/** Row chunks of the logits, each within one binding at an aligned offset. */
function rowChunks(R: number, V: number, maxBytes: number, align: number): [number, number][] {
  try {
    return tableChunks(K, R, V, maxBytes, align);
  } catch (e) {
    if (!(e instanceof KernelArgError)) throw e;
    throw new KernelArgError(K, 'logits', `rows of ${V} logits cannot be bound in chunks: ${e.detail}`);
  }
}

/**
 * Cross-entropy loss of logits [R, V] against class targets [R], with the gradient.
 * @example
 * const { loss, dlogits } = softmaxCrossEntropy(logits, Int32Array.from(nextTokens));   // logits [T, 160005]
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor | Int32Array, o: SoftmaxCrossEntropyOptions = {}): SoftmaxCrossEntropyResult {
  expectTensor(K, 'logits', logits, { dtype: 'f32', rank: 2 });
  const [R, V] = logits.shape as [number, number];
  if (V < 1) throw new KernelArgError(K, 'logits', `shape [${R},${V}] needs at least one class`);
  // The valid-row count is an f32 workgroup sum: exact up to 2^24 rows.
  if (R > 2 ** 24) throw new KernelArgError(K, 'logits', `${R} rows, at most 2^24 = ${2 ** 24} in one call`);
  const { ignoreIndex, mean } = options(o);
  const grad = o.grad ?? true;
  const ctx = logits.ctx;
  const maxBytes = bindingLimit(ctx.limits.maxStorageBufferBindingSize);
  const chunks = rowChunks(R, V, maxBytes, ctx.limits.minStorageBufferOffsetAlignment);
  if (targets instanceof Tensor) sameContext(K, { logits, targets });
  const tt = targetTensor(ctx, targets, R, V, ignoreIndex);

  const loss = ctx.tensor([1], 'f32', `${K}.loss`);
  const perRow = ctx.tensor([R], 'f32', `${K}.perRow`);
  const dlogits = grad ? ctx.tensor([R, V], 'f32', `${K}.dlogits`) : null;
  const stats = ctx.tensor([1], 'u32', `${K}.count`);
  const dstub = unusedBinding(ctx, `${K}.dlogits`);
  const run = (mode: number, wg: number, workgroups: readonly [number, number?], row0: number, rows: number) => {
    const chunk = (t: Tensor) => (chunks.length === 1 ? t : { buffer: t.buffer, offset: row0 * V * 4, size: Math.max(16, rows * V * 4) });
    ctx.dispatch(shader, {
      overrides: { WG: wg, MODE: mode, GRAD: Number(grad) },
      bindings: { logits: chunk(logits), targets: tt, dlogits: dlogits && mode === 1 ? chunk(dlogits) : dstub, per_row: perRow, stats, loss },
      params: { rows, row0, r_total: R, v: V, ignore_index: ignoreIndex, mean: Number(mean) },
      workgroups,
    });
  };
  // The valid-row count only divides the mean.
  if (mean) run(0, WG_RED, [1], 0, 0);
  for (const [row0, rows] of chunks) run(1, ctx.tuning.rowWg, rows === 0 ? [0] : foldGrid(rows, ctx.limits.maxComputeWorkgroupsPerDimension), row0, rows);
  run(2, WG_RED, [1], 0, 0);
  stats.dispose();
  if (tt !== targets) tt.dispose();
  return { loss, perRow, dlogits };
}

/**
 * CPU reference in doubles. Targets outside [0, V) that are not ignoreIndex give NaN rows (what
 * the GPU does with such GPU targets); dlogits is null when o.grad is false.
 */
export function softmaxCrossEntropyRef(
  logits: ArrayLike<number>,
  R: number,
  V: number,
  targets: ArrayLike<number>,
  o: SoftmaxCrossEntropyOptions = {},
): { loss: number; perRow: Float64Array; dlogits: Float64Array | null } {
  const { ignoreIndex, mean } = options(o);
  const perRow = new Float64Array(R);
  const dlogits = (o.grad ?? true) ? new Float64Array(R * V) : null;
  let count = 0;
  for (let r = 0; r < R; r++) if (targets[r] !== ignoreIndex) count++;
  const w = mean ? 1 / count : 1;
  for (let r = 0; r < R; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const base = r * V;
    if (!(t >= 0 && t < V)) {
      perRow[r] = NaN;
      dlogits?.fill(NaN, base, base + V);
      continue;
    }
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[base + j]!);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(logits[base + j]! - m);
    perRow[r] = m - logits[base + t]! + Math.log(s);
    if (dlogits) for (let j = 0; j < V; j++) dlogits[base + j] = (Math.exp(logits[base + j]! - m) / s - (j === t ? 1 : 0)) * w;
  }
  let sum = 0;
  for (let r = 0; r < R; r++) sum += perRow[r]!;
  return { loss: mean ? sum / count : sum, perRow, dlogits };
}
