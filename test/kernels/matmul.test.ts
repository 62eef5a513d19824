import test from 'ava';
import { KernelArgError, MATMUL_ACTIVATIONS, PackedMatmulWeight, linear, linearSwiGLU, matmul, matmulRef } from '../../kernels/index.js';
import { PACK_PER_CALL_MIN_M, TUNING_TABLE, bucketSize, chooseMatmulTiles, choosePackedTile, chunkRows, withKnobs } from '../../kernels/internal.js';
import type { GpuContext, MatmulActivation, Tensor, WeightDtype } from '../../kernels/index.js';
import { f16Round, toHalves } from '../../kernels/core/ref_math.js';
import { assertClose } from '../helpers/close.js';
import { gpu, notExercised } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// f32 sums of K products of values in [-1, 1]: rounding grows like sqrt(K) (see kernels/matmul.ts).
const tol = (K: number) => ({ atol: 1e-5 * Math.sqrt(Math.max(K, 1)), rtol: 1e-5 });
const numel = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
// The tile choosers' tests pin lavapipe's entry of the tuning table.
const LAVAPIPE = TUNING_TABLE.lavapipe.tuning;

interface Case {
  a: number[];
  b: number[];
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
  activation?: MatmulActivation;
  residual?: boolean;
  maxBindingBytes?: number;
  /** Pass b as a PackedMatmulWeight. */
  packed?: boolean;
  /** Force the packed GEMM kernel: matmul_packed_sg (true) or matmul_packed (false). */
  subgroup?: boolean;
  /** Storage of the PackedMatmulWeight (the reference then uses b rounded to f16). */
  dtype?: WeightDtype;
}

async function check(t: import('ava').ExecutionContext, ctx: GpuContext, rng: Rng, c: Case, name: string): Promise<void> {
  const a = rng.array(numel(c.a));
  const b = rng.array(numel(c.b));
  const N = c.transB ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
  const K = c.transA ? c.a[c.a.length - 2]! : c.a[c.a.length - 1]!;
  const bias = c.bias ? rng.array(N) : undefined;
  const bRef = c.dtype === 'f16' ? b.map(f16Round) : b;
  const ref0 = matmulRef(a, c.a, bRef, c.b, { transA: c.transA, transB: c.transB });
  const residual = c.residual ? rng.array(ref0.data.length, -4, 4) : undefined;
  const ref = matmulRef(a, c.a, bRef, c.b, { transA: c.transA, transB: c.transB, bias, activation: c.activation, residual });
  const ts: Tensor[] = [ctx.fromArray(a, c.a), ctx.fromArray(b, c.b)];
  const opts = {
    transA: c.transA,
    transB: c.transB,
    activation: c.activation,
    bias: bias && ctx.fromArray(bias, [N]),
    residual: residual && ctx.fromArray(residual, ref.shape),
  };
  const knobs = {
    maxBindingBytes: c.maxBindingBytes,
    packedTile: c.subgroup === undefined ? undefined : choosePackedTile(c.transA ? c.a[c.a.length - 1]! : c.a[c.a.length - 2]!, 8, ctx.tuning, c.subgroup),
  };
  const pw = c.packed ? withKnobs(knobs, () => PackedMatmulWeight.pack(ts[1]!, { transB: c.transB, dtype: c.dtype })) : undefined;
  const y = withKnobs(knobs, () => (pw ? matmul(ts[0]!, pw, { ...opts, transB: undefined }) : matmul(ts[0]!, ts[1]!, opts)));
  t.deepEqual(y.shape, ref.shape, `${name}: output shape`);
  assertClose(t, await y.read(), ref.data, { ...tol(K), shape: ref.shape, name });
  for (const x of [...ts, y, opts.bias, opts.residual, pw]) x?.dispose();
}

/** N for a case on the subgroup kernel, which stores vec4s of a row: rounded up to a multiple of 4. */
const n4 = (N: number, subgroup: boolean | undefined) => (subgroup ? Math.ceil(N / 4) * 4 : N);

// M, N, K: 1-sized dims, primes, sizes just past a 4-wide block and past a 32/64 tile.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 33, 65],
  [65, 17, 33],
  [1, 65, 17],
  [33, 1, 3],
  [2, 70, 4],
  // matmul_vec4: N % 4 == 0 (and K % 4 == 0 for its transB form), M not a multiple of 4
  [3, 8, 7],
  [17, 36, 65],
  [33, 12, 20],
  [1, 4, 8],
  [6, 68, 4],
];

for (const [M, N, K] of SHAPES) {
  for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    test(`matmul M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      await check(t, ctx, rng, { a: transA ? [K, M] : [M, K], b: transB ? [N, K] : [K, N], transA, transB }, t.title);
    });
  }
}

test('matmul batch broadcast', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const cases: Case[] = [
    { a: [2, 3, 5, 7], b: [7, 6] },
    { a: [5, 7], b: [3, 7, 6] },
    { a: [1, 5, 7], b: [3, 7, 6], transB: false },
    { a: [3, 7, 5], b: [3, 6, 7], transA: true, transB: true },
    { a: [2, 1, 9], b: [2, 9, 1] },
    { a: [4, 1, 5, 7], b: [1, 7, 6] },
  ];
  for (const c of cases) await check(t, ctx, rng, c, `a=[${c.a}] b=[${c.b}] tA=${!!c.transA} tB=${!!c.transB}`);
});

for (const activation of MATMUL_ACTIVATIONS) {
  test(`matmul epilogue bias + ${activation} + residual`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    await check(t, ctx, rng, { a: [2, 17, 33], b: [33, 19], bias: true, activation, residual: true }, `${activation} bias+res`);
    await check(t, ctx, rng, { a: [5, 9], b: [6, 9], transB: true, bias: true, activation }, `${activation} bias`);
    await check(t, ctx, rng, { a: [1, 24], b: [37, 24], transB: true, bias: true, activation, residual: true }, `${activation} one row, plain weight (vec4)`);
    await check(t, ctx, rng, { a: [1, 24], b: [37, 24], transB: true, packed: true, bias: true, activation, residual: true }, `${activation} one row, packed weight (gemv)`);
    await check(t, ctx, rng, { a: [1, 23], b: [37, 23], transB: true, bias: true, activation, residual: true }, `${activation} one row, K % 4 != 0 (tiled)`);
  });
}

// matmul_packed: a PackedMatmulWeight at any M, or a plain B packed per call from PACK_PER_CALL_MIN_M rows.
// Both GEMM kernels (matmul_packed_sg where the adapter has subgroups of >= 8).
for (const packed of [true, false]) {
  const m0 = packed ? 0 : PACK_PER_CALL_MIN_M;
  for (const subgroup of [false, true]) {
    test(`${subgroup ? 'matmul_packed_sg' : 'matmul_packed'} (${packed ? 'PackedMatmulWeight' : 'per-call packing'}): awkward shapes, transposes, batches, epilogue`, async (t) => {
      const ctx = await gpu();
      if (subgroup && !ctx.hasSubgroups(8)) {
        notExercised(t, 'matmul_packed_sg', `no subgroups of >= 8 on ${ctx.adapterInfo}`);
        return;
      }
      const rng = Rng.fromString(t.title);
      // N past one and two 16-column blocks, M past 4, 8 and 64 rows (M % 4 = 1, 3, 0), K = 1, 3, 4 x 8 lanes;
      // N % 4 == 0 (16, 36: a plain B read as it is by the subgroup kernel per call). The subgroup
      // kernel stores vec4s of a row, so there N is rounded up to a multiple of 4 (odd N: below).
      const shapes: [number, number, number][] = [[m0 + 1, 1, 1], [m0 + 3, 17, 3], [m0 + 19, 33, 32], [m0 + 65, 16, 7], [m0 + 8, 5, 65], [m0 + 36, 47, 9], [m0 + 5, 36, 10]];
      for (const [M, N0, K] of shapes) {
        const N = n4(N0, subgroup);
        for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
          const c: Case = { a: transA ? [K, M] : [M, K], b: transB ? [N, K] : [K, N], transA, transB, packed, subgroup, bias: true, residual: true, activation: 'silu' };
          await check(t, ctx, rng, c, JSON.stringify(c));
        }
      }
      // Batched b, batched a with a broadcast b, and the reverse (M % 4 = 1 and 0).
      for (const [a, b] of [[[3, m0 + 9, 5], [3, 5, n4(18, subgroup)]], [[2, m0 + 9, 5], [5, n4(18, subgroup)]], [[m0 + 9, 5], [2, 5, n4(18, subgroup)]], [[2, 12, m0 + 4], [2, 12, n4(7, subgroup)]], [[2, m0 + 5, 6], [2, 6, 20]]] as const) {
        const transA = a[1] === 12;
        await check(t, ctx, rng, { a: [...a], b: [...b], transA, packed, subgroup, bias: true, activation: 'gelu' }, `batch a=[${a}] b=[${b}] transA=${transA}`);
      }
      if (subgroup) {
        // Odd N: the default choice takes matmul_packed; forcing the subgroup kernel is an error.
        await check(t, ctx, rng, { a: [m0 + 9, 5], b: [5, 17], packed, bias: true, residual: true }, 'odd N, default kernel');
        const x = ctx.zeros([m0 + 9, 5]);
        const w = ctx.zeros([5, 17]);
        const tile = choosePackedTile(m0 + 9, 8, ctx.tuning, true);
        t.throws(() => withKnobs({ packedTile: tile }, () => matmul(x, w)), { instanceOf: KernelArgError, message: /^matmul: knobs\.packedTile: the subgroup kernel stores vec4s of a row: N = 17 is not a multiple of 4/ });
        x.dispose();
        w.dispose();
      }
    });
  }
}

test('matmul_packed (and its GEMV) binds an oversized packed weight in aligned block chunks', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  // 200 columns = 13 blocks of 16 x K floats (12.5 KiB at K = 200) under a 64 KiB binding limit
  // that a and out (65 rows) still fit: 3 or 4 chunks; K = 201 makes blocks of 12864 bytes, of
  // which only every 4th starts at a 256-byte aligned offset.
  for (const K of [200, 201]) {
    const chunks = chunkRows(13, 16 * K, 65536, ctx.limits.minStorageBufferOffsetAlignment).length;
    t.true(chunks >= 3);
    // A packed weight at M = 1 (its GEMV: no transpose of a) and at 65 rows; a plain one packed per call.
    for (const [M, packed] of [[1, true], [PACK_PER_CALL_MIN_M + 1, true], [PACK_PER_CALL_MIN_M + 1, false]] as const) {
      const before = ctx.stats.dispatches;
      const done = check(t, ctx, rng, { a: [M, K], b: [200, K], packed, transB: true, bias: true, residual: true, activation: 'relu', maxBindingBytes: 65536 }, `chunked K=${K} M=${M} packed=${packed}`);
      t.is(ctx.stats.dispatches - before, 2 * chunks + (M > 1 ? 1 : 0), 'packing and product: one launch per chunk each, one transpose of a');
      await done;
    }
  }
});

test('f16 PackedMatmulWeight: GEMV, matmul_packed and matmul_packed_sg give the f32 result for the f16-rounded weight', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const kernels: boolean[] = [false];
  if (ctx.hasSubgroups(8)) kernels.push(true);
  else notExercised(t, 'matmul_packed_sg_f16', `no subgroups of >= 8 on ${ctx.adapterInfo}`);
  for (const subgroup of kernels) {
    for (const [M, N0, K] of [[1, 1, 1], [1, 47, 33], [3, 17, 3], [19, 33, 32], [65, 16, 7]] as const) {
      const N = n4(N0, subgroup);
      for (const transB of [false, true]) {
        const c: Case = { a: [M, K], b: transB ? [N, K] : [K, N], transB, packed: true, dtype: 'f16', subgroup, bias: true, residual: true, activation: 'silu' };
        await check(t, ctx, rng, c, JSON.stringify(c));
      }
    }
    await check(t, ctx, rng, { a: [2, 9, 5], b: [2, 5, n4(18, subgroup)], packed: true, dtype: 'f16', subgroup, bias: true }, `f16 batched, subgroup ${subgroup}`);
    await check(t, ctx, rng, { a: [2, 12, 5], b: [12, n4(18, subgroup)], transA: true, packed: true, dtype: 'f16', subgroup }, `f16 transA broadcast, subgroup ${subgroup}`);
  }
  // Chunked bindings: 13 blocks of 16 x 201 halves (6432 bytes) under a 16 KiB limit.
  // Packing goes by the f32 source's chunks (at offsets aligned for the halves), the product by the halves'.
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  const packChunks = chunkRows(13, 16 * 201, 16384, 2 * align).length;
  const productChunks = chunkRows(13, 8 * 201, 16384, align).length;
  t.true(packChunks > productChunks && productChunks > 1, `${packChunks} packing, ${productChunks} product chunks`);
  for (const M of [1, 9]) {
    const before = ctx.stats.dispatches;
    const done = check(t, ctx, rng, { a: [M, 201], b: [200, 201], transB: true, packed: true, dtype: 'f16', bias: true, maxBindingBytes: 16384 }, `f16 chunked M=${M}`);
    t.is(ctx.stats.dispatches - before, packChunks + productChunks + (M > 1 ? 1 : 0));
    await done;
  }
  const pw = PackedMatmulWeight.linear(ctx.zeros([40, 64]), { dtype: 'f16' });
  t.is(pw.dtype, 'f16');
  t.is(pw.packed.byteLength, 3 * 16 * 64 * 2, 'ceil(40 / 16) blocks of 16 x 64 halves: half the bytes of the f32 blocks');
  t.throws(() => PackedMatmulWeight.pack(ctx.zeros([4, 2]), { dtype: 'bf16' as never }), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: dtype: 'bf16' is not one of f32, f16/ });
});

// Serial: it changes the shared context's tuning, which the concurrent tests must not see.
test.serial('matmul_packed_wg (workgroupGemm, the GPU entry): packed weights f32 and f16, B packed per call, transA, batches, epilogues, chunked bindings', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const prev = ctx.tune({ workgroupGemm: true, cpuSubgroupVariants: false });
  const ran = () => new Set(ctx.pipelineSpecs().filter((s) => s.shader.startsWith('matmul_packed_wg')).map((s) => s.shader));
  try {
    // Rows and columns past a 32 x 32 tile and a 16-column block, K past a TK = 32 step, 1-sized dims.
    for (const dtype of ['f32', 'f16'] as const) {
      for (const [M, N, K] of [[2, 1, 1], [3, 47, 31], [33, 16, 64], [65, 70, 100], [40, 33, 33]] as const) {
        await check(t, ctx, rng, { a: [M, K], b: [N, K], transB: true, packed: true, dtype, bias: true, residual: true, activation: 'silu' }, `packed ${dtype} M=${M} N=${N} K=${K}`);
      }
      await check(t, ctx, rng, { a: [2, 9, 5], b: [2, 5, 18], packed: true, dtype, bias: true }, `batched ${dtype}`);
      await check(t, ctx, rng, { a: [2, 12, 5], b: [12, 18], transA: true, packed: true, dtype }, `transA broadcast ${dtype}`);
      // 13 blocks of 16 x 201 under a 16 KiB binding: chunks of blocks, n_off into the output.
      await check(t, ctx, rng, { a: [9, 201], b: [200, 201], transB: true, packed: true, dtype, bias: true, maxBindingBytes: 16384 }, `chunked ${dtype}`);
    }
    // A plain B from PACK_PER_CALL_MIN_M rows: packed per call, then the same kernel.
    await check(t, ctx, rng, { a: [70, 37], b: [37, 45] }, 'plain B packed per call');
    await check(t, ctx, rng, { a: [37, 66], b: [45, 37], transA: true, transB: true, bias: true, activation: 'relu' }, 'plain B, transA, transB');
    t.deepEqual([...ran()].sort(), ['matmul_packed_wg', 'matmul_packed_wg_f16']);
  } finally {
    ctx.tune(prev);
  }
});

test('matmul_packed_sg few-rows tile (M <= 32, K N >= 2^18, packed weights): every row count, epilogue, batch and f16, against the reference', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  if (!ctx.hasSubgroups(8)) return notExercised(t, 'matmul_packed_sg FEW', `no subgroups of >= 8 on ${ctx.adapterInfo}`);
  const few = () => new Set(ctx.pipelineSpecs().filter((s) => s.shader.startsWith('matmul_packed_sg') && s.overrides.FEW).map((s) => Number(s.overrides.FEW)));
  for (const dtype of ['f32', 'f16'] as const) {
    // M 2 .. 32: 1 .. 8 row groups, partial last groups; N past a 32-column slab; K odd; K N >= 2^18.
    for (const M of [2, 3, 5, 8, 11, 19, 29, 32]) {
      await check(t, ctx, rng, { a: [M, 515], b: [532, 515], transB: true, packed: true, dtype, bias: true, residual: true, activation: 'silu' }, `few rows M=${M} ${dtype}`);
    }
    await check(t, ctx, rng, { a: [3, 7, 515], b: [3, 515, 520], packed: true, dtype, bias: true }, `few rows batched ${dtype}`);
    // A^T from uniform windows of 512 k-rows (32 padded rows): 4 windows at K 1800; past 4 (K 2100) from storage.
    for (const K of [1800, 2100]) await check(t, ctx, rng, { a: [29, K], b: [160, K], transB: true, packed: true, dtype, residual: true }, `few rows M=29 K=${K} ${dtype}`);
  }
  const aUniform = new Set(ctx.pipelineSpecs().filter((s) => s.shader.startsWith('matmul_packed_sg') && s.overrides.FEW).map((s) => s.overrides.A_UNIFORM ?? 0));
  t.deepEqual([...aUniform].sort(), [0, 1], 'A^T read from uniform windows (one batch, <= 4 windows) and from storage (batched, K 2100)');
  const seen = few().size;
  // A^T rows of 65552 bytes (M 16388), wider than a uniform window: the 4-row tile binds the windows unread.
  await check(t, ctx, rng, { a: [16388, 8], b: [16, 8], transB: true, packed: true }, 'M=16388: A^T rows wider than a uniform window');
  await check(t, ctx, rng, { a: [19, 37], b: [50, 37], transB: true, packed: true }, 'a small B: the 4-row tile');
  t.is(few().size, seen, 'no few-rows pipeline under K N = 2^18');
  t.deepEqual([...few()].sort((a, b) => a - b), [1, 2, 3, 5, 8], 'the row groups the shapes above need (M 2, 3 -> 1; 5, 8 -> 2; 11 -> 3; 19 -> 5; 29, 32 -> 8; the batched 7 -> 2)');
  const before = few().size;
  await check(t, ctx, rng, { a: [33, 515], b: [532, 515], transB: true, packed: true }, 'M=33: the 4-row tile');
  t.is(few().size, before, 'no few-rows pipeline past 32 rows');
});

test('PackedMatmulWeight.concat: each view computes its part bitwise, the whole all columns; linearSwiGLU is one GEMV', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const K = 64;
  for (const dtype of ['f32', 'f16'] as const) {
    const Ns = [32, 48, 40];
    const ws = Ns.map((N) => rng.array(N * K));
    const pack = (i: number) => PackedMatmulWeight.linear(ctx.fromArray(ws[i]!, [Ns[i]!, K]), { dtype });
    for (const M of [1, 5]) {
      const x = ctx.fromArray(rng.array(M * K), [M, K]);
      const want = await Promise.all(Ns.map(async (_, i) => linear(x, pack(i)).read()));
      const parts = Ns.map((_, i) => pack(i));
      const { whole, views } = PackedMatmulWeight.concat(parts);
      t.true(parts.every((p) => p.packed.disposed), 'the parts are disposed');
      t.deepEqual(whole.shape, [K, 120]);
      for (const [i, v] of views.entries()) t.deepEqual(await linear(x, v).read(), want[i], `${dtype} M=${M} view ${i}`);
      const all = await linear(x, whole).read();
      for (let m = 0; m < M; m++) {
        let c = 0;
        for (const [i, N] of Ns.entries()) {
          t.deepEqual(all.subarray(m * 120 + c, m * 120 + c + N), want[i]!.subarray(m * N, (m + 1) * N), `${dtype} M=${M} whole, row ${m} part ${i}`);
          c += N;
        }
      }
      whole.dispose();
      t.deepEqual(await linear(x, views[2]!).read(), want[2], 'views outlive the whole');
      for (const v of views) v.dispose();
      t.true(whole.packed.disposed);
    }
    // SwiGLU: gate and up adjacent in one buffer run as one GEMV, the unfused path's sums.
    const [wg, wu] = [rng.array(48 * K), rng.array(48 * K)];
    const sep = () => [wg, wu].map((w) => PackedMatmulWeight.linear(ctx.fromArray(w, [48, K]), { dtype })) as [PackedMatmulWeight, PackedMatmulWeight];
    const { views: [g, u] } = PackedMatmulWeight.concat(sep());
    const x = ctx.fromArray(rng.array(K), [1, K]);
    const before = ctx.stats.dispatches;
    const y = linearSwiGLU(x, g!, u!);
    t.is(ctx.stats.dispatches - before, 1, 'one dispatch');
    t.deepEqual(y.shape, [1, 48]);
    const [sg, su] = sep();
    // Same GEMV sums in the same order, but WGSL does not promise the same fma fusion in another
    // pipeline: within a few ulps (1e-6 relative) of the largest output.
    const [yf, yu] = [await y.read(), await linearSwiGLU(x, sg, su).read()];
    const scale = yu.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = yu.reduce((m, v, i) => Math.max(m, Math.abs(v - yf[i]!)), 0);
    t.true(diff <= 1e-6 * scale, `${dtype} fused vs unfused: max diff ${diff}, max |out| ${scale}`);
    const xa = await x.read();
    const r = (w: Float32Array, act?: MatmulActivation) => matmulRef(xa, [1, K], dtype === 'f16' ? w.map(f16Round) : w, [48, K], { transB: true, activation: act }).data;
    const [rg, ru] = [r(wg!, 'silu'), r(wu!)];
    assertClose(t, await y.read(), rg.map((v, i) => v * ru[i]!), { ...tol(K), name: `${dtype} linearSwiGLU vs reference` });
    t.throws(() => linearSwiGLU(x, g!, PackedMatmulWeight.linear(ctx.zeros([40, K]))), { instanceOf: KernelArgError, message: /^linearSwiGLU: up: \[40,64\], expected gate's shape \[48,64\]/ });
  }
  const a = PackedMatmulWeight.linear(ctx.zeros([40, 64]));
  const b = PackedMatmulWeight.linear(ctx.zeros([16, 32]));
  t.regex(PackedMatmulWeight.concatProblem([a, b]) ?? '', /part 0 has N = 40, not a multiple of 16/);
  t.regex(PackedMatmulWeight.concatProblem([b, a]) ?? '', /part 1 is \[64,40\] f32, part 0 \[32,16\] f32/);
  // A block of K = 1 halves is 32 bytes: unbindable as a view where offsets align to more.
  const tiny = PackedMatmulWeight.concatProblem([PackedMatmulWeight.linear(ctx.zeros([16, 1]), { dtype: 'f16' })]);
  if (ctx.limits.minStorageBufferOffsetAlignment > 32) t.regex(tiny ?? '', /a 32-byte packed block is not a multiple of minStorageBufferOffsetAlignment/);
  else t.is(tiny, null);
  t.throws(() => PackedMatmulWeight.concat([a, b]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight.concat: parts: part 0 has N = 40/ });
});

test('PackedMatmulWeight.fromPacked takes a tensor already in the packed layout', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const b = rng.array(2 * 5 * 20);
  const ref = PackedMatmulWeight.pack(ctx.fromArray(b, [2, 5, 20]));
  const wrapped = PackedMatmulWeight.fromPacked(ctx.fromArray(await ref.packed.read(), [ref.packed.size]), [2, 5, 20]);
  const a = ctx.fromArray(rng.array(2 * 3 * 5), [2, 3, 5]);
  t.deepEqual(await matmul(a, wrapped).read(), await matmul(a, ref).read());
  t.throws(() => PackedMatmulWeight.fromPacked(ctx.zeros([100]), [2, 5, 20]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: packed: 100 values, the packed layout of \[2,5,20\] needs 320/ });
  t.throws(() => PackedMatmulWeight.fromPacked(ctx.zeros([320]), [20]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: shape: \[20\], expected positive \[..., K, N\]/ });
  t.throws(() => PackedMatmulWeight.fromPacked(ctx.zeros([320], 'u32'), [2, 5, 20]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: packed: dtype u32, expected f32/ });
});

test('PackedMatmulWeight.linearFromHost packs host values chunk by chunk: the same blocks as from a tensor, never the whole f32 weight on the GPU', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const [N, K, limit] of [[1, 1, 0], [40, 64, 0], [200, 201, 16384], [200, 202, 16384], [37, 5, 1024]] as const) {
    const w = rng.array(N * K);
    for (const dtype of ['f32', 'f16'] as const) {
      const knobs = { maxBindingBytes: limit || undefined };
      const plain = ctx.fromArray(w, [N, K]);
      const ref = withKnobs(knobs, () => PackedMatmulWeight.linear(plain, { dtype }));
      plain.dispose();
      ctx.submit();
      ctx.pool.trim();
      const before = ctx.pool.getStats().allocated;
      ctx.pool.resetPeak();
      const pw = withKnobs(knobs, () => PackedMatmulWeight.linearFromHost(ctx, w, [N, K], { dtype }));
      const grew = ctx.pool.getStats().peak - before;
      t.deepEqual(pw.shape, [K, N]);
      t.is(pw.dtype, dtype);
      t.deepEqual(await pw.packed.read(), await ref.packed.read(), `[${N}, ${K}] ${dtype} limit ${limit}: same packed blocks`);
      // Over several chunks: the packed copy plus a source chunk (and the smaller last one), not the whole f32 weight.
      const whole = bucketSize(pw.packed.byteLength) + bucketSize(N * K * 4);
      if (N * K * 4 >= 4 * limit && limit) t.true(grew <= bucketSize(pw.packed.byteLength) + 2 * bucketSize(limit) && grew < whole, `[${N}, ${K}] ${dtype}: grew ${grew} bytes (whole: ${whole})`);
      // An f16 checkpoint's bits (K even): packed as they are, the blocks of the f32 values rounded.
      if (dtype === 'f16' && K % 2 === 0) {
        const bits = withKnobs(knobs, () => PackedMatmulWeight.linearFromHalves(ctx, toHalves(w), [N, K]));
        t.is(bits.dtype, 'f16');
        t.deepEqual(await bits.packed.read(), await ref.packed.read(), `[${N}, ${K}] limit ${limit}: linearFromHalves packs the same blocks`);
        bits.dispose();
      }
      pw.dispose();
      ref.dispose();
    }
  }
  t.throws(() => PackedMatmulWeight.linearFromHalves(ctx, new Uint16Array(6), [2, 3]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: shape: K = 3 is odd/ });
  t.throws(() => PackedMatmulWeight.linearFromHalves(ctx, new Uint16Array(6), [2, 4]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: halves: 6 values, expected 2 x 4 = 8/ });
  t.throws(() => PackedMatmulWeight.linearFromHost(ctx, new Float32Array(5), [2, 3]), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: weight: 5 values, expected 2 x 3 = 6/ });
  t.throws(() => PackedMatmulWeight.linearFromHost(ctx, new Float32Array(6), [2, 3], { dtype: 'bf16' as never }), { instanceOf: KernelArgError, message: /^PackedMatmulWeight: dtype: 'bf16'/ });
});

test('matmul_packed_sg reads a plain B (N % 4 == 0) without a packing pass, and a transA A with M % 4 == 0 without a transpose', async (t) => {
  const ctx = await gpu();
  if (!ctx.hasSubgroups(8)) {
    notExercised(t, 'matmul_packed_sg', `no subgroups of >= 8 on ${ctx.adapterInfo}`);
    return;
  }
  const rng = Rng.fromString(t.title);
  const M = PACK_PER_CALL_MIN_M + 4;
  for (const [c, launches] of [
    [{ a: [M, 9], b: [9, 40] }, 2],
    [{ a: [9, M], b: [9, 40], transA: true }, 1],
    [{ a: [9, M], b: [9, 42], transA: true }, 2],
    [{ a: [9, M], b: [40, 9], transA: true, transB: true }, 2],
  ] as [Case, number][]) {
    const before = ctx.stats.dispatches;
    const done = check(t, ctx, rng, c, JSON.stringify(c));
    t.is(ctx.stats.dispatches - before, launches, `${JSON.stringify(c)}: launches`);
    await done;
  }
});

test('choosePackedTile: 8x16 blocks for many rows, fewer rows, 8 lanes and 32 columns for few; subgroup kernel 4x32', (t) => {
  t.deepEqual(choosePackedTile(1024, 64, LAVAPIPE), { wg: 32, rm: 8, cb: 1, subgroup: false });
  t.deepEqual(choosePackedTile(19, 176, LAVAPIPE), { wg: 8, rm: 3, cb: 2, subgroup: false }, 'one SIMD row of lanes, 3 rows and 32 columns each');
  t.deepEqual(choosePackedTile(1, 10, LAVAPIPE), { wg: 8, rm: 1, cb: 2, subgroup: false });
  t.deepEqual(choosePackedTile(256, 1, LAVAPIPE), { wg: 8, rm: 8, cb: 1, subgroup: false }, 'narrow N: smaller workgroups so both cores get work');
  t.deepEqual(choosePackedTile(1024, 64, LAVAPIPE, true), { wg: 32, rm: 4, cb: 2, subgroup: true });
  t.deepEqual(choosePackedTile(19, 176, LAVAPIPE, true), { wg: 8, rm: 4, cb: 2, subgroup: true });
  t.deepEqual(choosePackedTile(256, 2, LAVAPIPE, true), { wg: 8, rm: 4, cb: 2, subgroup: true }, 'narrow N: smaller workgroups');
  for (const subgroup of [false, true]) {
    for (const M of [1, 7, 9, 63, 100, 513, 4096]) {
      const { wg, rm, cb } = choosePackedTile(M, 8, LAVAPIPE, subgroup);
      t.true(rm >= 1 && rm <= 8 && (wg === 8 || wg === 16 || wg === 32) && rm * cb <= 8, `M=${M}`);
      t.true(wg * rm < 2 * M || wg === 8, `M=${M}: lanes are not mostly idle`);
    }
  }
});

test('matmul random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let i = 0; i < 10; i++) {
    const [M, N, K] = [rng.int(1, 40), rng.int(1, 40), rng.int(1, 70)];
    const transA = rng.next() < 0.5;
    const transB = rng.next() < 0.5;
    const batch = rng.pick([[], [1], [3]]);
    const c: Case = { a: [...batch, ...(transA ? [K, M] : [M, K])], b: transB ? [N, K] : [K, N], transA, transB, bias: rng.next() < 0.5, residual: rng.next() < 0.5, activation: rng.pick(MATMUL_ACTIVATIONS) };
    await check(t, ctx, rng, c, `seed ${rng.seed} #${i} ${JSON.stringify(c)}`);
  }
});

test('matmul binds an oversized plain [N, K] weight in aligned row chunks', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  // 301 rows of 80 bytes under a 4 KiB "binding limit": 7 chunks of <= 48 rows at 256-byte
  // alignment, 6 of 51 rows where the device allows 16-byte offsets.
  t.is(chunkRows(301, 20, 4096, 256).length, 7);
  // K = 20 runs matmul_vec4, K = 21 the any-shape kernel (one row too: the GEMV reads packed weights).
  for (const K of [20, 21]) {
    const chunks = chunkRows(301, K, 4096, ctx.limits.minStorageBufferOffsetAlignment).length;
    t.true(chunks >= 6);
    for (const c of [{ a: [1, K], b: [301, K] }, { a: [3, K], b: [301, K] }]) {
      const before = ctx.stats.dispatches;
      // check() records its dispatch synchronously, before its first await: no other test interleaves.
      const done = check(t, ctx, rng, { ...c, transB: true, bias: true, residual: true, activation: 'silu', maxBindingBytes: 4096 }, `chunked a=[${c.a}]`);
      t.is(ctx.stats.dispatches - before, chunks, 'one launch per chunk');
      await done;
    }
  }
});

test('chunkRows: aligned offsets, bindings under the limit, rows covered once', (t) => {
  for (const [N, K, max, align] of [[160005, 1024, 128 << 20, 256], [301, 20, 4096, 256], [1000, 17, 5000, 256], [10, 3, 1 << 20, 256], [77, 1, 256, 64]] as const) {
    const chunks = chunkRows(N, K, max, align);
    let next = 0;
    for (const [n0, rows] of chunks) {
      t.is(n0, next);
      t.true(rows > 0 && rows * K * 4 <= max, `[${n0}, ${rows}) fits ${max}`);
      t.is((n0 * K * 4) % align, 0, `offset of row ${n0} aligned to ${align}`);
      next = n0 + rows;
    }
    t.is(next, N);
  }
  t.is(chunkRows(160005, 1024, 128 << 20, 256).length, 5); // 625 MiB in 128 MiB bindings
  t.throws(() => chunkRows(10, 1000, 1000, 256), { instanceOf: KernelArgError, message: /^matmul: b: / });
});

test('chooseMatmulTiles: vec4 kernel when B allows, rows follow M, enough workgroups', (t) => {
  const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535 };
  const minWg = LAVAPIPE.matmulMinWorkgroups;
  t.deepEqual(chooseMatmulTiles(1024, 1024, 1024, limits, minWg), { variant: 'vec4', wg: 16 });
  t.deepEqual(chooseMatmulTiles(19, 2816, 1024, limits, minWg, true), { variant: 'vec4', wg: 16 });
  t.deepEqual(chooseMatmulTiles(4, 64, 64, limits, minWg), { variant: 'vec4', wg: 4 }); // 1 row group x 4 column groups
  t.deepEqual(chooseMatmulTiles(8, 6, 64, limits, minWg, true), { variant: 'vec4', wg: 4 }); // transB: K % 4 decides
  t.deepEqual(chooseMatmulTiles(8, 64, 63, limits, minWg, true).variant, 'tiled');
  t.deepEqual(chooseMatmulTiles(300000, 64, 64, limits, minWg).variant, 'tiled', 'M / 4 row groups over the grid limit');
  t.deepEqual(chooseMatmulTiles(1, 160005, 1024, limits, minWg, true), { variant: 'vec4', wg: 16 }, 'one row of a plain weight');
  t.deepEqual(chooseMatmulTiles(1, 160005, 1023, limits, minWg, true), { variant: 'tiled', wgx: 64, wgy: 1 });
  t.deepEqual(chooseMatmulTiles(5, 63, 64, limits, minWg), { variant: 'tiled', wgx: 4, wgy: 2 }); // 2 row groups x 4 column groups
  for (const [M, N, K] of [[1, 1, 1], [19, 2817, 1024], [1023, 1023, 1024], [3, 5, 7], [512, 17, 64]] as const) {
    const r = chooseMatmulTiles(M, N, K, limits, minWg);
    if (r.variant !== 'tiled') return t.fail(`[${M},${N},${K}] has N % 4 != 0`);
    const { wgx, wgy } = r;
    t.true(wgx * wgy <= 64 && wgx >= 4 && wgy >= 1, `[${M},${N},${K}] -> ${wgx}x${wgy}`);
    t.true(wgy === 1 || 4 * (wgy / 2) < M, `[${M},${N},${K}]: no all-idle row groups`);
    const groups = Math.ceil(N / (4 * wgx)) * Math.ceil(M / (4 * wgy));
    t.true(groups >= 4 || wgx === 4, `[${M},${N},${K}]: ${groups} workgroups`);
  }
  const small = chooseMatmulTiles(1024, 1023, 1024, { maxComputeInvocationsPerWorkgroup: 16, maxComputeWorkgroupSizeX: 8, maxComputeWorkgroupsPerDimension: 65535 }, minWg);
  t.true(small.variant === 'tiled' && small.wgx * small.wgy <= 16 && small.wgx <= 8, 'respects device limits');
});

test('linear: PyTorch layout, leading dims flattened, decode row through GEMV', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const xs of [[2, 3, 33], [33], [1, 1, 33], [32], [5, 32]]) {
    const K = xs[xs.length - 1]!;
    const x = rng.array(numel(xs));
    const w = rng.array(17 * K);
    const bias = rng.array(17);
    const ref = matmulRef(x, [numel(xs) / K, K], w, [17, K], { transB: true, bias, activation: 'gelu' });
    const y = linear(ctx.fromArray(x, xs), ctx.fromArray(w, [17, K]), ctx.fromArray(bias, [17]), { activation: 'gelu' });
    t.deepEqual(y.shape, [...xs.slice(0, -1), 17]);
    assertClose(t, await y.read(), ref.data, { ...tol(K), name: `linear x=[${xs}]` });
  }
  // A packed nn.Linear weight: same results at any M, GEMV-sized rows included.
  for (const xs of [[1, 32], [19, 33], [2, 3, 33]]) {
    const K = xs[xs.length - 1]!;
    const x = rng.array(numel(xs));
    const w = rng.array(40 * K);
    const ref = matmulRef(x, [numel(xs) / K, K], w, [40, K], { transB: true, activation: 'relu' });
    const pw = PackedMatmulWeight.linear(ctx.fromArray(w, [40, K]));
    const y = linear(ctx.fromArray(x, xs), pw, undefined, { activation: 'relu' });
    t.deepEqual(y.shape, [...xs.slice(0, -1), 40]);
    assertClose(t, await y.read(), ref.data, { ...tol(K), name: `linear packed x=[${xs}]` });
    pw.dispose();
  }
  const out = ctx.zeros([2, 17]);
  t.is(linear(ctx.fromArray(rng.array(66), [2, 33]), ctx.fromArray(rng.array(17 * 33), [17, 33]), undefined, { out }), out);
});

test('matmul_gemv reads x as a uniform up to K = 16384 (its declared 64 KiB) and from storage past it, one after the other in one submit', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xUniform = () => new Set(ctx.pipelineSpecs().filter((s) => s.shader.startsWith('matmul_gemv')).map((s) => s.overrides.X_UNIFORM));
  // Several GEMVs before one read: each copy into the one staging buffer waits for the GEMV before it.
  const cases = [5, 16384, 16389, 37, 1027].map((K) => {
    const x = rng.array(K);
    const w = rng.array(9 * K);
    const bias = rng.array(9);
    const pw = PackedMatmulWeight.linear(ctx.fromArray(w, [9, K]), { dtype: 'f16' });
    const y = linear(ctx.fromArray(x, [1, K]), pw, ctx.fromArray(bias, [9]));
    return { K, y, pw, ref: matmulRef(x, [1, K], w.map(f16Round), [9, K], { transB: true, bias }) };
  });
  for (const c of cases) {
    assertClose(t, await c.y.read(), c.ref.data, { ...tol(c.K), name: `GEMV K=${c.K}` });
    c.pw.dispose();
  }
  t.deepEqual([...xUniform()].sort(), [0, 1], 'both the uniform (K <= 16384) and the storage (K = 16389) x ran');
});

test('matmul: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const a = ctx.zeros([3, 4]);
  t.throws(() => matmul(a, ctx.zeros([5, 2])), { instanceOf: KernelArgError, message: /^matmul: b: shape \[5,2\] has K = 5, but a \[3,4\] has K = 4/ });
  t.throws(() => matmul(ctx.zeros([4]), ctx.zeros([4, 2])), { message: /^matmul: a: rank 1 .*expected rank >= 2/ });
  t.throws(() => matmul(a, ctx.zeros([4, 2], 'i32')), { message: /^matmul: b: dtype i32, expected f32/ });
  t.throws(() => matmul(ctx.zeros([2, 3, 4]), ctx.zeros([3, 4, 2])), { message: /^matmul: b: batch dims \[3\] do not match a's \[2\]/ });
  t.throws(() => matmul(a, ctx.zeros([4, 2]), { bias: ctx.zeros([3]) }), { message: /^matmul: bias: shape \[3\], expected \[2\]/ });
  t.throws(() => matmul(a, ctx.zeros([4, 2]), { activation: 'tanh' as never }), { message: /^matmul: activation: 'tanh'/ });
  t.throws(() => matmul(a, ctx.zeros([4, 2]), { out: ctx.zeros([2, 3]) }), { message: /^matmul: out: shape \[2,3\], expected \[3,2\]/ });
  const r = ctx.zeros([3, 2]);
  t.throws(() => matmul(a, ctx.zeros([4, 2]), { residual: r, out: r }), { message: /^matmul: residual: must not be the out tensor/ });
  t.throws(() => withKnobs({ maxBindingBytes: 512 }, () => matmul(a, ctx.zeros([4, 40]))), { message: /^matmul: b: .*only an unbatched transB \[N, K\] weight/ });
  t.throws(() => linear(a, ctx.zeros([2, 5])), { message: /^linear: weight: shape \[2,5\], expected \[N, 4\]/ });
  const before = ctx.stats.dispatches;
  t.throws(() => withKnobs({ packedTile: { wg: 8, rm: 8, cb: 1, subgroup: true } }, () => matmul(ctx.zeros([64, 4]), ctx.zeros([4, 2]))), { message: ctx.hasSubgroups(8) ? /^matmul: knobs.packedTile: the subgroup kernel has rm 4 and cb 2, got rm 8, cb 1/ : /^matmul: knobs.packedTile: the subgroup kernel needs the 'subgroups' feature/ });
  t.is(ctx.stats.dispatches, before, 'nothing dispatched');
  t.throws(() => linear(a, ctx.zeros([2, 4, 1])), { message: /^linear: weight: rank 3/ });
  const pw = PackedMatmulWeight.pack(ctx.zeros([4, 2]));
  t.throws(() => matmul(a, pw, { transB: true }), { message: /^matmul: transB: a PackedMatmulWeight already holds op\(B\)/ });
  t.throws(() => matmul(ctx.zeros([3, 5]), pw), { message: /^matmul: b: shape \[4,2\] has K = 4, but a \[3,5\] has K = 5/ });
  t.throws(() => linear(ctx.zeros([3, 2]), PackedMatmulWeight.linear(ctx.zeros([2, 5]))), { message: /^linear: weight: shape \[2,5\], expected \[N, 2\]/ });
  t.throws(() => linear(a, PackedMatmulWeight.pack(ctx.zeros([2, 4, 2]))), { message: /^linear: weight: packed from rank 3/ });
  t.throws(() => PackedMatmulWeight.pack(ctx.zeros([4])), { message: /^PackedMatmulWeight: b: rank 1/ });
  pw.dispose();
  t.throws(() => matmul(a, pw), { message: /^matmul: b: the packed weight was disposed/ });
});
