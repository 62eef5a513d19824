// FSQ: fsqQuantize / fsqCodesToIndices (fsq_round), with fsqIndicesToCodes (fsq_codes) where the
// goldens round-trip, against the upstream goldens (indices exact, codes exact, projections within 1e-5) and against the direct
// CPU reference (tanh + round half to even) on awkward level lists, shapes and near-.5 inputs.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { GpuContext } from '../../kernels/index.js';
import { KernelArgError } from '../../kernels/index.js';
import { fsqIndicesToCodes, fsqIndicesToCodesRef } from '../../kernels/fsq_codes.js';
import { fsqCodesToIndices, fsqCodesToIndicesRef, fsqQuantize, fsqQuantizeRef } from '../../kernels/fsq_round.js';
import { FSQ_MANY_ROWS, fsqBound, fsqPlan, roundHalfEven } from '../../kernels/core/fsq_plan.js';
import { withKnobs } from '../../kernels/internal.js';
import { assertClose, assertEqualInts } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';
import { toChannelLast } from '../helpers/layout.js';
import { Rng } from '../helpers/rng.js';

const LEVELS = [8, 8, 8, 5, 5, 5];
const PROJ_TOL = 1e-5;

function linear(ctx: GpuContext, g: { f32(n: string): Float32Array }, name: string, rows: number, cols: number) {
  return { weight: ctx.fromArray(g.f32(`${name}.weight`), [rows, cols]), bias: ctx.fromArray(g.f32(`${name}.bias`), [rows]) };
}

test('fsq constants, round half to even and the f32 bound reproduce upstream bit for bit', async (t) => {
  const g = await loadGolden('fsq_nodim');
  const plan = fsqPlan(LEVELS);
  t.deepEqual(Float32Array.from(plan.halfL), g.f32('aux/half_l'));
  t.deepEqual(Float32Array.from(plan.offset), g.f32('aux/offset'));
  t.deepEqual(Float32Array.from(plan.shift), g.f32('aux/shift'));
  t.deepEqual(Float32Array.from(g.f32('aux/round_in'), roundHalfEven), g.f32('aux/round_out'));
  const z = g.f32('in/z');
  const bounded = z.map((v, i) => fsqBound(v, plan.halfL[i % 6]!, plan.offset[i % 6]!, plan.shift[i % 6]!));
  t.deepEqual(bounded, g.f32('aux/bounded'));
  // Some rows land exactly on .5: the golden exercises the tie rule, not just its neighbourhood.
  t.true(bounded.filter((b) => b - Math.floor(b) === 0.5).length >= 10);
});

test('fsq_nodim golden: indices, codes, codes_from_indices, indices_from_codes exact', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('fsq_nodim');
  const z = g.f32('in/z');
  const ref = fsqQuantizeRef(z, 16, 6, LEVELS);
  assertEqualInts(t, ref.indices, g.i32('out/indices'), { name: 'ref indices' });
  // Both shader paths: thresholds compiled in, and WGSL tanh with the exact decision near .5.
  for (const constThresholds of [true, false]) {
    const { codes, indices } = withKnobs({ fsqConstThresholds: constThresholds }, () => fsqQuantize(ctx.fromArray(z, [2, 8, 6]), { levels: LEVELS }));
    t.deepEqual(indices.shape, [2, 8]);
    assertEqualInts(t, await indices.read(), g.i32('out/indices'), { name: `indices (constThresholds ${constThresholds})`, shape: [2, 8] });
    assertEqualInts(t, await codes.read(), g.f32('out/out'), { name: `codes (constThresholds ${constThresholds})`, shape: [2, 8, 6] });
  }
  const fromIdx = fsqIndicesToCodes(ctx.fromArray(g.i32('in/indices'), [2, 8], 'i32'), { levels: LEVELS });
  t.deepEqual(fromIdx.shape, [2, 8, 6]);
  assertEqualInts(t, await fromIdx.read(), g.f32('out/codes_from_indices'), { name: 'codes_from_indices' });
  const idx2 = fsqCodesToIndices(ctx.fromArray(g.f32('in/codes'), [1, 7, 6]), { levels: LEVELS });
  assertEqualInts(t, await idx2.read(), g.i32('out/indices_from_codes'), { name: 'indices_from_codes' });
  assertEqualInts(t, fsqCodesToIndicesRef(g.f32('in/codes'), 7, LEVELS), g.i32('out/indices_from_codes'), { name: 'ref indices_from_codes' });
});

test('fsq_dim512 golden: fused project_in indices exact, project_out within 1e-5', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('fsq_dim512');
  const pin = linear(ctx, g, 'project_in', 6, 512);
  const pout = linear(ctx, g, 'project_out', 512, 6);
  const { codes, indices } = fsqQuantize(ctx.fromArray(g.f32('in/z'), [2, 16, 512]), { levels: LEVELS, projectIn: pin });
  assertEqualInts(t, await indices.read(), g.i32('out/indices'), { name: 'indices', shape: [2, 16] });
  assertEqualInts(t, await codes.read(), g.f32('aux/codes'), { name: 'codes', shape: [2, 16, 6] });
  // forward's out = project_out(codes), and codes are a function of the indices.
  const fwd = fsqIndicesToCodes(indices, { levels: LEVELS, projectOut: pout });
  assertClose(t, await fwd.read(), g.f32('out/out'), { atol: PROJ_TOL, name: 'out', shape: [2, 16, 512] });
  const ids = ctx.fromArray(g.i32('in/indices'), [2, 16], 'i32');
  assertClose(t, await fsqIndicesToCodes(ids, { levels: LEVELS, projectOut: pout }).read(), g.f32('out/codes_from_indices'), { atol: PROJ_TOL, name: 'codes_from_indices' });
  assertEqualInts(t, await fsqIndicesToCodes(ids, { levels: LEVELS }).read(), g.f32('out/codes_from_indices_noproj'), { name: 'noproj' });
  const idx2 = fsqCodesToIndices(ctx.fromArray(g.f32('in/codes'), [2, 4, 6]), { levels: LEVELS });
  assertEqualInts(t, await idx2.read(), g.i32('out/indices_from_codes'), { name: 'indices_from_codes' });
});

test('fsq_dim256_image golden: NCHW in, [B,H,W] indices, NCHW and token-major codes', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('fsq_dim256_image');
  const pin = linear(ctx, g, 'project_in', 6, 256);
  const pout = linear(ctx, g, 'project_out', 256, 6);
  const { codes, indices } = fsqQuantize(ctx.fromArray(g.f32('in/z'), [1, 256, 4, 4]), { levels: LEVELS, projectIn: pin });
  t.deepEqual(indices.shape, [1, 4, 4]);
  t.deepEqual(codes.shape, [1, 6, 4, 4]);
  assertEqualInts(t, await indices.read(), g.i32('out/indices'), { name: 'indices' });
  assertEqualInts(t, toChannelLast(await codes.read(), 1, 6, 16), g.f32('aux/codes'), { name: 'codes' });
  const fwd = fsqIndicesToCodes(indices, { levels: LEVELS, projectOut: pout });
  t.deepEqual(fwd.shape, [1, 256, 4, 4]);
  assertClose(t, await fwd.read(), g.f32('out/out'), { atol: PROJ_TOL, name: 'out (NCHW)' });
  const img = ctx.fromArray(g.i32('in/indices_img'), [1, 4, 4], 'i32');
  assertClose(t, await fsqIndicesToCodes(img, { levels: LEVELS, projectOut: pout }).read(), g.f32('out/codes_from_indices'), { atol: PROJ_TOL, name: 'codes_from_indices' });
  assertEqualInts(t, await fsqIndicesToCodes(img, { levels: LEVELS }).read(), g.f32('out/codes_from_indices_noproj'), { name: 'noproj [1,6,4,4]' });
  const tok = fsqIndicesToCodes(ctx.fromArray(g.i32('in/indices_tokens'), [1, 16], 'i32'), { levels: LEVELS, projectOut: pout });
  t.deepEqual(tok.shape, [1, 16, 256]);
  assertClose(t, await tok.read(), g.f32('out/codes_from_indices_tokens'), { atol: PROJ_TOL, name: 'tokens' });
});

/** Values at and 1-2 f32 ulps around every threshold of every level, plus random and +-inf. */
function nearThresholdRows(rng: Rng, levels: number[], rows: number): Float32Array {
  const plan = fsqPlan(levels);
  const nl = levels.length;
  const z = new Float32Array(rows * nl);
  const bits = new Int32Array(z.buffer);
  for (let i = 0; i < z.length; i++) {
    const thr = plan.thresholds[i % nl]!;
    const mode = rng.int(0, 4);
    if (mode === 0) z[i] = rng.uniform(-3, 3);
    else if (mode === 4) z[i] = rng.pick([Infinity, -Infinity, 0, -0, 40, -40]);
    else {
      z[i] = thr[rng.int(0, thr.length - 1)]!;
      bits[i]! += rng.int(-2, 2) * (z[i]! < 0 ? -1 : 1);
    }
  }
  return z;
}

async function checkRandom(t: ExecutionContext, ctx: GpuContext, rng: Rng, levels: number[], lead: number[], dim: number, proj: boolean, channelFirst: boolean) {
  const nl = levels.length;
  const rows = lead.reduce((a, b) => a * b, 1);
  const name = `seed ${rng.seed} levels [${levels}] lead [${lead}] dim ${dim} proj ${proj} cf ${channelFirst}`;
  const zr = proj ? rng.array(rows * dim, -2, 2) : nearThresholdRows(rng, levels, rows);
  const w = rng.array(nl * dim, -0.3, 0.3);
  const bias = rng.array(nl, -0.5, 0.5);
  const ref = fsqQuantizeRef(zr, rows, dim, levels, proj ? { weight: w, bias } : undefined);
  // Channel-first inputs are [lead0, dim, ...rest] with the rows in (lead0, rest) order.
  const [B, ...space] = lead;
  const S = rows / B!;
  const z = channelFirst ? ctx.fromArray(toChannelLast(zr, B!, S, dim), [B!, dim, ...space]) : ctx.fromArray(zr, [...lead, dim]);
  const projectIn = proj ? { weight: ctx.fromArray(w, [nl, dim]), bias: ctx.fromArray(bias, [nl]) } : undefined;
  const { codes, indices } = fsqQuantize(z, { levels, projectIn, channelFirst });
  const got = await indices.read();
  const gotCodes = channelFirst ? toChannelLast(await codes.read(), B!, nl, S) : await codes.read();
  // Without a projection the GPU sees the reference's exact u: everything must match. With one,
  // u differs in the last bits, so a row may differ only where the reference sits near a .5 tie.
  const allowed = new Set<number>();
  if (proj) for (let i = 0; i < ref.bounded.length; i++) if (Math.abs(Math.abs(ref.bounded[i]! - Math.trunc(ref.bounded[i]!)) - 0.5) < 1e-4) allowed.add(Math.floor(i / nl));
  let bad = 0;
  for (let r = 0; r < rows; r++) if (got[r] !== ref.indices[r] && !allowed.has(r)) bad++;
  t.is(bad, 0, `${name}: ${bad} index mismatches`);
  const refCodes = Float64Array.from(ref.codes);
  for (const r of allowed) for (let k = 0; k < nl; k++) refCodes[r * nl + k] = gotCodes[r * nl + k]!;
  assertEqualInts(t, gotCodes, refCodes, { name: `${name} codes` });
  // Round trip: the indices decode to the same codes and re-encode to the same indices.
  const back = fsqIndicesToCodes(indices, { levels, channelFirst: false });
  assertEqualInts(t, await back.read(), fsqIndicesToCodesRef(got, levels), { name: `${name} decode` });
  assertEqualInts(t, await fsqCodesToIndices(back, { levels, channelFirst: false }).read(), got, { name: `${name} re-encode` });
}

test('fsq vs reference: many rows, several rows per invocation (the last invocation partly past the end)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  // R = 8 with the projection; without it R = 4, and the decode / re-encode round trip too.
  await checkRandom(t, ctx, rng, LEVELS, [FSQ_MANY_ROWS + 3], 5, true, false);
  await checkRandom(t, ctx, rng, [8, 5, 5, 5], [2, 3, Math.ceil(FSQ_MANY_ROWS / 6)], 4, false, true);
});

test('fsq vs reference: awkward levels and shapes, values on and next to every threshold', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  await checkRandom(t, ctx, rng, [2], [1, 1], 1, false, false);
  await checkRandom(t, ctx, rng, [3, 4], [5, 13], 2, false, false);
  await checkRandom(t, ctx, rng, [7, 5, 3, 2, 9, 4, 6, 8], [3, 67], 8, false, false);
  await checkRandom(t, ctx, rng, LEVELS, [2, 3, 5], 6, false, true);
  await checkRandom(t, ctx, rng, [8, 5, 5, 5], [1, 1, 7], 4, false, true);
  await checkRandom(t, ctx, rng, LEVELS, [1, 97], 37, true, false);
  await checkRandom(t, ctx, rng, [5, 16, 3], [2, 3, 3, 2], 70, true, true);
  // More than 48 thresholds: the tanh path with the exact decision near .5.
  await checkRandom(t, ctx, rng, [40, 9, 3], [3, 50], 3, false, false);
  await checkRandom(t, ctx, rng, [999], [2, 40], 1, false, true);
  await checkRandom(t, ctx, rng, [64, 2], [1, 33], 20, true, false);
  for (let k = 0; k < 4; k++) {
    const levels = Array.from({ length: rng.int(1, 8) }, () => rng.int(2, 9));
    const cf = rng.next() < 0.5;
    const lead = cf ? [rng.int(1, 3), rng.int(1, 9), rng.int(1, 5)] : [rng.int(1, 70)];
    const proj = rng.next() < 0.5;
    await checkRandom(t, ctx, rng, levels, lead, proj ? rng.int(1, 40) : levels.length, proj, cf);
  }
});


test('fsq_round: bad inputs are named errors', async (t) => {
  const ctx = await gpu();
  const z = ctx.zeros([4, 6]);
  t.throws(() => fsqQuantize(z, { levels: [2, 2, 2, 2, 2, 2, 2, 2, 2] }), { instanceOf: KernelArgError, message: /^fsq_round: levels: expected 1\.\.8 levels, got 9/ });
  t.throws(() => fsqQuantize(z, { levels: [8, 1, 8, 5, 5, 5] }), { message: /^fsq_round: levels: every level must be an integer >= 2/ });
  t.throws(() => fsqQuantize(z, { levels: [2001] }), { message: /^fsq_round: levels: level 2001: the eps=0.001 bound rounds to 2003 values/ });
  t.throws(() => fsqQuantize(z, { levels: [256, 256, 256, 2] }), { message: /exceeds 2\^24/ });
  t.throws(() => fsqQuantize(z, { levels: [8, 8, 8, 5, 5] }), { message: /^fsq_round: z: channel dim 6 must equal len\(levels\) = 5/ });
  t.throws(() => fsqQuantize(z, { levels: LEVELS, projectIn: { weight: ctx.zeros([6, 5]) } }), { message: /^fsq_round: projectIn\.weight: shape \[6,5\], expected \[6,6\]/ });
  t.throws(() => fsqQuantize(ctx.zeros([4, 6], 'i32'), { levels: LEVELS }), { message: /^fsq_round: z: dtype i32, expected f32/ });
  t.throws(() => fsqCodesToIndices(ctx.zeros([4, 5]), { levels: LEVELS }), { message: /^fsq_round: codes: channel dim 5 must equal/ });
});
