// Winograd F(2x2), F(4x4) and F(6x6) convs (conv_winograd) vs the double reference and vs the direct packed conv:
// odd sizes, batches, chunked tiles, every epilogue, f16 weights, conv2d and causalConv3d entries;
// the output transform's three variants (scalar stores for odd W, pairs, 8-lane subgroups).
import test from 'ava';
import { CausalConv3dStream, PackedConvWeight, causalConv3d, conv2d, conv2dGeometry, convRef } from '../../kernels/index.js';
import { withKnobs } from '../../kernels/internal.js';
import { WINOGRAD_MIN_OUTPUTS, useWinograd, winogradEligible, winogradTile } from '../../kernels/conv_winograd.js';
import { f16Round } from '../../kernels/core/ref_math.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { loadGolden } from '../helpers/golden.js';
import { upsampleNearest2x } from '../../kernels/index.js';
import { Rng } from '../helpers/rng.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
// More f32 roundings per output than the direct sum, amplified by F(4x4)'s and F(6x6)'s larger
// transform entries (kernels/conv_winograd.ts): measured up to 2.4e-7 (F2), 9.3e-6 to 2.0e-5 (F4)
// and 2.8e-5 (F6) x sqrt(9 Cin).
const tol = (cin: number, tile: 2 | 4 | 6 = 2) => ({ atol: { 2: 2e-6, 4: 5e-5, 6: 1e-4 }[tile] * Math.sqrt(9 * cin), rtol: 1e-5 });

// [B, Cin, Cout, H, W], epilogue, chunk bytes (small: several chunks, a partial last one).
const CASES: [[number, number, number, number, number], { bias?: boolean; silu?: boolean; residual?: boolean }, number | undefined][] = [
  [[1, 16, 16, 8, 8], { bias: true }, undefined],
  [[2, 16, 20, 7, 9], { bias: true, silu: true, residual: true }, 16 * 64 * 20 * 4],
  [[1, 24, 16, 1, 1], {}, undefined],
  [[1, 32, 48, 13, 6], { residual: true }, 16 * 64 * 48 * 3],
  // W % 4 == 0: the input transform reads patch rows as vec4s (VEC4).
  [[2, 16, 16, 5, 32], { bias: true, residual: true }, 16 * 64 * 16 * 5],
  // F(6x6)'s vec4 rows: the odd tile at W - 2 (its middle vec4 lies past the row).
  [[1, 16, 20, 7, 8], { bias: true, silu: true, residual: true }, undefined],
  // Cout % 8 == 0, W even: F(6x6)'s output transform by 8-lane subgroups (conv_winograd_out_sg) where
  // the adapter has them, with SiLU, across chunks.
  [[2, 16, 24, 9, 10], { bias: true, silu: true, residual: true }, 16 * 64 * 24 * 3],
];

for (const [[B, cin, cout, H, W], e, chunk] of CASES) {
  for (const [dtype, tile] of [['f32', 2], ['f16', 2], ['f32', 4], ['f16', 4], ['f32', 6], ['f16', 6]] as const) {
    test(`winograd F(${tile}x${tile}) conv2d B ${B} ${cin}->${cout} ${H}x${W} ${JSON.stringify(e)} ${dtype}${chunk ? ' chunked' : ''}`, async (t) => {
      const ctx = await gpu();
      const rng = Rng.fromString(t.title);
      const xs = [B, cin, H, W];
      const ws = [cout, cin, 3, 3];
      const x = rng.array(numel(xs));
      const w = rng.array(numel(ws));
      const bias = e.bias ? rng.array(cout) : undefined;
      const res = e.residual ? rng.array(B * cout * H * W) : undefined;
      const g = conv2dGeometry(xs, ws);
      t.true(winogradEligible(g, 0));
      const pw = PackedConvWeight.pack(ctx.fromArray(w, ws), { dtype });
      const o = { bias: bias && ctx.fromArray(bias, [cout]), residual: res && ctx.fromArray(res, [B, cout, H, W]), activation: e.silu ? ('silu' as const) : undefined };
      const xt = ctx.fromArray(x, xs);
      const wino = await withKnobs({ convWinograd: true, winogradChunkBytes: chunk, winogradTile: tile }, () => conv2d(xt, pw, o)).read();
      const direct = await withKnobs({ convWinograd: false }, () => conv2d(xt, pw, o)).read();
      const ref = convRef(x, dtype === 'f16' ? w.map(f16Round) : w, g, { bias, residual: res, activation: e.silu ? 'silu' : 'none' });
      // f16 weights: U is transformed from the rounded g in f32, so the reference is the f16 weight's conv.
      const tl = tol(cin, tile);
      assertClose(t, wino, ref, { ...tl, shape: [B, cout, H, W], name: 'winograd vs reference' });
      assertClose(t, wino, direct, { ...tl, shape: [B, cout, H, W], name: 'winograd vs direct' });
      pw.dispose();
    });
  }
}

test('winograd: eligibility, the per-frame size rule and the binding limit; causalConv3d with KT 1 over several frames', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const L = ctx.limits;
  const g = (h: number, w: number, o: Partial<ReturnType<typeof conv2dGeometry>> = {}) => ({ ...conv2dGeometry([1, 32, h, w], [32, 32, 3, 3]), ...o });
  t.false(winogradEligible(g(64, 64, { sh: 2 }), 0), 'stride 2');
  t.false(winogradEligible(g(64, 64, { kh: 1, kw: 1 }), 0), '1x1');
  t.false(winogradEligible(g(64, 64, { cin: 3 }), 0), 'few input channels');
  t.false(winogradEligible(g(64, 64, { kt: 3 }), 0), 'a time kernel');
  t.false(winogradEligible(g(64, 64), 1), 'streamed past frames');
  t.false(winogradEligible(g(64, 64, { pt: 0 }), 0), 'padding other than 1');
  t.true(winogradEligible(g(64, 64, { t: 5 }), 0), 'several frames');
  t.true(useWinograd(g(64, 64), 0, L) === 64 * 64 >= WINOGRAD_MIN_OUTPUTS);
  t.is(useWinograd(g(16, 16), 0, L), 16 * 16 >= WINOGRAD_MIN_OUTPUTS);
  t.false(useWinograd(g(8, 8, { b: 64, t: 8 }), 0, L), 'per frame: a batch of small frames stays direct');
  t.true(withKnobs({ convWinograd: true }, () => useWinograd(g(8, 8), 0, L)));
  t.false(withKnobs({ convWinograd: false }, () => useWinograd(g(256, 256), 0, L)));
  // F(6x6) tiles from 64 x 64 outputs a frame (per frame, like the Winograd rule), F(4x4) below.
  t.is(winogradTile(g(64, 64)), 6);
  t.is(winogradTile(g(63, 65)), 4, '4095 outputs');
  t.is(winogradTile(g(32, 32, { b: 8, t: 4 })), 4, 'per frame');
  t.is(winogradTile(g(256, 256)), 6);
  t.is(withKnobs({ winogradTile: 2 }, () => winogradTile(g(256, 256))), 2);
  // U (36 x 32 x 32 f32 = 147 KiB here) over the binding limit: the direct kernel, even when forced.
  t.false(withKnobs({ convWinograd: true, maxBindingBytes: 65536 }, () => useWinograd(g(64, 64), 0, L)));
  const big = PackedConvWeight.pack(ctx.fromArray(rng.array(32 * 32 * 9), [32, 32, 3, 3]));
  const xb = ctx.fromArray(rng.array(32 * 9 * 9), [1, 32, 9, 9]);
  const viaDirect = await withKnobs({ convWinograd: false }, () => conv2d(xb, big)).read();
  t.deepEqual(await withKnobs({ convWinograd: true, maxBindingBytes: 65536 }, () => conv2d(xb, big)).read(), viaDirect, 'falls back instead of failing');
  big.dispose();
  // causalConv3d [B, C, T, H, W] with a [Cout, Cin, 1, 3, 3] weight: frames are images.
  const shape = [2, 32, 3, 6, 10];
  const x = rng.array(2 * 32 * 3 * 6 * 10);
  const w = rng.array(16 * 32 * 9);
  const pw = PackedConvWeight.pack(ctx.fromArray(w, [16, 32, 1, 3, 3]));
  const xt = ctx.fromArray(x, shape);
  const direct = await withKnobs({ convWinograd: false }, () => causalConv3d(xt, pw)).read();
  for (const tile of [2, 4, 6] as const) {
    const wino = await withKnobs({ convWinograd: true, winogradTile: tile, winogradChunkBytes: 36 * 32 * 4 * 8 }, () => causalConv3d(xt, pw)).read();
    assertClose(t, wino, direct, { ...tol(32, tile), shape: [2, 16, 3, 6, 10], name: `causalConv3d KT 1, T 3, F(${tile}x${tile})` });
  }
  pw.dispose();
});

test('winograd: CausalConv3dStream frame by frame equals the whole clip bit for bit (both at the Winograd size)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const [C, T, H, W] = [16, 3, 32, 32];
  const w = ctx.fromArray(rng.array(C * C * 9), [C, C, 1, 3, 3]);
  const x = rng.array(C * T * H * W);
  const whole = await causalConv3d(ctx.fromArray(x, [1, C, T, H, W]), PackedConvWeight.pack(w)).read();
  const stream = new CausalConv3dStream(w);
  for (let f = 0; f < T; f++) {
    const frame = new Float32Array(C * H * W);
    for (let c = 0; c < C; c++) frame.set(x.subarray((c * T + f) * H * W, (c * T + f + 1) * H * W), c * H * W);
    const y = await stream.push(ctx.fromArray(frame, [1, C, 1, H, W])).read();
    for (let c = 0; c < C; c++) t.deepEqual(y.subarray(c * H * W, (c + 1) * H * W), whole.subarray((c * T + f) * H * W, (c * T + f + 1) * H * W), `frame ${f} channel ${c}`);
  }
  stream.dispose();
});

// The upstream golden (nearest 2x, conv 3x3 pad 1, 32 channels) through the Winograd path: the 1e-4.
test('golden falcon_vqgan_upsample_c32 through Winograd F(2x2) and F(4x4) (f32 and f16 weights)', async (t) => {
  const ctx = await gpu();
  const f = await loadGolden('falcon_vqgan_upsample_c32');
  const g = (n: string) => ctx.fromArray(f.f32(n), f.entry(n).shape);
  const ref = f.f32('out/y');
  const maxAbs = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (const dtype of ['f32', 'f16'] as const) {
    const pw = PackedConvWeight.pack(g('_conv.weight'), { dtype });
    const x = upsampleNearest2x(g('in/x'));
    for (const tile of [2, 4, 6] as const) {
      const y = withKnobs({ convWinograd: true, winogradTile: tile }, () => conv2d(x, pw, { bias: g('_conv.bias') }));
      // f16: verify --dtype f16's verdict, max abs error <= 5e-3 of the largest reference value.
      assertClose(t, await y.read(), ref, { atol: dtype === 'f32' ? 1e-4 : 5e-3 * maxAbs, shape: y.shape, name: `winograd F(${tile}x${tile}) ${dtype}` });
    }
    pw.dispose();
  }
});
