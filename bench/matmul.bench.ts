// matmul (matmul_packed_sg where the adapter has subgroups, else matmul_packed, or
// matmul_packed_wg on GPUs; matmul_vec4, the any-shape kernel) and matmul_gemv (one row times a packed weight); each packed row's note says which GEMM ran. Rooflines on
// lavapipe (2 cores): the ceiling rows of the same run (unrolled scalar FMA ~72-75 GFLOP/s, copy
// ~3.2-3.4 GB/s). Measured 2026-11-21 (load 1.4-2.9): 512^3 20.3, 1024^3 24.6, 4096x1024x1024
// 27.8 GFLOP/s with matmul_packed_sg (17.3 at 1024^3 with matmul_packed).
// Tiled shapes are compute-bound (flops = 2 M N K); the GEMV reads the weight once, so bytes =
// 4 (N K + K + N) and its roofline is the copy kernel's GB/s. The packing passes (kernels/pack.ts)
// are in bench/pack.bench.ts.
import { PackedMatmulWeight, type Tensor, linear, matmul } from '../kernels/index.js';
import { PACK_PER_CALL_MIN_M, TUNING_TABLE, chooseMatmulTiles } from '../kernels/internal.js';
import type { GpuContext, WeightDtype } from '../kernels/index.js';
import { f16Round } from '../kernels/core/ref_math.js';
import { type BenchCase, pattern } from './harness.js';

/** Compares 48 sampled outputs with double-precision dot products (atol 1e-5 sqrt(K) + rtol 1e-5). */
function checker(y: Tensor, av: Float32Array, bv: Float32Array, M: number, N: number, K: number, transB: boolean, batch = 1) {
  return async () => {
    const out = await y.read();
    for (let s = 0; s < 48; s++) {
      const z = (s * 7) % batch;
      const m = (s * 7919) % M;
      const n = (s * 104729) % N;
      let ref = 0;
      for (let k = 0; k < K; k++) ref += av[(z * M + m) * K + k]! * bv[transB ? n * K + k : k * N + n]!;
      const got = out[(z * M + m) * N + n]!;
      if (!(Math.abs(got - ref) <= 1e-5 * Math.sqrt(K) + 1e-5 * Math.abs(ref))) throw new Error(`matmul bench: [${z},${m},${n}] = ${got}, expected ${ref}`);
    }
  };
}

const MIN_WORKGROUPS = TUNING_TABLE.lavapipe.tuning.matmulMinWorkgroups;

/** Which packed GEMM ran (the row's kernel id names the family): the kernels' own choice. */
const packedNote = (ctx: GpuContext) =>
  ctx.useCpuSubgroupVariants() ? 'GEMM kernel: matmul_packed_sg (subgroups)' : ctx.tuning.workgroupGemm ? 'GEMM kernel: matmul_packed_wg (workgroup memory)' : `GEMM kernel: matmul_packed (no subgroup variant for ${ctx.adapterClass})`;

function tiled(M: number, N: number, K: number, quick: boolean, transB = false): BenchCase {
  // The kernel chooseMatmulTiles picks (device limits and the grid target do not change it for these shapes).
  const big = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535 };
  return {
    kernel: M >= PACK_PER_CALL_MIN_M ? 'matmul_packed' : chooseMatmulTiles(M, N, K, big, MIN_WORKGROUPS, transB).variant === 'vec4' ? 'matmul_vec4' : 'matmul',
    shape: `[${M},${K}]x${transB ? `[${N},${K}]^T` : `[${K},${N}]`}`,
    flops: 2 * M * N * K,
    quick,
    setup: async (ctx) => {
      const av = pattern(M * K, 1);
      const bv = pattern(K * N, 2);
      const a = ctx.fromArray(av, [M, K]);
      const b = ctx.fromArray(bv, transB ? [N, K] : [K, N]);
      const out = ctx.tensor([M, N]);
      return {
        run: () => void matmul(a, b, { transB, out }),
        check: checker(out, av, bv, M, N, K, transB),
        dispose: () => (a.dispose(), b.dispose(), out.dispose()),
        ...(M >= PACK_PER_CALL_MIN_M ? { note: packedNote(ctx) } : {}),
      };
    },
  };
}

/**
 * linear(x [M, K], w [N, K] packed once, stored as dtype): the model's path (src/models/videoworld/layers.ts Linear).
 * `workgroupGemm` runs it with the tuning table's entry set so (impl 'ours workgroupGemm on|off'): both
 * packed GEMMs on one adapter, for the GPU session that decides the `gpu` entry.
 */
function packedLinear(M: number, N: number, K: number, quick: boolean, dtype: WeightDtype = 'f32', workgroupGemm?: boolean): BenchCase {
  const f16 = dtype === 'f16';
  return {
    kernel: `${M === 1 ? 'matmul_gemv' : 'matmul_packed'}${f16 ? '_f16' : ''}`,
    ...(workgroupGemm === undefined ? {} : { impl: `ours workgroupGemm ${workgroupGemm ? 'on' : 'off'}`, role: 'ours' as const }),
    shape: `linear [${M},${K}]x[${N},${K}]^T packed${f16 ? ' f16' : ''}`,
    flops: 2 * M * N * K,
    ...(M === 1 ? { bytes: (f16 ? 2 : 4) * N * K + 4 * (K + N) } : {}),
    quick,
    setup: async (ctx) => {
      const xv = pattern(M * K, 5);
      const wv = pattern(N * K, 6);
      const x = ctx.fromArray(xv, [M, K]);
      const w = ctx.fromArray(wv, [N, K]);
      const pw = PackedMatmulWeight.linear(w, { dtype });
      w.dispose();
      const out = ctx.tensor([M, N]);
      // Restored by dispose (cases run one at a time); the CPU subgroup kernel would win the choice.
      const prev = workgroupGemm === undefined ? null : ctx.tune({ workgroupGemm, cpuSubgroupVariants: false });
      return {
        run: () => void linear(x, pw, undefined, { out }),
        check: checker(out, xv, f16 ? wv.map(f16Round) : wv, M, N, K, true),
        dispose: () => (x.dispose(), pw.dispose(), out.dispose(), prev && ctx.tune(prev)),
        ...(M > 1 ? { note: packedNote(ctx) } : {}),
      };
    },
  };
}

/** One row times a plain nn.Linear weight (not packed: the any-row kernels). */
function plainRow(N: number, K: number, quick: boolean): BenchCase {
  return {
    kernel: chooseMatmulTiles(1, N, K, { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535 }, MIN_WORKGROUPS, true).variant === 'vec4' ? 'matmul_vec4' : 'matmul',
    shape: `linear [1,${K}]x[${N},${K}]^T plain`,
    flops: 2 * N * K,
    bytes: 4 * (N * K + K + N),
    quick,
    setup: async (ctx) => {
      const xv = pattern(K, 3);
      const wv = pattern(N * K, 4);
      const x = ctx.fromArray(xv, [1, K]);
      const w = ctx.fromArray(wv, [N, K]);
      const out = ctx.tensor([1, N]);
      return {
        run: () => void linear(x, w, undefined, { out }),
        check: checker(out, xv, wv, 1, N, K, true),
        dispose: () => (x.dispose(), w.dispose(), out.dispose()),
      };
    },
  };
}

export const cases: BenchCase[] = [
  tiled(512, 512, 512, true),
  tiled(1024, 1024, 1024, true),
  tiled(4096, 1024, 1024, false),
  // N % 4 != 0: the any-shape kernel.
  tiled(512, 511, 512, true),
  tiled(1024, 1023, 1024, false),
  // Few rows and N % 4 != 0: the tiled any-shape kernel (matmul.wgsl), which no shape above reaches.
  tiled(19, 1023, 1024, true),
  // The transformer's MLP up-projection over a 19-token prompt, nn.Linear layout.
  tiled(19, 2816, 1024, true, true),
  packedLinear(19, 2816, 1024, true),
  packedLinear(1, 2816, 1024, true),
  packedLinear(1, 16384, 1024, true),
  packedLinear(1, 16384, 1024, true, 'f16'),
  packedLinear(19, 2816, 1024, true, 'f16'),
  // Both portable packed GEMMs on this adapter: workgroup memory (the gpu entry) or not.
  ...[true, false].flatMap((on) => [packedLinear(1024, 1024, 1024, false, 'f32', on), packedLinear(1024, 2816, 1024, false, 'f16', on)]),
  plainRow(16384, 1024, true),
  // The 1024 x 160005 output projection of a decode step: 625 MiB, bound in 5 chunks.
  packedLinear(1, 160005, 1024, false),
  packedLinear(1, 160005, 1024, false, 'f16'),
  plainRow(160005, 1024, false),
];
