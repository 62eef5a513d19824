/**
 * rope: rotate-half rotary position embedding, applied to q or k [B, NH, L, HD] at integer
 * positions (wgsl/rope.wgsl). With half = HD/2 and theta = pos * inv_freq[j]:
 *   out[j] = x[j] cos(theta) - x[j+half] sin(theta),  out[j+half] = x[j+half] cos(theta) + x[j] sin(theta)
 * inv_freq[j] = 1 / 10000^(2j / HD) (InternLM hard-codes base 10000; a checkpoint's stored
 * `rotary_emb.inv_freq` can be passed instead). As upstream, the table is built once for max_pos
 * positions: theta rounded to f32 (float32 einsum of arange and inv_freq), cos/sin rounded to f32.
 * positions: i32 [B, L], or [L] shared by the batch; values are clamped into 0..maxPos-1.
 * ropeBackward applies the transposed rotation (theta -> -theta) to dL/dout: same tables, same
 * kernel (override INVERSE), so rope's forward pipeline and bits are unchanged.
 * ropeQkv (wgsl/rope_qkv.wgsl) takes a fused q|k|v projection [B, L, 3 H] and does a decode
 * step's head split, both rotations and the KV cache writes in one dispatch: the same products as
 * rope, the permutes and writeSlice (copies exact; rotations equal up to fma contraction, which WGSL
 * leaves to the compiler).
 * Tolerance vs ropeRef: 1e-6 relative-ish (two f32 products and a sum per element; the tables
 * are the same f32 values on both sides).
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import type { GpuContext } from './core/context.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { rope as shader, rope_qkv as qkvShader } from './wgsl.gen.js';

const WG = 256;

export interface RopeTable {
  /** cos(theta) [maxPos, HD/2]. */
  cos: Tensor<'f32'>;
  /** sin(theta) [maxPos, HD/2]. */
  sin: Tensor<'f32'>;
  headDim: number;
  maxPos: number;
}

/** upstream's float32 inv_freq: 1 / base^(arange(0, HD, 2) / HD), each step rounded to f32. */
export function ropeInvFreq(headDim: number, base = 10000): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(headDim / 2);
  for (let j = 0; j < out.length; j++) out[j] = f(1 / f(base ** f((2 * j) / headDim)));
  return out;
}

/** The f32 cos/sin tables, as host arrays [maxPos * HD/2]. */
export function ropeTableData(headDim: number, maxPos: number, invFreq: ArrayLike<number> = ropeInvFreq(headDim)): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let j = 0; j < half; j++) {
      const th = Math.fround(p * invFreq[j]!);
      cos[p * half + j] = Math.cos(th);
      sin[p * half + j] = Math.sin(th);
    }
  }
  return { cos, sin };
}

/** Uploads the tables for positions 0..maxPos-1. */
export function ropeTable(ctx: GpuContext, headDim: number, maxPos: number, invFreq?: ArrayLike<number>): RopeTable {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2) throw new KernelArgError('rope', 'headDim', `expected an even integer >= 2, got ${headDim}`);
  if (!Number.isInteger(maxPos) || maxPos < 1) throw new KernelArgError('rope', 'maxPos', `expected an integer >= 1, got ${maxPos}`);
  if (invFreq !== undefined && invFreq.length !== headDim / 2) throw new KernelArgError('rope', 'invFreq', `length ${invFreq.length}, expected ${headDim / 2}`);
  const d = ropeTableData(headDim, maxPos, invFreq);
  return { cos: ctx.fromArray(d.cos, [maxPos, headDim / 2], 'f32', 'rope.cos'), sin: ctx.fromArray(d.sin, [maxPos, headDim / 2], 'f32', 'rope.sin'), headDim, maxPos };
}

/** Validates and records one rotation of x (by -theta when `inverse`) for `kernel`. */
function rotate(kernel: string, xArg: string, x: Tensor, positions: Tensor, table: RopeTable, inverse: boolean, out?: Tensor): Tensor<'f32'> {
  expectTensor(kernel, xArg, x, { dtype: 'f32', rank: 4 });
  const [B, NH, L, HD] = x.shape as [number, number, number, number];
  if (HD !== table.headDim) throw new KernelArgError(kernel, xArg, `head dim ${HD}, the table is for ${table.headDim}`);
  expectTensor(kernel, 'positions', positions, { dtype: 'i32', rank: [1, 2] });
  const shared = positions.shape.length === 1;
  expectTensor(kernel, 'positions', positions, { shape: shared ? [L] : [B, L] });
  sameContext(kernel, { [xArg]: x, positions, cos: table.cos, out });
  const dst = outTensor(kernel, x, x.shape, 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError(kernel, 'out', `must not alias ${xArg}`);
  const n = (B * NH * L * HD) / 2;
  x.ctx.dispatch(shader, {
    overrides: { WG, INVERSE: Number(inverse) },
    bindings: { x, pos: positions, cos_t: table.cos, sin_t: table.sin, out: dst },
    params: { n, half: HD / 2, l: L, nh: NH, max_pos: table.maxPos, pos_stride_b: shared ? 0 : L },
    workgroups: foldGrid(Math.ceil(n / WG), x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** out = RoPE(x) for x [B, NH, L, HD] at positions (i32 [B, L] or [L]). */
export function rope(x: Tensor, positions: Tensor, table: RopeTable, out?: Tensor): Tensor<'f32'> {
  return rotate('rope', 'x', x, positions, table, false, out);
}

/**
 * RoPE's backward: dx = R(theta)^T g, the rotation by -theta, for g = dL/dout [B, NH, L, HD]
 * (same positions and table as the forward).
 */
export function ropeBackward(g: Tensor, positions: Tensor, table: RopeTable, out?: Tensor): Tensor<'f32'> {
  return rotate('rope_backward', 'g', g, positions, table, true, out);
}

export interface RopeQkvOptions {
  /** Number of heads NH (3 H = qkv's last dim, HD = H / NH = the table's head dim). */
  heads: number;
  /** Destinations [B, NH, S, HD] of the rotated keys and the values (a KVCache's k and v); default new [B, NH, L, HD]. */
  k?: Tensor;
  v?: Tensor;
  /** First row of k and v written (a cache's length); 0 without k, v. */
  start?: number;
}

/**
 * Splits qkv [B, L, 3 H] (q, k, v projections side by side) into heads: returns q [B, NH, L, HD]
 * rotated, and k (rotated) and v written into rows start..start+L-1 of `o.k`, `o.v` (or new
 * [B, NH, L, HD] tensors), one dispatch. positions: i32 [B, L] or [L].
 * @example
 * const { q } = ropeQkv(qkv, pos, table, { heads: 8, k: cache.k, v: cache.v, start: cache.length });
 */
export function ropeQkv(qkv: Tensor, positions: Tensor, table: RopeTable, o: RopeQkvOptions): { q: Tensor<'f32'>; k: Tensor<'f32'>; v: Tensor<'f32'> } {
  const kernel = 'ropeQkv';
  expectTensor(kernel, 'qkv', qkv, { dtype: 'f32', rank: 3 });
  const [B, L, H3] = qkv.shape as [number, number, number];
  const NH = o.heads;
  const HD = table.headDim;
  if (!Number.isInteger(NH) || NH < 1 || H3 !== 3 * NH * HD) throw new KernelArgError(kernel, 'qkv', `last dim ${H3}, expected 3 x heads ${NH} x head dim ${HD} = ${3 * NH * HD}`);
  expectTensor(kernel, 'positions', positions, { dtype: 'i32', rank: [1, 2] });
  const shared = positions.shape.length === 1;
  expectTensor(kernel, 'positions', positions, { shape: shared ? [L] : [B, L] });
  if ((o.k === undefined) !== (o.v === undefined)) throw new KernelArgError(kernel, o.k ? 'v' : 'k', 'k and v destinations go together');
  const start = o.start ?? 0;
  const S = o.k ? o.k.shape[2]! : L;
  for (const [name, t] of [['k', o.k], ['v', o.v]] as const) if (t) expectTensor(kernel, name, t, { dtype: 'f32', shape: [B, NH, null, HD] });
  if (o.v && o.v.shape[2] !== S) throw new KernelArgError(kernel, 'v', `[${o.v.shape}], expected k's shape [${o.k!.shape}]`);
  if (!Number.isInteger(start) || start < 0 || start + L > S) throw new KernelArgError(kernel, 'start', `${start}: rows ${start}..${start + L - 1} are not inside 0..${S - 1}`);
  sameContext(kernel, { qkv, positions, cos: table.cos, k: o.k, v: o.v });
  if (o.k && (o.k.buffer === o.v!.buffer || o.k.buffer === qkv.buffer || o.v!.buffer === qkv.buffer)) throw new KernelArgError(kernel, 'k', 'k, v and qkv must be three different buffers');
  const ctx = qkv.ctx;
  const q = ctx.tensor([B, NH, L, HD], 'f32', 'ropeQkv.q');
  const k = (o.k ?? ctx.tensor([B, NH, L, HD], 'f32', 'ropeQkv.k')) as Tensor<'f32'>;
  const v = (o.v ?? ctx.tensor([B, NH, L, HD], 'f32', 'ropeQkv.v')) as Tensor<'f32'>;
  const n = (B * NH * L * HD) / 2;
  if (n > 0) {
    ctx.dispatch(qkvShader, {
      overrides: { WG },
      bindings: { qkv, pos: positions, cos_t: table.cos, sin_t: table.sin, q_out: q, k_dst: k, v_dst: v },
      params: { n, half: HD / 2, l: L, nh: NH, max_pos: table.maxPos, pos_stride_b: shared ? 0 : L, s: S, start },
      workgroups: foldGrid(Math.ceil(n / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  return { q, k, v };
}

/**
 * CPU reference (f32 tables, products and sums in doubles): the rotation by theta, or by -theta
 * (ropeBackward's transposed rotation) when `inverse`.
 */
export function ropeRef(x: ArrayLike<number>, shape: readonly [number, number, number, number], positions: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, maxPos: number, inverse = false): Float64Array {
  const [B, NH, L, HD] = shape;
  const half = HD / 2;
  const shared = positions.length === L;
  const out = new Float64Array(B * NH * L * HD);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < L; i++) {
        const p = Math.min(Math.max(positions[(shared ? 0 : b * L) + i]!, 0), maxPos - 1);
        const e = ((b * NH + h) * L + i) * HD;
        for (let j = 0; j < half; j++) {
          const c = cos[p * half + j]!;
          // sin(-theta) = -sin(theta); negating is exact, so both directions keep their bits.
          const s = inverse ? -sin[p * half + j]! : sin[p * half + j]!;
          const x1 = x[e + j]!;
          const x2 = x[e + j + half]!;
          out[e + j] = x1 * c - x2 * s;
          out[e + j + half] = x2 * c + x1 * s;
        }
      }
    }
  }
  return out;
}

/** CPU reference of ropeBackward: ropeRef's rotation by -theta (same tables, doubles). */
export function ropeBackwardRef(g: ArrayLike<number>, shape: readonly [number, number, number, number], positions: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, maxPos: number): Float64Array {
  return ropeRef(g, shape, positions, cos, sin, maxPos, true);
}

/**
 * CPU reference of ropeQkv: qkv [B, L, 3 H] split into q, k, v [B, NH, L, HD], q and k rotated
 * (ropeRef), k and v written into rows start.. of kDst, vDst [B, NH, S, HD] (zeros when not given).
 */
export function ropeQkvRef(qkv: ArrayLike<number>, shape: readonly [number, number, number], heads: number, positions: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, maxPos: number, dst: { k: ArrayLike<number>; v: ArrayLike<number>; s: number; start: number } | null = null): { q: Float64Array; k: Float64Array; v: Float64Array } {
  const [B, L, H3] = shape;
  const HD = H3 / 3 / heads;
  const part = (which: number) => {
    const out = new Float64Array(B * heads * L * HD);
    for (let b = 0; b < B; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < L; i++) for (let c = 0; c < HD; c++) out[((b * heads + h) * L + i) * HD + c] = qkv[(b * L + i) * H3 + which * heads * HD + h * HD + c]!;
    return out;
  };
  const hs: [number, number, number, number] = [B, heads, L, HD];
  const q = ropeRef(part(0), hs, positions, cos, sin, maxPos);
  const k = ropeRef(part(1), hs, positions, cos, sin, maxPos);
  const v = part(2);
  if (!dst) return { q, k, v };
  const write = (into: ArrayLike<number>, x: Float64Array) => {
    const out = Float64Array.from(into);
    for (let bh = 0; bh < B * heads; bh++) for (let i = 0; i < L; i++) for (let c = 0; c < HD; c++) out[(bh * dst.s + dst.start + i) * HD + c] = x[(bh * L + i) * HD + c]!;
    return out;
  };
  return { q, k: write(dst.k, k), v: write(dst.v, v) };
}
