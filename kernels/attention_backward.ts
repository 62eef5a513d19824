/**
 * attention_backward: gradients of attention (attention.ts) w.r.t. q, k and v, flash-attention
 * style: the scores are recomputed, nothing of size Lq x Lk is allocated.
 *   s = scale q k^T (masked as the forward), P = softmax_j(s), out = P v, gOut = dL/dout
 *   D_i = gOut_i . out_i,  dP_ij = gOut_i . v_j,  dS_ij = P_ij (dP_ij - D_i)
 *   dq_i = scale sum_j dS_ij k_j,   dk_j = scale sum_i dS_ij q_i,   dv_j = sum_i P_ij gOut_i
 * Two dispatches, from one of two kernel pairs (attentionBackwardKernel picks):
 * - 'sg' (HD <= 64, subgroups of >= 8, as attention_rows.wgsl): wgsl/attention_backward_sg_dq.wgsl
 *   gives dq and the row statistics (m_i, 1 / l_i, D_i) in one online-softmax sweep over the keys,
 *   wgsl/attention_backward_sg_dkv.wgsl dk and dv per key row; one row per lane in registers, the
 *   other side's rows loaded once per 8-lane subgroup and shared with subgroupBroadcast, no
 *   barriers (lib/attention_backward_sg.wgsl says why). One pipeline pair per HD; far faster than
 *   'tiled' on lavapipe (figures: bench/README.md, Design measurements: attention_backward).
 * - 'tiled' (any adapter, HD up to 1024): wgsl/attention_backward_dq.wgsl (per query row: pass 1
 *   recomputes the row's max m_i and sum l_i of exp and D_i into a [B, NH, Lq] scratch, pass 2
 *   gives dq) and wgsl/attention_backward_dkv.wgsl (pass 3, per key row: dk, dv). Head dims above
 *   64 run in 64-dim slices; key/query tiles sit in workgroup memory. Shapes and loop bounds travel
 *   in uniforms, so one pipeline per head-dim split serves every shape.
 * Layouts (row-major, f32): q, out, gOut, dq [B, NH, Lq, HD]; k, v, dk, dv [B, NH, Lk, HD];
 * mask [B, M >= Lk] additive. Causal and mask rules are the forward's (query i at key position
 * Lk - Lq + i); training has no KV cache, so every k/v row is a key.
 * Masked scores (clamped at the f32 minimum, or causally hidden) get exactly 0 gradient; a fully
 * masked row keeps P = 1 / Lk (the forward's uniform average), which reaches dv only.
 * Deterministic: every sum runs in a fixed order, no atomics.
 * Tolerance vs the double reference (attentionBackwardRef): 1e-5 x max|ref| absolute per tensor
 * (+1e-7 for all-zero tensors). Measured <= 8.4e-7 x max|ref| for L <= 300, HD <= 512 (f32 dots
 * of length HD, exp, and sums over up to 300 keys or queries, ~1e-7 relative per term); the bound
 * is per tensor, not per element, because dP - D cancels where gOut is nearly parallel to out.
 */
import { knobs } from './core/knobs.js';
import { expectTensor, sameContext } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import type { GpuContext } from './core/context.js';
import type { Tensor } from './core/tensor.js';
import { F32_MIN, type AttentionRefOptions, attentionRowsRef, attentionShape } from './core/attention_shape.js';
import {
  attention_backward_dkv as dkvShader, attention_backward_dq as dqShader,
  attention_backward_sg_dkv as sgDkvShader, attention_backward_sg_dq as sgDqShader,
} from './wgsl.gen.js';

const K = 'attention_backward';

export interface AttentionBackwardOptions {
  /** As the forward: query i sees key j iff j <= (Lk - Lq) + i. */
  causal?: boolean;
  /** Score scale; default 1/sqrt(HD), as the forward. */
  scale?: number;
  /** Additive key mask [B, M], M >= Lk, as the forward. */
  mask?: Tensor;
}

export interface AttentionGrads {
  dq: Tensor<'f32'>;
  dk: Tensor<'f32'>;
  dv: Tensor<'f32'>;
}

/** Workgroup size of both kernels, and vec4s per workgroup-memory tile array (the shaders' CAP). */
const WG = 64;
const CAP = 256;

/**
 * Head-dim split and tile for both kernels: 64-dim slices above HD = 64 (DSPLIT of them, WG / DSPLIT
 * rows per workgroup) and up to 16 rows per tile within CAP vec4s. Workgroup memory stays under
 * 13 KiB, inside WebGPU's guaranteed 16 KiB.
 */
export function attentionBackwardTiles(HD: number): { DSPLIT: number; rowsPerGroup: number; tile: number } {
  const DSPLIT = HD > 64 ? HD / 64 : 1;
  if (HD / 4 > CAP) throw new KernelArgError(K, 'q', `head dim ${HD} unsupported: at most ${4 * CAP}`);
  return { DSPLIT, rowsPerGroup: WG / DSPLIT, tile: Math.min(16, Math.floor(CAP / (HD / 4))) };
}

/** Rows per workgroup of the 'sg' kernels (one 8-lane subgroup, one row per lane). */
const SG_ROWS = 8;

/**
 * 'sg' (wgsl/attention_backward_sg_*.wgsl) for HD <= 64 where ctx.useCpuSubgroupVariants(), else
 * 'tiled' (wgsl/attention_backward_dq.wgsl, _dkv.wgsl).
 */
export function attentionBackwardKernel(ctx: GpuContext, HD: number): 'sg' | 'tiled' {
  return HD <= 64 && ctx.useCpuSubgroupVariants() ? 'sg' : 'tiled';
}

/**
 * dq, dk, dv of out = attention(q, k, v, o) for the incoming gradient gOut (see the header).
 * @example
 * const out = attention(q, k, v, { causal: true });
 * const { dq, dk, dv } = attentionBackward(q, k, v, out, gOut, { causal: true });
 */
export function attentionBackward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, gOut: Tensor, o: AttentionBackwardOptions = {}): AttentionGrads {
  const s = attentionShape(K, q, k, v, { causal: o.causal, scale: o.scale, mask: o.mask });
  expectTensor(K, 'out', out, { dtype: 'f32', shape: q.shape });
  expectTensor(K, 'gOut', gOut, { dtype: 'f32', shape: q.shape });
  sameContext(K, { q, out, gOut });
  const ctx = q.ctx;
  const kernel = knobs().attentionBackward ?? attentionBackwardKernel(ctx, s.HD);
  if (kernel === 'sg' && attentionBackwardKernel(ctx, s.HD) !== 'sg') throw new KernelArgError(K, 'knobs.attentionBackward', `'sg' needs HD <= 64 (got ${s.HD}), the 'subgroups' feature and subgroupMinSize >= 8`);
  const tiles = kernel === 'tiled' ? attentionBackwardTiles(s.HD) : null;
  const rowsPerGroup = tiles ? tiles.rowsPerGroup : SG_ROWS;
  const groupsQ = Math.ceil(s.Lq / rowsPerGroup);
  const groupsK = Math.ceil(s.Lk / rowsPerGroup);
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (s.NH > maxWg || s.B > maxWg || groupsQ > maxWg || groupsK > maxWg) throw new KernelArgError(K, 'q', `shape [${q.shape}] with ${s.Lk} keys exceeds ${maxWg} workgroups per dimension`);

  const dq = ctx.tensor(q.shape, 'f32', `${K}.dq`);
  const dk = ctx.tensor(k.shape, 'f32', `${K}.dk`);
  const dv = ctx.tensor(k.shape, 'f32', `${K}.dv`);
  const stats = ctx.tensor([s.B, s.NH, s.Lq, 4], 'f32', `${K}.stats`);
  // One Params struct for both pairs (lib/attention_backward_io.wgsl); 'sg' reads no hd4, d4, tk.
  const params = {
    lq: s.Lq, lk: s.Lk, nh: s.NH, scale: s.scale, causal: s.causal ? 1 : 0, has_mask: o.mask ? 1 : 0, mask_stride: o.mask?.shape[1] ?? 0,
    hd4: s.HD / 4, d4: s.HD / 4 / (tiles?.DSPLIT ?? 1), tk: tiles?.tile ?? 1,
  };
  const overrides: Record<string, number> = tiles ? { DSPLIT: tiles.DSPLIT } : { HD: s.HD };
  const mask = o.mask ?? q;
  ctx.dispatch(tiles ? dqShader : sgDqShader, {
    overrides,
    bindings: { q, k, v, out, g: gOut, mask, dq, stats },
    params,
    workgroups: [groupsQ, s.NH, s.B],
  });
  ctx.dispatch(tiles ? dkvShader : sgDkvShader, {
    overrides,
    bindings: { q, k, v, g: gOut, stats, mask, dk, dv },
    params,
    workgroups: [groupsK, s.NH, s.B],
  });
  stats.dispose();
  return { dq, dk, dv };
}

export interface AttentionBackwardRefShape {
  B: number;
  NH: number;
  Lq: number;
  Lk: number;
  HD: number;
}

/**
 * CPU reference in doubles with an explicit softmax per row (attentionRowsRef, so scores are masked
 * exactly as attentionRef); a score at F32_MIN (masked) passes no gradient. `maskStride` defaults to Lk.
 */
export function attentionBackwardRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, gOut: ArrayLike<number>, sh: AttentionBackwardRefShape,
  o: AttentionRefOptions = {},
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { B, NH, Lq, Lk, HD } = sh;
  const scale = o.scale ?? 1 / Math.sqrt(HD);
  const dq = new Float64Array(B * NH * Lq * HD);
  const dk = new Float64Array(B * NH * Lk * HD);
  const dv = new Float64Array(B * NH * Lk * HD);
  const dp = new Float64Array(Lk);
  attentionRowsRef(q, k, sh, o, (bh, i, s, p) => {
    const qb = (bh * Lq + i) * HD;
    // dP_ij = gOut_i . v_j and D_i = gOut_i . out_i = sum_j P_ij dP_ij.
    let D = 0;
    for (let j = 0; j < Lk; j++) {
      const kb = (bh * Lk + j) * HD;
      let e = 0;
      for (let c = 0; c < HD; c++) e += gOut[qb + c]! * v[kb + c]!;
      dp[j] = e;
      D += p[j]! * e;
    }
    for (let j = 0; j < Lk; j++) {
      const ds = s[j]! > F32_MIN ? p[j]! * (dp[j]! - D) * scale : 0;
      const kb = (bh * Lk + j) * HD;
      for (let c = 0; c < HD; c++) {
        dq[qb + c] = dq[qb + c]! + ds * k[kb + c]!;
        dk[kb + c] = dk[kb + c]! + ds * q[qb + c]!;
        dv[kb + c] = dv[kb + c]! + p[j]! * gOut[qb + c]!;
      }
    }
  });
  return { dq, dk, dv };
}
