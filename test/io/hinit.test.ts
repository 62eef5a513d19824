import test from 'ava';
import { hinit, hinitSeed } from '../../src/io/hinit.js';
import { loadGolden } from '../helpers/golden.js';

// Block goldens store the weights hinit-v1 produced: regenerating them must be bit-exact.
for (const name of ['causal_conv3d_k3_c3to5_t1', 'ldm_residual_c32', 'internlm_decoder_layer', 'falcon_vqgan_attention_c512']) {
  test(`hinit-v1 reproduces the stored weights of ${name}`, async (t) => {
    const g = await loadGolden(name);
    const manifest = g.metaJson<Record<string, [number, number, number]>>('init_manifest');
    const keys = Object.keys(manifest);
    t.true(keys.length > 0);
    for (const key of keys) {
      const [seed, scale, offset] = manifest[key]!;
      t.is(hinitSeed(g.metadata.case!, key), seed, `seed of ${key}`);
      const stored = g.f32(key);
      const gen = hinit(stored.length, seed, scale, offset);
      let diff = 0;
      for (let i = 0; i < stored.length; i++) if (stored[i] !== gen[i]) diff++;
      t.is(diff, 0, `${key}: ${diff} of ${stored.length} values differ`);
    }
  });
}
