/**
 * Fuzzes the .pth and safetensors readers: `npx tsx scripts/fuzz-pth.ts [count=10000] [seed=1]`.
 * Prints statistics; writes failing inputs to $TMPDIR/fuzz-pth-failures/ and exits 1 if any case
 * ended in anything but a PthError/SafetensorsError.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FuzzStats, formatStats, fuzzPth, fuzzSafetensors } from '../test/helpers/fuzz-readers.js';

const count = Number(process.argv[2] ?? 10000);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: tsx scripts/fuzz-pth.ts [count] [seed]');
  process.exit(2);
}
let failed = 0;
for (const [title, run] of [['pth', fuzzPth], ['safetensors', fuzzSafetensors]] as [string, (n: number, s: number) => Promise<FuzzStats>][]) {
  const t0 = performance.now();
  const stats = await run(count, seed);
  console.log(`${formatStats(title, stats)}\n  ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (stats.failures.length) {
    const dir = join(tmpdir(), 'fuzz-pth-failures');
    mkdirSync(dir, { recursive: true });
    for (const f of stats.failures) {
      const path = join(dir, `${title}-${seed}-${f.index}-${f.kind}.bin`);
      writeFileSync(path, f.bytes);
      console.log(`  FAIL case ${f.index} (${f.kind}): ${f.error} -> ${path}`);
    }
    failed += stats.failures.length;
  }
}
process.exit(failed ? 1 : 0);
