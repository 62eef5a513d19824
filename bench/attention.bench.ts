// attention: flash prefill (FLOPs = 4 * B * NH * Lq * Lk * HD: QK^T and P.V; causal counts only the
// unmasked half). Shapes carry the scratch bytes each call allocates (0 here; the decode step's in
// bench/attention_decode.bench.ts), to show it is O(L x d) and never L x L.
import { attention, attentionFlash, attentionRef } from '../kernels/index.js';
import { withKnobs } from '../kernels/internal.js';
import type { GpuContext, Tensor } from '../kernels/index.js';
import { type BenchCase, pattern } from './harness.js';

/** Checks rows 0, 1 and the last of (b=0, every head) against the double reference (attention_decode's bench uses it too). */
export async function checkRows(out: Tensor, qa: Float32Array, ka: Float32Array, va: Float32Array, NH: number, Lq: number, Lk: number, HD: number, kernel: string, causal = false): Promise<void> {
  const y = await out.read();
  for (const i of [...new Set([0, 1, Lq - 1])].filter((r) => r < Lq)) {
    for (let h = 0; h < NH; h++) {
      const qrow = qa.subarray((h * Lq + i) * HD, (h * Lq + i + 1) * HD);
      // A causal row i sees keys 0 .. Lk - Lq + i: the same as one query over that prefix.
      const n = causal ? Lk - Lq + i + 1 : Lk;
      const ref = attentionRef(qrow, ka.subarray(h * Lk * HD, (h * Lk + n) * HD), va.subarray(h * Lk * HD, (h * Lk + n) * HD), { B: 1, NH: 1, Lq: 1, Lk: n, HD });
      for (let d = 0; d < HD; d++) {
        const got = y[(h * Lq + i) * HD + d]!;
        if (!(Math.abs(got - ref[d]!) <= 2e-5)) throw new Error(`${kernel} bench: row ${i} head ${h} dim ${d}: ${got} vs ${ref[d]}`);
      }
    }
  }
}

/** Seeded q [1,NH,Lq,HD], k and v [1,NH,Lk,HD] and an output tensor (attention_decode's bench uses it too). */
export function attentionInputs(ctx: GpuContext, NH: number, Lq: number, Lk: number, HD: number) {
  const qa = pattern(NH * Lq * HD, 1);
  const ka = pattern(NH * Lk * HD, 2);
  const va = pattern(NH * Lk * HD, 3);
  const q = ctx.fromArray(qa, [1, NH, Lq, HD]);
  const k = ctx.fromArray(ka, [1, NH, Lk, HD]);
  const v = ctx.fromArray(va, [1, NH, Lk, HD]);
  const out = ctx.tensor([1, NH, Lq, HD]);
  return { qa, ka, va, q, k, v, out, dispose: () => [q, k, v, out].forEach((t) => t.dispose()) };
}

function setupAttention(ctx: GpuContext, NH: number, S: number, HD: number, causal = false, kernel?: 'rows' | 'tiled') {
  const { qa, ka, va, q, k, v, out, dispose } = attentionInputs(ctx, NH, S, S, HD);
  return {
    run: () => void (kernel ? withKnobs({ attention: kernel }, () => attentionFlash(q, k, v, { out, causal })) : attention(q, k, v, { out, causal })),
    check: () => checkRows(out, qa, ka, va, NH, S, S, HD, 'attention', causal),
    dispose,
  };
}

// `kernel` forces one prefill kernel (the shape says which); default: the one attention() picks.
const prefill = (NH: number, S: number, HD: number, quick: boolean, causal = false, kernel?: 'rows' | 'tiled'): BenchCase => ({
  kernel: 'attention',
  shape: `S=${S} ${NH}x${HD} ${causal ? 'causal' : 'non-causal'}${kernel ? ` (${kernel})` : ''}, scratch 0 B`,
  // Causal: only the S (S + 1) / 2 unmasked scores count.
  flops: 4 * NH * (causal ? (S * (S + 1)) / 2 : S * S) * HD,
  quick,
  setup: async (ctx) => setupAttention(ctx, NH, S, HD, causal, kernel),
});

export const cases: BenchCase[] = [
  prefill(8, 1024, 64, true),
  prefill(8, 1024, 64, true, true),
  // The previous (tiled, workgroup-memory) kernel on the same shape, for the ratio.
  prefill(8, 1024, 64, true, false, 'tiled'),
  prefill(16, 44, 64, false),
];
