import test from 'ava';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// The packed tarball as a user gets it: installed offline (from the npm cache `npm ci` filled) into a
// fresh project, its Node snippet run, its types compiled by TS 7 and 5.9 under strict settings.
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

/** A package-lock for `deps` copied from this project's lock (versions and integrity), so `npm ci --offline` finds every tarball in the cache. */
function consumerLock(deps: Record<string, string>, tarball: { path: string; manifest: Record<string, unknown> }) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages as Record<string, Record<string, unknown>>;
  const packages: Record<string, Record<string, unknown>> = { '': { name: 'consumer', version: '1.0.0', dependencies: deps } };
  const m = tarball.manifest;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball.path)).digest('base64')}`;
  packages['node_modules/videoworld-webgpu'] = { version: m.version, resolved: `file:${tarball.path}`, integrity, dependencies: m.dependencies, peerDependencies: m.peerDependencies, peerDependenciesMeta: m.peerDependenciesMeta, bin: m.bin };
  const todo = Object.keys(deps).filter((d) => d !== 'videoworld-webgpu').concat(Object.keys((m.dependencies ?? {}) as object));
  while (todo.length) {
    const name = todo.pop()!;
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock[key] ?? {};
    if (!entry.version) throw new Error(`${name} is not in package-lock.json`);
    packages[key] = { ...entry, resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz` };
    todo.push(...Object.keys((entry.dependencies ?? {}) as object));
  }
  return { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

const CONSUMER_TS = `import { createNodeContext } from 'videoworld-webgpu/node';
import { type GpuContext, type Tensor, add, createContext, matmul } from 'videoworld-webgpu/kernels';
import { GoGame, PRESETS, VideoWorldGo, randomWeights } from 'videoworld-webgpu';

export async function inNode(): Promise<number[]> {
  const ctx: GpuContext = await createNodeContext();
  const y: Tensor<'f32'> = add(ctx.fromArray([1, 2, 3], [3]), ctx.fromArray([10], [1]));
  const out: Float32Array = await y.read();
  await ctx.destroy();
  return [...out];
}

export async function inBrowser(device?: GPUDevice): Promise<Float32Array> {
  const ctx = await createContext(device ? { device } : {});
  const model = new VideoWorldGo(PRESETS.tiny);
  await model.load(ctx, randomWeights(model));
  return matmul(ctx.fromArray([1, 2, 3, 4], [2, 2]), ctx.fromArray([1, 0, 0, GoGame.name.length], [2, 2])).read();
}
`;

const SNIPPET = `import { createNodeContext } from 'videoworld-webgpu/node';
import { add } from 'videoworld-webgpu/kernels';
import { GoGame, PRESETS } from 'videoworld-webgpu';
const ctx = await createNodeContext();
const y = add(ctx.fromArray([1, 2, 3], [3]), ctx.fromArray([10], [1]));
console.log(JSON.stringify({ y: [...(await y.read())], preset: PRESETS.tiny.name, toPlay: new GoGame().toPlay }));
await ctx.destroy();
`;

test('package: the packed tarball installs offline, runs, and its types compile (TS 7 and 5.9, strict, with and without DOM)', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'videoworld-pack-'));
  try {
    // Stage what `npm pack` would see after `npm run build`, without touching the checkout's dist/.
    const stage = join(tmp, 'stage');
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    let r = run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], root);
    t.is(r.status, 0, r.stdout + r.stderr);
    mkdirSync(join(stage, 'scripts'));
    for (const f of ['package.json', 'README.md', 'scripts/install-webgpu-driver.sh']) cpSync(join(root, f), join(stage, f));
    if (existsSync(join(root, 'weights'))) cpSync(join(root, 'weights'), join(stage, 'weights'), { recursive: true });
    r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], stage);
    t.is(r.status, 0, r.stderr);
    const packed = JSON.parse(r.stdout)[0] as { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
    const files = packed.files.map((f) => f.path);
    t.log(`${packed.filename}: ${(packed.size / 1e3).toFixed(0)} kB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${files.length} files`);
    t.deepEqual(files.filter((f) => !/^dist\/(kernels|src)\/.*\.(js|d\.ts)$/.test(f)).sort(), ['README.md', 'package.json', 'scripts/install-webgpu-driver.sh', ...files.filter((f) => f.startsWith('weights/'))].sort());
    const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'));
    for (const e of Object.values(manifest.exports as Record<string, Record<string, string>>)) for (const f of Object.values(e)) t.true(files.includes(f.slice(2)), `export ${f} is packed`);
    t.true(files.includes(manifest.bin.videoworld.slice(2)));

    // A fresh project: the tarball and webgpu from the npm cache, no network.
    const app = join(tmp, 'app');
    mkdirSync(app);
    const tarball = join(tmp, packed.filename);
    const deps = { 'videoworld-webgpu': `file:${tarball}`, webgpu: manifest.devDependencies.webgpu.replace(/^\^/, ''), '@types/node': manifest.devDependencies['@types/node'].replace(/^\^/, '') };
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: deps }));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(consumerLock(deps, { path: tarball, manifest })));
    r = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
    t.is(r.status, 0, r.stderr);

    writeFileSync(join(app, 'snippet.mjs'), SNIPPET);
    r = run(process.execPath, ['snippet.mjs'], app);
    t.is(r.status, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { y: [11, 12, 13], preset: 'tiny', toPlay: 'b' });

    const cli = join(app, 'node_modules/.bin/videoworld');
    r = run(cli, ['--help'], app);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^videoworld: /);
    // Without the optional `webgpu` package: one clean line, exit 1.
    renameSync(join(app, 'node_modules/webgpu'), join(tmp, 'webgpu-away'));
    r = run(cli, ['move', '--preset', 'tiny'], app);
    renameSync(join(tmp, 'webgpu-away'), join(app, 'node_modules/webgpu'));
    t.is(r.status, 1);
    t.regex(r.stderr, /^videoworld: Cannot load the npm package 'webgpu' \(Dawn for Node\): .* Run: npm install webgpu\n$/);

    // Types: strict, no skipLibCheck. Without @webgpu/types the package's own declarations of the
    // WebGPU names merge with the DOM lib's (TS 7) or stand alone. TS 5.9 comes from the npm cache
    // when there, else the registry.
    const ts59 = join(tmp, 'ts59');
    mkdirSync(ts59);
    writeFileSync(join(ts59, 'package.json'), '{"name":"ts59","version":"1.0.0","private":true}');
    r = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', 'typescript@5.9.3'], ts59);
    t.is(r.status, 0, r.stderr);
    writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
    const configs: Record<string, { lib: string[]; types: string[]; skipLibCheck: boolean }> = {
      'DOM lib': { lib: ['ES2023', 'DOM'], types: ['node'], skipLibCheck: false },
      'no DOM lib': { lib: ['ES2023'], types: ['node'], skipLibCheck: false },
      'no DOM lib, @webgpu/types, skipLibCheck': { lib: ['ES2023'], types: ['node', '@webgpu/types'], skipLibCheck: true },
    };
    const compilers = { 'TS 7': tsc, 'TS 5.9': join(ts59, 'node_modules/typescript/bin/tsc') };
    for (const [name, c] of Object.entries(configs)) {
      const file = `tsconfig.${name.replace(/\W+/g, '-')}.json`;
      const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noEmit: true, ...c };
      writeFileSync(join(app, file), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      for (const [tsName, bin] of Object.entries(compilers)) {
        r = run(process.execPath, [bin, '-p', file], app);
        t.is(r.status, 0, `${tsName}, ${name}:\n${r.stdout}${r.stderr}`);
      }
    }
    // TS 5.9 with the DOM lib and @webgpu/types: the full WebGPU typings (TS 7's DOM lib has its own).
    writeFileSync(join(app, 'tsconfig.webgpu-types.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', strict: true, noEmit: true, lib: ['ES2023', 'DOM'], types: ['node', '@webgpu/types'] }, files: ['consumer.ts'] }));
    r = run(process.execPath, [compilers['TS 5.9'], '-p', 'tsconfig.webgpu-types.json'], app);
    t.is(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
