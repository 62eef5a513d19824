/**
 * The attention problem shared by the prefill, decode and backward kernels: options, validation of
 * q/k/v/mask/out, and the masked-score value (kernels/attention*.ts).
 */
import { expectInt, expectTensor, sameContext } from './check.js';
import { KernelArgError } from './errors.js';
import type { Tensor } from './tensor.js';

/** float32's most negative finite value: upstream's masked score (torch.finfo(float32).min). */
export const F32_MIN = -3.4028234663852886e38;

export interface AttentionOptions {
  /** Mask key j for query i when j > (kvLength - Lq) + i. */
  causal?: boolean;
  /** Additive key mask [B, M], M >= kvLength: 0 keeps a key, finfo(f32).min removes it. */
  mask?: Tensor;
  /** Score scale; default 1/sqrt(HD). */
  scale?: number;
  /** Number of valid key rows per (b, h) in k/v; default k.shape[2]. */
  kvLength?: number;
  out?: Tensor;
}

export interface AttentionShape {
  B: number;
  NH: number;
  Lq: number;
  HD: number;
  /** Rows per (b, h) in the k/v buffers. */
  kRows: number;
  /** Valid keys. */
  Lk: number;
  scale: number;
  causal: boolean;
}

/** Validates q/k/v/mask/out for `kernel` and returns the problem shape (throws KernelArgError). */
export function attentionShape(kernel: string, q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): AttentionShape {
  expectTensor(kernel, 'q', q, { dtype: 'f32', rank: 4 });
  const [B, NH, Lq, HD] = q.shape as [number, number, number, number];
  expectTensor(kernel, 'k', k, { dtype: 'f32', rank: 4 });
  expectTensor(kernel, 'k', k, { shape: [B, NH, null, HD] });
  expectTensor(kernel, 'v', v, { dtype: 'f32', shape: k.shape });
  sameContext(kernel, { q, k, v, mask: o.mask, out: o.out });
  if (HD % 4 !== 0 || (HD > 64 && HD % 64 !== 0)) {
    throw new KernelArgError(kernel, 'q', `head dim ${HD} unsupported: must be a multiple of 4 up to 64, or a multiple of 64`);
  }
  const kRows = k.shape[2]!;
  const Lk = o.kvLength === undefined ? kRows : expectInt(kernel, 'kvLength', o.kvLength, 1);
  if (Lk < 1 || Lk > kRows) throw new KernelArgError(kernel, 'kvLength', `${Lk} keys requested, k/v hold ${kRows} rows (need 1..${kRows})`);
  if (Lq < 1) throw new KernelArgError(kernel, 'q', `shape [${q.shape}] has no query rows`);
  const causal = o.causal ?? false;
  if (causal && Lq > Lk) throw new KernelArgError(kernel, 'causal', `${Lq} queries over ${Lk} keys: causal queries are the last Lq key positions, so Lq <= Lk`);
  if (o.mask !== undefined) {
    expectTensor(kernel, 'mask', o.mask, { dtype: 'f32', rank: 2 });
    if (o.mask.shape[0] !== B || o.mask.shape[1]! < Lk) throw new KernelArgError(kernel, 'mask', `shape [${o.mask.shape}], expected [${B}, >=${Lk}] (additive key mask)`);
  }
  const scale = o.scale ?? 1 / Math.sqrt(HD);
  if (!Number.isFinite(scale)) throw new KernelArgError(kernel, 'scale', `expected a finite number, got ${scale}`);
  return { B, NH, Lq, HD, kRows, Lk, scale, causal };
}
