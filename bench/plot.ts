// npx tsx bench/plot.ts [results.jsonl] [--run <iso>] [--svg out.svg] [--markdown]
// From one run of bench/run.ts (default: the newest run in the newest bench/results/*.jsonl):
// an SVG of throughput per implementation for every kernel/shape that has peer rows (GFLOP/s, or
// GB/s for memory-bound kernels; log scale, with the measured ceiling drawn), and with
// --markdown the comparison table that bench/README.md carries.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './harness.js';

type Row = BenchResult & { run?: string };

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');
const file = args.find((a) => a.endsWith('.jsonl')) ?? join(resultsDir, readdirSync(resultsDir).filter((f) => /^\d{4}-\d\d-\d\d\.jsonl$/.test(f)).sort().at(-1)!);
const all = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
const runId = opt('--run') ?? all.at(-1)!.run;
const rows = all.filter((r) => r.run === runId);

const value = (r: Row, unit: 'GFLOP/s' | 'GB/s') => (unit === 'GFLOP/s' ? r.gflops : r.gbps);
const ceilingOf = (impl: string) => rows.find((r) => r.role === 'ceiling' && r.impl === impl);
const groups = [...new Set(rows.filter((r) => r.role !== 'ours' && r.role !== 'ceiling').map((r) => `${r.kernel}\u0000${r.shape}`))]
  .map((k) => {
    const [kernel, shape] = k.split('\u0000') as [string, string];
    const members = rows.filter((r) => r.kernel === kernel && r.shape === shape);
    const unit: 'GFLOP/s' | 'GB/s' = members.some((r) => r.gflops !== null) ? 'GFLOP/s' : 'GB/s';
    return { kernel, shape, unit, members };
  })
  .filter((g) => g.members.some((r) => r.role === 'ours'));

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function svg(): string {
  const barH = 16;
  const left = 250;
  const width = 860;
  const plotW = width - left - 90;
  const lo = 0.01;
  const hi = 1000;
  const x = (v: number) => left + (plotW * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo);
  const colors: Record<string, string> = { ours: '#d62728', 'webgpu-peer': '#1f77b4', 'native-cpu': '#2ca02c', 'cpu-peer': '#7f7f7f' };
  const parts: string[] = [];
  let y = 40;
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(`${g.kernel} ${g.shape}`)} (${g.unit})</text>`);
    y += 20;
    const ceiling = g.unit === 'GFLOP/s' ? ceilingOf('fma-scalar') : ceilingOf('copy-vec4');
    const top = y;
    for (const r of g.members) {
      const v = value(r, g.unit);
      const label = `${r.impl}${r.role === 'ours' && r.impl !== 'ours' ? ' (ours)' : ''}`;
      parts.push(`<text x="${left - 6}" y="${y + barH - 4}" text-anchor="end">${esc(label)}</text>`);
      if (v !== null && r.ms_median !== null) {
        const fill = r.error ? 'none' : (colors[r.role] ?? '#999');
        parts.push(`<rect x="${left}" y="${y}" width="${(x(v) - left).toFixed(1)}" height="${barH - 3}" fill="${fill}" stroke="${colors[r.role] ?? '#999'}"/>`);
        parts.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${y + barH - 4}">${v >= 10 ? v.toFixed(1) : v.toFixed(2)}${r.error ? ' (wrong result)' : ''}</text>`);
      } else {
        const why = r.unavailable ?? (r.error ? `failed: ${r.error.split('\n')[0]}` : 'no figure');
        parts.push(`<text x="${left + 4}" y="${y + barH - 4}" fill="#888" font-style="italic">${esc(why.length > 90 ? why.slice(0, 87) + '...' : why)}</text>`);
      }
      y += barH;
    }
    const cv = ceiling ? value(ceiling, g.unit) : null;
    if (cv) {
      parts.push(`<line x1="${x(cv).toFixed(1)}" x2="${x(cv).toFixed(1)}" y1="${top - 2}" y2="${y}" stroke="#000" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${(x(cv) + 3).toFixed(1)}" y="${top + 8}" font-size="10">${ceiling!.impl} ${cv.toFixed(1)}</text>`);
    }
    y += 14;
  }
  const axis: string[] = [];
  for (let v = lo; v <= hi; v *= 10) {
    axis.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="30" y2="${y}" stroke="#ddd"/>`);
    axis.push(`<text x="${x(v).toFixed(1)}" y="24" text-anchor="middle" font-size="10">${v}</text>`);
  }
  const title = `videoworld-webgpu vs peers, one run ${runId ?? ''} on ${rows[0]?.adapter.split(' / ').slice(2, 3).join('') ?? ''} (log scale)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="14" font-size="13">${esc(title)}</text>`,
    ...axis,
    ...parts,
    '</svg>',
  ].join('\n');
}

function markdown(): string {
  const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '' : x.toFixed(d));
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '' : `${(100 * x).toFixed(1)}%`);
  const out = ['| kernel | shape | impl | op | ms (wall) | ms (kernel) | GFLOP/s | GB/s | vs best WebGPU peer | % FMA peak | % copy BW | vs native CPU | note |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
  const ceilings = rows.filter((r) => r.role === 'ceiling');
  for (const r of [...ceilings, ...groups.flatMap((g) => g.members)]) {
    const note = r.unavailable ? `unavailable: ${r.unavailable}` : r.error ? `WRONG RESULT, not compared: ${r.error.split('\n')[0]}` : (r.note ?? '');
    const vs = r.role === 'ours' && r.best_webgpu_peer ? `${f(r.ratio_vs_best_webgpu_peer)}x (${r.best_webgpu_peer})` : '';
    out.push(
      `| ${r.kernel} | ${r.shape} | ${r.role === 'ours' ? '**ours**' : r.impl} | ${r.op ?? ''} | ${f(r.ms_median, 3)} | ${f(r.kernel_ms_median, 3)} | ${f(r.gflops)} | ${f(r.gbps)} | ${vs} | ${r.role === 'ours' ? pct(r.fraction_of_fma_peak) : ''} | ${r.role === 'ours' ? pct(r.fraction_of_copy_bw) : ''} | ${r.role === 'ours' ? f(r.ratio_vs_native_cpu, 3) : ''} | ${note.replace(/\|/g, '\\|')} |`,
    );
  }
  return out.join('\n');
}

const svgOut = opt('--svg') ?? join(here, 'peers.svg');
writeFileSync(svgOut, svg() + '\n');
console.error(`${file}: run ${runId}, ${rows.length} rows, ${groups.length} kernel/shape groups -> ${svgOut}`);
if (args.includes('--markdown')) console.log(markdown());
