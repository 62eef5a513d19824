import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NoAdapterError, createContext } from '../kernels/index.js';
import { installDriverCommand } from '../src/node.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('kernels/ is browser-safe: no Node built-ins, no process, no imports from src/', (t) => {
  for (const f of tsFiles('kernels')) {
    const src = readFileSync(join(root, f), 'utf8');
    t.notRegex(src, /from ['"](node:|fs|path|os|url|child_process)['"/]/, `${f} imports a Node built-in`);
    t.notRegex(src, /\bprocess\.(env|argv|exit)/, `${f} touches process`);
    t.notRegex(src, /from ['"]\.\.\/(\.\.\/)?src\//, `${f} imports from src/ (layers point src -> kernels)`);
  }
});

// A kernel family is one module with a test file of its own (test/kernels/<stem>.test.ts) and a
// bench file of its own (bench/<stem>.bench.ts); its shader variants (matmul_vec4, attention_rows,
// ...) are covered by those two files. index.ts and internal.ts are the package's two kernel
// entries (re-exports only); wgsl.gen.ts is generated.
const kernelModules = () => readdirSync(join(root, 'kernels')).filter((f) => f.endsWith('.ts') && !['wgsl.gen.ts', 'index.ts', 'internal.ts'].includes(f));
// Families with nothing of their own to time (the reason is the value).
const NO_BENCH: Record<string, string> = { pipelines: 'warmPipelines compiles other families\' pipelines; it dispatches nothing' };
// bench/*.bench.ts files that are not a kernel family's (the reason is the value).
const OTHER_BENCH: Record<string, string> = { ceiling: 'measured FMA and copy ceilings, the rooflines', train_step: 'one training step end to end' };
const stemOf = (f: string) => f.replace(/\.(bench\.)?ts$/, '');
const benchFile = (stem: string) => `bench/${stem}.bench.ts`;
/** The cases bench/<stem>.bench.ts exports (importing a case module sets nothing up), or null without the file. */
async function benchCases(stem: string): Promise<{ kernel: string }[] | null> {
  if (!existsSync(join(root, benchFile(stem)))) return null;
  return ((await import(join(root, benchFile(stem)))) as { cases: { kernel: string }[] }).cases;
}

test('every kernels/<family>.ts has test/kernels/<family>.test.ts', (t) => {
  const modules = kernelModules();
  t.true(modules.length > 20);
  for (const f of modules) t.true(existsSync(join(root, 'test/kernels', f.replace(/\.ts$/, '.test.ts'))), `kernels/${f}: no test/kernels/${f.replace(/\.ts$/, '.test.ts')}`);
});

test('every kernels/<family>.ts has bench/<family>.bench.ts with cases; every bench file is one family', async (t) => {
  const stems = kernelModules().map(stemOf);
  for (const stem of Object.keys(NO_BENCH)) t.true(stems.includes(stem), `NO_BENCH names ${stem}, which is not a kernels/ module`);
  for (const stem of stems.filter((s) => !(s in NO_BENCH))) {
    const cases = await benchCases(stem);
    t.truthy(cases, `kernels/${stem}.ts: no ${benchFile(stem)} (a family's bench cases live in a file of its own)`);
    if (cases) t.true(cases.length > 0, `${benchFile(stem)} exports no cases`);
  }
  // bench/peers/ holds the peer comparisons (a package of its own), linked to our rows by kernel id and shape.
  for (const f of readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts'))) {
    const stem = stemOf(f);
    t.true(stems.includes(stem) || stem in OTHER_BENCH, `bench/${f}: no kernels/${stem}.ts; a bench file holds one kernel family's cases (or add it to OTHER_BENCH with a reason)`);
    t.false(stem in NO_BENCH, `bench/${f}: ${stem} is in NO_BENCH`);
  }
});

test('every wgsl/<id>.wgsl is imported by exactly one kernels/<family>.ts and has a case in bench/<family>.bench.ts', async (t) => {
  const ids = readdirSync(join(root, 'wgsl')).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -5));
  t.true(ids.length > 0);
  const modules = kernelModules().map((f) => ({ stem: stemOf(f), src: readFileSync(join(root, 'kernels', f), 'utf8') }));
  for (const id of ids) {
    const importsShader = new RegExp(`import \\{[^}]*\\b${id}\\b[^}]*\\} from '\\./wgsl\\.gen\\.js'`);
    const owners = modules.filter((m) => importsShader.test(m.src)).map((m) => m.stem);
    t.is(owners.length, 1, `${id}: imported by ${owners.length ? owners.map((s) => `kernels/${s}.ts`).join(', ') : 'no kernels/*.ts module'}; a shader belongs to exactly one family`);
    const stem = owners[0];
    if (owners.length !== 1 || !stem) continue;
    const cases = await benchCases(stem);
    if (!cases) {
      t.fail(`${id}: its family's bench file ${benchFile(stem)} is missing`);
      continue;
    }
    // The case names the shader variant it times, or the family (whose kernel picks the variant).
    t.true(cases.some((c) => c.kernel === id || c.kernel === stem), `${id}: ${benchFile(stem)} has no case with kernel '${id}' or '${stem}'`);
  }
});

// style.md 2.4: a kernel module runs 100-300 lines, a shader stays under 250 (ggml's median ~130);
// a file over budget says why in a comment that starts with "line budget:".
test('line budgets: kernels/*.ts <= 300 lines, wgsl/**/*.wgsl <= 250, or a "line budget:" comment', (t) => {
  const wgsl = (dir: string): string[] => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? wgsl(join(dir, e.name)) : e.name.endsWith('.wgsl') ? [join(dir, e.name)] : []));
  const files: [string, number][] = [...kernelModules().map((f) => [join('kernels', f), 300] as [string, number]), ...wgsl('wgsl').map((f) => [f, 250] as [string, number])];
  for (const [f, budget] of files) {
    const src = readFileSync(join(root, f), 'utf8');
    const lines = src.split('\n').length - (src.endsWith('\n') ? 1 : 0);
    if (lines > budget) t.regex(src, /(\/\/|\*) line budget: \S/, `${f}: ${lines} lines (budget ${budget}) and no "line budget:" comment saying why`);
    else t.pass();
  }
});

// docs/api is generated (npm run docs) and committed; an export it lacks means it is stale.
test('the API reference (docs/api) documents every export of the package entries', async (t) => {
  const entries: [string, string, Record<string, unknown>][] = [
    ['kernels/index.ts', 'docs/api/videoworld-webgpu/kernels.md', await import('../kernels/index.js')],
    ['src/index.ts', 'docs/api/videoworld-webgpu/README.md', await import('../src/index.js')],
    ['src/node.ts', 'docs/api/videoworld-webgpu/node.md', await import('../src/node.js')],
  ];
  for (const [entry, doc, mod] of entries) {
    t.true(existsSync(join(root, doc)), `${doc} is missing: run npm run docs`);
    const md = readFileSync(join(root, doc), 'utf8');
    const headings = new Set([...md.matchAll(/^#{2,4} ([\w\\]+)(?:\(\))?$/gm)].map((m) => m[1]!.replaceAll('\\', '')));
    for (const m of md.matchAll(/\[(\w+)\]\(namespaces\//g)) headings.add(m[1]!);
    const types = [...readFileSync(join(root, entry), 'utf8').matchAll(/^export type \{([^}]*)\}/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).pop()!));
    const names = [...Object.keys(mod), ...types].filter(Boolean);
    t.true(names.length > 20, `${entry}: ${names.length} exports`);
    const missing = names.filter((n) => !headings.has(n));
    t.deepEqual(missing, [], `${doc} lacks ${missing.join(', ')}: run npm run docs`);
  }
});

test('no adapter: NoAdapterError carrying the install command', async (t) => {
  const fakeGpu = { requestAdapter: async () => null } as unknown as GPU;
  const cmd = installDriverCommand();
  t.regex(cmd, /bash .*scripts\/install-webgpu-driver\.sh$/);
  t.true(existsSync(cmd.replace(/^(sudo )?bash /, '')), 'the script the error names exists');
  const err = await t.throwsAsync(() => createContext({ gpu: fakeGpu, noAdapterHint: `Install it with:\n  ${cmd}` }), { instanceOf: NoAdapterError });
  t.true(err!.message.includes(cmd));
  await t.throwsAsync(() => createContext({}), { instanceOf: NoAdapterError, message: /navigator\.gpu is missing/ });
});
