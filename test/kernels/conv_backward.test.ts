import test, { type ExecutionContext } from 'ava';
import { KernelArgError, causalConv3dBackward, causalConv3dGeometry, conv2dBackward, conv2dGeometry, convBackwardRef, convRef } from '../../kernels/index.js';
import { convBackwardTolerance, weightColumns, withKnobs } from '../../kernels/internal.js';
import type { Conv2dBackwardOptions, ConvGeometry, ConvGrads, GpuContext } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
type Stride3 = readonly [1, 1, 1] | readonly [1, 2, 2];
interface Flags {
  input?: boolean;
  bias?: boolean;
}

/** Compares every gradient the call returned with convBackwardRef; absent ones must be null. */
async function compare(t: ExecutionContext, r: ConvGrads, x: Float32Array, w: Float32Array, gy: Float32Array, geom: ConvGeometry, xs: readonly number[], ws: readonly number[], f: Flags, name: string) {
  const ref = convBackwardRef(x, w, gy, geom);
  const tol = convBackwardTolerance(geom);
  t.deepEqual(r.dw.shape, ws);
  assertClose(t, await r.dw.read(), ref.dw, { ...tol.dw, shape: ws, name: `${name} dw` });
  if (f.input === false) t.is(r.dx, null);
  else {
    t.deepEqual(r.dx!.shape, xs);
    assertClose(t, await r.dx!.read(), ref.dx, { ...tol.dx, shape: xs, name: `${name} dx` });
  }
  if (f.bias === false) t.is(r.db, null);
  else assertClose(t, await r.db!.read(), ref.db, { ...tol.db, shape: [geom.cout], name: `${name} db` });
  for (const g of [r.dx, r.dw, r.db]) g?.dispose();
}

async function check3d(t: ExecutionContext, ctx: GpuContext, xs: number[], ws: number[], o: Flags & { stride?: Stride3 } = {}, knobs: Parameters<typeof withKnobs>[0] = {}) {
  const rng = Rng.fromString(`${t.title} ${xs} ${ws}`);
  const geom = causalConv3dGeometry(xs, ws, o.stride);
  const gs = [geom.b, geom.cout, geom.t, geom.ho, geom.wo];
  const [x, w, gy] = [rng.array(numel(xs)), rng.array(numel(ws)), rng.array(numel(gs))];
  const r = withKnobs(knobs, () => causalConv3dBackward(ctx.fromArray(x, xs), ctx.fromArray(w, ws), ctx.fromArray(gy, gs), o));
  await compare(t, r, x, w, gy, geom, xs, ws, o, `x=[${xs}] w=[${ws}] ${JSON.stringify(o)}`);
}

async function check2d(t: ExecutionContext, ctx: GpuContext, xs: number[], ws: number[], o: Conv2dBackwardOptions = {}) {
  const rng = Rng.fromString(`${t.title} ${xs} ${ws}`);
  const geom = conv2dGeometry(xs, ws, o.stride, o.padding);
  const gs = [geom.b, geom.cout, geom.ho, geom.wo];
  const [x, w, gy] = [rng.array(numel(xs)), rng.array(numel(ws)), rng.array(numel(gs))];
  const r = conv2dBackward(ctx.fromArray(x, xs), ctx.fromArray(w, ws), ctx.fromArray(gy, gs), o);
  await compare(t, r, x, w, gy, geom, xs, ws, o, `x=[${xs}] w=[${ws}] ${JSON.stringify(o)}`);
}

// Awkward shapes: channel counts 1, 3, 5, 7, 12, 33, 37 (partial register blocks), odd H/W incl. 1
// and 7, T = 1, 2, 5 and T < KT, kernels 1, 3, 7 and mixed (5,3,1), stride 2 on odd H, positions that
// do not fill a workgroup and ones that need the full 16x8 block.
const CASES_3D: [number[], number[], Flags & { stride?: Stride3 }][] = [
  [[1, 3, 1, 5, 7], [5, 3, 3, 3, 3], {}],
  [[2, 5, 2, 6, 5], [7, 5, 3, 3, 3], {}],
  [[1, 1, 5, 7, 7], [12, 1, 3, 3, 3], { stride: [1, 2, 2] }],
  [[1, 5, 5, 7, 8], [12, 5, 3, 3, 3], { stride: [1, 2, 2], bias: false }],
  [[1, 7, 2, 9, 7], [33, 7, 1, 1, 1], {}],
  [[1, 33, 2, 5, 3], [3, 33, 1, 1, 1], { input: false }],
  [[1, 3, 2, 9, 8], [5, 3, 7, 7, 7], { input: false }],
  [[2, 1, 2, 1, 1], [1, 1, 3, 3, 3], {}],
  [[1, 3, 2, 4, 5], [5, 3, 5, 3, 1], {}],
  [[1, 4, 3, 13, 11], [37, 4, 3, 3, 3], { stride: [1, 2, 2] }],
  [[1, 12, 2, 17, 19], [20, 12, 3, 3, 3], {}],
  // Tiles span clips (positions run over the batch): several clips of small frames, stride 2 with
  // phases of unequal size.
  [[5, 6, 2, 5, 3], [8, 6, 3, 3, 3], { stride: [1, 2, 2] }],
  [[9, 4, 2, 4, 4], [12, 4, 3, 3, 3], {}],
];
for (const [xs, ws, o] of CASES_3D) {
  test(`causalConv3dBackward x=[${xs}] w=[${ws}] ${JSON.stringify(o)}`, async (t) => {
    await check3d(t, await gpu(), xs, ws, o);
  });
}

const CASES_2D: [number[], number[], Conv2dBackwardOptions][] = [
  [[1, 3, 7, 9], [5, 3, 3, 3], {}],
  [[2, 6, 5, 4], [3, 6, 1, 1], {}],
  // VQGAN Downsample: ZeroPad2d((0,1,0,1)) + 3x3 stride 2, even and odd sizes.
  [[1, 4, 9, 8], [6, 4, 3, 3], { stride: 2, padding: [0, 1, 0, 1] }],
  [[1, 7, 7, 7], [12, 7, 3, 3], { stride: 2, padding: [0, 1, 0, 1] }],
  [[2, 3, 1, 1], [5, 3, 3, 3], { stride: 2 }],
  [[1, 3, 2, 2], [5, 3, 3, 3], { stride: 2, padding: [0, 1, 0, 1] }],
  [[1, 5, 1, 1], [2, 5, 3, 3], { bias: false }],
  [[1, 5, 6, 11], [7, 5, 3, 5], { stride: [1, 2], padding: [2, 0, 1, 3] }],
  [[1, 3, 8, 7], [4, 3, 7, 7], { stride: [2, 1], padding: 3, input: false }],
  [[1, 32, 33, 31], [12, 32, 3, 3], {}],
];
for (const [xs, ws, o] of CASES_2D) {
  test(`conv2dBackward x=[${xs}] w=[${ws}] ${JSON.stringify(o)}`, async (t) => {
    await check2d(t, await gpu(), xs, ws, o);
  });
}

test('conv_backward: dW columns skip the time taps that only read causal padding', (t) => {
  const c = weightColumns(causalConv3dGeometry([2, 3, 2, 20, 20], [32, 3, 7, 7, 7]));
  t.deepEqual([c.a0, c.ncol, c.ldc, c.frames], [5, 3 * 2 * 49, 296, 2 * 2]);
  t.is(weightColumns(causalConv3dGeometry([1, 4, 5, 3, 3], [4, 4, 3, 3, 3])).a0, 0);
  t.is(weightColumns(conv2dGeometry([1, 5, 6, 11], [7, 5, 3, 5])).ncol, 75);
  t.is(weightColumns(conv2dGeometry([2, 5, 6, 11], [7, 5, 3, 5], 1, 1), 4 * 76 * 6 * 11).chunkFrames, 1);
});

test('conv_backward: dW summed over chunks of rows equals the reference', async (t) => {
  const ctx = await gpu();
  // 2 of the 6 frames per chunk: three chunks, each added to the last as a residual; and 4 (the last chunk short).
  const geom = causalConv3dGeometry([2, 3, 3, 5, 4], [6, 3, 3, 3, 3]);
  const frame = 4 * 84 * 20;
  t.deepEqual([2, 4].map((f) => weightColumns(geom, f * frame).chunkFrames), [2, 4]);
  for (const f of [2, 4]) await check3d(t, ctx, [2, 3, 3, 5, 4], [6, 3, 3, 3, 3], {}, { convColsBytes: f * frame });
});

test('conv_backward random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let i = 0; i < 6; i++) {
    const k = [3, 1, 3, 7, 3, 3][i]!;  // every kernel size, mostly 3x3x3 (random strides)
    const xs = [rng.int(1, 2), rng.int(1, 9), rng.int(1, 5), rng.int(1, 11), rng.int(1, 11)];
    const ws = [rng.int(1, 13), xs[1]!, k, k === 7 ? 3 : k, k === 7 ? 3 : k];
    const stride: Stride3 = k === 3 && rng.next() < 0.5 ? [1, 2, 2] : [1, 1, 1];
    t.log(`seed ${rng.seed} case ${i}: x=[${xs}] w=[${ws}] stride [${stride}]`);
    await check3d(t, ctx, xs, ws, { stride });
  }
});

test('conv2dBackward random shapes, strides and per-side padding (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let i = 0; i < 6; i++) {
    const [kh, kw] = [rng.pick([1, 3, 5, 7]), rng.pick([1, 3, 5, 7])];
    const padding = [0, 0, 0, 0].map(() => rng.int(0, Math.max(kh, kw) - 1)) as [number, number, number, number];
    const stride: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
    const xs = [rng.int(1, 2), rng.int(1, 9), Math.max(1, kh - padding[0] - padding[1]) + rng.int(0, 8), Math.max(1, kw - padding[2] - padding[3]) + rng.int(0, 8)];
    const ws = [rng.int(1, 13), xs[1]!, kh, kw];
    t.log(`seed ${rng.seed} case ${i}: x=[${xs}] w=[${ws}] stride [${stride}] padding [${padding}]`);
    await check2d(t, ctx, xs, ws, { stride, padding });
  }
});

test('conv_backward: an empty batch gives zero weight and bias gradients', async (t) => {
  const ctx = await gpu();
  const r = causalConv3dBackward(ctx.zeros([0, 3, 2, 4, 4]), ctx.fromArray([1, 2, 3, 4, 5, 6], [2, 3, 1, 1, 1]), ctx.zeros([0, 2, 2, 4, 4]));
  t.deepEqual(r.dx!.shape, [0, 3, 2, 4, 4]);
  t.deepEqual([...(await r.dw.read())], [0, 0, 0, 0, 0, 0]);
  t.deepEqual([...(await r.db!.read())], [0, 0]);
});

test('conv_backward is deterministic: the same bits on a second run', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const xs = [1, 12, 2, 17, 19];
  const ws = [20, 12, 3, 3, 3];
  const x = ctx.fromArray(rng.array(numel(xs)), xs);
  const w = ctx.fromArray(rng.array(numel(ws)), ws);
  const gs = [1, 20, 2, 17, 19];
  const gy = ctx.fromArray(rng.array(numel(gs)), gs);
  const read = async (r: ConvGrads) => [await r.dx!.read(), await r.dw.read(), await r.db!.read()];
  const a = await read(causalConv3dBackward(x, w, gy));
  const b = await read(causalConv3dBackward(x, w, gy));
  for (let i = 0; i < 3; i++) t.deepEqual(new Uint32Array(b[i]!.buffer), new Uint32Array(a[i]!.buffer));
});

/**
 * Float64 central differences of L = sum(convRef(x, w, bias) * G) against convBackwardRef, on 4
 * entries of x, w and bias each. L is linear in each entry, so the quotient is exact up to
 * rounding: |fd - analytic| <= 1e-6 max|analytic| + 1e-9.
 */
function fdCheck(t: ExecutionContext, geom: ConvGeometry, label: string) {
  const rng = Rng.fromString(`${t.title} ${label}`);
  const kvol = geom.kt * geom.kh * geom.kw;
  const x = Float64Array.from(rng.array(geom.b * geom.cin * geom.t * geom.h * geom.w));
  const w = Float64Array.from(rng.array(geom.cout * geom.cin * kvol));
  const bias = Float64Array.from(rng.array(geom.cout));
  const G = Float64Array.from(rng.array(geom.b * geom.cout * geom.t * geom.ho * geom.wo));
  const loss = () => convRef(x, w, geom, { bias }).reduce((s, y, i) => s + y * G[i]!, 0);
  const ref = convBackwardRef(x, w, G, geom);
  const h = 1e-6;
  for (const [name, v, grad] of [['x', x, ref.dx], ['w', w, ref.dw], ['bias', bias, ref.db]] as const) {
    const scale = grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    for (let n = 0; n < 4; n++) {
      const i = n === 0 ? 0 : n === 1 ? v.length - 1 : rng.int(0, v.length - 1);
      const v0 = v[i]!;
      v[i] = v0 + h;
      const lp = loss();
      v[i] = v0 - h;
      const lm = loss();
      v[i] = v0;
      const fd = (lp - lm) / (2 * h);
      const err = Math.abs(fd - grad[i]!);
      t.true(err <= 1e-6 * scale + 1e-9, `${label} d${name}[${i}]: fd ${fd}, analytic ${grad[i]}, |err| ${err.toExponential(3)}`);
    }
  }
}

test('convBackwardRef matches float64 finite differences of convRef', (t) => {
  fdCheck(t, causalConv3dGeometry([2, 3, 4, 5, 6], [4, 3, 3, 3, 3]), '3x3x3');
  fdCheck(t, causalConv3dGeometry([1, 2, 3, 7, 7], [3, 2, 3, 3, 3], [1, 2, 2]), '3x3x3 stride 122 odd H');
  fdCheck(t, causalConv3dGeometry([1, 3, 2, 6, 5], [2, 3, 7, 7, 7]), '7x7x7 T < KT');
  fdCheck(t, causalConv3dGeometry([1, 4, 1, 3, 3], [5, 4, 1, 1, 1]), '1x1x1 T=1');
  fdCheck(t, conv2dGeometry([1, 3, 9, 8], [4, 3, 3, 3], 2, [0, 1, 0, 1]), 'Downsample');
  fdCheck(t, conv2dGeometry([2, 2, 6, 7], [3, 2, 3, 5], [1, 2], [2, 0, 1, 3]), 'asymmetric');
});

for (const name of ['grad_causal_conv3d_k3_c4to7_t5', 'grad_causal_conv3d_k3_c5to12_t5_s122']) {
  test(`golden ${name}`, async (t) => {
    const ctx = await gpu();
    const f = await loadGolden(`grad/${name}.safetensors`);
    // in/x is the unpadded video (CausalConv3d pads inside); the stride comes from the module's ctor.
    t.is(f.metadata.call, 'y = m(x)');
    const stride = JSON.parse(f.metadata.ctor!).stride as Stride3;
    const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
    const r = causalConv3dBackward(g('in/x'), g('conv.weight'), g('grad_out'), { stride });
    for (const [got, key] of [[r.dx!, 'grad_in.x'], [r.dw, 'grad_param.conv.weight'], [r.db!, 'grad_param.conv.bias']] as const) {
      const ref = f.f32(`ref64/${key}`);
      t.deepEqual(got.shape, f.entry(key).shape);
      const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(t, await got.read(), ref, { atol: 1e-4 * scale, shape: got.shape, name: `${name} ${key}` });
    }
  });
}

test('conv_backward: bad input throws named KernelArgErrors before dispatching', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([1, 3, 2, 5, 5]);
  const w = ctx.zeros([4, 3, 3, 3, 3]);
  const gy = ctx.zeros([1, 4, 2, 5, 5]);
  const before = ctx.stats.dispatches;
  const bad = (f: () => unknown, message: RegExp) => t.throws(f, { instanceOf: KernelArgError, message });
  bad(() => causalConv3dBackward(ctx.zeros([1, 3, 5, 5]), w, gy), /^causalConv3dBackward: x: rank 4 \(shape \[1,3,5,5\]\), expected rank 5/);
  bad(() => causalConv3dBackward(x, ctx.zeros([4, 2, 3, 3, 3]), gy), /^causalConv3dBackward: weight: shape \[4,2,3,3,3\] has Cin 2, x \[1,3,2,5,5\] has Cin 3/);
  bad(() => causalConv3dBackward(x, w, ctx.zeros([1, 4, 2, 3, 3])), /^causalConv3dBackward: g: shape \[1,4,2,3,3\], expected \[1,4,2,5,5\]/);
  bad(() => causalConv3dBackward(x, w, gy, { stride: [1, 2, 2] }), /^causalConv3dBackward: g: shape \[1,4,2,5,5\], expected \[1,4,2,3,3\]/);
  bad(() => causalConv3dBackward(x, w, gy, { stride: [2, 2, 2] as never }), /^causalConv3dBackward: stride: \[2,2,2\] is not supported/);
  bad(() => causalConv3dBackward(x, w, ctx.zeros([1, 4, 2, 5, 5], 'i32')), /^causalConv3dBackward: g: dtype i32, expected f32/);
  bad(() => causalConv3dBackward(x, w, gy, { bias: 1 as never }), /^causalConv3dBackward: bias: expected a boolean/);
  bad(() => causalConv3dBackward(x, null as never, gy), /^causalConv3dBackward: weight: expected a Tensor, got null/);
  const x2 = ctx.zeros([1, 3, 9, 8]);
  const w2 = ctx.zeros([6, 3, 3, 3]);
  bad(() => conv2dBackward(x2, w2, ctx.zeros([1, 6, 9, 8]), { stride: 2, padding: [0, 1, 0, 1] }), /^conv2dBackward: g: shape \[1,6,9,8\], expected \[1,6,4,4\]/);
  bad(() => conv2dBackward(x2, w2, ctx.zeros([1, 6, 9, 8]), { stride: 3 }), /^conv2dBackward: stride: 3 is not supported/);
  bad(() => conv2dBackward(x2, w2, ctx.zeros([1, 6, 9, 8]), { padding: [0, 1, 0] as never }), /^conv2dBackward: padding: /);
  bad(() => conv2dBackward(ctx.zeros([1, 3, 1, 1]), w2, ctx.zeros([1, 6, 1, 1]), { padding: 0 }), /^conv2dBackward: x: spatial size 1 with padding 0\+0 is smaller than the kernel 3/);
  bad(() => conv2dBackward(x2, ctx.zeros([6, 3, 3]), ctx.zeros([1, 6, 9, 8])), /^conv2dBackward: weight: rank 3/);
  // The dW columns kernel divides in f32: larger maps are refused, not miscomputed.
  bad(() => conv2dBackward(ctx.zeros([1, 1, 1025, 1024]), ctx.zeros([1, 1, 1, 1]), ctx.zeros([1, 1, 1025, 1024]), { padding: 0 }), /^conv2dBackward: x: 1025x1024 outputs, 1 weight columns and 1 frames must each be below 2\^20/);
  t.is(ctx.stats.dispatches, before, 'nothing was dispatched');
});
