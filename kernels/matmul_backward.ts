/**
 * matmul_backward: gradients of `linear` and `matmul` from the incoming gradient g = dL/dy,
 * composed from `matmul` (its transA / transB loads, no copies) and `reduceSum`; no shader of its own.
 *   linear  y = x @ w^T + b (torch nn.Linear), x [..., K], w [N, K], g [..., N]:
 *           dx = g @ w  [..., K]     dw = g^T @ x  [N, K]     db = sum over rows of g  [N]
 *   matmul  y = op(a) @ op(b), op(a) [..., M, K], op(b) [..., K, N], g [..., M, N]:
 *           d op(a) = g @ op(b)^T    d op(b) = op(a)^T @ g, each stored in its operand's own
 *           layout (transA: da = op(b) @ g^T, [..., K, M]; transB: db = g^T @ op(a), [..., N, K]).
 * Both operands must have the same batch dims: a broadcast operand's gradient would need a sum
 * over the batch, which the caller does by expanding it first (matmul itself broadcasts).
 * Numerics and tolerance: those of kernels/matmul.ts with K the contraction length (N for dx / da,
 * the row count M for dw / db): atol 1e-5 * sqrt(length) + rtol 1e-5 for |x|, |w|, |g| <= 1; db
 * is a reduceSum (atol 1e-6 * sqrt(M), kernels/reduce.ts).
 */
import { expectTensor, sameContext } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import { type Tensor, numel } from './core/tensor.js';
import { matmul } from './matmul.js';
import { reduceSum } from './reduce.js';

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Gradients of y = x @ w^T (+ b): dx (null when o.input === false), dw, db (only when o.bias).
 * @example
 * const { dx, dw, db } = linearBackward(x, w, gy, { bias: true });  // x [B, T, K], w [N, K], gy [B, T, N]
 */
export function linearBackward(x: Tensor, w: Tensor, g: Tensor, o: { bias?: boolean; input?: boolean } = {}): { dx: Tensor<'f32'> | null; dw: Tensor<'f32'>; db: Tensor<'f32'> | null } {
  const k = 'linearBackward';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  expectTensor(k, 'w', w, { dtype: 'f32', rank: 2 });
  expectTensor(k, 'g', g, { dtype: 'f32' });
  sameContext(k, { x, w, g });
  if (x.shape.length < 1) throw new KernelArgError(k, 'x', 'rank 0, expected [..., K]');
  const K = x.shape[x.shape.length - 1]!;
  const [N, Kw] = w.shape as [number, number];
  if (Kw !== K) throw new KernelArgError(k, 'w', `shape ${fmt(w.shape)}, expected [N, ${K}] (x is ${fmt(x.shape)})`);
  const lead = x.shape.slice(0, -1);
  const gShape = [...lead, N];
  if (fmt(g.shape) !== fmt(gShape)) throw new KernelArgError(k, 'g', `shape ${fmt(g.shape)}, expected ${fmt(gShape)} (x ${fmt(x.shape)}, w ${fmt(w.shape)})`);
  const M = numel(lead);
  const g2 = g.reshape([M, N]);
  const dx = o.input === false ? null : matmul(g2, w).reshape(x.shape);
  const dw = matmul(g2, x.reshape([M, K]), { transA: true });
  const db = o.bias ? reduceSum(g, [M, N, 1]) : null;
  return { dx, dw, db };
}

interface Plan {
  batch: number;
  M: number;
  N: number;
  K: number;
}

function plan(k: string, aShape: readonly number[], bShape: readonly number[], gShape: readonly number[] | null, transA: boolean, transB: boolean): Plan {
  if (aShape.length < 2) throw new KernelArgError(k, 'a', `rank ${aShape.length} (shape ${fmt(aShape)}), expected rank >= 2 ([..., M, K])`);
  if (bShape.length < 2) throw new KernelArgError(k, 'b', `rank ${bShape.length} (shape ${fmt(bShape)}), expected rank >= 2 ([..., K, N])`);
  const aB = aShape.slice(0, -2);
  const bB = bShape.slice(0, -2);
  if (fmt(aB) !== fmt(bB)) throw new KernelArgError(k, 'b', `batch dims ${fmt(bB)} differ from a's ${fmt(aB)}: matmulBackward needs equal batch dims (no broadcasting; expand the broadcast operand first)`);
  const [a0, a1] = aShape.slice(-2) as [number, number];
  const [b0, b1] = bShape.slice(-2) as [number, number];
  const [M, K] = transA ? [a1, a0] : [a0, a1];
  const [Kb, N] = transB ? [b1, b0] : [b0, b1];
  if (K !== Kb) throw new KernelArgError(k, 'b', `shape ${fmt(bShape)}${transB ? ' (transB)' : ''} has K = ${Kb}, but a ${fmt(aShape)}${transA ? ' (transA)' : ''} has K = ${K}`);
  const yShape = [...aB, M, N];
  if (gShape && fmt(gShape) !== fmt(yShape)) throw new KernelArgError(k, 'g', `shape ${fmt(gShape)}, expected ${fmt(yShape)} (the shape of op(a) @ op(b))`);
  return { batch: numel(aB), M, N, K };
}

/**
 * Gradients of y = op(a) @ op(b) w.r.t. a and b (same shapes as a and b).
 * @example
 * const { da, db } = matmulBackward(q, k, gScores, { transB: true });   // scores = q @ k^T
 */
export function matmulBackward(a: Tensor, b: Tensor, g: Tensor, o: { transA?: boolean; transB?: boolean } = {}): { da: Tensor<'f32'>; db: Tensor<'f32'> } {
  const k = 'matmulBackward';
  expectTensor(k, 'a', a, { dtype: 'f32' });
  expectTensor(k, 'b', b, { dtype: 'f32' });
  expectTensor(k, 'g', g, { dtype: 'f32' });
  sameContext(k, { a, b, g });
  const tA = o.transA ?? false;
  const tB = o.transB ?? false;
  plan(k, a.shape, b.shape, g.shape, tA, tB);
  const da = tA ? matmul(b, g, { transA: tB, transB: true }) : matmul(g, b, { transB: !tB });
  const db = tB ? matmul(g, a, { transA: true, transB: tA }) : matmul(a, g, { transA: !tA });
  return { da, db };
}

/** CPU reference in doubles for linearBackward (x [..., K] flattened to M rows). */
export function linearBackwardRef(x: ArrayLike<number>, xShape: readonly number[], w: ArrayLike<number>, wShape: readonly [number, number], g: ArrayLike<number>, o: { bias?: boolean; input?: boolean } = {}): { dx: Float64Array | null; dw: Float64Array; db: Float64Array | null } {
  const K = xShape[xShape.length - 1]!;
  const [N] = wShape;
  const M = numel(xShape.slice(0, -1));
  const dx = o.input === false ? null : new Float64Array(M * K);
  const dw = new Float64Array(N * K);
  const db = o.bias ? new Float64Array(N) : null;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const gv = g[m * N + n]!;
      if (db) db[n] = db[n]! + gv;
      for (let kk = 0; kk < K; kk++) {
        if (dx) dx[m * K + kk] = dx[m * K + kk]! + gv * w[n * K + kk]!;
        dw[n * K + kk] = dw[n * K + kk]! + gv * x[m * K + kk]!;
      }
    }
  }
  return { dx, dw, db };
}

/** CPU reference in doubles for matmulBackward: da, db in a's and b's layouts. */
export function matmulBackwardRef(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], g: ArrayLike<number>, o: { transA?: boolean; transB?: boolean } = {}): { da: Float64Array; db: Float64Array } {
  const tA = o.transA ?? false;
  const tB = o.transB ?? false;
  const { batch, M, N, K } = plan('matmulBackward', aShape, bShape, null, tA, tB);
  const da = new Float64Array(batch * M * K);
  const db = new Float64Array(batch * K * N);
  for (let z = 0; z < batch; z++) {
    const ao = z * M * K;
    const bo = z * K * N;
    const go = z * M * N;
    for (let m = 0; m < M; m++) {
      for (let kk = 0; kk < K; kk++) {
        const ai = ao + (tA ? kk * M + m : m * K + kk);
        for (let n = 0; n < N; n++) {
          const bi = bo + (tB ? n * K + kk : kk * N + n);
          const gv = g[go + m * N + n]!;
          da[ai] = da[ai]! + gv * b[bi]!;
          db[bi] = db[bi]! + a[ai]! * gv;
        }
      }
    }
  }
  return { da, db };
}
