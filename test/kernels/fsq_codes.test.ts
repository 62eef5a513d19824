// fsq_codes: fsqIndicesToCodes (FSQ indices -> codes, optional project_out) against the CPU
// reference, and its index checks (the upstream goldens run in fsq_round.test.ts, round trip).
import test from 'ava';
import { KernelArgError } from '../../kernels/index.js';
import { fsqIndicesToCodes, fsqIndicesToCodesRef } from '../../kernels/fsq_codes.js';
import { FSQ_MANY_ROWS, fsqPlan } from '../../kernels/core/fsq_plan.js';
import { assertClose, assertEqualInts } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { toChannelLast } from '../helpers/layout.js';
import { Rng } from '../helpers/rng.js';

const LEVELS = [8, 8, 8, 5, 5, 5];
// f32 dots of length len(levels) <= 8 plus a bias.
const PROJ_TOL = 1e-5;

test('fsq_codes: projection with awkward dims and channel-first output vs reference', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const [levels, shape, dim] of [[[3, 4, 5], [2, 3, 5], 11], [LEVELS, [1, 1], 1], [[2, 2, 2, 2, 2, 2, 2, 2], [4, 1, 3], 9], [[8, 5, 5], [FSQ_MANY_ROWS + 5], 7]] as [number[], number[], number][]) {
    const plan = fsqPlan(levels);
    const n = shape.reduce((a, b) => a * b, 1);
    const ids = Int32Array.from({ length: n }, () => rng.int(0, plan.nCodes - 1));
    const w = rng.array(dim * levels.length);
    const bias = rng.array(dim);
    const out = fsqIndicesToCodes(ids, { levels, ctx, shape, projectOut: { weight: ctx.fromArray(w, [dim, levels.length]), bias: ctx.fromArray(bias, [dim]) } });
    const ref = fsqIndicesToCodesRef(ids, levels, { weight: w, bias, dim });
    const cf = shape.length >= 3;
    const S = n / shape[0]!;
    t.deepEqual(out.shape, cf ? [shape[0]!, dim, ...shape.slice(1)] : [...shape, dim]);
    const got = cf ? toChannelLast(await out.read(), shape[0]!, dim, S) : await out.read();
    assertClose(t, got, ref, { atol: PROJ_TOL, name: `levels [${levels}] shape [${shape}] dim ${dim}` });
  }
});

test('fsq_codes: bad indices are named errors; GPU indices out of range are NaN and counted', async (t) => {
  const ctx = await gpu();
  t.throws(() => fsqIndicesToCodes(Int32Array.from([0, 64000]), { levels: LEVELS, ctx }), { instanceOf: KernelArgError, message: /^fsq_codes: indices: index 64000 at position 1 is out of range \[0, 64000\)/ });
  t.throws(() => fsqIndicesToCodes(Int32Array.from([-1]), { levels: LEVELS, ctx }), { message: /index -1 at position 0 is out of range/ });
  t.throws(() => fsqIndicesToCodes(ctx.zeros([3], 'i32'), { levels: LEVELS, projectOut: { weight: ctx.zeros([16, 5]) } }), { message: /^fsq_codes: projectOut\.weight: shape \[16,5\], expected \[\*,6\]/ });
  const flag = ctx.zeros([1], 'u32');
  const out = await fsqIndicesToCodes(ctx.fromArray([5, 64000, -3, 63999], [4], 'i32'), { levels: LEVELS, outOfRange: flag }).read();
  t.deepEqual([...(await flag.read())], [2]);
  const ref = fsqIndicesToCodesRef([5, 64000, -3, 63999], LEVELS);
  t.deepEqual([...out].map(Number.isNaN), [...ref].map(Number.isNaN));
  t.is(out.filter(Number.isNaN).length, 12);
  assertEqualInts(t, [...out.subarray(0, 6), ...out.subarray(18)], [...ref.subarray(0, 6), ...ref.subarray(18)], { name: 'valid rows' });
});
