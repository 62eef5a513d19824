/**
 * attention: scaled dot-product attention, flash style (wgsl/attention_rows.wgsl for HD <= 64,
 * wgsl/attention.wgsl otherwise).
 *   out[b,h,i,:] = sum_j softmax_j(s[i,j]) v[b,h,j,:],  s[i,j] = scale * q[b,h,i,:] . k[b,h,j,:]
 * Layouts (row-major, f32): q [B, NH, Lq, HD]; k, v [B, NH, Lk', HD] of which the first
 * `kvLength` (default Lk') rows per (b, h) are the keys, so a preallocated KV cache can be passed as
 * is; out [B, NH, Lq, HD]. Heads are split from the hidden dim by the caller ([B, L, NH*HD] ->
 * [B, NH, L, HD]).
 * Masks follow upstream (HF InternLM, PyTorch MHA with float masks): `causal` masks key j for
 * query i when j > (Lk - Lq) + i, i.e. the queries are the last Lq positions (a KV-cache prefill
 * with Lq < Lk); `mask` is an additive f32 key mask [B, M] (M >= Lk, 0 or finfo(f32).min) added to
 * the scores and clamped at the float32 minimum. Masked scores are that finite minimum, never
 * -inf, so a fully masked row is the uniform average of its keys, as upstream computes it.
 * Numerics: online softmax in f32 (running max, sum and output per row, rescaled once per key
 * tile); nothing of size Lq x Lk is allocated (scratch: one K and one V tile per workgroup).
 * Prefill kernels (flashKernel picks): 'rows' (attention_rows.wgsl: invocations own 4 query
 * rows, attention_rows_r1.wgsl one for queries of <= 32 rows, with all their head dims in
 * registers; key rows are loaded once per 8-lane subgroup and spread with subgroupBroadcast; needs HD <= 64, the 'subgroups' feature and subgroupMinSize >= 8;
 * far faster than 'tiled' on lavapipe (figures: bench/README.md, Design measurements: attention);
 * first compile per HD is slow, see the shader header) and 'tiled' (attention.wgsl: one row per
 * invocation, K/V tiles in workgroup memory, HD split in 64-dim slices, so HD = 512 works); on CPU
 * adapters wide unmasked heads (the tokenizer's HD 512) run unfused: two matmuls and a softmax.
 * Lq = 1 goes to the split-K decode kernel (attention_decode.ts), except on 'rows' adapters for
 * up to DECODE_CHUNK keys: there attention_rows_r1 (one key pass either way).
 * Tolerance vs the double reference: 2e-5 absolute for O(1) inputs and Lk <= 300 (f32 dot
 * products of length HD and sums of Lk probabilities; the error is dominated by exp and the
 * 1/l division, ~1e-6 relative per term).
 */
import { knobs } from './core/knobs.js';
import { type AttentionOptions, type AttentionRefOptions, type AttentionRefShape, attentionRowsRef, attentionShape } from './core/attention_shape.js';
import { expectInt, expectTensor, outTensor } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import type { GpuContext } from './core/context.js';
import type { Tensor } from './core/tensor.js';
import { attention as shader, attention_rows as rowsShader, attention_rows_r1 as rowsR1Shader } from './wgsl.gen.js';
import { DECODE_CHUNK, attentionDecode } from './attention_decode.js';
import { writeSlice } from './layout.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';

/**
 * Tile choice for the flash kernel: HD split in 64-dim slices, `bq` query rows per workgroup (the
 * tuning table's flashBq; 16 for split heads and short queries), the largest key tile that fits.
 */
export function flashTiles(HD: number, Lq: number, maxWorkgroupBytes: number, bq: number): { DSPLIT: number; BQ: number; TK: number } {
  const DSPLIT = HD > 64 ? HD / 64 : 1;
  const BQ = DSPLIT > 1 || Lq <= 16 ? 16 : bq;
  for (const TK of [16, 8, 4, 2, 1]) {
    const bytes = 8 * TK * HD + 4 * TK + (DSPLIT > 1 ? 4 * BQ * DSPLIT * TK : 4);
    if (bytes <= maxWorkgroupBytes) return { DSPLIT, BQ, TK };
  }
  throw new KernelArgError('attention', 'q', `head dim ${HD} does not fit in ${maxWorkgroupBytes} bytes of workgroup memory`);
}

/**
 * The 'rows' shader for Lq queries and its query rows per workgroup (8 invocations x R rows):
 * attention_rows (R = 4) for long queries, attention_rows_r1 for up to 32 (one R = 4 workgroup's
 * worth): R = 4's first compile costs a cold start ~5x R = 1's, and R = 1 spreads a short query
 * over 4 workgroups instead of 1 (bench/README.md, Design measurements: attention).
 */
export function rowsVariant(Lq: number): { shader: typeof rowsShader; rowsPerGroup: number } {
  return Lq <= 32 ? { shader: rowsR1Shader, rowsPerGroup: 8 } : { shader: rowsShader, rowsPerGroup: 32 };
}

/**
 * 'rows' (wgsl/attention_rows.wgsl) for HD <= 64 where the tuning table picks the CPU subgroup
 * variants and the adapter has subgroups of >= 8 (ctx.useCpuSubgroupVariants()); 'unfused' (two
 * matmuls and a softmax) for wider heads where the table says so and the call can (`unfusable`: no
 * mask, no causal mask, k/v of exactly Lk rows, scores within UNFUSED_MAX_BYTES); else 'tiled'.
 */
export function flashKernel(ctx: GpuContext, HD: number, unfusable = false): 'rows' | 'tiled' | 'unfused' {
  if (HD <= 64 && ctx.useCpuSubgroupVariants()) return 'rows';
  return HD > 64 && unfusable && ctx.tuning.wideAttentionUnfused ? 'unfused' : 'tiled';
}

/** Largest score matrix (B * NH * Lq * Lk f32) the unfused path allocates. */
const UNFUSED_MAX_BYTES = 64 * 2 ** 20;

/** softmax(scale q k^T) v as two batched matmuls and a softmax (see flashKernel). */
function attentionUnfused(q: Tensor, k: Tensor, v: Tensor, s: ReturnType<typeof attentionShape>, dst: Tensor): Tensor<'f32'> {
  const BH = s.B * s.NH;
  const scores = matmul(q.reshape([BH, s.Lq, s.HD]), k.reshape([BH, s.Lk, s.HD]), { transB: true });
  const p = softmax(scores, { temperature: 1 / s.scale });
  scores.dispose();
  matmul(p, v.reshape([BH, s.Lk, s.HD]), { out: dst.reshape([BH, s.Lq, s.HD]) });
  p.dispose();
  return dst as Tensor<'f32'>;
}

/**
 * The flash (prefill) kernel for any Lq, including Lq = 1 (the `attention` knob forces one of the
 * two; default: flashKernel's choice).
 */
export function attentionFlash(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor<'f32'> {
  const s = attentionShape('attention', q, k, v, o);
  const ctx = q.ctx;
  const unfusable = !o.mask && !s.causal && s.kRows === s.Lk && 4 * s.B * s.NH * s.Lq * s.Lk <= Math.min(UNFUSED_MAX_BYTES, ctx.limits.maxStorageBufferBindingSize);
  const kernel = knobs().attention ?? flashKernel(ctx, s.HD, unfusable);
  if (kernel === 'rows' && flashKernel(ctx, s.HD) !== 'rows') throw new KernelArgError('attention', 'knobs.attention', `'rows' needs HD <= 64 (got ${s.HD}), the 'subgroups' feature and subgroupMinSize >= 8`);
  if (kernel === 'unfused') {
    if (!unfusable) throw new KernelArgError('attention', 'knobs.attention', `'unfused' needs no mask, no causal mask, k/v of exactly Lk rows and scores within ${UNFUSED_MAX_BYTES} bytes`);
    return attentionUnfused(q, k, v, s, outTensor('attention', q, q.shape, 'f32', o.out));
  }
  const rows = kernel === 'rows' ? rowsVariant(s.Lq) : null;
  const tiles = rows ? null : flashTiles(s.HD, s.Lq, ctx.limits.maxComputeWorkgroupStorageSize, ctx.tuning.flashBq);
  const groups = Math.ceil(s.Lq / (tiles ? tiles.BQ : rows!.rowsPerGroup));
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (s.NH > maxWg || s.B > maxWg || groups > maxWg) throw new KernelArgError('attention', 'q', `shape [${q.shape}] exceeds ${maxWg} workgroups per dimension`);
  const dst = outTensor('attention', q, q.shape, 'f32', o.out);
  ctx.dispatch(rows ? rows.shader : shader, {
    overrides: tiles ? { HD: s.HD, ...tiles } : { HD: s.HD },
    bindings: { q, k, v, mask: o.mask ?? q, out: dst },
    params: { lq: s.Lq, lk: s.Lk, k_rows: s.kRows, nh: s.NH, scale: s.scale, causal: s.causal ? 1 : 0, has_mask: o.mask ? 1 : 0, mask_stride: o.mask?.shape[1] ?? 0, hd4: s.HD / 4 },
    workgroups: [groups, s.NH, s.B],
  });
  return dst;
}

/**
 * Attention with q [B, NH, Lq, HD], k/v [B, NH, Lk, HD] (see the header). Lq = 1 runs the split-K
 * decode kernel (on 'rows' adapters only past DECODE_CHUNK keys), longer queries the flash kernel.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor<'f32'> {
  const s = attentionShape('attention', q, k, v, o);
  // One query over at most one decode chunk of keys: attention_decode would run one pass per head
  // too, and where 'rows' runs, attention_rows_r1 takes 17-20% less time (bench/README.md).
  const rows = s.Lk <= DECODE_CHUNK && flashKernel(q.ctx, s.HD) === 'rows';
  return s.Lq === 1 && !rows ? attentionDecode(q, k, v, o) : attentionFlash(q, k, v, o);
}

/** CPU reference in doubles (attentionRowsRef's softmax rows times v). */
export function attentionRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, sh: AttentionRefShape, o: AttentionRefOptions = {},
): Float64Array {
  const { B, NH, Lq, Lk, HD } = sh;
  const kRows = sh.kRows ?? Lk;
  const out = new Float64Array(B * NH * Lq * HD);
  attentionRowsRef(q, k, sh, o, (bh, i, _s, p) => {
    const qb = (bh * Lq + i) * HD;
    for (let j = 0; j < Lk; j++) {
      const vb = (bh * kRows + j) * HD;
      for (let c = 0; c < HD; c++) out[qb + c] = out[qb + c]! + p[j]! * v[vb + c]!;
    }
  });
  return out;
}

export interface KVCacheShape {
  batch: number;
  heads: number;
  maxLength: number;
  headDim: number;
}

/**
 * One layer's KV cache: k and v preallocated as [B, NH, maxLength, HD]; `append` writes new rows in
 * place (one strided-copy dispatch each for k and v, layout's writeSlice) and `attend` runs attention over
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
    writeSlice(k, this.k, 2, this.len);
    writeSlice(v, this.v, 2, this.len);
    this.len += L;
  }

  /** Counts L rows as appended that another kernel wrote into k and v in place (ropeQkv at start = length). */
  advance(L: number): void {
    if (!Number.isInteger(L) || L < 0 || this.len + L > this.shape.maxLength) throw new KernelArgError('kv_cache', 'L', `${L}: expected an integer with ${this.len} + L <= maxLength ${this.shape.maxLength}`);
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
