/**
 * The attention problem shared by the prefill, decode and backward kernels: options, validation of
 * q/k/v/mask/out, the masked-score value (kernels/attention*.ts), and the softmax rows of the CPU
 * references (attentionRef, attentionBackwardRef).
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

export interface AttentionRefShape {
  B: number;
  NH: number;
  Lq: number;
  Lk: number;
  HD: number;
  /** Rows per (b, h) in k/v; default Lk. */
  kRows?: number;
}

/** Mask and scale options of attentionRef (and attentionBackwardRef); `maskStride` defaults to Lk. */
export interface AttentionRefOptions {
  causal?: boolean;
  mask?: ArrayLike<number>;
  maskStride?: number;
  scale?: number;
}

/**
 * The rows of attentionRef, in doubles: calls row(bh, i, s, p) for every head bh = b * NH + h and
 * query i, with s[j] = the masked, scaled score of key j and p[j] = softmax_j(s) (max subtracted
 * before exp); s and p are reused between calls. Masked scores mirror the f32 semantics: s + mask
 * is rounded to f32 and clamped at F32_MIN, so fully masked rows come out uniform. Shared with
 * attentionBackwardRef, so both references mask identically.
 * @example
 * attentionRowsRef(q, k, { B, NH, Lq, Lk, HD }, { causal: true }, (bh, i, s, p) => console.log(bh, i, p));
 */
export function attentionRowsRef(
  q: ArrayLike<number>, k: ArrayLike<number>, sh: AttentionRefShape, o: AttentionRefOptions,
  row: (bh: number, i: number, s: Float64Array, p: Float64Array) => void,
): void {
  const { B, NH, Lq, Lk, HD } = sh;
  const kRows = sh.kRows ?? Lk;
  const scale = o.scale ?? 1 / Math.sqrt(HD);
  const off = Lk - Lq;
  const s = new Float64Array(Lk);
  const p = new Float64Array(Lk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const bh = b * NH + h;
      for (let i = 0; i < Lq; i++) {
        const qb = (bh * Lq + i) * HD;
        let mx = -Infinity;
        for (let j = 0; j < Lk; j++) {
          const kb = (bh * kRows + j) * HD;
          let d = 0;
          for (let c = 0; c < HD; c++) d += q[qb + c]! * k[kb + c]!;
          let x = d * scale;
          if (o.mask) {
            const mv = o.mask[b * (o.maskStride ?? Lk) + j]!;
            if (mv !== 0) x = Math.max(Math.fround(x + mv), F32_MIN);
          }
          if (o.causal && j > off + i) x = F32_MIN;
          s[j] = x;
          if (x > mx) mx = x;
        }
        let sum = 0;
        for (let j = 0; j < Lk; j++) {
          p[j] = Math.exp(s[j]! - mx);
          sum += p[j]!;
        }
        for (let j = 0; j < Lk; j++) p[j] = p[j]! / sum;
        row(bh, i, s, p);
      }
    }
  }
}
