// warmPipelines / GpuContext.warmPipeline: a warmed pipeline is the one a dispatch then uses (no
// second compile), bad manifests are named errors before anything compiles.
import test from 'ava';
import { KernelArgError, warmPipelines } from '../../kernels/index.js';
import { shaderById } from '../../kernels/pipelines.js';
import { softmax } from '../../kernels/softmax.js';
import { createNodeContext } from '../../src/node.js';
import { gpu } from '../helpers/gpu.js';

test('warmPipelines: the warmed pipeline serves the later dispatch, which gives the same result', async (t) => {
  const ctx = await gpu();
  const x = ctx.fromArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  const want = await softmax(x).read();
  // A fresh context: its first softmax must find the pipeline already created.
  const c = await createNodeContext();
  t.teardown(() => c.destroy());
  const specs = ctx.pipelineSpecs().filter((p) => p.shader === 'softmax');
  t.true(specs.length >= 1);
  const before = c.stats.pipelines;
  const warmed = warmPipelines(c, specs);
  t.is(c.stats.pipelines - before, warmed);
  t.is(warmPipelines(c, specs), 0, 'already created: skipped');
  const y = await softmax(c.fromArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3])).read();
  t.is(c.stats.pipelines - before, warmed, 'no new pipeline for the dispatch');
  t.deepEqual(y, want);
  await c.sync();
});

test('warmPipelines: unknown shaders and overrides are named before anything compiles', async (t) => {
  const ctx = await gpu();
  const before = ctx.stats.pipelines;
  t.throws(() => warmPipelines(ctx, [{ shader: 'softmax', overrides: { WG: 64 } }, { shader: 'no_such_shader', overrides: {} }]), { instanceOf: KernelArgError, message: /^warmPipelines: specs\[1\]\.shader: 'no_such_shader' is not a shader of this library/ });
  t.throws(() => warmPipelines(ctx, [{ shader: 'softmax', overrides: { TILE: 4 } }]), { instanceOf: KernelArgError, message: /^warmPipelines: specs\[0\]\.overrides: softmax has no override TILE/ });
  t.throws(() => warmPipelines(ctx, [{ shader: 'SHADER_IDS', overrides: {} }]), { instanceOf: KernelArgError, message: /is not a shader of this library/ });
  t.is(ctx.stats.pipelines, before);
});

test('warmPipeline skips a shader whose enable the device lacks (no compile error later)', async (t) => {
  const c = await createNodeContext({ disableFeatures: ['subgroups', 'shader-f16'] });
  t.teardown(() => c.destroy());
  t.false(c.warmPipeline(shaderById('matmul_packed_sg'), { WG: 32, ACT: 0, PLAIN_B: 0 }));
  t.is(c.stats.pipelines, 0);
  t.true(c.warmPipeline(shaderById('softmax'), { WG: 32 }));
  await c.sync();
});
