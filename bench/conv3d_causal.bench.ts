// conv3d_causal: compute-bound. flops = 2 * Cout * Cin * KT*KH*KW * B*T*HO*WO (nominal MACs,
// counting the padded taps as TF.js/ORT do; the kernel skips causally padded frames, so for KT > T
// the useful share is lower: stated per case). Roofline: ~33 GFLOP/s, the register-only scalar FMA
// shader on this lavapipe (2 cores). The 2-D convs (conv2d, which runs this shader with T = KT = 1)
// are in bench/conv2d.bench.ts, direct vs Winograd in bench/conv_winograd.bench.ts.
//
// Measured 2026-11-21, lavapipe (Mesa 25.0.7, LLVM 15) on 2 shared AMD EPYC cores; other jobs ran
// on the same cores, so every row states the 1-minute load average. Medians of the harness.
//   x[1,128,5,32,32] w[128,128,3,3,3], same run (load 2.5-3.9):
//     ours 21.15 GFLOP/s | ort-web 1.34 | tfjs-webgpu 1.18 | ort-node (native CPU) 149.7
//     = 15.8x the best WebGPU peer, 0.14x native; 64% of the 33 GFLOP/s scalar-FMA figure (29.7%
//     of the 71 GFLOP/s the unrolled fma-scalar probe reached in that run).
//     Quiet minute (load 2.6, min of 3): 26.0 GFLOP/s wall.
//   Tile sweep (headline shape, CPU-time based so that load cancels, GFLOP/s per 2 CPU-seconds):
//     4x8 11.2, 8x4 15.3, 8x8 19.2, 16x4 20.9, 16x8 26.0, 24x8 26.6, 20x8 26.4, 16x10 21.3,
//     16x16 3.9 (not unrolled); WG 16/32/64 within 5% -> convTile = 32 lanes x 16 channels x 8.
//   Subgroup variant (later run, load 1.4-2.9, wall medians): 32/32x4 sg 33.2, 8/32x4 sg 36.6,
//     default (32/32x4 sg) 34.5 vs 32/16x8 25.9 and the same 32x4 block without subgroups 18.9
//     -> convTileSg. Real shapes: [1,128,5,128,128] 40.6, conv_in 7^3 54.1, 2d 256x256 35.0.
//     Before packing weights into vec4 blocks (scalar weight loads) the best was 13.3 (4x8).
//   Real shapes (load 3.7-5.2): [1,128,5,128,128] 3x3x3 13.1 GFLOP/s; conv_in [1,3,5,128,128]
//     7x7x7 18.6 nominal (8.0 executed: padded frames are skipped); tokenizer [1,128,256,256] 3x3
//     11.7; our matmul on the headline's GEMM [128,3456]x[3456,5120] 4.75 (conv/matmul 4.5x at
//     load ~5; 2.9x by CPU time).
import { PackedConvWeight, matmul, causalConv3d, causalConv3dGeometry, conv2d, conv2dGeometry, convRef } from '../kernels/index.js';
import { convTile } from '../kernels/internal.js';
import type { ConvGeometry, GpuContext, Tensor, WeightDtype } from '../kernels/index.js';
import { f16Round } from '../kernels/core/ref_math.js';
import { type ConvTile, withKnobs } from '../kernels/internal.js';
import { type BenchCase, pattern } from './harness.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Checks a few hundred output elements (spread over the tensor) against the double reference. */
async function spotCheck(y: Tensor, x: Float32Array, w: Float32Array, g: ConvGeometry, bias: Float32Array, tolScale = 1): Promise<void> {
  const got = await y.read();
  // The reference on the full shape is too slow; run it on the first output channels only.
  const cout = Math.min(g.cout, 2);
  const ref = convRef(x, w.subarray(0, cout * g.cin * g.kt * g.kh * g.kw), { ...g, b: 1, cout }, { bias });
  const per = g.t * g.ho * g.wo;
  // Winograd: its measured error over the direct conv's (kernels/conv_winograd.ts).
  const tol = tolScale * (g.cin * g.kt * g.kh * g.kw * 2 ** -22 + 1e-6);
  for (let i = 0; i < ref.length; i += Math.max(1, Math.floor(ref.length / 512))) {
    const e = Math.abs(got[i]! - ref[i]!);
    if (!(e <= tol)) throw new Error(`conv3d_causal bench: element ${i} (channel ${Math.floor(i / per)}) got ${got[i]}, expected ${ref[i]}, |err| ${e}`);
  }
}

/** One conv case; bench/conv2d.bench.ts and bench/conv_winograd.bench.ts build theirs with it too. */
export interface ConvCase {
  shape: string;
  x: number[];
  w: number[];
  twoD?: boolean;
  quick?: boolean;
  tile?: ConvTile;
  /** Pack the weights once in setup (PackedConvWeight) instead of on every call. */
  prepack?: boolean;
  /** The prepacked weights' storage (default f32). */
  dtype?: WeightDtype;
  /** Winograd F(m x m, 3x3) with this m (conv_winograd; needs prepack) instead of the direct kernel, which the other cases pin. */
  winograd?: false | 2 | 4 | 6;
}

export function convCase(c: ConvCase): BenchCase {
  const g = c.twoD ? conv2dGeometry(c.x, c.w) : causalConv3dGeometry(c.x, c.w);
  const k = g.cin * g.kt * g.kh * g.kw;
  return {
    kernel: c.winograd ? 'conv_winograd' : 'conv3d_causal',
    impl: c.tile ? `ours ${c.tile.wg}/${c.tile.rm}x${c.tile.rn}${c.tile.subgroup ? ' sg' : ''}` : c.prepack ? `ours prepacked${c.dtype === 'f16' ? ' f16' : ''}${c.winograd ? ` F${c.winograd}` : ''}` : 'ours',
    shape: c.shape,
    flops: 2 * g.cout * k * g.b * g.t * g.ho * g.wo,
    quick: c.quick ?? false,
    setup: async (ctx: GpuContext) => {
      const tile = c.tile ?? convTile(g, ctx.tuning, ctx.useCpuSubgroupVariants());
      const xv = pattern(numel(c.x), 7);
      const wv = pattern(numel(c.w), 13).map((v) => v / Math.sqrt(k));
      const bv = pattern(g.cout, 3);
      const x = ctx.fromArray(xv, c.x);
      const w = ctx.fromArray(wv, c.w);
      const bias = ctx.fromArray(bv, [g.cout]);
      const out = ctx.tensor(c.twoD ? [g.b, g.cout, g.ho, g.wo] : [g.b, g.cout, g.t, g.ho, g.wo]);
      const pw = c.prepack ? PackedConvWeight.pack(w, { rm: tile.rm, dtype: c.dtype }) : w;
      return {
        run: () => void withKnobs({ convTile: tile, convWinograd: !!c.winograd, winogradTile: c.winograd || undefined }, () => (c.twoD ? conv2d(x, pw, { bias, out }) : causalConv3d(x, pw, { bias, out }))),
        // f16 storage: checked against the reference on the f16-rounded weights.
        check: () => spotCheck(out, xv, c.dtype === 'f16' ? wv.map(f16Round) : wv, g, bv, c.winograd === 6 ? 50 : c.winograd === 4 ? 25 : c.winograd ? 2 : 1),
        dispose: () => (x.dispose(), w.dispose(), bias.dispose(), out.dispose(), pw !== w && pw.dispose()),
        note: c.winograd ? `Winograd F(${c.winograd}x${c.winograd},3x3): GFLOP/s of the direct conv's FLOPs (effective)` : `tile ${tile.wg}/${tile.rm}x${tile.rn}${tile.subgroup ? ', conv3d_causal_sg' : ''}`,
      };
    },
  };
}

const HEADLINE = { shape: 'x[1,128,5,32,32] w[128,128,3,3,3]', x: [1, 128, 5, 32, 32], w: [128, 128, 3, 3, 3] };
// Tile sweep on the headline shape (run without --quick: `--filter 'conv3d_causal ours '`).
const TILES: ConvTile[] = [
  { wg: 32, rm: 4, rn: 8 },
  { wg: 32, rm: 8, rn: 4 },
  { wg: 32, rm: 8, rn: 8 },
  { wg: 32, rm: 16, rn: 4 },
  { wg: 32, rm: 16, rn: 8 },
  { wg: 64, rm: 16, rn: 8 },
  { wg: 32, rm: 24, rn: 8 },
  { wg: 32, rm: 16, rn: 16 },
  { wg: 32, rm: 32, rn: 4 },
  { wg: 32, rm: 32, rn: 4, subgroup: true },
  { wg: 8, rm: 32, rn: 4, subgroup: true },
];

export const cases: BenchCase[] = [
  convCase({ ...HEADLINE, quick: true }),
  ...TILES.map((tile) => convCase({ ...HEADLINE, tile })),
  // The LDM's real shapes: residual conv at full resolution, conv_in 7x7x7 (T=5: 15 of 35 time taps
  // are inside the clip, so 43% of the nominal flops are useful).
  convCase({ shape: 'x[1,128,5,128,128] w[128,128,3,3,3]', x: [1, 128, 5, 128, 128], w: [128, 128, 3, 3, 3] }),
  convCase({ shape: 'x[1,3,5,128,128] w[128,3,7,7,7]', x: [1, 3, 5, 128, 128], w: [128, 3, 7, 7, 7] }),
  // Our matmul on the headline conv's GEMM (M = Cout, K = Cin*27, N = T*H*W): what the implicit
  // GEMM is compared with (it also gathers its B operand through the padding predicate).
  {
    kernel: 'matmul',
    shape: 'conv-equivalent [128,3456]x[3456,5120]',
    flops: 2 * 128 * 3456 * 5120,
    setup: async (ctx) => {
      const [M, K, N] = [128, 3456, 5120];
      const av = pattern(M * K, 13).map((v) => v / Math.sqrt(K));
      const bv = pattern(K * N, 7);
      const a = ctx.fromArray(av, [M, K]);
      const b = ctx.fromArray(bv, [K, N]);
      const out = ctx.tensor([M, N]);
      return {
        run: () => void matmul(a, b, { out }),
        check: async () => {
          const y = await out.read();
          for (const [m, n] of [[0, 0], [77, 4099], [127, 5119]] as const) {
            let r = 0;
            for (let k = 0; k < K; k++) r += av[m * K + k]! * bv[k * N + n]!;
            if (!(Math.abs(y[m * N + n]! - r) <= 1e-3)) throw new Error(`matmul (conv-equivalent) bench: [${m},${n}] = ${y[m * N + n]}, expected ${r}`);
          }
        },
        dispose: () => (a.dispose(), b.dispose(), out.dispose()),
      };
    },
  },
];
