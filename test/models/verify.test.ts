import test from 'ava';
import { readdirSync } from 'node:fs';
import { verifyGolden } from '../../src/verify.js';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';

// Every golden file in ../shared/golden through the same path as `videoworld verify`: the module
// named in its metadata, built under upstream key names, within issue 8's bounds (blocks 1e-4,
// _small models 5e-4), FSQ indices exact except documented near-ties.
const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors')).sort();

for (const f of files) {
  test.serial(`verify ${f.replace('.safetensors', '')}`, async (t) => {
    const ctx = await gpu();
    const r = await verifyGolden(ctx, await loadGolden(f));
    t.log(JSON.stringify({ case: r.case, max_abs_err: r.max_abs_err, indices_equal: r.indices_equal, near_ties: r.near_tie_mismatches, tol: r.tolerance, s: r.seconds.toFixed(1) }));
    const bad = r.outputs.filter((o) => (o.exact ? o.mismatches : !(o.max_abs_err <= r.tolerance)));
    t.true(r.pass, `${r.case} failed: ${JSON.stringify(bad)}`);
    t.true(r.outputs.length > 0);
  });
}
