// rope and ropeBackward vs their double references, ropeBackwardRef vs central differences of
// ropeRef, and named errors.
import test from 'ava';
import { KernelArgError, rope, ropeBackward, ropeBackwardRef, ropeRef, ropeTable, ropeTableData } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// Two f32 products and one sum per element on f32 tables (kernels/rope.ts): a few ulp of |x| ~ 2.
const ATOL = 1e-6;

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
