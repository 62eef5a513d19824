// rope, ropeBackward and ropeQkv vs their double references, ropeQkv against rope + permute +
// writeSlice (within fma contraction), ropeBackwardRef vs central differences of ropeRef, and named errors.
import test from 'ava';
import { KernelArgError, permute, rope, ropeBackward, ropeBackwardRef, ropeQkv, ropeQkvRef, ropeRef, ropeTable, ropeTableData, writeSlice } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Two f32 products and one sum per element on f32 tables (kernels/rope.ts): a few ulp of |x| ~ 2.
const ATOL = 1e-6;
// Two shaders' rotations differ only by fma contraction, which WGSL leaves to the compiler: one rounding
// of a product, so 4 ulps of the largest term |x cos| <= 2 (ulp 2^-22); a wrong position or sign is O(1).
const FUSE_ATOL = 4 * 2 ** -22;

type Shape = [number, number, number, number];

// [B, NH, L, HD], shared positions, maxPos: HD = 2, odd L, L = 1, the InternLM head dims, positions
// past maxPos (clamped).
const CASES: [Shape, boolean, number][] = [
  [[1, 1, 1, 2], false, 4],
  [[2, 3, 5, 8], false, 50],
  [[1, 2, 17, 64], true, 50],
  [[2, 1, 33, 16], false, 20],
  [[1, 4, 300, 64], true, 300],
  [[2, 1, 7, 512], false, 8],
];

for (const [shape, shared, maxPos] of CASES) {
  test(`rope and ropeBackward [${shape}]${shared ? ' shared positions' : ''} maxPos ${maxPos}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const [B, , L, HD] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const pos = Int32Array.from({ length: shared ? L : B * L }, () => rng.int(-2, maxPos + 3));
    const positions = ctx.fromArray(pos, shared ? [L] : [B, L], 'i32');
    const tbl = ropeTable(ctx, HD, maxPos);
    const data = ropeTableData(HD, maxPos);
    const xa = rng.array(n, -2, 2);
    const x = ctx.fromArray(xa, shape);
    const y = await rope(x, positions, tbl).read();
    assertClose(t, y, ropeRef(xa, shape, pos, data.cos, data.sin, maxPos), { atol: ATOL, shape, name: `rope [${shape}]` });
    const dx = await ropeBackward(x, positions, tbl).read();
    assertClose(t, dx, ropeBackwardRef(xa, shape, pos, data.cos, data.sin, maxPos), { atol: ATOL, shape, name: `ropeBackward [${shape}]` });
    // The rotation is orthogonal: the backward undoes the forward.
    const back = await ropeBackward(ctx.fromArray(y, shape), positions, tbl).read();
    assertClose(t, back, xa, { atol: 4 * ATOL, shape, name: `ropeBackward(rope(x)) [${shape}]` });
  });
}

test('ropeBackward writes into a given out, bitwise deterministic', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const shape: Shape = [1, 2, 9, 16];
  const x = ctx.fromArray(rng.array(2 * 9 * 16), shape);
  const positions = ctx.fromArray(Int32Array.from({ length: 9 }, (_, i) => i), [9], 'i32');
  const tbl = ropeTable(ctx, 16, 9);
  const out = ctx.tensor(shape);
  t.is(ropeBackward(x, positions, tbl, out), out);
  t.deepEqual(await out.read(), await ropeBackward(x, positions, tbl).read());
});

// RoPE is linear in x, so L = sum(ropeRef(x) * G) has exact central differences up to rounding.
test('ropeBackwardRef matches central differences of ropeRef', (t) => {
  const rng = Rng.fromString(t.title);
  const h = 1e-6;
  for (const [shape, maxPos] of [[[1, 1, 1, 2], 3], [[2, 2, 5, 8], 6], [[1, 3, 4, 16], 4]] as [Shape, number][]) {
    const [B, , L, HD] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const { cos, sin } = ropeTableData(HD, maxPos);
    const pos = Array.from({ length: B * L }, () => rng.int(0, maxPos + 1));
    const x = Float64Array.from({ length: n }, () => rng.uniform(-2, 2));
    const G = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const Lf = (v: Float64Array) => ropeRef(v, shape, pos, cos, sin, maxPos).reduce((s, y, i) => s + y * G[i]!, 0);
    const an = ropeBackwardRef(G, shape, pos, cos, sin, maxPos);
    const amax = Math.max(...an.map(Math.abs));
    for (let k = 0; k < 8; k++) {
      const i = rng.int(0, n - 1);
      const xp = x.slice();
      const xm = x.slice();
      xp[i]! += h;
      xm[i]! -= h;
      const fd = (Lf(xp) - Lf(xm)) / (2 * h);
      t.true(Math.abs(fd - an[i]!) <= 1e-6 * amax + 1e-9, `[${shape}] x[${i}]: fd ${fd}, analytic ${an[i]}`);
    }
  }
});

test('rope and ropeBackward: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const tbl = ropeTable(ctx, 8, 10);
  const g = ctx.zeros([1, 2, 3, 8]);
  const pos = ctx.zeros([3], 'i32');
  t.throws(() => ropeBackward(ctx.zeros([2, 3, 8]), pos, tbl), { instanceOf: KernelArgError, message: /^rope_backward: g: rank 3 \(shape \[2,3,8\]\), expected rank 4/ });
  t.throws(() => ropeBackward(ctx.zeros([1, 2, 3, 8], 'i32'), pos, tbl), { instanceOf: KernelArgError, message: /^rope_backward: g: dtype i32, expected f32/ });
  t.throws(() => ropeBackward(ctx.zeros([1, 2, 3, 16]), pos, tbl), { instanceOf: KernelArgError, message: /^rope_backward: g: head dim 16, the table is for 8/ });
  t.throws(() => ropeBackward(g, ctx.zeros([3], 'f32'), tbl), { instanceOf: KernelArgError, message: /^rope_backward: positions: dtype f32, expected i32/ });
  t.throws(() => ropeBackward(g, ctx.zeros([2, 3], 'i32'), tbl), { instanceOf: KernelArgError, message: /^rope_backward: positions: shape \[2,3\], expected \[1,3\]/ });
  t.throws(() => ropeBackward(g, pos, tbl, g), { instanceOf: KernelArgError, message: /^rope_backward: out: must not alias g/ });
  t.throws(() => ropeBackward(g, pos, tbl, ctx.zeros([1, 2, 3, 4])), { instanceOf: KernelArgError, message: /^rope_backward: out: shape \[1,2,3,4\], expected \[1,2,3,8\]/ });
  t.throws(() => rope(ctx.zeros([1, 2, 4, 8]), pos, tbl), { instanceOf: KernelArgError, message: /^rope: positions: shape \[3\], expected \[4\]/ });
  t.throws(() => ropeTable(ctx, 7, 10), { instanceOf: KernelArgError, message: /^rope: headDim: expected an even integer >= 2, got 7/ });
});

// ropeQkv [B, L, NH, HD], shared positions, into a cache of S rows at start (or new tensors: S 0):
// L = 1 (a decode step), HD = 2, a prefill into an empty cache, the last rows of a cache.
const QKV_CASES: [[number, number, number, number], boolean, number, number][] = [
  [[1, 1, 4, 16], true, 9, 5],
  [[2, 1, 3, 2], false, 4, 0],
  [[1, 7, 2, 8], true, 7, 0],
  [[2, 3, 1, 64], false, 0, 0],
  [[1, 5, 3, 32], true, 12, 7],
];

for (const [[B, L, NH, HD], shared, S, start] of QKV_CASES) {
  test(`ropeQkv B ${B} L ${L} NH ${NH} HD ${HD}${S ? ` into ${S} rows at ${start}` : ''}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    const maxPos = 20;
    const H = NH * HD;
    const pos = Int32Array.from({ length: shared ? L : B * L }, () => rng.int(-1, maxPos + 2));
    const positions = ctx.fromArray(pos, shared ? [L] : [B, L], 'i32');
    const tbl = ropeTable(ctx, HD, maxPos);
    const data = ropeTableData(HD, maxPos);
    const qa = rng.array(B * L * 3 * H, -2, 2);
    const qkv = ctx.fromArray(qa, [B, L, 3 * H]);
    const ka = rng.array(B * NH * S * HD);
    const va = rng.array(B * NH * S * HD);
    const dst = S ? { k: ctx.fromArray(ka, [B, NH, S, HD]), v: ctx.fromArray(va, [B, NH, S, HD]), start } : {};
    const got = ropeQkv(qkv, positions, tbl, { heads: NH, ...dst });
    if (S) t.true(got.k === dst.k && got.v === dst.v);
    const ref = ropeQkvRef(qa, [B, L, 3 * H], NH, pos, data.cos, data.sin, maxPos, S ? { k: ka, v: va, s: S, start } : null);
    for (const n of ['q', 'k', 'v'] as const) assertClose(t, await got[n].read(), ref[n], { atol: ATOL, name: `ropeQkv ${n}` });
    // Against the unfused path (head permute, rope, writeSlice): q and k within FUSE_ATOL (rope_rotate's
    // x1*c - x2*s may be fma-contracted in one shader and not the other); v and the cache rows are copies: exact.
    const heads = permute(qkv.reshape([B, L, 3, NH, HD]), [2, 0, 3, 1, 4]);
    const all = await heads.read();
    const part = (i: number) => ctx.fromArray(all.subarray(i * B * NH * L * HD, (i + 1) * B * NH * L * HD), [B, NH, L, HD]);
    assertClose(t, await got.q.read(), await rope(part(0), positions, tbl).read(), { atol: FUSE_ATOL, name: 'ropeQkv q vs rope' });
    const k = rope(part(1), positions, tbl);
    const v = part(2);
    const wantK = S ? writeSlice(k, ctx.fromArray(ka, [B, NH, S, HD]), 2, start) : k;
    const wantV = S ? writeSlice(v, ctx.fromArray(va, [B, NH, S, HD]), 2, start) : v;
    assertClose(t, await got.k.read(), await wantK.read(), { atol: FUSE_ATOL, name: 'ropeQkv k vs rope + writeSlice' });
    t.deepEqual(await got.v.read(), await wantV.read());
  });
}

test('ropeQkv: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const tbl = ropeTable(ctx, 8, 10);
  const qkv = ctx.zeros([1, 3, 48]);
  const pos = ctx.zeros([3], 'i32');
  const cache = () => ctx.zeros([1, 2, 6, 8]);
  t.throws(() => ropeQkv(ctx.zeros([3, 48]), pos, tbl, { heads: 2 }), { instanceOf: KernelArgError, message: /^ropeQkv: qkv: rank 2/ });
  t.throws(() => ropeQkv(qkv, pos, tbl, { heads: 3 }), { instanceOf: KernelArgError, message: /^ropeQkv: qkv: last dim 48, expected 3 x heads 3 x head dim 8 = 72/ });
  t.throws(() => ropeQkv(qkv, ctx.zeros([2], 'i32'), tbl, { heads: 2 }), { instanceOf: KernelArgError, message: /^ropeQkv: positions: shape \[2\], expected \[3\]/ });
  t.throws(() => ropeQkv(qkv, pos, tbl, { heads: 2, k: cache() }), { instanceOf: KernelArgError, message: /^ropeQkv: v: k and v destinations go together/ });
  t.throws(() => ropeQkv(qkv, pos, tbl, { heads: 2, k: cache(), v: cache(), start: 4 }), { instanceOf: KernelArgError, message: /^ropeQkv: start: 4: rows 4..6 are not inside 0..5/ });
  t.throws(() => ropeQkv(qkv, pos, tbl, { heads: 2, k: ctx.zeros([1, 3, 6, 8]), v: cache() }), { instanceOf: KernelArgError, message: /^ropeQkv: k: shape \[1,3,6,8\], expected \[1,2,\*,8\]/ });
  t.throws(() => ropeQkv(qkv, pos, tbl, { heads: 2, k: cache(), v: ctx.zeros([1, 2, 5, 8]) }), { instanceOf: KernelArgError, message: /^ropeQkv: v: \[1,2,5,8\], expected k's shape/ });
  const k = cache();
  t.throws(() => ropeQkv(qkv, pos, tbl, { heads: 2, k, v: k }), { instanceOf: KernelArgError, message: /^ropeQkv: k: k, v and qkv must be three different buffers/ });
});
