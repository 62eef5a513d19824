/**
 * Kernel checks that run unchanged in a browser page (test/browser/page.ts) and in Node: one or a
 * few cases per kernel family, each against the same float64 CPU reference and tolerance as the
 * family's ava test in test/kernels/. Browser-safe: no Node built-ins, no ava.
 */
import { type ConvGrads, type GpuContext, type UnaryBackwardOp, adamwStep, adamwStepRef, argmax, argmaxRef, attention, attentionBackward, attentionBackwardRef, attentionDecode, attentionRef, binary, binaryRef, causalConv3d, causalConv3dBackward, causalConv3dGeometry, concat, concatRef, conv2d, conv2dBackward, conv2dGeometry, convBackwardRef, convRef, copy, copyRef, embeddingBackward, embeddingBackwardRef, fourierPe, fourierPeRef, fsqBackward, fsqBackwardRef, fsqIndicesToCodes, fsqIndicesToCodesRef, fsqQuantize, fsqQuantizeRef, gatherRows, gatherRowsRef, groupNorm, groupNormRef, linear, linearBackward, linearBackwardRef, matmul, matmulRef, meanPool, meanPoolRef, PackedConvWeight, PackedMatmulWeight, permute, permuteRef, reduceSum, reduceSumRef, resampleRef, rmsNorm, rmsNormBackward, rmsNormBackwardRef, rope, ropeRef, ropeTable, ropeTableData, rowNormRef, sample, sampleRef, siluMulBackward, siluMulBackwardRef, softmax, softmaxBackward, softmaxBackwardRef, softmaxCrossEntropy, softmaxCrossEntropyRef, softmaxRef, unary, UNARY_BACKWARD_OPS, unaryBackward, unaryBackwardRef, unaryRef, upsampleNearest2x, vqNearest, vqNearestRef } from '../../kernels/index.js';
import { DECODE_CHUNK, convBackwardTolerance, convTolerance, sampleScoresRef, vqNearTies, withKnobs } from '../../kernels/internal.js';
import { f16Round, halfToFloat } from '../../kernels/core/ref_math.js';
import { packBlocks, packBlocksRef, packedBlocksSize, transposePadded, transposePaddedRef } from '../../kernels/pack.js';
import { upload } from '../helpers/attention.js';
import { compareClose } from '../helpers/close.js';
import { Rng } from '../helpers/rng.js';
import { recordVariants } from '../helpers/variants.js';
import type { TinyMoveResult } from './tiny-move.js';

export interface CheckResult {
  family: string;
  case: string;
  /** Largest |GPU - reference| over the case's outputs (index outputs: mismatches that are not documented ties). */
  maxAbsErr: number;
  tolerance: string;
  pass: boolean;
  /** Why it failed (the first mismatches). */
  detail?: string;
  ms: number;
  /** The shader variants the case dispatched (test/helpers/variants.ts). */
  variants: string;
}

/** What examples/browser/checks.html leaves in `window.videoworldChecks`. */
export interface PageReport {
  adapter: string;
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
  /** The tuning class and subgroup sizes the variants were picked by (variantTarget). */
  variantTarget: string;
  userAgent: string;
  checks: CheckResult[];
  tinyMove: TinyMoveResult | { error: string };
}

interface Part {
  name: string;
  got: ArrayLike<number>;
  ref: ArrayLike<number>;
  atol: number;
  rtol?: number;
}

interface Check {
  family: string;
  case: string;
  run: (ctx: GpuContext, rng: Rng) => Promise<Part[]>;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** Index outputs where the reference documents f32 ties: positions the tie rule allows are replaced by the GPU's value. */
function allowTies(got: ArrayLike<number>, ref: ArrayLike<number>, isTie: (i: number) => boolean): Float64Array {
  return Float64Array.from(ref, (r, i) => (got[i] !== r && isTie(i) ? got[i]! : r));
}

// Winograd F(2x2) / F(4x4): more f32 roundings per output than the direct sum (test/kernels/conv_winograd.test.ts).
const winogradTolerance = (cin: number, tile: 2 | 4) => ({ atol: (tile === 2 ? 2e-6 : 5e-5) * Math.sqrt(9 * cin), rtol: 1e-5 });

const CHECKS: Check[] = [
  {
    family: 'binary', case: 'add [2,6,3,5,7] + [6,1,1,1]', run: async (ctx, rng) => {
      const [as, bs] = [[2, 6, 3, 5, 7], [6, 1, 1, 1]];
      const a = rng.array(numel(as));
      const b = rng.array(numel(bs), 0.5, 2);
      const out = [];
      for (const op of ['add', 'mul', 'div'] as const) out.push({ name: op, got: await binary(op, ctx.fromArray(a, as), ctx.fromArray(b, bs)).read(), ref: binaryRef(op, a, as, b, bs), atol: 0 });
      return out;
    },
  },
  {
    family: 'copy', case: '[1023]', run: async (ctx, rng) => {
      const x = rng.array(1023);
      return [{ name: 'copy', got: await copy(ctx.fromArray(x, [1023])).read(), ref: copyRef(x), atol: 0 }];
    },
  },
  {
    family: 'unary', case: 'silu, gelu, relu [3,333]', run: async (ctx, rng) => {
      const x = rng.array(999, -6, 6);
      const xt = ctx.fromArray(x, [3, 333]);
      return Promise.all((['silu', 'gelu', 'relu'] as const).map(async (op) => ({ name: op, got: await unary(op, xt).read(), ref: unaryRef(op, x), atol: op === 'relu' ? 0 : 1e-6, rtol: op === 'relu' ? 0 : 2e-6 })));
    },
  },
  ...([[[64, 96], [96, 80], false], [[2, 33, 65], [2, 65, 17], false], [[19, 256], [128, 256], true]] as const).map(([as, bs, transB]): Check => ({
    family: 'matmul', case: `[${as}]x[${bs}]${transB ? '^T' : ''}`, run: async (ctx, rng) => {
      const a = rng.array(numel(as));
      const b = rng.array(numel(bs));
      const K = as[as.length - 1]!;
      const ref = matmulRef(a, as, b, bs, { transB });
      return [{ name: 'y', got: await matmul(ctx.fromArray(a, as), ctx.fromArray(b, bs), { transB }).read(), ref: ref.data, atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 }];
    },
  })),
  {
    family: 'softmax', case: '[7,1000] T=0.7', run: async (ctx, rng) => {
      const x = rng.array(7000, -8, 8);
      return [{ name: 'p', got: await softmax(ctx.fromArray(x, [7, 1000]), { temperature: 0.7 }).read(), ref: softmaxRef(x, 1000, { temperature: 0.7 }), atol: 1e-6, rtol: 2e-5 }];
    },
  },
  {
    family: 'row_norm', case: 'rmsNorm [19,1024] weight', run: async (ctx, rng) => {
      const x = rng.array(19 * 1024, -2, 2);
      const w = rng.array(1024, 0.5, 1.5);
      return [{ name: 'y', got: await rmsNorm(ctx.fromArray(x, [19, 1024]), { weight: ctx.fromArray(w, [1024]) }).read(), ref: rowNormRef('rms', x, 1024, { weight: w }), atol: 2e-6, rtol: 2e-6 }];
    },
  },
  {
    family: 'group_norm', case: '[1,64,5,6,6] G=32 affine silu', run: async (ctx, rng) => {
      const shape = [1, 64, 5, 6, 6];
      const x = rng.array(numel(shape), -2, 3);
      const w = rng.array(64, 0.5, 1.5);
      const b = rng.array(64, -0.5, 0.5);
      const y = groupNorm(ctx.fromArray(x, shape), { groups: 32, weight: ctx.fromArray(w, [64]), bias: ctx.fromArray(b, [64]), silu: true });
      return [{ name: 'y', got: await y.read(), ref: groupNormRef(x, shape, { groups: 32, weight: w, bias: b, silu: true }), atol: 2e-6, rtol: 2e-6 }];
    },
  },
  ...([{ B: 2, NH: 3, Lq: 17, Lk: 17, HD: 64, causal: true }, { B: 1, NH: 2, Lq: 7, Lk: 300, HD: 128, causal: true }, { B: 1, NH: 2, Lq: 17, Lk: 300, HD: 64, causal: false }]).map((c): Check => ({
    family: 'attention', case: `B${c.B} NH${c.NH} Lq${c.Lq} Lk${c.Lk} HD${c.HD}${c.causal ? ' causal' : ''}`, run: async (ctx, rng) => {
      const d = upload(ctx, c, rng);
      return [{ name: 'out', got: await attention(d.q, d.k, d.v, { causal: c.causal }).read(), ref: attentionRef(d.qa, d.ka, d.va, c, { causal: c.causal }), atol: 2e-5 }];
    },
  })),
  {
    family: 'rope', case: '[1,4,9,32] positions 3..11', run: async (ctx, rng) => {
      const shape = [1, 4, 9, 32] as const;
      const x = rng.array(numel(shape));
      const pos = Int32Array.from({ length: 9 }, (_, i) => i + 3);
      const { cos, sin } = ropeTableData(32, 64);
      const y = rope(ctx.fromArray(x, shape), ctx.fromArray(pos, [9], 'i32'), ropeTable(ctx, 32, 64));
      return [{ name: 'y', got: await y.read(), ref: ropeRef(x, shape, pos, cos, sin, 64), atol: 1e-6 }];
    },
  },
  ...([[[1, 5, 3, 11, 13], [13, 5, 3, 3, 3], [1, 1, 1]], [[1, 3, 5, 7, 8], [6, 3, 3, 3, 3], [1, 2, 2]]] as const).map(([xs, ws, stride]): Check => ({
    family: 'conv3d_causal', case: `x=[${xs}] w=[${ws}] stride [${stride}] bias silu`, run: async (ctx, rng) => {
      const g = causalConv3dGeometry(xs, ws, stride);
      const x = rng.array(numel(xs));
      const w = rng.array(numel(ws));
      const bias = rng.array(ws[0]!);
      const y = causalConv3d(ctx.fromArray(x, xs), ctx.fromArray(w, ws), { stride: [...stride] as [1, 1, 1] | [1, 2, 2], bias: ctx.fromArray(bias, [ws[0]!]), activation: 'silu' });
      return [{ name: 'y', got: await y.read(), ref: convRef(x, w, g, { bias, activation: 'silu' }), ...convTolerance(g) }];
    },
  })),
  {
    family: 'resample', case: 'upsampleNearest2x [1,3,2,5,7]', run: async (ctx, rng) => {
      const shape = [1, 3, 2, 5, 7];
      const x = rng.array(numel(shape));
      return [{ name: 'y', got: await upsampleNearest2x(ctx.fromArray(x, shape)).read(), ref: resampleRef('nearest2x', x, shape), atol: 0 }];
    },
  },
  {
    family: 'layout', case: 'permute [2,3,4,5] (0,2,3,1), concat axis 1', run: async (ctx, rng) => {
      const shape = [2, 3, 4, 5];
      const x = rng.array(numel(shape));
      const y = rng.array(2 * 2 * 4 * 5);
      const xt = ctx.fromArray(x, shape);
      return [
        { name: 'permute', got: await permute(xt, [0, 2, 3, 1]).read(), ref: permuteRef(x, shape, [0, 2, 3, 1]), atol: 0 },
        { name: 'concat', got: await concat([xt, ctx.fromArray(y, [2, 2, 4, 5])], 1).read(), ref: concatRef([{ data: x, shape }, { data: y, shape: [2, 2, 4, 5] }], 1), atol: 0 },
      ];
    },
  },
  {
    family: 'fsq', case: 'levels [8,8,8,5,5,5] [2,40,6] + indices -> codes', run: async (ctx, rng) => {
      const levels = [8, 8, 8, 5, 5, 5];
      const z = rng.array(80 * 6, -3, 3);
      const ref = fsqQuantizeRef(z, 80, 6, levels);
      const { codes, indices } = fsqQuantize(ctx.fromArray(z, [2, 40, 6]), { levels });
      const ids = await indices.read();
      return [
        { name: 'indices', got: ids, ref: ref.indices, atol: 0 },
        { name: 'codes', got: await codes.read(), ref: ref.codes, atol: 0 },
        { name: 'codes from indices', got: await fsqIndicesToCodes(indices, { levels, channelFirst: false }).read(), ref: fsqIndicesToCodesRef(ids, levels), atol: 0 },
      ];
    },
  },
  {
    family: 'vq_lookup', case: 'N 100, V 1000, E 32', run: async (ctx, rng) => {
      const [N, V, E] = [100, 1000, 32];
      const x = rng.array(N * E);
      const cb = rng.array(V * E);
      const got = await vqNearest(ctx.fromArray(x, [N, E]), ctx.fromArray(cb, [V, E])).indices.read();
      // A row may take the runner-up where the two distances are within the f32 error bound (as test/kernels/vq_lookup.test.ts).
      const ties = new Map(vqNearTies(x, cb, N, V, E).map((t) => [t.row, t]));
      const ref = allowTies(got, vqNearestRef(x, cb, N, V, E), (i) => ties.get(i)?.second === got[i]);
      return [{ name: 'indices', got, ref, atol: 0 }];
    },
  },
  {
    family: 'gather_rows', case: 'V 200, D 40, 123 ids', run: async (ctx, rng) => {
      const [V, D] = [200, 40];
      const table = rng.array(V * D);
      const ids = Int32Array.from({ length: 123 }, () => rng.int(0, V - 1));
      return [{ name: 'rows', got: await gatherRows(ctx.fromArray(table, [V, D]), ctx.fromArray(ids, [123], 'i32')).read(), ref: gatherRowsRef(table, V, D, ids), atol: 0 }];
    },
  },
  {
    family: 'sampling', case: 'argmax + sample (seed 7, topK 50, topP 0.9) [3,4099]', run: async (ctx, rng) => {
      const v = 4099;
      const x = Float32Array.from({ length: 3 * v }, () => 2 * rng.normal());
      const xt = ctx.fromArray(x, [3, v]);
      const opts = { seed: 7, step: 2, temperature: 0.8, topK: 50, topP: 0.9 };
      const got = await sample(xt, opts);
      // A sampled token may differ only where the reference's scores tie in f32 (test/kernels/sampling.test.ts).
      const want = sampleRef(x, v, opts);
      const ref = allowTies(got, want, (b) => {
        const s = sampleScoresRef(x.subarray(b * v, (b + 1) * v), b, opts);
        return Number.isFinite(s[got[b]!]!) && Math.abs(s[got[b]!]! - s[want[b]!]!) <= 1e-5 * Math.max(1, Math.abs(s[want[b]!]!));
      });
      return [
        { name: 'argmax', got: await argmax(xt).read(), ref: argmaxRef(x, v), atol: 0 },
        { name: 'sample', got, ref, atol: 0 },
      ];
    },
  },
  {
    family: 'reduce', case: 'reduceSum [4,37,9] over the middle', run: async (ctx, rng) => {
      const x = rng.array(4 * 37 * 9);
      const ref = reduceSumRef(x, [4, 37, 9]);
      return [{ name: 'sum', got: await reduceSum(ctx.fromArray(x, [4 * 37 * 9]), [4, 37, 9]).read(), ref, atol: 1e-5 * maxAbs(ref) + 1e-6, rtol: 1e-5 }];
    },
  },
  {
    family: 'matmul_backward', case: 'linearBackward x [3,7,33], w [20,33], bias', run: async (ctx, rng) => {
      const [xs, ws] = [[3, 7, 33], [20, 33] as const];
      const x = rng.array(numel(xs));
      const w = rng.array(numel(ws));
      const g = rng.array(21 * 20);
      const r = linearBackward(ctx.fromArray(x, xs), ctx.fromArray(w, [...ws]), ctx.fromArray(g, [3, 7, 20]), { bias: true });
      const ref = linearBackwardRef(x, xs, w, ws, g, { bias: true });
      const tol = (L: number) => ({ atol: 1e-5 * Math.sqrt(L), rtol: 1e-5 });
      return [
        { name: 'dx', got: await r.dx!.read(), ref: ref.dx!, ...tol(20) },
        { name: 'dw', got: await r.dw.read(), ref: ref.dw, ...tol(21) },
        { name: 'db', got: await r.db!.read(), ref: ref.db!, ...tol(21) },
      ];
    },
  },
  {
    family: 'norm_backward', case: 'rmsNormBackward [5,96]', run: async (ctx, rng) => {
      const [R, D] = [5, 96];
      const x = rng.array(R * D, -2, 2);
      const g = rng.array(R * D);
      const w = rng.array(D, 0.5, 1.5);
      const r = rmsNormBackward(ctx.fromArray(x, [R, D]), ctx.fromArray(w, [D]), ctx.fromArray(g, [R, D]));
      const ref = rmsNormBackwardRef(x, D, w, g);
      // dx cancels: its error scale is max |r w g| (test/kernels/norm_backward.test.ts).
      let scale = 0;
      for (let b = 0; b < R; b++) {
        let q = 0;
        for (let j = 0; j < D; j++) q += x[b * D + j]! ** 2;
        const inv = 1 / Math.sqrt(q / D + Math.fround(1e-6));
        for (let j = 0; j < D; j++) scale = Math.max(scale, Math.abs(inv * w[j]! * g[b * D + j]!));
      }
      return [
        { name: 'dx', got: await r.dx.read(), ref: ref.dx, atol: 1e-5 * scale, rtol: 1e-5 },
        { name: 'dweight', got: await r.dweight.read(), ref: ref.dweight, atol: 1e-5 * maxAbs(ref.dweight), rtol: 1e-5 },
      ];
    },
  },
  {
    family: 'attention_backward', case: 'B1 NH2 L19 HD32 causal', run: async (ctx, rng) => {
      const sh = { B: 1, NH: 2, Lq: 19, Lk: 19, HD: 32 };
      const n = 2 * 19 * 32;
      const [q, k, v, g] = [rng.array(n, -1.5, 1.5), rng.array(n, -1.5, 1.5), rng.array(n), rng.array(n)];
      const shape = [1, 2, 19, 32];
      const [qt, kt, vt] = [q, k, v].map((a) => ctx.fromArray(a, shape)) as [ReturnType<GpuContext['fromArray']>, ReturnType<GpuContext['fromArray']>, ReturnType<GpuContext['fromArray']>];
      const out = attention(qt, kt, vt, { causal: true });
      const r = attentionBackward(qt, kt, vt, out, ctx.fromArray(g, shape), { causal: true });
      const ref = attentionBackwardRef(q, k, v, g, sh, { causal: true });
      const tol = (a: ArrayLike<number>) => 1e-5 * maxAbs(a) + 1e-7;
      return [
        { name: 'dq', got: await r.dq.read(), ref: ref.dq, atol: tol(ref.dq) },
        { name: 'dk', got: await r.dk.read(), ref: ref.dk, atol: tol(ref.dk) },
        { name: 'dv', got: await r.dv.read(), ref: ref.dv, atol: tol(ref.dv) },
      ];
    },
  },
  {
    family: 'cross_entropy', case: 'softmaxCrossEntropy [6,1000] mean', run: async (ctx, rng) => {
      const [R, V] = [6, 1000];
      const x = rng.array(R * V, -4, 4);
      const targets = Int32Array.from({ length: R }, (_, i) => (i === 2 ? -100 : rng.int(0, V - 1)));
      const r = softmaxCrossEntropy(ctx.fromArray(x, [R, V]), targets);
      const ref = softmaxCrossEntropyRef(x, R, V, targets);
      return [
        { name: 'loss', got: await r.loss.read(), ref: [ref.loss], atol: 1e-6, rtol: 1e-6 },
        { name: 'dlogits', got: await r.dlogits!.read(), ref: ref.dlogits!, atol: 1e-6 * maxAbs(ref.dlogits!) },
      ];
    },
  },
  {
    family: 'optimizer', case: 'adamwStep 1000 params, step 3', run: async (ctx, rng) => {
      const n = 1000;
      const [p, g, m] = [rng.array(n), rng.array(n), rng.array(n, -0.1, 0.1)];
      const v = rng.array(n, 0, 0.01);
      const o = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };
      const [pt, mt, vt] = [ctx.fromArray(p, [n]), ctx.fromArray(m, [n]), ctx.fromArray(v, [n])];
      adamwStep(pt, ctx.fromArray(g, [n]), mt, vt, o);
      const ref = adamwStepRef(p, g, m, v, o);
      const tol = (a: ArrayLike<number>) => ({ atol: 1e-6 * maxAbs(a), rtol: 1e-6 });
      return [
        { name: 'param', got: await pt.read(), ref: ref.param, ...tol(ref.param) },
        { name: 'exp_avg', got: await mt.read(), ref: ref.expAvg, ...tol(ref.expAvg) },
        { name: 'exp_avg_sq', got: await vt.read(), ref: ref.expAvgSq, ...tol(ref.expAvgSq) },
      ];
    },
  },
  {
    family: 'matmul', case: 'gemv [1,200] x PackedMatmulWeight [37,200] f32 and f16, bias silu', run: async (ctx, rng) => {
      const [N, K] = [37, 200];
      const x = rng.array(K);
      const w = rng.array(N * K);
      const bias = rng.array(N);
      const xt = ctx.fromArray(x, [1, K]);
      // f16 weights: the reference is the f16-rounded weight's product (test/kernels/matmul.test.ts).
      return Promise.all((['f32', 'f16'] as const).map(async (dtype) => {
        const y = linear(xt, PackedMatmulWeight.linear(ctx.fromArray(w, [N, K]), { dtype }), ctx.fromArray(bias, [N]), { activation: 'silu' });
        const ref = matmulRef(x, [1, K], dtype === 'f16' ? w.map(f16Round) : w, [N, K], { transB: true, bias, activation: 'silu' });
        return { name: dtype, got: await y.read(), ref: ref.data, atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 };
      }));
    },
  },
  {
    family: 'matmul', case: 'matmul_packed_wg (the GPU entry, tuned on): [40,70] x PackedMatmulWeight [37,70] f32 and f16, bias silu', run: async (ctx, rng) => {
      const [M, N, K] = [40, 37, 70];
      const x = rng.array(M * K);
      const w = rng.array(N * K);
      const bias = rng.array(N);
      const prev = ctx.tune({ workgroupGemm: true, cpuSubgroupVariants: false });
      try {
        const out = [];
        for (const dtype of ['f32', 'f16'] as const) {
          const y = linear(ctx.fromArray(x, [M, K]), PackedMatmulWeight.linear(ctx.fromArray(w, [N, K]), { dtype }), ctx.fromArray(bias, [N]), { activation: 'silu' });
          const ref = matmulRef(x, [M, K], dtype === 'f16' ? w.map(f16Round) : w, [N, K], { transB: true, bias, activation: 'silu' });
          out.push({ name: dtype, got: await y.read(), ref: ref.data, atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 });
        }
        return out;
      } finally {
        ctx.tune(prev);
      }
    },
  },
  {
    family: 'pack', case: 'packBlocks f32 (column slice) and f16, transposePadded', run: async (ctx, rng) => {
      const p = { batch: 1, n: 50, k: 6, r: 16, trans: true, nOff: 32, cols: 18 };
      const q = { batch: 2, n: 9, k: 7, r: 8, trans: true, f16: true };
      const [src, srcH] = [rng.array(p.batch * p.n * p.k), rng.array(q.batch * q.n * q.k)];
      const out = ctx.tensor([packedBlocksSize(p)], 'f32');
      packBlocks(ctx, ctx.fromArray(src, [src.length]), out, p);
      const outH = ctx.tensor([packedBlocksSize(q) / 2], 'u32');
      packBlocks(ctx, ctx.fromArray(srcH, [srcH.length]), outH, q);
      const bits = await outH.read();
      const a = rng.array(2 * 7 * 9);
      return [
        { name: 'f32 blocks', got: await out.read(), ref: packBlocksRef(src, p), atol: 0 },
        { name: 'f16 blocks', got: Float32Array.from({ length: bits.length * 2 }, (_, i) => halfToFloat((bits[i >> 1]! >>> (16 * (i & 1))) & 0xffff)), ref: packBlocksRef(srcH, q), atol: 0 },
        { name: 'transposed', got: await transposePadded(ctx.fromArray(a, [a.length]), true, 2, 7, 9).read(), ref: transposePaddedRef(a, true, 2, 7, 9), atol: 0 },
      ];
    },
  },
  ...([44, 2 * DECODE_CHUNK + 5]).map((Lk): Check => ({
    family: 'attention_decode', case: `B2 NH3 Lq1 Lk${Lk} HD64 (${Math.ceil(Lk / DECODE_CHUNK)} key chunks)`, run: async (ctx, rng) => {
      const c = { B: 2, NH: 3, Lq: 1, Lk, HD: 64 };
      const d = upload(ctx, c, rng);
      return [{ name: 'out', got: await attentionDecode(d.q, d.k, d.v).read(), ref: attentionRef(d.qa, d.ka, d.va, c), atol: 2e-5 }];
    },
  })),
  {
    family: 'conv2d', case: 'x=[1,4,9,8] w=[6,4,3,3] stride 2 pad [0,1,0,1] bias', run: async (ctx, rng) => {
      const [xs, ws] = [[1, 4, 9, 8], [6, 4, 3, 3]];
      const g = conv2dGeometry(xs, ws, 2, [0, 1, 0, 1]);
      const [x, w, bias] = [rng.array(numel(xs)), rng.array(numel(ws)), rng.array(6)];
      const y = conv2d(ctx.fromArray(x, xs), ctx.fromArray(w, ws), { stride: 2, padding: [0, 1, 0, 1], bias: ctx.fromArray(bias, [6]) });
      return [{ name: 'y', got: await y.read(), ref: convRef(x, w, g, { bias }), ...convTolerance(g) }];
    },
  },
  // inputNorm (groupNorm + silu before the conv) with |mean| 3 >> std, plain weight: the direct path
  // (test/kernels/conv2d.test.ts); packed 3x3 weights take the Winograd path (conv_winograd below).
  ...([[[1, 16, 5, 6], [16, 16, 3, 3], 16, false], [[1, 16, 33, 34], [20, 16, 3, 3], 4, true]] as const).map(([xs, ws, groups, packed]): Check => ({
    family: packed ? 'conv_winograd' : 'conv2d', case: `inputNorm x=[${xs}] w=[${ws}] groups ${groups} silu${packed ? ' packed (Winograd)' : ''} bias residual`, run: async (ctx, rng) => {
      const g = conv2dGeometry(xs, ws);
      const [C, Cout] = [xs[1], ws[0]];
      const x = rng.array(numel(xs)).map((v) => v + 3);
      const w = rng.array(numel(ws));
      const [gamma, beta, bias] = [rng.array(C).map((v) => 1 + v / 2), rng.array(C), rng.array(Cout)];
      const oshape = [g.b, Cout, g.ho, g.wo];
      const res = rng.array(numel(oshape));
      const wt = packed ? PackedConvWeight.pack(ctx.fromArray(w, ws)) : ctx.fromArray(w, ws);
      const inputNorm = { weight: ctx.fromArray(gamma, [C]), bias: ctx.fromArray(beta, [C]), groups, silu: true };
      const y = withKnobs({ convWinograd: packed }, () => conv2d(ctx.fromArray(x, xs), wt, { bias: ctx.fromArray(bias, [Cout]), residual: ctx.fromArray(res, oshape), inputNorm }));
      const xn = groupNormRef(x, xs, { groups, eps: 1e-6, weight: gamma, bias: beta, silu: true });
      return [{ name: 'y', got: await y.read(), ref: convRef(xn, w, g, { bias, residual: res }), ...(packed ? winogradTolerance(C, 4) : convTolerance(g)) }];
    },
  })),
  ...([[2, 'f32'], [4, 'f16']] as const).map(([tile, dtype]): Check => ({
    family: 'conv_winograd', case: `F(${tile}x${tile}) x=[2,16,7,9] w=[20,16,3,3] ${dtype} bias silu residual`, run: async (ctx, rng) => {
      const [xs, ws] = [[2, 16, 7, 9], [20, 16, 3, 3]];
      const g = conv2dGeometry(xs, ws);
      const [x, w, bias, res] = [rng.array(numel(xs)), rng.array(numel(ws)), rng.array(20), rng.array(2 * 20 * 7 * 9)];
      const pw = PackedConvWeight.pack(ctx.fromArray(w, ws), { dtype });
      const o = { bias: ctx.fromArray(bias, [20]), residual: ctx.fromArray(res, [2, 20, 7, 9]), activation: 'silu' as const };
      const y = withKnobs({ convWinograd: true, winogradTile: tile }, () => conv2d(ctx.fromArray(x, xs), pw, o));
      // f16 weights: the reference is the f16 weight's conv (test/kernels/conv_winograd.test.ts).
      const ref = convRef(x, dtype === 'f16' ? w.map(f16Round) : w, g, { bias, residual: res, activation: 'silu' });
      return [{ name: 'y', got: await y.read(), ref, ...winogradTolerance(16, tile) }];
    },
  })),
  ...([
    ['conv2dBackward', [1, 3, 7, 9], [5, 3, 3, 3], {}],
    ['causalConv3dBackward', [1, 5, 5, 7, 8], [12, 5, 3, 3, 3], { stride: [1, 2, 2] }],
  ] as const).map(([fn, xs, ws, o]): Check => ({
    family: 'conv_backward', case: `${fn} x=[${xs}] w=[${ws}]${'stride' in o ? ` stride [${o.stride}]` : ''}`, run: async (ctx, rng) => {
      const geom = xs.length === 4 ? conv2dGeometry(xs, ws) : causalConv3dGeometry(xs, ws, 'stride' in o ? o.stride : undefined);
      const gs = xs.length === 4 ? [geom.b, geom.cout, geom.ho, geom.wo] : [geom.b, geom.cout, geom.t, geom.ho, geom.wo];
      const [x, w, gy] = [rng.array(numel(xs)), rng.array(numel(ws)), rng.array(numel(gs))];
      const args = [ctx.fromArray(x, xs), ctx.fromArray(w, ws), ctx.fromArray(gy, gs)] as const;
      const r: ConvGrads = fn === 'conv2dBackward' ? conv2dBackward(...args) : causalConv3dBackward(...args, o);
      const ref = convBackwardRef(x, w, gy, geom);
      const tol = convBackwardTolerance(geom);
      return [
        { name: 'dx', got: await r.dx!.read(), ref: ref.dx, ...tol.dx },
        { name: 'dw', got: await r.dw.read(), ref: ref.dw, ...tol.dw },
        { name: 'db', got: await r.db!.read(), ref: ref.db, ...tol.db },
      ];
    },
  })),
  {
    // Rows of 768 bytes: a 9-row limit splits the table into 8 chunks at any offset alignment up to 256.
    family: 'embedding_backward', case: 'vocab 64, D 192, 40 ids < 20, table in 8 row chunks', run: async (ctx, rng) => {
      const [vocab, D, N, hi] = [64, 192, 40, 20];
      const ids = Int32Array.from({ length: N }, (_, i) => (i === 0 ? hi - 1 : rng.int(0, hi - 1)));
      const g = rng.array(N * D);
      const out = withKnobs({ maxBindingBytes: D * 4 * 9 }, () => embeddingBackward(ids, ctx.fromArray(g, [N, D]), vocab));
      // k repeats of an id: k - 1 f32 additions (test/kernels/embedding_backward.test.ts).
      const counts = new Map<number, number>();
      for (const v of ids) counts.set(v, (counts.get(v) ?? 0) + 1);
      const k = Math.max(...counts.values());
      return [{ name: 'table grad', got: await out.read(), ref: embeddingBackwardRef(ids, g, vocab, D), atol: k * (k - 1) * 2 ** -24 }];
    },
  },
  {
    family: 'fourier_pe', case: 'F 64, H 6, W 10, G ~ 8 N(0,1)', run: async (ctx, rng) => {
      const [F, H, W] = [64, 6, 10];
      const g = Float32Array.from({ length: 2 * F }, () => 8 * rng.normal());
      // test/kernels/fourier_pe.test.ts's 1e-6: the kernel's sin/cos are its own f32 polynomials.
      return [{ name: 'pe', got: await fourierPe(ctx.fromArray(g, [2, F]), H, W).read(), ref: fourierPeRef(g, F, H, W), atol: 1e-6 }];
    },
  },
  {
    family: 'fsq_backward', case: 'levels [8,8,8,5,5,5] u [5,37,6]', run: async (ctx, rng) => {
      const levels = [8, 8, 8, 5, 5, 5];
      const n = 5 * 37 * 6;
      // Mostly tanh's working range, some saturated values (test/kernels/fsq_backward.test.ts).
      const u = Float32Array.from({ length: n }, () => (rng.next() < 0.8 ? rng.uniform(-3, 3) : rng.uniform(-12, 12)));
      const g = rng.array(n);
      const du = fsqBackward(ctx.fromArray(u, [5, 37, 6]), ctx.fromArray(g, [5, 37, 6]), { levels });
      return [{ name: 'du', got: await du.read(), ref: fsqBackwardRef(u, g, n / 6, levels), atol: 2e-6 * maxAbs(g) }];
    },
  },
  {
    family: 'mean_pool', case: '[1,4,3,17,13] over T,H,W; [3,257] over the last', run: async (ctx, rng) => {
      return Promise.all(([[[1, 4, 3, 17, 13], 2], [[3, 257], 1]] as const).map(async ([shape, axis]) => {
        const x = rng.array(numel(shape), -1, 3);
        return { name: `[${shape}]`, got: await meanPool(ctx.fromArray(x, shape), axis).read(), ref: meanPoolRef(x, shape, axis), atol: 2e-6 };
      }));
    },
  },
  {
    family: 'softmax_backward', case: '[17,1000] scale 2, [2,3,33] scale 0.125', run: async (ctx, rng) => {
      return Promise.all(([[[17, 1000], 2], [[2, 3, 33], 0.125]] as const).map(async ([shape, scale]) => {
        const d = shape[shape.length - 1]!;
        const y = Float32Array.from(softmaxRef(rng.array(numel(shape), -8, 8), d));
        const g = rng.array(numel(shape), -1, 1);
        const ref = softmaxBackwardRef(y, g, d, { scale });
        return { name: `[${shape}]`, got: await softmaxBackward(ctx.fromArray(y, shape), ctx.fromArray(g, shape), { scale }).read(), ref, atol: 2e-6 * maxAbs(ref), rtol: 1e-5 };
      }));
    },
  },
  {
    family: 'unary_backward', case: 'silu, relu, gelu, scale, tanh, siluMul [2,3,5,7,11]', run: async (ctx, rng) => {
      const shape = [2, 3, 5, 7, 11];
      const n = numel(shape);
      // Tolerances of test/kernels/unary_backward.test.ts (kernels/unary_backward.ts says why).
      const tol: Record<UnaryBackwardOp, { atol: number; rtol: number }> = {
        silu: { atol: 1e-6, rtol: 4e-6 }, relu: { atol: 0, rtol: 0 }, gelu: { atol: 1e-6, rtol: 4e-6 }, scale: { atol: 0, rtol: 2 ** -24 }, tanh: { atol: 1e-6, rtol: 4e-6 },
      };
      const parts: Part[] = await Promise.all(UNARY_BACKWARD_OPS.map(async (op) => {
        const [x, g] = [rng.array(n, -8, 8), rng.array(n, -1, 1)];
        const args = op === 'scale' ? { alpha: -1.75 } : {};
        return { name: op, got: await unaryBackward(op, ctx.fromArray(x, shape), ctx.fromArray(g, shape), args).read(), ref: unaryBackwardRef(op, x, g, args), ...tol[op] };
      }));
      const [gate, up, g] = [rng.array(n, -8, 8), rng.array(n, -3, 3), rng.array(n, -1, 1)];
      const r = siluMulBackward(ctx.fromArray(gate, shape), ctx.fromArray(up, shape), ctx.fromArray(g, shape));
      const ref = siluMulBackwardRef(gate, up, g);
      return [...parts, { name: 'dgate', got: await r.dgate.read(), ref: ref.dgate, atol: 1e-6, rtol: 4e-6 }, { name: 'dup', got: await r.dup.read(), ref: ref.dup, atol: 1e-6, rtol: 4e-6 }];
    },
  },
];

/** Every kernel family of the checks, in run order. */
export const CHECK_FAMILIES = [...new Set(CHECKS.map((c) => c.family))];

/**
 * Runs every check (seeded from its title, as the ava tests); `onResult` sees each row as it lands.
 * Each row names the shader variants its case dispatched.
 */
export async function runKernelChecks(ctx: GpuContext, onResult?: (r: CheckResult) => void): Promise<CheckResult[]> {
  const variants = recordVariants(ctx);
  const results: CheckResult[] = [];
  for (const c of CHECKS) {
    const t0 = performance.now();
    let row: CheckResult;
    try {
      const parts = await c.run(ctx, Rng.fromString(`${c.family} ${c.case}`));
      const cmp = parts.map((p) => ({ p, r: compareClose(p.got, p.ref, { atol: p.atol, rtol: p.rtol ?? 0, name: p.name }) }));
      const bad = cmp.filter((x) => !x.r.ok);
      row = {
        family: c.family,
        case: c.case,
        maxAbsErr: Math.max(...cmp.map((x) => x.r.maxAbs)),
        tolerance: [...new Set(parts.map((p) => (p.atol || p.rtol ? `atol ${p.atol.toExponential(1)}${p.rtol ? ` rtol ${p.rtol.toExponential(0)}` : ''}` : 'exact')))].join('; '),
        pass: bad.length === 0,
        ...(bad.length ? { detail: bad.map((x) => x.r.report).join('\n') } : {}),
        ms: performance.now() - t0,
        variants: variants.take(),
      };
    } catch (e) {
      row = { family: c.family, case: c.case, maxAbsErr: NaN, tolerance: '', pass: false, detail: String((e as Error).stack ?? e), ms: performance.now() - t0, variants: variants.take() };
    }
    results.push(row);
    onResult?.(row);
  }
  return results;
}
