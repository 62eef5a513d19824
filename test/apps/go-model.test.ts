// loadGoModel's checks of a weights file come from its safetensors header (a go checkpoint is 1.5
// GB and is streamed, never read whole): an old micro format or a micro file named as another
// preset is refused with the reason, before any weight is loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadGoModel } from '../../src/apps/go-model.js';
import { MICRO_WEIGHTS_FORMAT } from '../../src/models/videoworld/presets.js';
import { writeSafetensorsFile } from '../../src/node.js';
import { gpu } from '../helpers/gpu.js';

async function weightsFile(t: { teardown(fn: () => void): void }, metadata: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'go-model-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w.safetensors');
  await writeSafetensorsFile(file, { x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, metadata);
  return file;
}

test('loadGoModel: an old micro weights format is refused with what to run', async (t) => {
  const ctx = await gpu();
  const file = await weightsFile(t, { format: 'videoworld-micro-v1' });
  await t.throwsAsync(loadGoModel(ctx, { weights: [file], warm: false }), { message: /holds micro weights of format videoworld-micro-v1; this version reads .*npm run train:go-micro/ });
});

test('loadGoModel: a micro weights file given as another preset is refused', async (t) => {
  const ctx = await gpu();
  const file = await weightsFile(t, { format: MICRO_WEIGHTS_FORMAT, layout: 'no-ldm' });
  await t.throwsAsync(loadGoModel(ctx, { weights: [file], preset: 'go', warm: false }), { message: /holds the micro model, not preset 'go'/ });
});
