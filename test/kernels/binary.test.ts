import test from 'ava';
import { BINARY_OPS, KernelArgError, binary, binaryRef } from '../../kernels/index.js';
import { broadcastPlan } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// [a shape, b shape]: same shape, scalar, trailing bias, per-channel NCDHW, size-1 dims, odd sizes.
const CASES: [number[], number[]][] = [
  [[7], [7]],
  [[1], [1]],
  [[3, 5], [1]],
  [[2, 3, 5], [5]],
  [[2, 6, 3, 5, 7], [6, 1, 1, 1]],
  [[1, 1, 9], [1, 9]],
  [[4, 1, 3], [4, 1, 3]],
  [[1023], [1023]],
];

for (const [as, bs] of CASES) {
  for (const op of BINARY_OPS) {
    test(`binary op=${op} a=[${as}] b=[${bs}]`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const an = as.reduce((x, y) => x * y, 1);
      const bn = bs.reduce((x, y) => x * y, 1);
      const a = rng.array(an);
      const b = rng.array(bn, 0.5, 2);
      const out = await binary(op, ctx.fromArray(a, as), ctx.fromArray(b, bs)).read();
      assertClose(t, out, binaryRef(op, a, as, b, bs), { atol: 0, shape: as, name: t.title });
    });
  }
}

test('binary random shapes (seeded)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let k = 0; k < 10; k++) {
    const shape = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 9));
    const cut = rng.int(0, shape.length);
    const bs = shape.slice(cut);
    const a = rng.array(shape.reduce((x, y) => x * y, 1));
    const b = rng.array(bs.reduce((x, y) => x * y, 1));
    const out = await binary('add', ctx.fromArray(a, shape), ctx.fromArray(b, bs.length ? bs : [1])).read();
    assertClose(t, out, binaryRef('add', a, shape, b, bs.length ? bs : [1]), { atol: 0, shape, name: `seed ${rng.seed} a=[${shape}] b=[${bs}]` });
  }
});

test('binary: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const a = ctx.zeros([2, 3]);
  t.throws(() => binary('add', a, ctx.zeros([2])), { instanceOf: KernelArgError, message: /^binary: b: shape \[2\] does not broadcast/ });
  t.throws(() => binary('add', a, ctx.zeros([3], 'i32')), { message: /^binary: b: dtype i32, expected f32/ });
  t.throws(() => binary('pow' as never, a, a), { message: /^binary: op:/ });
  t.throws(() => binary('add', a, a, ctx.zeros([3, 2])), { message: /^binary: out: shape \[3,2\], expected \[2,3\]/ });
  t.throws(() => broadcastPlan('binary', [2, 3, 4], [2, 1, 4]), { message: /contiguous/ });
});
