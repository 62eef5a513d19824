// Bundles the browser demo (examples/browser/main.ts) and the in-page kernel checks
// (test/browser/page.ts) into examples/browser/dist/ with esbuild. Run `npm run gen` first.
//   node scripts/build-browser.mjs
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildBrowser({ outdir = join(root, 'examples/browser/dist') } = {}) {
  await build({
    entryPoints: { main: join(root, 'examples/browser/main.ts'), checks: join(root, 'test/browser/page.ts') },
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`built ${await buildBrowser()}`);
}
