/**
 * `npm run test:browser`: bundles the page, serves it on 127.0.0.1, drives the system Chromium
 * headless over the DevTools protocol (playwright-core; no browser is downloaded), runs every kernel
 * family's check and the tiny-model move in the page, runs the same in Node (Dawn), and prints one
 * table. Exit 1 on any failed check, page error or token mismatch.
 *   CHROMIUM=/path/to/chrome npm run test:browser
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createNodeContext } from '../../src/node.js';
import { buildBrowser } from '../../scripts/build-browser.mjs';
import { serve } from '../../scripts/serve.mjs';
import { variantTarget } from '../helpers/variants.js';
import { type CheckResult, type PageReport, runKernelChecks } from './checks.js';
import { TINY_MOVE, tinyMove } from './tiny-move.js';

const TIMEOUT_MS = 15 * 60_000;
// SwiftShader is the WebGPU adapter of headless Chromium without a GPU; WebGPU on Linux is still behind the flag.
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu'];

function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    console.error(`test:browser: no Chromium found (tried ${candidates.join(', ')}). Install it with: bash scripts/install-chromium.sh`);
    process.exit(1);
  }
  return found;
}

const e2 = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((x, c) => x.padEnd(w[c]!)).join('  ').trimEnd()).join('\n');
}

async function inBrowser(executablePath: string, log: (s: string) => void): Promise<PageReport> {
  const { server, url } = await serve({ port: 0 });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => log(`  [page] ${m.text()}`));
    page.on('pageerror', (e) => errors.push(e.stack ?? e.message));
    await page.goto(`${url}checks.html`);
    const report = await Promise.race([
      page.evaluate(() => (globalThis as unknown as { videoworldChecks: Promise<PageReport> }).videoworldChecks),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the page did not finish within ${TIMEOUT_MS / 60_000} min`)), TIMEOUT_MS).unref()),
    ]);
    if (errors.length) throw new Error(`page errors:\n${errors.join('\n')}`);
    return report;
  } finally {
    await browser.close();
    server.close();
  }
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const executablePath = chromiumPath();
  await buildBrowser();

  // Node first (the machine may have two cores: the runs would slow each other down).
  const ctx = await createNodeContext();
  const nodeChecks = await runKernelChecks(ctx);
  const nodeMove = await tinyMove(ctx);
  const nodeAdapter = ctx.adapterInfo;
  const nodeTarget = variantTarget(ctx);
  await ctx.destroy();
  console.log(`node (${nodeAdapter}): ${nodeChecks.filter((c) => c.pass).length}/${nodeChecks.length} checks pass; tiny move ${(nodeMove.ms.move / 1000).toFixed(1)} s`);

  const version = await chromium.launch({ executablePath, args: CHROMIUM_ARGS }).then(async (b) => [b.version(), await b.close()][0]);
  console.log(`chromium ${version} (${executablePath}) ${CHROMIUM_ARGS.join(' ')}`);
  const r = await inBrowser(executablePath, (s) => console.log(s));

  const byCase = new Map(nodeChecks.map((c) => [`${c.family} ${c.case}`, c]));
  const rows = [['family', 'case', 'browser max abs err', 'node max abs err', 'tolerance', 'browser ms', 'result', 'browser variants', 'node variants']];
  for (const c of r.checks) {
    const n = byCase.get(`${c.family} ${c.case}`);
    const nodeVariants = !n ? '-' : n.variants === c.variants ? '(same)' : n.variants;
    rows.push([c.family, c.case, e2(c.maxAbsErr), n ? e2(n.maxAbsErr) : '-', c.tolerance, c.ms.toFixed(0), c.pass && n?.pass ? 'ok' : 'FAIL', c.variants, nodeVariants]);
  }
  const failed: CheckResult[] = [...r.checks.filter((c) => !c.pass), ...nodeChecks.filter((c) => !c.pass)];
  console.log(`\nbrowser adapter: ${r.adapter}, subgroup size ${r.subgroupMinSize}..${r.subgroupMaxSize}; variants for ${r.variantTarget}`);
  console.log(`node adapter:    ${nodeAdapter}; variants for ${nodeTarget}\n`);
  console.log(table(rows));
  for (const f of failed) console.log(`\nFAIL ${f.family} ${f.case}:\n${f.detail}`);

  let movesEqual = false;
  console.log(`\ntiny model move (stand-in weights, moves ${TINY_MOVE.moves.join(' ')}, seed ${TINY_MOVE.seed}, temperature ${TINY_MOVE.temperature}):`);
  if ('error' in r.tinyMove) {
    console.log(`  browser: FAILED\n${r.tinyMove.error}`);
  } else {
    const b = r.tinyMove;
    movesEqual = b.tokens.join() === nodeMove.tokens.join() && b.boardIndices.join() === nodeMove.boardIndices.join();
    const show = (m: typeof b) => `board tokens ${m.boardIndices.length}, generated ${m.tokens.length}: ${m.tokens.slice(0, 8).join(' ')} ... ${m.tokens.slice(-3).join(' ')}`;
    console.log(`  node    ${show(nodeMove)} (${(nodeMove.ms.move / 1000).toFixed(1)} s)`);
    console.log(`  browser ${show(b)} (${(b.ms.move / 1000).toFixed(1)} s, weights ${(b.ms.load / 1000).toFixed(1)} s)`);
    if (movesEqual) console.log('  board and generated tokens equal');
    else console.log(`  TOKENS DIFFER\n  node    board ${nodeMove.boardIndices.join(' ')} -> ${nodeMove.tokens.join(' ')}\n  browser board ${b.boardIndices.join(' ')} -> ${b.tokens.join(' ')}`);
  }
  const ok = failed.length === 0 && r.checks.length === nodeChecks.length && movesEqual;
  console.log(`\ntest:browser ${ok ? 'passed' : 'FAILED'}: ${r.checks.length} checks in the browser, ${failed.length} failed; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return ok ? 0 : 1;
}

process.exitCode = await main().catch((e) => {
  console.error(`test:browser: ${(e as Error).stack ?? e}`);
  return 1;
});
