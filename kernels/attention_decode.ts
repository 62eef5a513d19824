/**
 * attention_decode: attention for a single query row per (b, h) (a decode step) with the keys split
 * across workgroups ("flash decoding", wgsl/attention_decode.wgsl).
 *   out[b,h,0,:] = sum_j softmax_j(scale q[b,h,0,:] . k[b,h,j,:] + mask[b,j]) v[b,h,j,:]
 * Layouts as in attention.ts: q [B, NH, 1, HD], k/v [B, NH, Lk', HD] with the first kvLength rows
 * valid (a KVCache's buffers), mask [B, M] additive, clamped at the float32 minimum.
 * Keys are cut into chunks of DECODE_CHUNK; each workgroup writes its chunk's (max, sum, P.V) to
 * a scratch tensor [B*NH, nsplit, HD + 4] and a second dispatch combines them. One chunk writes the
 * output directly (one dispatch). A single query is the last position, so `causal` changes nothing.
 * Scratch: (HD + 4) floats per (b, h, chunk): O(Lk * HD / 256), never Lq x Lk.
 * Tolerance: as attention.ts (2e-5 absolute vs the double reference for O(1) inputs).
 */
import { expectTensor, outTensor } from './core/check.js';
import type { GpuContext } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { attention_decode as shader } from './wgsl.gen.js';
import { attentionShape, type AttentionOptions } from './core/attention_shape.js';

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
    has_mask: o.mask ? 1 : 0, mask_stride: o.mask?.shape[1] ?? 0, hd4: s.HD / 4,
  };
  const bindings = { q, k, v, mask: o.mask ?? q, part, out: dst };
  ctx.dispatch(shader, { overrides: { HD: s.HD, PHASE: 0, WG, CH: DECODE_CHUNK }, bindings, params, workgroups: [nsplit, s.NH, s.B] });
  if (!direct) ctx.dispatch(shader, { overrides: { HD: s.HD, PHASE: 1, WG, CH: DECODE_CHUNK }, bindings, params, workgroups: [1, s.NH, s.B] });
  part.dispose();
  return dst;
}
