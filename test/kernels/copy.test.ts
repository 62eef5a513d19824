import test from 'ava';
import { copy, copyRef } from '../../kernels/index.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

for (const n of [1, 3, 4, 5, 255, 1024, 1027]) {
  test(`copy n=${n}`, async (t) => {
    const ctx = await gpu();
    const x = Rng.fromString(t.title).array(n);
    const out = ctx.fromArray(new Float32Array(n).fill(7), [n]);
    const y = copy(ctx.fromArray(x, [n]), out);
    t.is(y, out);
    assertClose(t, await y.read(), copyRef(x), { atol: 0 });
  });
}

test('copy i32 keeps the bits', async (t) => {
  const ctx = await gpu();
  const y = await copy(ctx.fromArray([-1, 2147483647, -2147483648], [3], 'i32')).read();
  t.deepEqual([...y], [-1, 2147483647, -2147483648]);
});
