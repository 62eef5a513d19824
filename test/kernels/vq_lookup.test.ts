// vq_lookup: GPU argmin vs the float64 reference. An index may differ only on rows that
// vqNearTies reports (top-2 float64 gap within the f32 error bound); exact f32 ties (duplicated
// codes) must resolve to the lowest index.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { GpuContext } from '../../kernels/index.js';
import { KernelArgError } from '../../kernels/index.js';
import { vqNearTies, vqNearest, vqNearestRef, vqTieTolerance } from '../../kernels/vq_lookup.js';
import { withKnobs } from '../../kernels/internal.js';
import { assertEqualInts } from '../helpers/close.js';
import { gpu, notExercised } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

const d2 = (a: Float32Array, ao: number, b: Float32Array, bo: number, E: number) => {
  let s = 0;
  for (let k = 0; k < E; k++) s += (a[ao + k]! - b[bo + k]!) ** 2;
  return s;
};
const n2 = (a: Float32Array, o: number, E: number) => d2(a, o, new Float32Array(E), 0, E);

/**
 * Runs the lookup with each partial-argmin kernel the adapter has (they must agree up to near-ties) and
 * checks it row by row; returns the rows that took a near-tie neighbour.
 */
async function check(t: ExecutionContext, ctx: GpuContext, x: Float32Array, cb: Float32Array, N: number, V: number, E: number, name: string): Promise<number[]> {
  const xt = ctx.fromArray(x, [N, E]);
  const ct = ctx.fromArray(cb, [V, E]);
  if (ctx.hasSubgroups(8)) {
    const sub = await withKnobs({ vqLookup: 'subgroup' }, () => vqNearest(xt, ct)).indices.read();
    const tiled = await withKnobs({ vqLookup: 'tiled' }, () => vqNearest(xt, ct)).indices.read();
    // Same sums in the same order, but WGSL does not promise the same fma fusion in both shaders: an
    // index may differ only between candidates within the f32 error bound, never between equal codes.
    const apart: string[] = [];
    let nDiff = 0;
    for (let n = 0; n < N; n++) {
      const [a, b] = [sub[n]!, tiled[n]!];
      if (a === b) continue;
      nDiff++;
      const ok = a >= 0 && b >= 0 && a < V && b < V && d2(cb, a * E, cb, b * E, E) > 0;
      const gap = ok ? Math.abs(d2(x, n * E, cb, a * E, E) - d2(x, n * E, cb, b * E, E)) : Infinity;
      if (!(gap <= vqTieTolerance(n2(x, n * E, E), n2(cb, a * E, E), n2(cb, b * E, E), E))) apart.push(`row ${n}: ${a} vs ${b}, gap ${gap}`);
    }
    t.deepEqual(apart, [], `${name}: vq_lookup_sg and vq_lookup agree up to near-ties (${nDiff} of ${N} rows differ)`);
    if (nDiff) t.log(`${name}: vq_lookup_sg and vq_lookup differ on ${nDiff} near-tie rows`);
  } else notExercised(t, 'vq_lookup_sg', `no subgroups of >= 8 on ${ctx.adapterInfo}`);
  const { indices, codes } = vqNearest(xt, ct, { returnCodes: true });
  const got = await indices.read();
  const ref = vqNearestRef(x, cb, N, V, E);
  const ties = new Map(vqNearTies(x, cb, N, V, E).map((r) => [r.row, r]));
  const differing: number[] = [];
  const unexplained: string[] = [];
  for (let n = 0; n < N; n++) {
    if (got[n] === ref[n]) continue;
    differing.push(n);
    const g = got[n]!;
    const b = ref[n]!;
    const gap = g >= 0 && g < V ? d2(x, n * E, cb, g * E, E) - d2(x, n * E, cb, b * E, E) : Infinity;
    const tol = g >= 0 && g < V ? vqTieTolerance(n2(x, n * E, E), n2(cb, g * E, E), n2(cb, b * E, E), E) : 0;
    if (!(gap <= tol) || !ties.has(n)) unexplained.push(`row ${n}: got ${g}, f64 argmin ${b}, gap ${gap}, tol ${tol}, reported ${ties.has(n)}`);
  }
  t.deepEqual(unexplained, [], `${name}: ${differing.length} rows differ, ${ties.size} near-ties reported`);
  if (differing.length) t.log(`${name}: rows ${differing.join(',')} took a near-tie neighbour (reported by vqNearTies)`);
  const gathered = new Float32Array(N * E);
  for (let n = 0; n < N; n++) gathered.set(cb.subarray(got[n]! * E, (got[n]! + 1) * E), n * E);
  assertEqualInts(t, await codes!.read(), gathered, { name: `${name} codes` });
  return differing;
}

// [N, V, E]: single row/code/element, sizes off the 16-row / 64-code / 4-element tiles, several
// codebook slices (splits) and the full 64000-code vocabulary with few rows.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [5, 3, 7],
  [37, 130, 33],
  [70, 1000, 64],
  [300, 64, 5],
  [6, 64000, 6],
];

for (const [N, V, E] of SHAPES) {
  test(`vq_lookup N=${N} V=${V} E=${E}`, async (t) => {
    const ctx = await gpu();
    const rng = Rng.fromString(t.title);
    await check(t, ctx, rng.array(N * E), rng.array(V * E), N, V, E, `seed ${rng.seed} ${t.title}`);
  });
}

test('vq_lookup seeded random shapes', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let i = 0; i < 4; i++) {
    const [N, V, E] = [rng.int(1, 90), rng.int(1, 700), rng.int(1, 40)];
    await check(t, ctx, rng.array(N * E, -2, 2), rng.array(V * E, -2, 2), N, V, E, `seed ${rng.seed} N=${N} V=${V} E=${E}`);
  }
});

test('vq_lookup: duplicated codes tie exactly and resolve to the lowest index', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [N, V, E] = [40, 300, 12];
  const cb = rng.array(V * E);
  // Code 200 and 71 copy code 9 and 250 copies 130: the duplicates sit in other lanes and slices.
  cb.copyWithin(200 * E, 9 * E, 10 * E);
  cb.copyWithin(71 * E, 9 * E, 10 * E);
  cb.copyWithin(250 * E, 130 * E, 131 * E);
  const x = new Float32Array(N * E);
  for (let n = 0; n < N; n++) {
    const src = n % 2 ? 9 : 130;
    for (let k = 0; k < E; k++) x[n * E + k] = cb[src * E + k]! + rng.uniform(-0.01, 0.01);
  }
  const got = await vqNearest(ctx.fromArray(x, [N, E]), ctx.fromArray(cb, [V, E])).indices.read();
  t.deepEqual([...got], Array.from({ length: N }, (_, n) => (n % 2 ? 9 : 130)));
});

test('vq_lookup: near-ties are reported by vqNearTies and resolved within tolerance', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [N, V, E] = [24, 50, 16];
  const cb = rng.array(V * E);
  // Each row sits on the bisector of codes a and b, nudged by ~1e-7: the f64 gap is far below
  // what f32 can resolve, so either code is acceptable and the row must be reported.
  const x = new Float32Array(N * E);
  const pairs: [number, number][] = [];
  for (let n = 0; n < N; n++) {
    const a = rng.int(0, V - 1);
    const b = (a + rng.int(1, V - 1)) % V;
    pairs.push([a, b]);
    for (let k = 0; k < E; k++) x[n * E + k] = (cb[a * E + k]! + cb[b * E + k]!) / 2 + rng.uniform(-1e-7, 1e-7);
  }
  const ties = vqNearTies(x, cb, N, V, E);
  // Bisector points can still have a third code closer; count the rows where {a, b} are the top 2.
  const ref = vqNearestRef(x, cb, N, V, E);
  const constructed = pairs.map(([a, b], n) => (ref[n] === a || ref[n] === b ? n : -1)).filter((n) => n >= 0);
  t.true(constructed.length >= 3, `${constructed.length} rows have their pair on top`);
  for (const n of constructed) {
    const tie = ties.find((r) => r.row === n);
    t.truthy(tie, `row ${n} (codes ${pairs[n]}) must be reported`);
    t.deepEqual([tie!.best, tie!.second].sort((p, q) => p - q), [...pairs[n]!].sort((p, q) => p - q));
    t.true(tie!.gap <= tie!.tol);
  }
  await check(t, ctx, x, cb, N, V, E, t.title);
});

test('vq_lookup: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  t.throws(() => vqNearest(ctx.zeros([4, 8]), ctx.zeros([10, 6])), { instanceOf: KernelArgError, message: /^vq_lookup: codebook: shape \[10,6\], expected \[\*,8\]/ });
  t.throws(() => vqNearest(ctx.zeros([4, 8], 'i32'), ctx.zeros([10, 8])), { message: /^vq_lookup: x: dtype i32, expected f32/ });
  t.throws(() => vqNearest(ctx.zeros([2, 4, 8]), ctx.zeros([10, 8])), { message: /^vq_lookup: x: rank 3/ });
  t.throws(() => vqNearest(ctx.zeros([4, 8]), ctx.zeros([0, 8])), { message: /^vq_lookup: codebook: needs at least one code/ });
  t.throws(() => withKnobs({ vqLookup: 'fast' as never }, () => vqNearest(ctx.zeros([4, 8]), ctx.zeros([10, 8]))), { message: /^vq_lookup: knobs.vqLookup: 'fast' is not one of subgroup, tiled/ });
  if (!ctx.hasSubgroups(8)) t.throws(() => withKnobs({ vqLookup: 'subgroup' }, () => vqNearest(ctx.zeros([4, 8]), ctx.zeros([10, 8]))), { message: /^vq_lookup: knobs.vqLookup: 'subgroup' needs the 'subgroups' feature/ });
});
