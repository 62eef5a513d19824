/**
 * layout: concat, slice, pad and permute as explicit kernels, all dispatching one strided copy
 * (wgsl/layout.wgsl). Any 4-byte dtype; values are copied bit-exactly.
 *   permute(x, perm):            out[o] = x[o_perm^-1]            out.shape[k] = x.shape[perm[k]]
 *   slice(x, axis, start, end):  out = x[..., start:end, ...]     (one axis, step 1)
 *   pad(x, pads, value):         constant padding, pads[k] = [before, after] per dim, e.g.
 *                                [[0,0],[0,0],[3,0],[0,0],[0,0]] = the LDM's front-only time padding
 *   concat(xs, axis):            one dispatch per input into its slab of the output
 *   writeSlice(x, dst, axis, s): dst[..., s:s+len, ...] = x in place (a KV cache append)
 * Rank <= 6. Each call is planned as a rank-6 iteration space with source/destination strides
 * (passed as scalar Params fields); adjacent dims that stay contiguous on both sides are merged
 * first, so a concat along C of [B,C,T,H,W] runs as a rank-2 copy. When the innermost dim is then
 * contiguous on both sides with everything a multiple of 4, wgsl/layout_vec4.wgsl moves 16-byte
 * elements instead (copy-like speed on lavapipe, where each lane access is a separate load). A
 * permute whose innermost output dim is strided in the source (to channels last) moves 4 x 4
 * blocks as 16-byte rows, transposed in registers (wgsl/layout_transpose.wgsl).
 * Tolerance: exact (pure data movement).
 *
 * line budget: five layout ops and their CPU references share the one strided-copy planner here.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { DType, Tensor } from './core/tensor.js';
import { layout as shader, layout_transpose as shaderTranspose, layout_vec4 as shaderVec4 } from './wgsl.gen.js';

const WG = 256;
const VEC = 4;
const RANK = 6;

/** One iteration dim: extent, source and destination strides, and the valid source window [lo, lo+len). */
export interface Dim {
  e: number;
  ss: number;
  ds: number;
  lo: number;
  len: number;
}

const stridesOf = (shape: readonly number[]) => {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1]! * shape[k + 1]!;
  return s;
};

/** Drops trivial dims and merges neighbours that are contiguous in both src and dst. */
export function collapseDims(dims: readonly Dim[]): Dim[] {
  const out: Dim[] = [];
  for (const d of dims) {
    const unpadded = d.lo === 0 && d.len === d.e;
    if (d.e === 1 && unpadded) continue;
    const prev = out[out.length - 1];
    if (prev && unpadded && prev.lo === 0 && prev.len === prev.e && prev.ss === d.ss * d.e && prev.ds === d.ds * d.e) {
      out[out.length - 1] = { e: prev.e * d.e, ss: d.ss, ds: d.ds, lo: 0, len: prev.e * d.e };
    } else out.push({ ...d });
  }
  return out;
}

export interface StridedCopyPlan {
  /**
   * 'vec4': wgsl/layout_vec4.wgsl, every number in 16-byte units. 'transpose':
   * wgsl/layout_transpose.wgsl (4 x 4 register blocks), dims = [batch..., b, a] with a the
   * destination-contiguous and b the source-contiguous dim, strides in 16-byte units, extents
   * in elements. 'scalar': wgsl/layout.wgsl.
   */
  kind: 'scalar' | 'vec4' | 'transpose';
  /** Exactly RANK dims, outermost first. */
  dims: Dim[];
  srcBase: number;
  dstBase: number;
  n: number;
}

/** Merges dims, picks the vec4 or tiled-transpose variant when they apply, pads to rank 6. */
export function planStridedCopy(dims: readonly Dim[], srcBase: number, dstBase: number): StridedCopyPlan {
  let c = collapseDims(dims);
  let kind: StridedCopyPlan['kind'] = 'scalar';
  const inner = c[c.length - 1];
  const unpadded = c.every((d) => d.lo === 0 && d.len === d.e);
  const b = c.findIndex((d) => d.ss === 1);
  if (
    inner !== undefined &&
    inner.ss === 1 &&
    inner.ds === 1 &&
    [inner.e, inner.lo, inner.len, srcBase, dstBase].every((v) => v % 4 === 0) &&
    c.slice(0, -1).every((d) => d.ss % 4 === 0 && d.ds % 4 === 0)
  ) {
    kind = 'vec4';
    c = c.map((d, k) => (k === c.length - 1 ? { e: d.e / 4, ss: 1, ds: 1, lo: d.lo / 4, len: d.len / 4 } : { ...d, ss: d.ss / 4, ds: d.ds / 4 }));
    srcBase /= 4;
    dstBase /= 4;
  } else if (inner !== undefined && inner.ds === 1 && inner.ss !== 1 && b >= 0 && unpadded && srcBase === 0 && dstBase === 0) {
    const order = [...c.slice(0, b), ...c.slice(b + 1, -1), c[b]!, inner];
    const bd = c[b]!;
    const aligned = inner.e % 4 === 0 && bd.e % 4 === 0 && inner.ss % 4 === 0 && bd.ds % 4 === 0 && order.slice(0, -2).every((d) => d.ss % 4 === 0 && d.ds % 4 === 0);
    if (aligned) {
      kind = 'transpose';
      // Strides in vec4 units; the a and b extents stay in elements.
      c = order.map((d, k) => (k < order.length - 2 ? { ...d, ss: d.ss / 4, ds: d.ds / 4 } : k === order.length - 2 ? { ...d, ds: d.ds / 4 } : { ...d, ss: d.ss / 4 }));
    }
  }
  while (c.length < RANK) c.unshift({ e: 1, ss: 0, ds: 0, lo: 0, len: 1 });
  return { kind, dims: c, srcBase, dstBase, n: c.reduce((a, d) => a * d.e, 1) };
}

function run(src: Tensor, dst: Tensor, dims: Dim[], srcBase: number, dstBase: number, padBits: number): void {
  const p = planStridedCopy(dims, srcBase, dstBase);
  if (p.n === 0) return;
  const maxWg = src.ctx.limits.maxComputeWorkgroupsPerDimension;
  if (p.kind === 'transpose') {
    const [d0, d1, d2, d3, b, a] = p.dims as [Dim, Dim, Dim, Dim, Dim, Dim];
    const batch = d0.e * d1.e * d2.e * d3.e;
    const params: Record<string, number> = { n_a: a.e, n_b: b.e, ss_a: a.ss, ds_b: b.ds, batch };
    [d0, d1, d2, d3].forEach((d, k) => Object.assign(params, { [`e${k}`]: d.e, [`ss${k}`]: d.ss, [`ds${k}`]: d.ds }));
    src.ctx.dispatch(shaderTranspose, {
      overrides: { WG },
      bindings: { src, dst },
      params,
      workgroups: foldGrid(Math.ceil(p.n / (16 * WG)), maxWg),
    });
    return;
  }
  const u32 = (v: number) => ((v % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const params: Record<string, number> = { n: p.n, src_base: u32(p.srcBase), dst_base: p.dstBase, pad_bits: padBits };
  p.dims.forEach((d, k) => Object.assign(params, { [`e${k}`]: d.e, [`ss${k}`]: d.ss, [`ds${k}`]: d.ds, [`lo${k}`]: d.lo, [`len${k}`]: d.len }));
  src.ctx.dispatch(p.kind === 'vec4' ? shaderVec4 : shader, {
    overrides: { WG },
    bindings: { src, dst },
    params,
    workgroups: foldGrid(Math.ceil(p.n / (VEC * WG)), maxWg),
  });
}

function checkX(kernel: string, x: Tensor, out: Tensor | undefined): void {
  expectTensor(kernel, 'x', x);
  if (x.shape.length > RANK) throw new KernelArgError(kernel, 'x', `rank ${x.shape.length} (shape [${x.shape.join(',')}]), expected rank <= ${RANK}`);
  sameContext(kernel, { x, out });
}

function axisOf(kernel: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new KernelArgError(kernel, 'axis', `expected an integer in ${-rank}..${rank - 1}, got ${axis}`);
  return axis < 0 ? axis + rank : axis;
}

/** out.shape[k] = x.shape[perm[k]] (perm a permutation of 0..rank-1). */
export function permute<D extends DType>(x: Tensor<D>, perm: readonly number[], out?: Tensor): Tensor<D> {
  checkX('permute', x, out);
  const r = x.shape.length;
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, k) => p !== k)) {
    throw new KernelArgError('permute', 'perm', `[${perm.join(',')}] is not a permutation of 0..${r - 1} for x [${x.shape.join(',')}]`);
  }
  const shape = perm.map((p) => x.shape[p]!);
  const dst = outTensor('permute', x, shape, x.dtype, out);
  const xs = stridesOf(x.shape);
  const os = stridesOf(shape);
  run(x, dst, perm.map((p, k) => ({ e: shape[k]!, ss: xs[p]!, ds: os[k]!, lo: 0, len: shape[k]! })), 0, 0, 0);
  return dst;
}

/** out = x[..., start:end, ...] along `axis` (0 <= start <= end <= x.shape[axis]). */
export function slice<D extends DType>(x: Tensor<D>, axis: number, start: number, end: number, out?: Tensor): Tensor<D> {
  checkX('slice', x, out);
  const a = axisOf('slice', axis, x.shape.length);
  const dim = x.shape[a]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > dim) {
    throw new KernelArgError('slice', 'start/end', `[${start}, ${end}) is not a range inside 0..${dim} (axis ${a} of x [${x.shape.join(',')}])`);
  }
  const shape = x.shape.map((d, k) => (k === a ? end - start : d));
  const dst = outTensor('slice', x, shape, x.dtype, out);
  const xs = stridesOf(x.shape);
  const os = stridesOf(shape);
  run(x, dst, shape.map((e, k) => ({ e, ss: xs[k]!, ds: os[k]!, lo: 0, len: e })), start * xs[a]!, 0, 0);
  return dst;
}

function padBitsOf(kernel: string, dtype: DType, value: number): number {
  if (dtype === 'f32') return new Uint32Array(new Float32Array([value]).buffer)[0]!;
  const ok = Number.isInteger(value) && (dtype === 'i32' ? value >= -(2 ** 31) && value < 2 ** 31 : value >= 0 && value < 2 ** 32);
  if (!ok) throw new KernelArgError(kernel, 'value', `${value} is not representable as ${dtype}`);
  return value >>> 0;
}

/** Constant padding: pads[k] = [before, after] (non-negative) for every dim of x. */
export function pad<D extends DType>(x: Tensor<D>, pads: readonly (readonly [number, number])[], value = 0, out?: Tensor): Tensor<D> {
  checkX('pad', x, out);
  const r = x.shape.length;
  if (pads.length !== r || pads.some((p) => p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new KernelArgError('pad', 'pads', `expected ${r} pairs [before, after] of integers >= 0 for x [${x.shape.join(',')}], got ${JSON.stringify(pads)}`);
  }
  const bits = padBitsOf('pad', x.dtype, value);
  const shape = x.shape.map((d, k) => d + pads[k]![0] + pads[k]![1]);
  const dst = outTensor('pad', x, shape, x.dtype, out);
  const xs = stridesOf(x.shape);
  const os = stridesOf(shape);
  const dims = shape.map((e, k) => ({ e, ss: xs[k]!, ds: os[k]!, lo: pads[k]![0], len: x.shape[k]! }));
  run(x, dst, dims, -dims.reduce((s, d) => s + d.lo * d.ss, 0), 0, bits);
  return dst;
}

/** Concatenates tensors of equal rank and dtype along `axis` (all other dims equal). */
export function concat<D extends DType>(xs: readonly Tensor<D>[], axis: number, out?: Tensor): Tensor<D> {
  if (!Array.isArray(xs as unknown) || xs.length === 0) throw new KernelArgError('concat', 'xs', 'expected a non-empty array of tensors');
  xs.forEach((x, i) => expectTensor('concat', `xs[${i}]`, x));
  const first = xs[0]!;
  checkX('concat', first, out);
  sameContext('concat', Object.fromEntries(xs.map((x, i) => [`xs[${i}]`, x])));
  const r = first.shape.length;
  const a = axisOf('concat', axis, r);
  xs.forEach((x, i) => {
    const bad = x.dtype !== first.dtype || x.shape.length !== r || x.shape.some((d, k) => k !== a && d !== first.shape[k]);
    if (bad) throw new KernelArgError('concat', `xs[${i}]`, `${x.dtype}[${x.shape.join(',')}] does not match xs[0] ${first.dtype}[${first.shape.join(',')}] outside axis ${a}`);
  });
  const shape = first.shape.map((d, k) => (k === a ? xs.reduce((s, x) => s + x.shape[a]!, 0) : d));
  const dst = outTensor('concat', first, shape, first.dtype, out);
  let offset = 0;
  for (const x of xs) {
    copyAt(x, dst, a, offset);
    offset += x.shape[a]!;
  }
  return dst;
}

/**
 * dst[..., start:start + x.shape[axis], ...] = x in place, in one dispatch (e.g. a KV cache
 * append); dst has x's dtype and rank and x's dims off `axis`. Returns dst.
 */
export function writeSlice<D extends DType>(x: Tensor<D>, dst: Tensor<D>, axis: number, start: number): Tensor<D> {
  checkX('writeSlice', x, undefined);
  expectTensor('writeSlice', 'dst', dst, { dtype: x.dtype });
  sameContext('writeSlice', { x, dst });
  const r = x.shape.length;
  const a = axisOf('writeSlice', axis, r);
  if (dst.shape.length !== r || dst.shape.some((d, k) => k !== a && d !== x.shape[k])) {
    throw new KernelArgError('writeSlice', 'dst', `[${dst.shape.join(',')}] does not match x [${x.shape.join(',')}] outside axis ${a}`);
  }
  const len = x.shape[a]!;
  if (!Number.isInteger(start) || start < 0 || start + len > dst.shape[a]!) {
    throw new KernelArgError('writeSlice', 'start', `${start}: rows ${start}..${start + len - 1} are not inside 0..${dst.shape[a]! - 1} (axis ${a} of dst [${dst.shape.join(',')}])`);
  }
  if (x.buffer === dst.buffer) throw new KernelArgError('writeSlice', 'dst', 'aliases x; the destination needs its own buffer');
  copyAt(x, dst, a, start);
  return dst;
}

/** Copies x into dst at `offset` along axis a (shapes checked by the caller). */
function copyAt(x: Tensor, dst: Tensor, a: number, offset: number): void {
  const xs = stridesOf(x.shape);
  const os = stridesOf(dst.shape);
  run(x, dst, x.shape.map((e, k) => ({ e, ss: xs[k]!, ds: os[k]!, lo: 0, len: e })), 0, offset * os[a]!, 0);
}

// ---- CPU references: the obvious index loops, independent of the planner above. -------------

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return idx;
}
const ravel = (idx: readonly number[], shape: readonly number[]) => idx.reduce((s, v, k) => s * shape[k]! + v, 0);

export function permuteRef(x: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float64Array {
  const os = perm.map((p) => shape[p]!);
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) {
    const o = unravel(i, os);
    const src = new Array<number>(shape.length);
    perm.forEach((p, k) => (src[p] = o[k]!));
    out[i] = x[ravel(src, shape)]!;
  }
  return out;
}

export function sliceRef(x: ArrayLike<number>, shape: readonly number[], axis: number, start: number, end: number): Float64Array {
  const a = axis < 0 ? axis + shape.length : axis;
  const os = shape.map((d, k) => (k === a ? end - start : d));
  const out = new Float64Array(os.reduce((p, d) => p * d, 1));
  for (let i = 0; i < out.length; i++) {
    const o = unravel(i, os);
    o[a]! += start;
    out[i] = x[ravel(o, shape)]!;
  }
  return out;
}

export function padRef(x: ArrayLike<number>, shape: readonly number[], pads: readonly (readonly [number, number])[], value = 0): Float64Array {
  const os = shape.map((d, k) => d + pads[k]![0] + pads[k]![1]);
  const out = new Float64Array(os.reduce((p, d) => p * d, 1));
  for (let i = 0; i < out.length; i++) {
    const o = unravel(i, os).map((v, k) => v - pads[k]![0]);
    out[i] = o.every((v, k) => v >= 0 && v < shape[k]!) ? x[ravel(o, shape)]! : value;
  }
  return out;
}

export function concatRef(xs: readonly { data: ArrayLike<number>; shape: readonly number[] }[], axis: number): Float64Array {
  const r = xs[0]!.shape.length;
  const a = axis < 0 ? axis + r : axis;
  const os = xs[0]!.shape.map((d, k) => (k === a ? xs.reduce((s, x) => s + x.shape[a]!, 0) : d));
  const out = new Float64Array(os.reduce((p, d) => p * d, 1));
  for (let i = 0; i < out.length; i++) {
    const o = unravel(i, os);
    let j = 0;
    while (o[a]! >= xs[j]!.shape[a]!) o[a]! -= xs[j++]!.shape[a]!;
    out[i] = xs[j]!.data[ravel(o, xs[j]!.shape)]!;
  }
  return out;
}

/** dst (shape dstShape) with dst[..., start:start + x's length, ...] along `axis` replaced by x. */
export function writeSliceRef(dst: ArrayLike<number>, dstShape: readonly number[], x: ArrayLike<number>, xShape: readonly number[], axis: number, start: number): Float64Array {
  const a = axis < 0 ? axis + dstShape.length : axis;
  const out = Float64Array.from(dst);
  for (let i = 0; i < x.length; i++) {
    const o = unravel(i, xShape);
    o[a]! += start;
    out[ravel(o, dstShape)] = x[i]!;
  }
  return out;
}
