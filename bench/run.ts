// npm run bench [-- --filter <regex>] [--quick] [--json] [--no-peer-install]
// Runs every bench/*.bench.ts and bench/peers/*.bench.ts case (the ceilings always), prints a
// table, appends one JSON line per result to bench/results/<date>.jsonl and the run's
// machine/adapter/versions to <date>.meta.jsonl.
//
// The peer libraries (TF.js, onnxruntime, gpu.js: ~800 MB) are the package bench/peers, not root
// devDependencies. When a selected case needs them and bench/peers/node_modules is missing or
// older than bench/peers/package-lock.json, this runs `bash scripts/setup.sh --peers` (what
// `npm run bench:peers:install` runs) first; --no-peer-install skips that, and their rows then say
// what to run. A run whose filter selects no peer case installs nothing.
//
// One Dawn instance serves everything: it is installed as navigator.gpu before any case module
// (and so any peer library) loads, and our context is created on it, so WebGPU peers request the
// same adapter. Timestamp quantization is turned off so kernel times are not rounded.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, globals } from 'webgpu';
import { createNodeContext } from '../src/node.js';
import { type BenchCase, type BenchResult, annotate, roleOf, runCase } from './harness.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const fi = args.indexOf('--filter');
const filter = fi >= 0 ? new RegExp(args[fi + 1] ?? '.') : null;
const peerInstall = !args.includes('--no-peer-install');

const DAWN_FLAGS = ['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization'];
Object.assign(globalThis, globals);
const gpu = create(DAWN_FLAGS);
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
const ctx = await createNodeContext({ gpu });

const here = dirname(fileURLToPath(import.meta.url));
const peersDir = join(here, 'peers');
// Sorted by file name across both folders (peers.bench.ts keeps its place between matmul and
// row_norm), so the first case of a kernel/impl/shape is the same one as before the move.
const files = [here, peersDir]
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).map((f) => ({ dir, f })))
  .sort((a, b) => (a.f < b.f ? -1 : a.f > b.f ? 1 : 0));
const cases: BenchCase[] = [];
for (const { dir, f } of files) {
  // Importing a case module loads no peer library: peers/peers.ts imports them when a case is set up.
  const mod = (await import(join(dir, f))) as { cases: BenchCase[] };
  cases.push(...mod.cases);
}
const key = (c: BenchCase) => `${c.kernel} ${c.impl ?? 'ours'} ${c.shape}`;
const seen = new Set<string>();
const selected = cases
  .filter((c) => (!quick || c.quick) && (roleOf(c) === 'ceiling' || !filter || filter.test(key(c))))
  .filter((c) => !seen.has(key(c)) && seen.add(key(c)))
  // Ceilings first, so a filtered run still has them to compare with.
  .sort((a, b) => Number(roleOf(b) === 'ceiling') - Number(roleOf(a) === 'ceiling'));

const log = (s: string) => (json ? process.stderr.write(s + '\n') : console.log(s));

/** bench/peers/node_modules is missing, or older than the lock file (a changed lock reinstalls). */
function peersStale(): boolean {
  const installed = join(peersDir, 'node_modules', '.package-lock.json');
  return !existsSync(installed) || statSync(installed).mtimeMs < statSync(join(peersDir, 'package-lock.json')).mtimeMs;
}
if (selected.some((c) => c.needsPeers) && peersStale()) {
  if (!peerInstall) {
    log('bench: the peer libraries are not installed or older than bench/peers/package-lock.json (--no-peer-install: left so); install them with `npm run bench:peers:install`');
  } else {
    log('bench: the selected cases compare with peer libraries; installing them into bench/peers/node_modules (npm run bench:peers:install)');
    // With --json, stdout carries only the JSON rows: the installer writes to stderr.
    const r = spawnSync('bash', [join(here, '..', 'scripts', 'setup.sh'), '--peers'], { stdio: ['ignore', json ? 2 : 1, 2] });
    if (r.status !== 0) log(`bench: installing the peer libraries failed (${r.error?.message ?? `exit ${r.status}`}); their rows will be unavailable. Retry with \`npm run bench:peers:install\``);
  }
}

function version(pkg: string): string {
  for (const dir of [join(here, '..'), peersDir]) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not in this folder's node_modules
    }
  }
  return 'not installed';
}
const runId = new Date().toISOString();
const meta = {
  run: runId,
  adapter: ctx.adapterInfo,
  features: [...ctx.features],
  dawn_flags: DAWN_FLAGS,
  cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
  memory_gib: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  versions: Object.fromEntries(['webgpu', 'onnxruntime-web', 'onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'gpu.js', 'benchmark'].map((p) => [p, version(p)])),
  quick,
  filter: filter?.source ?? null,
  loadavg_start: loadavg(),
  loadavg_end: [] as number[],
};

const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const day = runId.slice(0, 10);
const outFile = join(outDir, `${day}.jsonl`);
const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '-' : x.toFixed(d));
const cols = (xs: string[], widths: number[]) => xs.map((s, i) => s.padEnd(widths[i]!)).join(' ').trimEnd();

log(`adapter: ${ctx.adapterInfo}; features: ${meta.features.join(', ') || 'none'}; ${meta.cpu}; load average ${meta.loadavg_start.map((x) => x.toFixed(2)).join(' ')}`);
log(`${selected.length} cases${quick ? ' (quick)' : ''}`);
const W1 = [14, 13, 30, 10, 10, 9, 8];
log(cols(['kernel', 'impl', 'shape', 'ms', 'kernel ms', 'GFLOP/s', 'GB/s', 'note'], [...W1, 0]));
const rows: BenchResult[] = [];
try {
  for (const c of selected) {
    const r = { ...(await runCase(ctx, c, { quick })), run: runId };
    rows.push(r);
    const note = r.unavailable ? `unavailable: ${r.unavailable}` : r.error ? `ERROR ${r.error.split('\n')[0]}${r.ms_median !== null ? ' (timed, not compared)' : ''}` : (r.note ?? '');
    log(cols([r.kernel, r.impl, r.shape, fmt(r.ms_median, 3), fmt(r.kernel_ms_median, 3), fmt(r.gflops), fmt(r.gbps), note], [...W1, 0]));
  }
} finally {
  await ctx.destroy();
}
meta.loadavg_end = loadavg();
annotate(rows);
for (const r of rows) appendFileSync(outFile, JSON.stringify(r) + '\n');
appendFileSync(join(outDir, `${day}.meta.jsonl`), JSON.stringify(meta) + '\n');
if (json) for (const r of rows) console.log(JSON.stringify(r));

const ourRows = rows.filter((r) => r.role === 'ours' && r.ms_median !== null);
if (ourRows.length) {
  log('\nours vs peers (ratio = their time / ours: > 1 means ours is faster)');
  const W2 = [14, 30, 9, 16, 10, 9, 9, 10];
  log(cols(['kernel', 'shape', 'GFLOP/s', 'best WebGPU peer', 'vs peer', '% FMA', '% copy', 'vs native'], W2));
  for (const r of ourRows) {
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
    log(cols([r.kernel, r.shape, fmt(r.gflops), r.best_webgpu_peer ?? '-', fmt(r.ratio_vs_best_webgpu_peer), pct(r.fraction_of_fma_peak), pct(r.fraction_of_copy_bw), fmt(r.ratio_vs_native_cpu)], W2));
  }
}
// A peer that fails its check is reported in its row; only our own rows fail the run.
const errors = rows.filter((r) => r.error && (r.role === 'ours' || r.role === 'ceiling'));
log(`wrote ${rows.length} rows to ${outFile}; load average ${meta.loadavg_start[0]!.toFixed(2)} -> ${meta.loadavg_end[0]!.toFixed(2)} on ${cpus().length} cores${errors.length ? `; ${errors.length} ERRORS` : ''}`);
// Peer runtimes (ORT's wasm, TF.js) keep the event loop alive.
process.exit(errors.length ? 1 : 0);
