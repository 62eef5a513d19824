/**
 * Entry of examples/browser/checks.html: runs every kernel family's check and the tiny-model move
 * in the page, shows the results, and leaves them in `window.videoworldChecks` for
 * test/browser/run.ts (which drives the page over the DevTools protocol).
 */
import { createContext } from '../../kernels/index.js';
import { variantTarget } from '../helpers/variants.js';
import { type PageReport, runKernelChecks } from './checks.js';
import { tinyMove } from './tiny-move.js';

declare global {
  interface Window {
    videoworldChecks: Promise<PageReport>;
  }
}

const out = document.getElementById('out')!;
const say = (line: string) => {
  out.textContent += line + '\n';
  console.log(line);
};

async function main(): Promise<PageReport> {
  const ctx = await createContext();
  const info = (ctx.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const subgroupMinSize = info?.subgroupMinSize ?? null;
  say(`adapter: ${ctx.adapterInfo}, subgroup size ${subgroupMinSize}..${info?.subgroupMaxSize}`);
  const checks = await runKernelChecks(ctx, (r) => say(`${r.pass ? 'ok  ' : 'FAIL'} ${r.family} ${r.case}: max abs err ${r.maxAbsErr.toExponential(2)} (${r.ms.toFixed(0)} ms) [${r.variants}]${r.detail ? `\n${r.detail}` : ''}`));
  let move: PageReport['tinyMove'];
  try {
    let last = 0;
    move = await tinyMove(ctx, (what) => {
      if (performance.now() - last > 2000) console.log(`tiny move: ${what}`), (last = performance.now());
    });
    say(`tiny move: tokens ${move.tokens.join(' ')} (load ${move.ms.load.toFixed(0)} ms, move ${move.ms.move.toFixed(0)} ms)`);
  } catch (e) {
    move = { error: String((e as Error).stack ?? e) };
    say(`tiny move failed: ${move.error}`);
  }
  await ctx.destroy();
  return { adapter: ctx.adapterInfo, subgroupMinSize, subgroupMaxSize: info?.subgroupMaxSize ?? null, variantTarget: variantTarget(ctx), userAgent: navigator.userAgent, checks, tinyMove: move };
}

window.videoworldChecks = main();
window.videoworldChecks.then(
  (r) => say(r.checks.every((c) => c.pass) && !('error' in r.tinyMove) ? 'done' : 'done with failures'),
  (e) => say(`failed: ${(e as Error).stack ?? e}`),
);
