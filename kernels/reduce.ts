/**
 * reduce: sums for gradients (wgsl/reduce.wgsl).
 *   reduceSum   out[m] = sum_{o < outer, i < inner} x[o, m, i]   for x viewed as [outer, mid, inner]
 *               (bias gradients: linear G [M, N] -> dims [M, N, 1]; conv G [B, C, T*H*W] -> [B, C, THW];
 *               per-(b, c) sums of [B*C, S] -> [1, B*C, S]).
 *   sumSquares  out[index] = sum_i x[i]^2, so the squared norms of many gradients land in one
 *               buffer and the host reads them once (global-norm clipping).
 * Layouts: row-major f32; x may have any shape whose element count matches.
 * One workgroup per output (or per up to 16 neighbouring outputs when inner < 16, so lanes read
 * neighbouring floats): each lane sums a strided subset in three levels (blocks of 32 terms, 32
 * blocks, the rest); a fixed two-level tree combines the lanes. sumSquares over more than SPLIT elements
 * runs two such passes (up to 256 contiguous chunks, then their sums), the chunking a function
 * of n alone. No atomics: the same bits every run.
 * Tolerance vs the double reference: atol 1e-6 * sqrt(terms) * max|x|^p + rtol 1e-6 (p = 1 sums,
 * 2 squares). Sums of `terms` values in [-1, 1] are ~sqrt(terms / 3) large; with no running sum
 * taking more than ~32 adds, the error stays within a few ulp of the result (measured 3e-5 to
 * 5e-5 = 2-3 ulp at 70000 terms, sums ~150), about 5x under the bound (2.6e-4 there).
 */
import { expectInt, expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { reduce as shader } from './wgsl.gen.js';

const WG = 64;
/** sumSquares sums up to this many elements in one workgroup; longer inputs are split first. */
const SPLIT = 65536;
const MAX_CHUNKS = 256;
const CHUNK_MIN = 16384;

/** Outputs per workgroup: neighbours share cache lines when the reduced inner run is short. */
const columnsFor = (mid: number, inner: number) => (inner >= 16 || mid <= 1 ? 1 : Math.min(16, 2 ** Math.ceil(Math.log2(mid))));

interface View {
  outer: number;
  mid: number;
  inner: number;
  total: number;
}

function record(x: Tensor, out: Tensor, v: View, outOff: number, square: boolean): void {
  x.ctx.dispatch(shader, {
    overrides: { WG, C: columnsFor(v.mid, v.inner), SQUARE: Number(square) },
    bindings: { x, out },
    params: { outer: v.outer, mid: v.mid, inner: v.inner, total: v.total, out_off: outOff },
    workgroups: foldGrid(Math.ceil(v.mid / columnsFor(v.mid, v.inner)), x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
}

function checkDims(kernel: string, size: number, shape: readonly number[], dims: readonly number[]): [number, number, number] {
  if (!Array.isArray(dims) || dims.length !== 3) throw new KernelArgError(kernel, 'dims', `expected [outer, mid, inner], got ${JSON.stringify(dims)}`);
  dims.forEach((d, i) => expectInt(kernel, `dims[${i}]`, d));
  const [outer, mid, inner] = dims as [number, number, number];
  if (outer * mid * inner !== size) throw new KernelArgError(kernel, 'dims', `[${dims}] has ${outer * mid * inner} elements, but x [${shape}] has ${size}`);
  return [outer, mid, inner];
}

/**
 * Sum of x viewed as [outer, mid, inner] over outer and inner: out [mid] (of x^2 with `square`).
 * @example
 * const db = reduceSum(g, [M, N, 1]);               // linear bias gradient, g [M, N]
 * const dbConv = reduceSum(gy, [B, C, T * H * W]);  // conv bias gradient
 */
export function reduceSum(x: Tensor, dims: readonly [outer: number, mid: number, inner: number], out?: Tensor, o: { square?: boolean } = {}): Tensor<'f32'> {
  const k = 'reduceSum';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  const [outer, mid, inner] = checkDims(k, x.size, x.shape, dims);
  sameContext(k, { x, out });
  const dst = outTensor(k, x, [mid], 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError(k, 'out', 'must not share its buffer with x');
  if (mid > 0) record(x, dst, { outer, mid, inner, total: x.size }, 0, o.square ?? false);
  return dst;
}

/**
 * sum(x^2) written to out[index] (out f32 [n], default a new [1]); other entries are untouched.
 * @example
 * const sq = ctx.tensor([grads.length]);
 * grads.forEach((g, i) => sumSquares(g, sq, i));
 * const norm = Math.sqrt((await sq.read()).reduce((a, b) => a + b, 0));
 */
export function sumSquares(x: Tensor, out?: Tensor, index = 0): Tensor<'f32'> {
  const k = 'sumSquares';
  expectTensor(k, 'x', x, { dtype: 'f32' });
  sameContext(k, { x, out });
  if (out) expectTensor(k, 'out', out, { dtype: 'f32', rank: 1 });
  const dst = (out ?? x.ctx.tensor([1], 'f32', `${k}.out`)) as Tensor<'f32'>;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= dst.size) {
    throw new KernelArgError(k, 'index', `expected an integer in 0..${dst.size - 1} (out is [${dst.shape}]), got ${String(index)}`);
  }
  if (dst.buffer === x.buffer) throw new KernelArgError(k, 'out', 'must not share its buffer with x');
  const n = x.size;
  if (n <= SPLIT) {
    record(x, dst, { outer: 1, mid: 1, inner: n, total: n }, index, true);
    return dst;
  }
  const chunk = Math.max(CHUNK_MIN, Math.ceil(n / MAX_CHUNKS));
  const chunks = Math.ceil(n / chunk);
  const partial = x.ctx.tensor([chunks], 'f32', `${k}.partial`);
  record(x, partial, { outer: 1, mid: chunks, inner: chunk, total: n }, 0, true);
  record(partial, dst, { outer: chunks, mid: 1, inner: 1, total: chunks }, index, false);
  partial.dispose();
  return dst;
}

/** CPU reference in doubles: x viewed as [outer, mid, inner] summed over outer and inner. */
export function reduceSumRef(x: ArrayLike<number>, dims: readonly [outer: number, mid: number, inner: number]): Float64Array {
  const [outer, mid, inner] = checkDims('reduceSum', x.length, [x.length], dims);
  const out = new Float64Array(mid);
  for (let o = 0; o < outer; o++) {
    for (let m = 0; m < mid; m++) {
      let s = 0;
      const base = (o * mid + m) * inner;
      for (let i = 0; i < inner; i++) s += x[base + i]!;
      out[m] = out[m]! + s;
    }
  }
  return out;
}

/** CPU reference in doubles: sum of squares. */
export function sumSquaresRef(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s;
}
