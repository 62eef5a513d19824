import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { verifyGolden } from '../../src/verify.js';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';

// Every backward golden in ../shared/golden/grad through the same path as `videoworld verify`:
// gradients of every input and parameter within 1e-4 x max|ref64| per tensor; AdamW state 1e-6.
const files = readdirSync(join(GOLDEN_DIR, 'grad')).filter((f) => f.endsWith('.safetensors')).sort();

test('the grad goldens are all there', (t) => {
  t.true(files.length >= 12, `found ${files.length}: ${files.join(', ')}`);
});

for (const f of files) {
  test.serial(`verify grad/${f.replace('.safetensors', '')}`, async (t) => {
    const ctx = await gpu();
    const r = await verifyGolden(ctx, await loadGolden(`grad/${f}`));
    t.log(JSON.stringify({ case: r.case, max_rel_err: r.max_rel_err, tol: r.tolerance, s: r.seconds.toFixed(1) }));
    const bad = r.outputs.filter((o) => !(o.max_rel_err <= r.tolerance));
    t.true(r.pass, `${r.case} failed: ${JSON.stringify(bad)}`);
    t.true(r.outputs.length > 0);
  });
}
