// The recorded go pipeline manifests (src/apps/go-pipelines.ts) name shaders of this library and
// their own overrides, so warming them cannot fail on a stale entry.
import test from 'ava';
import { shaderById } from '../../kernels/pipelines.js';
import { GO_PIPELINES } from '../../src/apps/go-pipelines.js';

test('recorded go pipeline manifests: every entry is a shader of this library with its own overrides', (t) => {
  t.true(Object.keys(GO_PIPELINES).length >= 1);
  for (const [key, specs] of Object.entries(GO_PIPELINES)) {
    t.true(specs.length > 0, key);
    for (const s of specs) {
      const shader = shaderById(s.shader);
      for (const k of Object.keys(s.overrides)) t.true(shader.overrides.some((o) => o.name === k), `${key}: ${s.shader} override ${k}`);
    }
  }
});
