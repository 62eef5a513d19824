// attention: flash prefill (FLOPs = 4 * B * NH * Lq * Lk * HD: QK^T and P.V; causal counts only the
// unmasked half), the split-K decode step (one query row, bytes = the K and V rows read; tokens/s
// = 1000 / ms), and rope (bytes = x read + out written). Shapes carry the scratch bytes each call
// allocates, to show it is O(L x d) and never L x L.
import { attention, attentionDecode, attentionFlash, attentionRef, rope, ropeRef, ropeTable, ropeTableData } from '../kernels/index.js';
import { decodeScratchBytes, withKnobs } from '../kernels/internal.js';
import type { GpuContext, Tensor } from '../kernels/index.js';
import { type BenchCase, pattern } from './harness.js';

/** Checks rows 0, 1 and the last of (b=0, every head) against the double reference. */
async function checkRows(out: Tensor, qa: Float32Array, ka: Float32Array, va: Float32Array, NH: number, Lq: number, Lk: number, HD: number, kernel: string, causal = false): Promise<void> {
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

function setupAttention(ctx: GpuContext, NH: number, Lq: number, Lk: number, HD: number, decode: boolean, causal = false, kernel?: 'rows' | 'tiled') {
  const qa = pattern(NH * Lq * HD, 1);
  const ka = pattern(NH * Lk * HD, 2);
  const va = pattern(NH * Lk * HD, 3);
  const q = ctx.fromArray(qa, [1, NH, Lq, HD]);
  const k = ctx.fromArray(ka, [1, NH, Lk, HD]);
  const v = ctx.fromArray(va, [1, NH, Lk, HD]);
  const out = ctx.tensor([1, NH, Lq, HD]);
  const name = decode ? 'attention_decode' : 'attention';
  return {
    run: () => void (decode ? attentionDecode(q, k, v, { out }) : kernel ? withKnobs({ attention: kernel }, () => attentionFlash(q, k, v, { out, causal })) : attention(q, k, v, { out, causal })),
    check: () => checkRows(out, qa, ka, va, NH, Lq, Lk, HD, name, causal),
    dispose: () => [q, k, v, out].forEach((t) => t.dispose()),
  };
}

// `kernel` forces one prefill kernel (the shape says which); default: the one attention() picks.
const prefill = (NH: number, S: number, HD: number, quick: boolean, causal = false, kernel?: 'rows' | 'tiled'): BenchCase => ({
  kernel: 'attention',
  shape: `S=${S} ${NH}x${HD} ${causal ? 'causal' : 'non-causal'}${kernel ? ` (${kernel})` : ''}, scratch 0 B`,
  // Causal: only the S (S + 1) / 2 unmasked scores count.
  flops: 4 * NH * (causal ? (S * (S + 1)) / 2 : S * S) * HD,
  quick,
  setup: async (ctx) => setupAttention(ctx, NH, S, S, HD, false, causal, kernel),
});

const decode = (NH: number, Lk: number, HD: number): BenchCase => ({
  kernel: 'attention_decode',
  shape: `Lq=1 Lk=${Lk} ${NH}x${HD}, scratch ${decodeScratchBytes(1, NH, HD, Lk)} B`,
  flops: 4 * NH * Lk * HD,
  bytes: 2 * NH * Lk * HD * 4,
  quick: true,
  setup: async (ctx) => setupAttention(ctx, NH, 1, Lk, HD, true),
});

export const cases: BenchCase[] = [
  prefill(8, 1024, 64, true),
  prefill(8, 1024, 64, true, true),
  // The previous (tiled, workgroup-memory) kernel on the same shape, for the ratio.
  prefill(8, 1024, 64, true, false, 'tiled'),
  prefill(16, 44, 64, false),
  decode(16, 44, 64),
  decode(16, 2048, 64),
  {
    kernel: 'rope',
    shape: 'q [1,16,44,64] at positions 0..43',
    bytes: 2 * 16 * 44 * 64 * 4,
    quick: true,
    setup: async (ctx) => {
      const shape = [1, 16, 44, 64] as const;
      const xa = pattern(16 * 44 * 64, 4);
      const pos = Int32Array.from({ length: 44 }, (_, i) => i);
      const x = ctx.fromArray(xa, shape);
      const p = ctx.fromArray(pos, [1, 44], 'i32');
      const table = ropeTable(ctx, 64, 64);
      const out = ctx.tensor(shape);
      return {
        run: () => void rope(x, p, table, out),
        check: async () => {
          const y = await out.read();
          const t = ropeTableData(64, 64);
          const ref = ropeRef(xa, shape, pos, t.cos, t.sin, 64);
          for (let i = 0; i < ref.length; i++) if (!(Math.abs(y[i]! - ref[i]!) <= 1e-6)) throw new Error(`rope bench: mismatch at ${i}`);
        },
        dispose: () => [x, p, out, table.cos, table.sin].forEach((t) => t.dispose()),
      };
    },
  },
];
