import test from 'ava';
import { CausalConv3dStream, KernelArgError, PackedConvWeight, causalConv3d, causalConv3dGeometry, conv2d, conv2dGeometry, convRef, depthToSpace2x, resampleRef, upsampleNearest2x } from '../../kernels/index.js';
import { CONV_SG_RM, convTile, convTolerance } from '../../kernels/internal.js';
import { f16Round } from '../../kernels/core/ref_math.js';
import type { GpuContext, Tensor } from '../../kernels/index.js';
import { type ConvTile, withKnobs } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu, notExercised } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const GOLDEN_TOL = 1e-4;

/** Runs causalConv3d on random data and compares with the double reference. */
async function check3d(t: import('ava').ExecutionContext, ctx: GpuContext, xs: number[], ws: number[], o: { stride?: [1, 1, 1] | [1, 2, 2]; bias?: boolean; silu?: boolean; residual?: boolean; tile?: ConvTile } = {}) {
  const rng = Rng.fromString(`${t.title} ${xs} ${ws}`);
  const g = causalConv3dGeometry(xs, ws, o.stride);
  const x = rng.array(numel(xs));
  const w = rng.array(numel(ws));
  const bias = o.bias ? rng.array(ws[0]!) : undefined;
  const oshape = [g.b, g.cout, g.t, g.ho, g.wo];
  const res = o.residual ? rng.array(numel(oshape)) : undefined;
  const y = withKnobs({ convTile: o.tile }, () =>
    causalConv3d(ctx.fromArray(x, xs), ctx.fromArray(w, ws), {
      stride: o.stride, bias: bias && ctx.fromArray(bias, [ws[0]!]), residual: res && ctx.fromArray(res, oshape),
      activation: o.silu ? 'silu' : 'none',
    }),
  );
  t.deepEqual(y.shape, oshape);
  const ref = convRef(x, w, g, { bias, residual: res, activation: o.silu ? 'silu' : 'none' });
  assertClose(t, await y.read(), ref, { ...convTolerance(g), shape: oshape, name: `x=[${xs}] w=[${ws}] ${JSON.stringify(o)}` });
}

// Awkward shapes: odd sizes, 1-sized dims, T=1, T < KT, channel counts that are not multiples of 4
// or of the register block, positions that do not fill a workgroup.
const CASES: [number[], number[], Parameters<typeof check3d>[4]][] = [
  [[1, 3, 1, 5, 7], [5, 3, 3, 3, 3], { bias: true }],
  [[2, 5, 2, 6, 5], [7, 5, 3, 3, 3], { bias: true, silu: true }],
  [[1, 4, 4, 9, 3], [9, 4, 3, 3, 3], { residual: true }],
  [[1, 6, 3, 7, 9], [10, 6, 1, 1, 1], { bias: true }],
  [[1, 2, 3, 9, 8], [3, 2, 7, 7, 7], { bias: true }],
  [[1, 3, 5, 7, 8], [6, 3, 3, 3, 3], { stride: [1, 2, 2], bias: true }],
  [[2, 1, 2, 1, 1], [1, 1, 3, 3, 3], {}],
  [[1, 5, 3, 11, 13], [13, 5, 3, 3, 3], { bias: true, silu: true, residual: true }],
  [[1, 3, 2, 5, 6], [5, 3, 5, 3, 1], { stride: [1, 2, 2] }],
  // >= 256 positions per frame: the full-size tile, with a partial second block of channels.
  [[1, 3, 2, 17, 19], [20, 3, 3, 3, 3], { bias: true, residual: true }],
  // Tiles span clips (positions run over the batch): many clips of small frames, with a
  // residual and a stride.
  [[9, 4, 2, 5, 3], [40, 4, 3, 3, 3], { bias: true, silu: true, residual: true }],
  [[7, 3, 2, 5, 5], [6, 3, 3, 3, 3], { stride: [1, 2, 2] }],
];
for (const [xs, ws, o] of CASES) {
  test(`causalConv3d x=[${xs}] w=[${ws}] ${JSON.stringify(o)}`, async (t) => {
    await check3d(t, await gpu(), xs, ws, o);
  });
}

test('causalConv3d: every tile configuration gives the reference', async (t) => {
  const ctx = await gpu();
  const tiles: ConvTile[] = [{ wg: 32, rm: 4, rn: 1 }, { wg: 32, rm: 4, rn: 2 }, { wg: 64, rm: 8, rn: 2 }, { wg: 16, rm: 12, rn: 5 }, { wg: 8, rm: 16, rn: 4 }, { wg: 32, rm: 16, rn: 8 }];
  // conv3d_causal_sg: 32 channels (11 and 37 -> partial blocks), positions past a workgroup.
  if (ctx.hasSubgroups(8)) tiles.push({ wg: 32, rm: 32, rn: 4, subgroup: true }, { wg: 8, rm: 32, rn: 3, subgroup: true });
  else t.log(`${ctx.adapterInfo}: no subgroups of >= 8 invocations, conv3d_causal_sg not run`);
  for (const tile of tiles) {
    await check3d(t, ctx, [1, 5, 2, 9, 7], [11, 5, 3, 3, 3], { bias: true, tile });
    await check3d(t, ctx, [1, 4, 3, 13, 11], [37, 4, 3, 3, 3], { bias: true, silu: true, residual: true, stride: [1, 2, 2], tile });
  }
});

test('convTile: a few-channel conv on a small frame takes 2 positions an invocation (a quick JIT), larger ones the table tile', async (t) => {
  const ctx = await gpu();
  const tile = (cout: number, side: number) => convTile(causalConv3dGeometry([1, 32, 1, side, side], [cout, 32, 1, 3, 3]), ctx.tuning, false);
  const table = ctx.tuning.convTile;
  const small = tile(3, 20);
  t.true(small.rm === 4 && small.rn <= 2, `conv_out of the micro model (3 channels, 20 x 20): rm 4, rn <= 2, got ${JSON.stringify(small)}`);
  if (400 >= table.wg * 2) t.deepEqual(small, { ...table, rm: 4, rn: Math.min(table.rn, 2) }, 'the table workgroup');
  t.deepEqual(tile(3, 64), { ...table, rm: 4 }, '3 channels, 64 x 64: the table tile');
  const wide = tile(16, 20);
  t.is(wide.rn, 400 < table.wg * table.rn ? Math.min(table.rn, Math.ceil(400 / ctx.tuning.simdRowWg)) : table.rn, '16 channels, 20 x 20: the table (or small-frame) tile');
});

test('causalConv3d random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let i = 0; i < 6; i++) {
    const k = rng.pick([1, 3, 3, 7]);
    const xs = [rng.int(1, 2), rng.int(1, 6), rng.int(1, 4), rng.int(1, 9), rng.int(1, 9)];
    const ws = [rng.int(1, 9), xs[1]!, k, k === 7 ? 3 : k, k === 7 ? 3 : k];
    t.log(`seed ${rng.seed} case ${i}: x=[${xs}] w=[${ws}]`);
    await check3d(t, ctx, xs, ws, { bias: rng.next() < 0.5, silu: rng.next() < 0.5, stride: k === 3 && rng.next() < 0.5 ? [1, 2, 2] : [1, 1, 1] });
  }
});

for (const name of ['k1_c6to10_t5', 'k3_c3to5_t1', 'k3_c4to7_t5', 'k3_c5to12_t5_s122', 'k3_c6to4_t2', 'k7_c3to16_t5', 'k7_c3to6_t1', 'conv_in_timepad3']) {
  test(`golden causal_conv3d_${name}`, async (t) => {
    const ctx = await gpu();
    const f = await loadGolden(`causal_conv3d_${name}`);
    // conv_in_timepad3 prepends 3 zero frames to the 2-frame video before the conv.
    const xName = f.has('in/x') ? 'in/x' : 'aux/video_padded';
    const stride = name.endsWith('s122') ? ([1, 2, 2] as const) : ([1, 1, 1] as const);
    const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
    const y = causalConv3d(g(xName), g('conv.weight'), { bias: g('conv.bias'), stride });
    t.deepEqual(y.shape, f.entry('out/y').shape);
    assertClose(t, await y.read(), f.f32('out/y'), { atol: GOLDEN_TOL, shape: y.shape, name });
  });
}

test('golden ldm_spatial_down_c8 (CausalConv3d stride (1,2,2))', async (t) => {
  const ctx = await gpu();
  const f = await loadGolden('ldm_spatial_down_c8');
  const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
  const y = causalConv3d(g('in/x'), g('_conv.conv.weight'), { bias: g('_conv.conv.bias'), stride: [1, 2, 2] });
  assertClose(t, await y.read(), f.f32('out/y'), { atol: GOLDEN_TOL, shape: y.shape });
});

test('golden ldm_spatial_up_c8 (conv + SiLU + depthToSpace2x)', async (t) => {
  const ctx = await gpu();
  const f = await loadGolden('ldm_spatial_up_c8');
  const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
  const y = depthToSpace2x(causalConv3d(g('in/x'), g('net.0.conv.weight'), { bias: g('net.0.conv.bias'), activation: 'silu' }));
  t.deepEqual(y.shape, f.entry('out/y').shape);
  assertClose(t, await y.read(), f.f32('out/y'), { atol: GOLDEN_TOL, shape: y.shape });
});

test('causality: outputs at frames <= t do not change when later input frames change', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xs = [1, 3, 6, 5, 4];
  for (const ws of [[4, 3, 3, 3, 3], [4, 3, 7, 3, 3]]) {
    const w = ctx.fromArray(rng.array(numel(ws)), ws);
    const x = rng.array(numel(xs));
    const y0 = await causalConv3d(ctx.fromArray(x, xs), w).read();
    const plane = 5 * 4;
    for (const tc of [0, 2, 4]) {
      const x2 = Float32Array.from(x);
      for (let c = 0; c < 3; c++) for (let f = tc + 1; f < 6; f++) for (let i = 0; i < plane; i++) x2[(c * 6 + f) * plane + i] = rng.uniform(-5, 5);
      const y1 = await causalConv3d(ctx.fromArray(x2, xs), w).read();
      let same = true;
      let changed = false;
      for (let co = 0; co < 4; co++) for (let f = 0; f < 6; f++) for (let i = 0; i < plane; i++) {
        const k = (co * 6 + f) * plane + i;
        if (f <= tc && y1[k] !== y0[k]) same = false;
        if (f > tc && y1[k] !== y0[k]) changed = true;
      }
      t.true(same, `KT=${ws[2]}: frames <= ${tc} changed`);
      t.true(changed, `KT=${ws[2]}: frames > ${tc} did not react (test would be vacuous)`);
    }
  }
});

test('streaming: chunked pushes are bit-identical to the whole clip', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [B, C, T, H, W] = [2, 3, 7, 5, 8];
  const plane = H * W;
  const x = rng.array(B * C * T * plane);
  const frames = (t0: number, t1: number): Tensor => {
    const a = new Float32Array(B * C * (t1 - t0) * plane);
    for (let bc = 0; bc < B * C; bc++) a.set(x.subarray((bc * T + t0) * plane, (bc * T + t1) * plane), bc * (t1 - t0) * plane);
    return ctx.fromArray(a, [B, C, t1 - t0, H, W]);
  };
  for (const [ws, stride, chunks] of [
    [[4, 3, 3, 3, 3], [1, 1, 1], [1, 1, 3, 2]],
    [[5, 3, 7, 3, 3], [1, 1, 1], [2, 1, 4]],
    [[4, 3, 3, 3, 3], [1, 2, 2], [3, 4]],
    [[4, 3, 1, 1, 1], [1, 1, 1], [5, 2]],
    // Cout > 16: conv3d_causal_sg where the adapter has subgroups; a first chunk of 1 frame leaves a past shorter than KT - 1.
    [[20, 3, 3, 3, 3], [1, 1, 1], [1, 2, 4]],
  ] as [number[], [1, 1, 1] | [1, 2, 2], number[]][]) {
    const w = ctx.fromArray(rng.array(numel(ws)), ws);
    const bias = ctx.fromArray(rng.array(ws[0]!), [ws[0]!]);
    const whole = await causalConv3d(frames(0, T), w, { bias, stride, activation: 'silu' }).read();
    const s = new CausalConv3dStream(w, { bias, stride, activation: 'silu' });
    let t0 = 0;
    let mismatches = 0;
    for (const n of chunks) {
      const y = await s.push(frames(t0, t0 + n)).read();
      const os = y.length / (B * ws[0]! * n);
      for (let bc = 0; bc < B * ws[0]!; bc++) for (let i = 0; i < n * os; i++) if (y[bc * n * os + i] !== whole[(bc * T + t0) * os + i]) mismatches++;
      t0 += n;
      t.true(s.cachedFrames <= ws[2]! - 1);
    }
    s.dispose();
    t.is(mismatches, 0, `KT=${ws[2]} stride ${stride} chunks ${chunks}`);
  }
});

test('resample: nearest 2x and depth-to-space vs reference (NCHW and NCDHW)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const s of [[1, 3, 5, 7], [2, 8, 3, 1, 5], [1, 12, 1, 1], [1, 4, 2, 3, 3]]) {
    const x = rng.array(numel(s));
    const up = upsampleNearest2x(ctx.fromArray(x, s));
    assertClose(t, await up.read(), resampleRef('nearest2x', x, s), { atol: 0, shape: up.shape, name: `nearest [${s}]` });
    if (s[1]! % 4) continue;
    const d = depthToSpace2x(ctx.fromArray(x, s));
    assertClose(t, await d.read(), resampleRef('depthToSpace2x', x, s), { atol: 0, shape: d.shape, name: `depthToSpace [${s}]` });
  }
  // A hand-checked case: 4 channels of 1x1 become one 2x2 pixel block in order (p1, p2).
  t.deepEqual([...(await depthToSpace2x(ctx.fromArray([1, 2, 3, 4], [1, 4, 1, 1])).read())], [1, 2, 3, 4]);
  t.deepEqual([...(await upsampleNearest2x(ctx.fromArray([1, 2], [1, 1, 1, 2])).read())], [1, 1, 2, 2, 1, 1, 2, 2]);
});

test('PackedConvWeight: prepacked weights give the same bits as per-call packing', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const [xs, ws] of [[[1, 5, 3, 6, 7], [13, 5, 3, 3, 3]], [[2, 6, 9, 10], [3, 6, 3, 3]]]) {
    const x = ctx.fromArray(rng.array(numel(xs!)), xs!);
    const w = ctx.fromArray(rng.array(numel(ws!)), ws!);
    const conv = xs!.length === 5 ? causalConv3d : conv2d;
    const a = await conv(x, w).read();
    const pw = PackedConvWeight.pack(w);
    const b = await conv(x, pw).read();
    const c = await withKnobs({ convTile: { wg: 8, rm: 4, rn: 3 } }, () => conv(x, PackedConvWeight.pack(w, { rm: 4 }))).read();
    t.deepEqual([...b], [...a]);
    // A different tile (another pipeline) sums in the same order, but WGSL does not promise the
    // same fusion of a * b + c across pipelines: a few ulps of the largest output.
    const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    t.true(c.every((v, i) => Math.abs(v - a[i]!) <= 1e-6 * scale), 'another tile agrees');
    t.throws(() => withKnobs({ convTile: { wg: 8, rm: 8, rn: 2 } }, () => conv(x, pw)), { instanceOf: KernelArgError, message: /knobs.convTile: rm 8 differs from the packed weight's/ });
    pw.dispose();
    t.throws(() => conv(x, pw), { instanceOf: KernelArgError, message: /weight: the packed weight was disposed/ });
  }
});

test('PackedConvWeight f16 (conv3d_causal_f16, conv3d_causal_sg_f16): the f32 result for the f16-rounded weights', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  // 13 output channels: the per-lane variant; 40: the subgroup one where the device runs it.
  for (const [xs, ws] of [[[1, 5, 3, 6, 7], [13, 5, 3, 3, 3]], [[2, 6, 2, 9, 10], [40, 6, 3, 3, 3]], [[2, 6, 9, 10], [3, 6, 3, 3]]]) {
    const x = ctx.fromArray(rng.array(numel(xs!)), xs!);
    const wv = rng.array(numel(ws!)).map((v, i) => v * 2 ** ((i % 5) - 2));
    const conv = xs!.length === 5 ? causalConv3d : conv2d;
    const w16 = PackedConvWeight.pack(ctx.fromArray(wv, ws!), { dtype: 'f16' });
    const wr = PackedConvWeight.pack(ctx.fromArray(wv.map(f16Round), ws!));
    t.is(w16.dtype, 'f16');
    t.is(w16.packed.byteLength, wr.packed.byteLength / 2, 'half the bytes');
    const variant = w16.rm === CONV_SG_RM ? 'conv3d_causal_sg_f16' : 'conv3d_causal_f16';
    const ref = await conv(x, wr).read();
    const got = await conv(x, w16).read();
    // Same summation order as the f32 pipeline; only FMA fusion may differ between the two.
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    t.true(got.every((v, i) => Math.abs(v - ref[i]!) <= 1e-6 * scale), `${variant} [${ws}]`);
    for (const p of [w16, wr]) p.dispose();
  }
  if (!ctx.useCpuSubgroupVariants()) notExercised(t, 'conv3d_causal_sg_f16', `no CPU subgroup variants on ${ctx.adapterInfo}`);
  t.throws(() => PackedConvWeight.pack(ctx.zeros([4, 1, 3, 3]), { dtype: 'bf16' as never }), { instanceOf: KernelArgError, message: /^PackedConvWeight: dtype: 'bf16' is not one of f32, f16/ });
  t.throws(() => PackedConvWeight.pack(ctx.zeros([4, 1, 3, 3]), 4 as never), { instanceOf: KernelArgError, message: /^PackedConvWeight: options: expected \{ rm\?, dtype\? \}, got 4/ });
});

test('conv3d_causal_sg agrees with conv3d_causal; a subgroup tile needs rm 32', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const x = ctx.fromArray(rng.array(2 * 6 * 3 * 17 * 19), [2, 6, 3, 17, 19]);
  const w = ctx.fromArray(rng.array(40 * 6 * 27), [40, 6, 3, 3, 3]);
  t.throws(() => withKnobs({ convTile: { wg: 32, rm: 16, rn: 4, subgroup: true } }, () => causalConv3d(x, w)), { instanceOf: KernelArgError, message: /^causalConv3d: knobs.convTile: the subgroup variant needs rm 32 \(got 16\)/ });
  if (!ctx.hasSubgroups(8)) {
    notExercised(t, 'conv3d_causal_sg', `no subgroups of >= 8 on ${ctx.adapterInfo}`);
    return;
  }
  const a = await withKnobs({ convTile: { wg: 32, rm: 16, rn: 8 } }, () => causalConv3d(x, w)).read();
  const b = await withKnobs({ convTile: { wg: 32, rm: 32, rn: 4, subgroup: true } }, () => causalConv3d(x, w)).read();
  t.deepEqual(convTile(causalConv3dGeometry(x.shape, w.shape), ctx.tuning, true), { wg: 32, rm: 32, rn: 4, subgroup: true }, 'the subgroup default');
  // Same sums in the same order, but WGSL does not promise how a * b + c is fused, so not bits:
  // within a few ulps of the largest output.
  const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  t.true(diff <= 1e-6 * scale, `max diff ${diff} vs max |out| ${scale}`);
  // A frame of 3 positions: two positions per invocation, not one (whose JIT takes ~5x longer).
  const xs = ctx.fromArray(rng.array(2 * 6 * 2 * 1 * 3), [2, 6, 2, 1, 3]);
  const gs = causalConv3dGeometry(xs.shape, w.shape);
  t.deepEqual(convTile(gs, ctx.tuning, true), { wg: ctx.tuning.simdRowWg, rm: 32, rn: 2, subgroup: true }, 'a small frame');
  const small = await withKnobs({ convTile: convTile(gs, ctx.tuning, true) }, () => causalConv3d(xs, w)).read();
  assertClose(t, small, convRef(await xs.read(), await w.read(), gs), { ...convTolerance(gs), name: 'small frame, subgroup tile' });
  if (!ctx.useCpuSubgroupVariants()) notExercised(t, 'conv3d_causal_sg as the default', `the tuning table picks the tiled variant on ${ctx.adapterClass}`);
});

test('conv2d with row stride 2 and column stride 1 (the subgroup tile where the device runs it)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xs = [1, 3, 9, 8];
  const x = rng.array(numel(xs));
  const w = rng.array(33 * 3 * 9);
  const g = conv2dGeometry(xs, [33, 3, 3, 3], [2, 1]);
  const y = await conv2d(ctx.fromArray(x, xs), ctx.fromArray(w, [33, 3, 3, 3]), { stride: [2, 1] }).read();
  assertClose(t, y, convRef(x, w, g), { ...convTolerance(g), name: 'conv2d stride [2, 1]' });
});

test('conv3d_causal: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([1, 3, 2, 4, 4]);
  const w = ctx.zeros([4, 3, 3, 3, 3]);
  t.throws(() => causalConv3d(ctx.zeros([3, 2, 4, 4]), w), { instanceOf: KernelArgError, message: /^causalConv3d: x: rank 4 .*expected rank 5/ });
  t.throws(() => causalConv3d(x, ctx.zeros([4, 5, 3, 3, 3])), { instanceOf: KernelArgError, message: /^causalConv3d: weight: .*Cin 5.*Cin 3/ });
  t.throws(() => causalConv3d(x, ctx.zeros([4, 3, 2, 3, 3])), { instanceOf: KernelArgError, message: /^causalConv3d: weight: kernel size 2/ });
  t.throws(() => causalConv3d(x, ctx.zeros([4, 3, 9, 3, 3])), { instanceOf: KernelArgError, message: /^causalConv3d: weight: kernel size 9/ });
  t.throws(() => causalConv3d(x, w, { stride: [2, 2, 2] as never }), { instanceOf: KernelArgError, message: /^causalConv3d: stride: \[2,2,2\] is not supported/ });
  t.throws(() => causalConv3d(x, w, { bias: ctx.zeros([3]) }), { instanceOf: KernelArgError, message: /^causalConv3d: bias: shape \[3\], expected \[4\]/ });
  t.throws(() => causalConv3d(x, w, { residual: ctx.zeros([1, 4, 2, 4, 3]) }), { instanceOf: KernelArgError, message: /^causalConv3d: residual:/ });
  t.throws(() => causalConv3d(x, w, { pastFrames: ctx.zeros([1, 3, 3, 4, 4]) }), { instanceOf: KernelArgError, message: /^causalConv3d: pastFrames: 3 frames, expected 1\.\.2/ });
  t.throws(() => causalConv3d(x, w, { activation: 'gelu' as never }), { instanceOf: KernelArgError, message: /^causalConv3d: activation:/ });
  const r = ctx.zeros([1, 4, 2, 4, 4]);
  t.throws(() => causalConv3d(x, w, { residual: r, out: r }), { instanceOf: KernelArgError, message: /^causalConv3d: out: aliases residual/ });
  t.throws(() => depthToSpace2x(ctx.zeros([1, 6, 2, 2])), { instanceOf: KernelArgError, message: /^depthToSpace2x: x: channels 6/ });
  t.throws(() => upsampleNearest2x(ctx.zeros([4, 4])), { instanceOf: KernelArgError, message: /^upsampleNearest2x: x: rank 2/ });
});
