import test from 'ava';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// The browser entries must bundle for a browser with no Node built-ins and no `webgpu` addon.
for (const entry of ['kernels/index.ts', 'src/index.ts']) {
  test(`package: ${entry} bundles for the browser without Node built-ins`, async (t) => {
    const r = await build({ entryPoints: [join(root, entry)], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true });
    const inputs = Object.keys(r.metafile.inputs);
    t.false(inputs.some((i) => i.includes('node_modules/webgpu')), 'the Dawn addon is not bundled');
    const text = r.outputFiles[0]!.text;
    t.notRegex(text, /from\s*["']node:|require\(["'](fs|path|os|child_process)["']\)/);
    t.true(text.length > 10_000);
  });
}
