// compilePipelinesInChild: a child process compiles pipelines into Mesa's on-disk shader cache
// (lavapipe), where the parent's device later finds them; failures are reported, never thrown.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { PipelineSpec } from '../kernels/index.js';
import { childCompileHelps, compilePipelinesInChild, createNodeContext, warmPipelinesWithChild } from '../src/node.js';
import { gpu } from './helpers/gpu.js';

const SPECS: PipelineSpec[] = [
  { shader: 'softmax', overrides: { WG: 32, PER: 1 } },
  { shader: 'row_norm', overrides: { WG: 32, RMS: 1, AFFINE: 1 } },
];

function filesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    n += statSync(p).isDirectory() ? filesUnder(p) : 1;
  }
  return n;
}

test('compilePipelinesInChild: the child compiles every pipeline it is given into the shader cache it is pointed at', async (t) => {
  const ctx = await gpu();
  const cache = mkdtempSync(join(tmpdir(), 'compile-child-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const r = await compilePipelinesInChild(ctx, SPECS, { env: { MESA_SHADER_CACHE_DIR: cache } }).done;
  t.deepEqual(r, { ok: true, pipelines: 2, detail: 'exit 0' });
  if (ctx.adapterClass === 'lavapipe') t.true(filesUnder(cache) > 0, 'Mesa wrote its cache');
});

test('compilePipelinesInChild: a bad manifest or a stop is a result that says why, not an exception', async (t) => {
  const ctx = await gpu();
  const bad = await compilePipelinesInChild(ctx, [{ shader: 'no_such_shader', overrides: {} }]).done;
  t.false(bad.ok);
  t.is(bad.pipelines, 0);
  t.regex(bad.detail, /^exit 1: .*no_such_shader/);
  const child = compilePipelinesInChild(ctx, SPECS);
  child.stop();
  const stopped = await child.done;
  t.false(stopped.ok);
  t.regex(stopped.detail, /SIGTERM/);
});

test.serial('childCompileHelps: only on lavapipe with a second core and Mesa\'s cache on; VIDEOWORLD_COMPILE_CHILD=0 turns it off', async (t) => {
  const ctx = await gpu();
  const saved = { child: process.env.VIDEOWORLD_COMPILE_CHILD, disable: process.env.MESA_SHADER_CACHE_DISABLE };
  t.teardown(() => {
    for (const [k, v] of [['VIDEOWORLD_COMPILE_CHILD', saved.child], ['MESA_SHADER_CACHE_DISABLE', saved.disable]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  delete process.env.MESA_SHADER_CACHE_DISABLE;
  process.env.VIDEOWORLD_COMPILE_CHILD = '1';
  const { availableParallelism } = await import('node:os');
  t.is(childCompileHelps(ctx), ctx.adapterClass === 'lavapipe' && availableParallelism() > 1);
  process.env.MESA_SHADER_CACHE_DISABLE = 'true';
  t.false(childCompileHelps(ctx));
  delete process.env.MESA_SHADER_CACHE_DISABLE;
  process.env.VIDEOWORLD_COMPILE_CHILD = '0';
  t.false(childCompileHelps(ctx));
});

test.serial('warmPipelinesWithChild: every pipeline of the list is created once on the context, with or without the child', async (t) => {
  const saved = process.env.VIDEOWORLD_COMPILE_CHILD;
  t.teardown(() => {
    if (saved === undefined) delete process.env.VIDEOWORLD_COMPILE_CHILD;
    else process.env.VIDEOWORLD_COMPILE_CHILD = saved;
  });
  const specs: PipelineSpec[] = [...SPECS, { shader: 'softmax', overrides: { WG: 64, PER: 1 } }, { shader: 'row_norm', overrides: { WG: 64, RMS: 0, AFFINE: 1 } }];
  for (const flag of ['1', '0']) {
    process.env.VIDEOWORLD_COMPILE_CHILD = flag;
    const c = await createNodeContext();
    const r = await warmPipelinesWithChild(c, specs);
    t.is(r.warmed, specs.length, `VIDEOWORLD_COMPILE_CHILD=${flag}`);
    t.is(c.stats.pipelines, specs.length);
    t.deepEqual(c.pipelineSpecs().map((p) => JSON.stringify(p)).sort(), specs.map((p) => JSON.stringify(p)).sort());
    if (flag === '0' || !childCompileHelps(c)) t.is(r.byChild, 0);
    else t.true(r.byChild >= 0 && r.byChild < specs.length, `the context compiles at least the first: ${r.byChild}`);
    t.is(await warmPipelinesWithChild(c, specs).then((x) => x.warmed), 0, 'all created already');
    await c.destroy();
  }
});
