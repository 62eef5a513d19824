// npm run bench [-- --filter <regex>] [--quick] [--json]
// Runs every bench/*.bench.ts case, prints a table, appends JSON lines to bench/results/<date>.jsonl.
import { appendFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeContext } from '../src/node.js';
import { type BenchCase, type BenchResult, runCase } from './harness.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const fi = args.indexOf('--filter');
const filter = fi >= 0 ? new RegExp(args[fi + 1] ?? '.') : null;

const here = dirname(fileURLToPath(import.meta.url));
const cases: BenchCase[] = [];
for (const f of readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()) {
  const mod = (await import(join(here, f))) as { cases: BenchCase[] };
  cases.push(...mod.cases);
}
const selected = cases.filter((c) => (!quick || c.quick) && (!filter || filter.test(`${c.kernel} ${c.impl ?? 'ours'} ${c.shape}`)));

const ctx = await createNodeContext();
const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, `${new Date().toISOString().slice(0, 10)}.jsonl`);
const log = (s: string) => (json ? process.stderr.write(s + '\n') : console.log(s));
log(`adapter: ${ctx.adapterInfo}; ${selected.length} cases${quick ? ' (quick)' : ''}`);
log(['kernel', 'impl', 'shape', 'ms', 'GFLOP/s', 'GB/s'].map((h, i) => h.padEnd([14, 12, 34, 10, 9, 8][i]!)).join(''));
const rows: BenchResult[] = [];
try {
  for (const c of selected) {
    const r = await runCase(ctx, c, { quick });
    rows.push(r);
    const line = JSON.stringify(r);
    appendFileSync(outFile, line + '\n');
    if (json) console.log(line);
    else log([r.kernel, r.impl, r.shape, r.ms_median.toFixed(3), r.gflops?.toFixed(2) ?? '-', r.gbps?.toFixed(2) ?? '-'].map((s, i) => s.padEnd([14, 12, 34, 10, 9, 8][i]!)).join(''));
  }
} finally {
  ctx.destroy();
}
log(`wrote ${rows.length} rows to ${outFile}`);
