/**
 * embedding_backward: the gradient of gather_rows' table (wgsl/embedding_backward.wgsl),
 *
 *   dtable[v, :] = sum over positions p with ids[p] = v of g[p, :]   (0 for ids that never occur)
 *
 * as a deterministic scatter-add: the host groups the positions by id (a stable counting sort into
 * a CSR of ascending unique ids, offsets and positions), and each invocation owns one unique id and
 * 4 columns and sums its rows in ascending position order, which is also the order of torch's CPU
 * embedding backward. No atomics, so the result is the same bits on every run.
 *
 * Layouts: ids Int32Array [N] (host; any batch shape flattened), g f32 [N, D], dtable f32 [vocab, D].
 * Tables over maxStorageBufferBindingSize (the transformer's 160005 x 1024 f32 = 625 MiB vs 128 MiB
 * bindings) are written in row chunks at aligned offsets (tableChunks, as gather_rows); the ids of
 * a chunk are a contiguous run of the sorted unique ids. A fresh table is zeroed with a buffer
 * clear; a caller's `out` by a ZERO pass per chunk before its sums.
 * Tolerance vs the float64 reference: an id occurring k times is a sequential float32 sum of k
 * rows, |err| <= (k - 1) 2^-24 sum|g| <= k (k - 1) 2^-24 max|g| (rows occurring once are exact).
 */
import { bindingLimit } from './core/knobs.js';
import { expectInt, expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { tableChunks, unusedBinding } from './core/bindings.js';
import { embedding_backward as shader } from './wgsl.gen.js';

const WG = 64;

export interface EmbeddingBackwardOptions {
  /** [vocab, D] f32; every element is overwritten. */
  out?: Tensor;
}

/** Positions grouped by id, ids ascending, positions ascending within an id. */
export interface EmbeddingCsr {
  uniq: Int32Array;
  /** [uniq.length + 1]: the positions of uniq[j] are pos[offsets[j] .. offsets[j + 1]). */
  offsets: Uint32Array;
  pos: Uint32Array;
}

/** Stable counting sort of positions by id; throws a KernelArgError naming the first id outside [0, vocab). */
export function embeddingCsr(kernel: string, ids: Int32Array, vocab: number): EmbeddingCsr {
  const start = new Uint32Array(vocab + 1);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (v < 0 || v >= vocab) throw new KernelArgError(kernel, 'ids', `id ${v} at position ${i} is out of range [0, ${vocab})`);
    start[v + 1]!++;
  }
  let u = 0;
  for (let v = 0; v < vocab; v++) {
    if (start[v + 1]) u++;
    start[v + 1]! += start[v]!;
  }
  const uniq = new Int32Array(u);
  const offsets = new Uint32Array(u + 1);
  for (let v = 0, j = 0; v < vocab; v++) {
    if (start[v + 1] === start[v]) continue;
    uniq[j] = v;
    offsets[++j] = start[v + 1]!;
  }
  const pos = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) pos[start[ids[i]!]!++] = i;
  return { uniq, offsets, pos };
}

/** First index j with a[j] >= x (a ascending). */
function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Gradient of an embedding table [vocab, D] from the gradient g [N, D] of its gathered rows.
 * @example
 * const dEmbed = embeddingBackward(tokenIds, dHidden.reshape([n, 1024]), 160005);   // [160005, 1024]
 */
export function embeddingBackward(ids: Int32Array, g: Tensor, vocab: number, o: EmbeddingBackwardOptions = {}): Tensor<'f32'> {
  const K = 'embedding_backward';
  if (!(ids instanceof Int32Array)) throw new KernelArgError(K, 'ids', `expected an Int32Array of host ids, got ${ids === null ? 'null' : typeof ids}`);
  expectTensor(K, 'g', g, { dtype: 'f32', rank: 2 });
  expectInt(K, 'vocab', vocab, 1);
  const [N, D] = g.shape as [number, number];
  if (ids.length !== N) throw new KernelArgError(K, 'ids', `${ids.length} ids for ${N} rows of g [${g.shape.join(',')}]`);
  sameContext(K, { g, out: o.out });
  const ctx = g.ctx;
  const chunks = tableChunks(K, vocab, D, bindingLimit(ctx.limits.maxStorageBufferBindingSize), ctx.limits.minStorageBufferOffsetAlignment);
  const csr = embeddingCsr(K, ids, vocab);
  const out = o.out ? outTensor(K, g, [vocab, D], 'f32', o.out) : ctx.zeros([vocab, D], 'f32', 'embedding_backward.out');
  if (out.buffer === g.buffer) throw new KernelArgError(K, 'out', 'aliases g');
  if (D === 0) return out;
  const U = csr.uniq.length;
  const uniq = U ? ctx.fromArray(csr.uniq, [U], 'i32', 'embedding_backward.uniq') : unusedBinding(ctx, 'embedding_backward.uniq');
  const offsets = U ? ctx.fromArray(csr.offsets, [U + 1], 'u32', 'embedding_backward.offsets') : unusedBinding(ctx, 'embedding_backward.offsets');
  const pos = U ? ctx.fromArray(csr.pos, [N], 'u32', 'embedding_backward.pos') : unusedBinding(ctx, 'embedding_backward.pos');
  const groups = Math.ceil(D / 4);
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  for (const [row0, rows] of chunks) {
    const table = chunks.length === 1 ? out : { buffer: out.buffer, offset: row0 * D * 4, size: Math.max(16, rows * D * 4) };
    const base = { uniq, offsets, pos, g, table };
    if (o.out) {
      const count = Math.ceil((rows * D) / 4);
      ctx.dispatch(shader, {
        overrides: { WG, ZERO: 1 },
        bindings: base,
        params: { count, u0: 0, d: D, groups, row0, n: rows * D },
        workgroups: foldGrid(Math.ceil(count / WG), maxWg),
      });
    }
    const u0 = lowerBound(csr.uniq, row0);
    const nu = lowerBound(csr.uniq, row0 + rows) - u0;
    if (nu === 0) continue;
    ctx.dispatch(shader, {
      overrides: { WG },
      bindings: base,
      params: { count: nu * groups, u0, d: D, groups, row0, n: rows * D },
      workgroups: foldGrid(Math.ceil((nu * groups) / WG), maxWg),
    });
  }
  if (U) for (const t of [uniq, offsets, pos]) t.dispose();
  return out;
}

/** CPU reference: [vocab, D] float64 sums (ids must lie in [0, vocab)). */
export function embeddingBackwardRef(ids: ArrayLike<number>, g: ArrayLike<number>, vocab: number, D: number): Float64Array {
  const out = new Float64Array(vocab * D);
  for (let p = 0; p < ids.length; p++) {
    for (let c = 0; c < D; c++) out[ids[p]! * D + c]! += g[p * D + c]!;
  }
  return out;
}
