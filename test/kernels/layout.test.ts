import test from 'ava';
import { KernelArgError, concat, concatRef, pad, padRef, permute, permuteRef, slice, sliceRef, writeSlice, writeSliceRef } from '../../kernels/index.js';
import { collapseDims, planStridedCopy } from '../../kernels/layout.js';
import { assertEqualInts } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Tolerance: exact (bit copies). Inputs are distinct integers so a misplaced element is visible.
const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const PERMUTES: [number[], number[]][] = [
  [[7], [0]],
  [[3, 5], [1, 0]],
  [[2, 3, 4, 5, 6], [0, 2, 1, 3, 4]], // [B,C,T,H,W] -> [B,T,C,H,W] (LA norm)
  [[1, 3, 2, 4, 8], [0, 2, 1, 3, 4]], // the same with H*W % 4 == 0: layout_vec4
  [[1, 6, 2, 3, 5], [0, 2, 3, 4, 1]], // channels last
  [[2, 1, 3, 1, 4, 3], [5, 4, 3, 2, 1, 0]],
  [[1, 1, 1], [2, 0, 1]],
  [[1, 40, 2, 4, 6], [0, 2, 3, 4, 1]], // channels last, C and H*W multiples of 4: layout_transpose
  [[3, 12, 8], [0, 2, 1]], // layout_transpose, batch 3
  [[2, 8, 3, 12], [3, 0, 2, 1]], // layout_transpose with strided batch dims
  [[2, 9, 3, 10], [3, 0, 2, 1]], // the same, unaligned: scalar path
];
for (const [shape, perm] of PERMUTES) {
  test(`layout permute x=[${shape}] perm=[${perm}]`, async (t) => {
    const ctx = await gpu();
    const x = iota(numel(shape));
    const y = permute(ctx.fromArray(x, shape), perm);
    t.deepEqual(y.shape, perm.map((p) => shape[p]));
    assertEqualInts(t, await y.read(), permuteRef(x, shape, perm), { name: t.title });
  });
}

const SLICES: [number[], number, number, number][] = [
  [[9], 0, 2, 7],
  [[4, 5], 1, 4, 5],
  [[2, 3, 5, 4, 3], 2, 1, 4],
  [[2, 3, 5, 4, 4], 2, 1, 4], // layout_vec4
  [[3, 4], -2, 0, 0],
  [[2, 1025], 1, 3, 1025],
];
for (const [shape, axis, start, end] of SLICES) {
  test(`layout slice x=[${shape}] axis=${axis} [${start},${end})`, async (t) => {
    const ctx = await gpu();
    const x = iota(numel(shape));
    const y = await slice(ctx.fromArray(x, shape), axis, start, end).read();
    assertEqualInts(t, y, sliceRef(x, shape, axis, start, end), { name: t.title });
  });
}

const PADS: [number[], [number, number][], number][] = [
  [[1, 3, 2, 4, 5], [[0, 0], [0, 0], [3, 0], [0, 0], [0, 0]], 0], // LDM causal time padding
  [[1, 3, 2, 4, 4], [[0, 0], [0, 0], [3, 0], [0, 0], [0, 0]], 1.5], // the same on layout_vec4
  [[2, 8], [[1, 0], [4, 4]], 3], // layout_vec4 with a padded innermost dim
  [[1, 2, 1, 5, 7], [[0, 0], [0, 0], [2, 0], [1, 1], [1, 1]], 0], // causal conv: time front, H/W both sides
  [[2, 3, 9, 8], [[0, 0], [0, 0], [0, 1], [0, 1]], -2.5], // ZeroPad2d((0,1,0,1)) of the VQGAN downsample
  [[5], [[2, 3]], 7],
  [[3, 0, 2], [[0, 0], [1, 1], [0, 0]], 4], // a zero-size dim padded to size 2
];
for (const [shape, pads, value] of PADS) {
  test(`layout pad x=[${shape}] pads=${JSON.stringify(pads)} value=${value}`, async (t) => {
    const ctx = await gpu();
    const x = iota(numel(shape));
    const y = await pad(ctx.fromArray(x, shape), pads, value).read();
    assertEqualInts(t, y, padRef(x, shape, pads, value), { name: t.title });
  });
}

const CONCATS: [number[][], number][] = [
  [[[3], [4]], 0],
  [[[1, 512, 4, 2, 2], [1, 512, 1, 2, 2]], 2], // LDM decoder: pre_encode_out ++ code frame along T
  [[[2, 3, 1, 5], [2, 1, 1, 5], [2, 4, 1, 5]], 1],
  [[[2, 3], [2, 0], [2, 5]], -1],
];
for (const [shapes, axis] of CONCATS) {
  test(`layout concat xs=${JSON.stringify(shapes)} axis=${axis}`, async (t) => {
    const ctx = await gpu();
    let base = 0;
    const xs = shapes.map((s) => {
      const data = iota(numel(s)).map((v) => v + base);
      base += numel(s);
      return { data, shape: s };
    });
    const y = await concat(xs.map((x) => ctx.fromArray(x.data, x.shape)), axis).read();
    assertEqualInts(t, y, concatRef(xs, axis), { name: t.title });
  });
}

test('layout random permute/slice/pad/concat (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 8; k++) {
    const r = rng.int(1, 6);
    const shape = Array.from({ length: r }, () => rng.int(1, 5));
    const x = iota(numel(shape));
    const xt = ctx.fromArray(x, shape);
    const perm = [...Array(r).keys()].sort(() => rng.next() - 0.5);
    assertEqualInts(t, await permute(xt, perm).read(), permuteRef(x, shape, perm), { name: `seed ${rng.seed} permute [${shape}] [${perm}]` });
    const a = rng.int(0, r - 1);
    const s = rng.int(0, shape[a]!);
    const e = rng.int(s, shape[a]!);
    assertEqualInts(t, await slice(xt, a, s, e).read(), sliceRef(x, shape, a, s, e), { name: `seed ${rng.seed} slice [${shape}] ${a} ${s}:${e}` });
    const pads = shape.map(() => [rng.int(0, 2), rng.int(0, 2)] as [number, number]);
    assertEqualInts(t, await pad(xt, pads, -1).read(), padRef(x, shape, pads, -1), { name: `seed ${rng.seed} pad [${shape}] ${JSON.stringify(pads)}` });
    const other = shape.map((d, k) => (k === a ? rng.int(0, 3) : d));
    const x2 = iota(numel(other)).map((v) => -v);
    const got = await concat([xt, ctx.fromArray(x2, other)], a).read();
    assertEqualInts(t, got, concatRef([{ data: x, shape }, { data: x2, shape: other }], a), { name: `seed ${rng.seed} concat [${shape}] [${other}] ${a}` });
    // writeSlice: x into a larger dst at a random start along a (a KV cache append).
    const big = shape.map((d, k) => (k === a ? d + rng.int(0, 3) : d));
    const start = rng.int(0, big[a]! - shape[a]!);
    const dv = iota(numel(big)).map((v) => -1 - v);
    const dst = ctx.fromArray(dv, big);
    t.is(writeSlice(xt, dst, a, start), dst);
    assertEqualInts(t, await dst.read(), writeSliceRef(dv, big, x, shape, a, start), { name: `seed ${rng.seed} writeSlice [${shape}] into [${big}] ${a} at ${start}` });
  }
});

test('layout keeps i32 bits and pads with an i32 value', async (t) => {
  const ctx = await gpu();
  const x = ctx.fromArray([-1, 2147483647, -2147483648, 5], [2, 2], 'i32');
  const y = pad(x, [[1, 0], [0, 1]], -7);
  t.is(y.dtype, 'i32');
  t.deepEqual([...(await y.read())], [-7, -7, -7, -1, 2147483647, -7, -2147483648, 5, -7]);
  t.deepEqual([...(await permute(x, [1, 0]).read())], [-1, -2147483648, 2147483647, 5]);
});

test('layout merges contiguous dims before dispatch', (t) => {
  // concat of [1,512,4,2,2] into [1,512,5,2,2] along T: rank 2 (C, T*H*W) after merging.
  const d = (e: number, ss: number, ds: number) => ({ e, ss, ds, lo: 0, len: e });
  t.deepEqual(collapseDims([d(1, 8192, 10240), d(512, 16, 20), d(4, 4, 4), d(2, 2, 2), d(2, 1, 1)]), [d(512, 16, 20), d(16, 1, 1)]);
  // A padded dim is never merged away.
  t.is(collapseDims([{ e: 3, ss: 1, ds: 1, lo: 1, len: 1 }]).length, 1);
});

test('layout picks layout_vec4 for 16-byte-aligned contiguous inner dims, layout_transpose for tiled permutes', (t) => {
  const d = (e: number, ss: number, ds: number, lo = 0, len = e) => ({ e, ss, ds, lo, len });
  const concatT = planStridedCopy([d(512, 16, 20), d(4, 4, 4), d(2, 2, 2), d(2, 1, 1)], 0, 16);
  t.is(concatT.kind, 'vec4');
  t.deepEqual(concatT.dims.slice(4), [d(512, 4, 5), d(4, 1, 1)]);
  t.is(concatT.dstBase, 4);
  t.is(concatT.n, 2048);
  t.is(planStridedCopy([d(3, 4, 4), d(4, 1, 1)], 0, 2).kind, 'scalar', 'unaligned base');
  t.is(planStridedCopy([d(4, 1, 4), d(4, 4, 1)], 0, 0).kind, 'transpose', 'a 4 x 4 transpose');
  t.is(planStridedCopy([d(6, 1, 4), d(4, 6, 1)], 0, 0).kind, 'scalar', 'b extent 6');
  t.is(planStridedCopy([d(2, 7, 6), d(6, 1, 1)], 0, 0).kind, 'scalar', 'inner extent 6');
  t.is(planStridedCopy([d(3, 8, 16, 1, 2), d(16, 1, 1, 4, 8)], -12, 0).kind, 'vec4', 'pad [[1,0],[4,4]] of [2,8]');
  // [1,C=128,T=2,HW=16384] -> channels last: T and HW merge into b (source-contiguous), a = C.
  const cl = planStridedCopy([d(2, 16384, 2097152), d(16384, 1, 128), d(128, 32768, 1)], 0, 0);
  t.is(cl.kind, 'transpose');
  t.deepEqual(cl.dims.slice(4), [{ e: 32768, ss: 1, ds: 32, lo: 0, len: 32768 }, { e: 128, ss: 8192, ds: 1, lo: 0, len: 128 }]);
  // Batch dims stay outside the blocks: out [12,2,3,8] from x [2,8,3,12] (perm [3,0,2,1]).
  const sb = planStridedCopy([d(12, 1, 48), d(2, 288, 24), d(3, 12, 8), d(8, 36, 1)], 0, 0);
  t.is(sb.kind, 'transpose');
  t.deepEqual(sb.dims.slice(2), [{ ...d(2, 72, 6) }, d(3, 3, 2), { ...d(12, 1, 12) }, { ...d(8, 9, 1) }]);
});

test('layout: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([2, 3]);
  t.throws(() => permute(x, [0, 0]), { instanceOf: KernelArgError, message: /^permute: perm: \[0,0\] is not a permutation of 0\.\.1/ });
  t.throws(() => permute(ctx.zeros([1, 1, 1, 1, 1, 1, 1]), [0, 1, 2, 3, 4, 5, 6]), { instanceOf: KernelArgError, message: /^permute: x: rank 7 .* expected rank <= 6/ });
  t.throws(() => slice(x, 1, 2, 4), { instanceOf: KernelArgError, message: /^slice: start\/end: \[2, 4\) is not a range inside 0\.\.3/ });
  t.throws(() => slice(x, 2, 0, 1), { instanceOf: KernelArgError, message: /^slice: axis: expected an integer in -2\.\.1/ });
  t.throws(() => pad(x, [[0, 1]]), { instanceOf: KernelArgError, message: /^pad: pads: expected 2 pairs/ });
  t.throws(() => pad(x, [[0, 1], [-1, 0]]), { instanceOf: KernelArgError, message: /^pad: pads:/ });
  t.throws(() => pad(ctx.zeros([2], 'i32'), [[1, 1]], 0.5), { instanceOf: KernelArgError, message: /^pad: value: 0\.5 is not representable as i32/ });
  t.throws(() => concat([x, ctx.zeros([3, 3])], 1), { instanceOf: KernelArgError, message: /^concat: xs\[1\]: f32\[3,3\] does not match xs\[0\] f32\[2,3\] outside axis 1/ });
  t.throws(() => concat([x, ctx.zeros([2, 3], 'i32')], 0), { instanceOf: KernelArgError, message: /^concat: xs\[1\]: i32/ });
  t.throws(() => concat([], 0), { instanceOf: KernelArgError, message: /^concat: xs: expected a non-empty array/ });
  t.throws(() => concat([x, x], 0, ctx.zeros([4, 2])), { instanceOf: KernelArgError, message: /^concat: out: shape \[4,2\], expected \[4,3\]/ });
  t.throws(() => writeSlice(x, ctx.zeros([2, 4]), 0, 0), { instanceOf: KernelArgError, message: /^writeSlice: dst: \[2,4\] does not match x \[2,3\] outside axis 0/ });
  t.throws(() => writeSlice(x, ctx.zeros([3, 3]), 0, 2), { instanceOf: KernelArgError, message: /^writeSlice: start: 2: rows 2\.\.3 are not inside 0\.\.2/ });
  t.throws(() => writeSlice(x, ctx.zeros([3, 3], 'i32') as never, 0, 0), { instanceOf: KernelArgError, message: /^writeSlice: dst: .*i32/ });
  t.throws(() => writeSlice(x, x, 0, 0), { instanceOf: KernelArgError, message: /^writeSlice: dst: aliases x/ });
});
