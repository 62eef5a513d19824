/**
 * Kernel checks that run unchanged in a browser page (test/browser/page.ts) and in Node: one or a
 * few cases per kernel family, each against the same float64 CPU reference and tolerance as the
 * family's ava test in test/kernels/. Browser-safe: no Node built-ins, no ava.
 */
import { type GpuContext, adamwStep, adamwStepRef, argmax, argmaxRef, attention, attentionBackward, attentionBackwardRef, attentionRef, binary, binaryRef, causalConv3d, causalConv3dGeometry, concat, concatRef, convRef, copy, copyRef, fsqIndicesToCodes, fsqIndicesToCodesRef, fsqQuantize, fsqQuantizeRef, gatherRows, gatherRowsRef, groupNorm, groupNormRef, linearBackward, linearBackwardRef, matmul, matmulRef, permute, permuteRef, reduceSum, reduceSumRef, rmsNorm, rmsNormBackward, rmsNormBackwardRef, rope, ropeRef, ropeTable, ropeTableData, rowNormRef, sample, sampleRef, softmax, softmaxCrossEntropy, softmaxCrossEntropyRef, softmaxRef, unary, unaryRef, upsampleNearest2x, resampleRef, vqNearest, vqNearestRef } from '../../kernels/index.js';
import { convTolerance, sampleScoresRef, vqNearTies } from '../../kernels/internal.js';
import { compareClose } from '../helpers/close.js';
import { Rng } from '../helpers/rng.js';
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
}

/** What examples/browser/checks.html leaves in `window.videoworldChecks`. */
export interface PageReport {
  adapter: string;
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
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
      const q = rng.array(c.B * c.NH * c.Lq * c.HD, -1.5, 1.5);
      const k = rng.array(c.B * c.NH * c.Lk * c.HD, -1.5, 1.5);
      const v = rng.array(c.B * c.NH * c.Lk * c.HD);
      const o = attention(ctx.fromArray(q, [c.B, c.NH, c.Lq, c.HD]), ctx.fromArray(k, [c.B, c.NH, c.Lk, c.HD]), ctx.fromArray(v, [c.B, c.NH, c.Lk, c.HD]), { causal: c.causal });
      return [{ name: 'out', got: await o.read(), ref: attentionRef(q, k, v, c, { causal: c.causal }), atol: 2e-5 }];
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
];

/** Every kernel family of the checks, in run order. */
export const CHECK_FAMILIES = [...new Set(CHECKS.map((c) => c.family))];

/** Runs every check (seeded from its title, as the ava tests); `onResult` sees each row as it lands. */
export async function runKernelChecks(ctx: GpuContext, onResult?: (r: CheckResult) => void): Promise<CheckResult[]> {
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
      };
    } catch (e) {
      row = { family: c.family, case: c.case, maxAbsErr: NaN, tolerance: '', pass: false, detail: String((e as Error).stack ?? e), ms: performance.now() - t0 };
    }
    results.push(row);
    onResult?.(row);
  }
  return results;
}
