/**
 * attention_decode: attention for a single query row per (b, h) (a decode step) with the keys split
 * across workgroups ("flash decoding", wgsl/attention_decode.wgsl), and the per-layer KV cache.
 *   out[b,h,0,:] = sum_j softmax_j(scale q[b,h,0,:] . k[b,h,j,:] + mask[b,j]) v[b,h,j,:]
 * Layouts as in attention.ts: q [B, NH, 1, HD], k/v [B, NH, Lk', HD] with the first kvLength rows
 * valid (a KVCache's buffers), mask [B, M] additive, clamped at the float32 minimum.
 * Keys are cut into chunks of DECODE_CHUNK; each workgroup writes its chunk's (max, sum, P.V) to
 * a scratch tensor [B*NH, nsplit, HD + 4] and a second dispatch combines them. One chunk writes the
 * output directly (one dispatch). A single query is the last position, so `causal` changes nothing.
 * Scratch: (HD + 4) floats per (b, h, chunk): O(Lk * HD / 256), never Lq x Lk.
 * Tolerance: as attention.ts (2e-5 absolute vs the double reference for O(1) inputs).
 */
import { expectInt, expectTensor, outTensor } from './core/check.js';
import type { GpuContext } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { attention_decode as shader } from './wgsl.gen.js';
import { attention, attentionShape, type AttentionOptions } from './attention.js';

/** Keys per decode workgroup. */
export const DECODE_CHUNK = 256;
const WG = 64;

/** Scratch bytes one decode call allocates (0 when the keys fit in one chunk). */
export function decodeScratchBytes(B: number, NH: number, HD: number, Lk: number): number {
  const nsplit = Math.ceil(Lk / DECODE_CHUNK);
  return nsplit > 1 ? B * NH * nsplit * (HD + 4) * 4 : 0;
}

/** Split-K attention for q [B, NH, 1, HD]. */
export function attentionDecode(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor<'f32'> {
  const s = attentionShape('attention_decode', q, k, v, o);
  if (s.Lq !== 1) throw new KernelArgError('attention_decode', 'q', `shape [${q.shape}]: the decode kernel takes one query row (Lq = 1)`);
  const ctx = q.ctx;
  const dst = outTensor('attention_decode', q, q.shape, 'f32', o.out);
  const nsplit = Math.ceil(s.Lk / DECODE_CHUNK);
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (s.NH > maxWg || s.B > maxWg || nsplit > maxWg) throw new KernelArgError('attention_decode', 'k', `shape [${k.shape}] exceeds ${maxWg} workgroups per dimension`);
  const direct = nsplit === 1;
  // The partials buffer; a single chunk writes `out` directly but the binding must still exist.
  const part = ctx.tensor(direct ? [4] : [s.B * s.NH, nsplit, s.HD + 4], 'f32', 'attention_decode.part');
  // The flash kernels' Params (lib/attention_io.wgsl); the shader derives nsplit from lk.
  const params = {
    lq: 1, lk: s.Lk, k_rows: s.kRows, nh: s.NH, scale: s.scale, causal: 0,
    has_mask: o.mask ? 1 : 0, mask_stride: o.mask?.shape[1] ?? 0,
  };
  const bindings = { q, k, v, mask: o.mask ?? q, part, out: dst };
  ctx.dispatch(shader, { overrides: { HD: s.HD, PHASE: 0, WG, CH: DECODE_CHUNK }, bindings, params, workgroups: [nsplit, s.NH, s.B] });
  if (!direct) ctx.dispatch(shader, { overrides: { HD: s.HD, PHASE: 1, WG, CH: DECODE_CHUNK }, bindings, params, workgroups: [1, s.NH, s.B] });
  part.dispose();
  return dst;
}

export interface KVCacheShape {
  batch: number;
  heads: number;
  maxLength: number;
  headDim: number;
}

/**
 * One layer's KV cache: k and v preallocated as [B, NH, maxLength, HD]; `append` copies new rows in
 * place (B*NH buffer copies, recorded in order with the dispatches) and `attend` runs attention over
 * the rows written so far. Keys are stored as given (InternLM: after RoPE).
 */
export class KVCache {
  readonly k: Tensor<'f32'>;
  readonly v: Tensor<'f32'>;
  readonly shape: KVCacheShape;
  private len = 0;

  constructor(ctx: GpuContext, shape: KVCacheShape, label = 'kv_cache') {
    const { batch, heads, maxLength, headDim } = shape;
    for (const [n, x] of Object.entries(shape)) expectInt('kv_cache', n, x, 1);
    this.shape = { ...shape };
    this.k = ctx.zeros([batch, heads, maxLength, headDim], 'f32', `${label}.k`);
    this.v = ctx.zeros([batch, heads, maxLength, headDim], 'f32', `${label}.v`);
  }

  /** Number of positions written. */
  get length(): number {
    return this.len;
  }

  /** Appends k, v [B, NH, L, HD] at positions length..length+L-1. */
  append(k: Tensor, v: Tensor): void {
    const { batch: B, heads: NH, maxLength, headDim: HD } = this.shape;
    expectTensor('kv_cache', 'k', k, { dtype: 'f32', rank: 4 });
    expectTensor('kv_cache', 'k', k, { shape: [B, NH, null, HD] });
    expectTensor('kv_cache', 'v', v, { dtype: 'f32', shape: k.shape });
    const L = k.shape[2]!;
    if (this.len + L > maxLength) throw new KernelArgError('kv_cache', 'k', `appending ${L} positions to ${this.len} exceeds maxLength ${maxLength}`);
    if (k.ctx !== this.k.ctx || v.ctx !== this.k.ctx) throw new KernelArgError('kv_cache', 'k', 'belongs to a different GpuContext');
    const ctx = this.k.ctx;
    const rowBytes = HD * 4;
    for (let bh = 0; bh < B * NH; bh++) {
      const src = bh * L * rowBytes;
      const dst = (bh * maxLength + this.len) * rowBytes;
      ctx.copyBuffer(k.buffer, src, this.k.buffer, dst, L * rowBytes);
      ctx.copyBuffer(v.buffer, src, this.v.buffer, dst, L * rowBytes);
    }
    this.len += L;
  }

  /** attention(q, cached k, cached v) over the `length` rows written; q [B, NH, Lq, HD]. */
  attend(q: Tensor, o: Omit<AttentionOptions, 'kvLength'> = {}): Tensor<'f32'> {
    if (this.len === 0) throw new KernelArgError('kv_cache', 'q', 'the cache is empty: append keys first');
    return attention(q, this.k, this.v, { ...o, kvLength: this.len });
  }

  /** Forgets the written rows (the buffers are kept). */
  reset(): void {
    this.len = 0;
  }

  dispose(): void {
    this.k.dispose();
    this.v.dispose();
  }
}
