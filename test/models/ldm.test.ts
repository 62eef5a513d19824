import test from 'ava';
import { hinitSource, safetensorsSource } from '../../src/graph/weights.js';
import { AdaGN, LdmResidual, LatentDynamicsModel, QFormerSep, TINY_LDM } from '../../src/models/videoworld/ldm.js';
import { assertClose, assertEqualInts } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';

type Manifest = Record<string, [number, number, number]>;
type WeightsManifest = [string, number[], string, number, number][];

// Block goldens: max abs err <= 1e-4 (issue bound for blocks).
for (const [name, cin, cout, frames] of [
  ['ldm_residual_la_c12_f5', 12, 12, 5],
  ['ldm_residual_la_c8to16_f5', 8, 16, 5],
  ['ldm_residual_c32', 32, 32, null],
  ['ldm_residual_c64to32', 64, 32, null],
] as const) {
  test(`${name} golden`, async (t) => {
    const ctx = await gpu();
    const g = await loadGolden(name);
    const m = new LdmResidual('', cin, cout, frames);
    t.deepEqual(m.load(ctx, safetensorsSource(g)).unexpected, []);
    const y = m.forward(ctx.fromArray(g.f32('in/x'), g.entry('in/x').shape));
    assertClose(t, await y.read(), g.f32('out/y'), { atol: 1e-4, shape: g.entry('out/y').shape, name });
  });
}

test('ldm_adagroupnorm_c64_e48 golden', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_adagroupnorm_c64_e48');
  const m = new AdaGN('', 48, 64);
  m.load(ctx, safetensorsSource(g));
  const y = m.forward(ctx.fromArray(g.f32('in/x'), g.entry('in/x').shape), ctx.fromArray(g.f32('in/cond'), g.entry('in/cond').shape));
  assertClose(t, await y.read(), g.f32('out/y'), { atol: 1e-4, name: 'adagroupnorm' });
});

test('ldm_qformer_sep_small golden: two queries, T=3 and T=4', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_qformer_sep_small');
  const m = new QFormerSep('', 64, 2, 2);
  t.deepEqual(m.load(ctx, safetensorsSource(g)).unexpected, []);
  const q = ctx.fromArray(g.f32('in/queries'), g.entry('in/queries').shape);
  for (const T of [3, 4]) {
    const emb = ctx.fromArray(g.f32(`in/emb_t${T}`), g.entry(`in/emb_t${T}`).shape);
    const pe = ctx.fromArray(g.f32(`in/pe_t${T}`), g.entry(`in/pe_t${T}`).shape);
    assertClose(t, await m.forward(emb, pe, q).read(), g.f32(`out/queries_t${T}`), { atol: 1e-4, name: `queries_t${T}` });
  }
});

test('ldm_generator_small golden: encode (features, codes, indices, pre_encode_out) and decode (recon)', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_generator_small');
  const wm = g.metaJson<WeightsManifest>('weights_manifest');
  const src = hinitSource(g.metaJson<Manifest>('init_manifest'), Object.fromEntries(wm.map(([k, s]) => [k, s])), g.metadata.case);
  const ldm = new LatentDynamicsModel(TINY_LDM);
  t.deepEqual(ldm.load(ctx, src).unexpected, []);
  t.is(ldm.paramCount(), wm.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0));
  const enc = ldm.encode(ctx.fromArray(g.f32('in/video'), g.entry('in/video').shape));
  assertClose(t, await enc.preEncodeOut.read(), g.f32('aux/pre_encode_out'), { atol: 5e-4, name: 'pre_encode_out' });
  assertClose(t, await enc.features.read(), g.f32('out/encode_feat'), { atol: 5e-4, name: 'encode_feat' });
  assertEqualInts(t, await enc.indices.read(), g.i32('out/indices'), { name: 'indices' });
  assertClose(t, await enc.codes.read(), g.f32('out/codes'), { atol: 5e-4, name: 'codes' });
  const recon = ldm.decode(enc.codes, enc.preEncodeOut);
  assertClose(t, await recon.read(), g.f32('out/recon'), { atol: 5e-4, shape: g.entry('out/recon').shape, name: 'recon' });
  ldm.dispose();
});
