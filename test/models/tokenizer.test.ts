import test from 'ava';
import { hinitSource } from '../../src/graph/weights.js';
import { ImageTokenizer, TINY_TOKENIZER } from '../../src/models/videoworld/tokenizer.js';
import { assertClose, assertEqualInts } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';

type Manifest = Record<string, [number, number, number]>;
type WeightsManifest = [string, number[], string, number, number][];

// falcon_tokenizer_small: whole-model golden, weights regenerated with hinit-v1 and checked
// against the manifest sums. Tolerance 5e-4 (the bound for _small models).
test('falcon_tokenizer_small golden: encode (encoder_out, post_encode, indices) and decode (recon)', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('falcon_tokenizer_small');
  const manifest = g.metaJson<Manifest>('init_manifest');
  const wm = g.metaJson<WeightsManifest>('weights_manifest');
  const shapes = Object.fromEntries(wm.map(([k, s]) => [k, s]));
  const src = hinitSource(manifest, shapes, g.metadata.case);
  for (const [k, , , sum] of wm.slice(0, 5)) {
    const w = src.f32(k);
    let s = 0;
    for (const x of w) s += x;
    t.true(Math.abs(s - sum) <= 1e-3 * Math.max(1, Math.abs(sum)), `${k}: sum ${s} vs manifest ${sum}`);
  }
  const tok = new ImageTokenizer(TINY_TOKENIZER);
  const report = tok.load(ctx, src);
  t.deepEqual(report.unexpected, []);
  const image = ctx.fromArray(g.f32('in/image'), g.entry('in/image').shape);
  const enc = tok.encode(image);
  assertClose(t, await enc.encoderOut.read(), g.f32('out/encoder_out'), { atol: 5e-4, name: 'encoder_out' });
  assertClose(t, await enc.postEncode.read(), g.f32('out/post_encode'), { atol: 5e-4, name: 'post_encode' });
  assertEqualInts(t, await enc.indices.read(), g.i32('out/indices'), { name: 'indices' });
  t.deepEqual([...enc.indices.shape], g.entry('out/indices').shape);
  const codes = tok.codes(enc.indices);
  assertClose(t, await codes.read(), g.f32('out/codes_from_indices'), { atol: 5e-4, name: 'codes_from_indices' });
  const recon = tok.decode(g.i32('out/indices'), g.entry('out/indices').shape);
  assertClose(t, await recon.read(), g.f32('out/recon'), { atol: 5e-4, name: 'recon' });
  tok.dispose();
});
