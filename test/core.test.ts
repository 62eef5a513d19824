import test from 'ava';
import { DeviceError, KernelArgError, KernelCompileError, attention, causalConv3d, copy, foldGrid, groupNorm, matmul, softmax, type ShaderInfo } from '../kernels/index.js';
import { TUNING_TABLE, adapterClass, bucketSize, flashKernel, knobs, tuningFor, withKnobs } from '../kernels/internal.js';
import { createNodeContext } from '../src/node.js';
import { gpu } from './helpers/gpu.js';

test('context: adapter limits and features are the adapter maxima', async (t) => {
  const ctx = await gpu();
  t.true(ctx.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  t.true(ctx.limits.maxComputeInvocationsPerWorkgroup >= 256);
  t.true(ctx.describe().some((l) => l.startsWith('limit maxStorageBufferBindingSize')));
  t.log(ctx.describe().join('\n'));
});

test('tensor: fromArray/read round trip for f32, i32, u32', async (t) => {
  const ctx = await gpu();
  const f = ctx.fromArray([1.5, -2, 3], [3]);
  const i = ctx.fromArray([-7, 0, 2147483647], [3], 'i32');
  const u = ctx.fromArray([0, 4294967295], [2], 'u32');
  t.deepEqual([...(await f.read())], [1.5, -2, 3]);
  t.deepEqual([...(await i.read())], [-7, 0, 2147483647]);
  t.deepEqual([...(await u.read())], [0, 4294967295]);
  t.true((await i.read()) instanceof Int32Array);
  for (const x of [f, i, u]) x.dispose();
});

test('tensor: zeros, write, reshape, size-0', async (t) => {
  const ctx = await gpu();
  const z = ctx.zeros([2, 3]);
  t.deepEqual([...(await z.read())], [0, 0, 0, 0, 0, 0]);
  z.write([1, 2, 3, 4, 5, 6]);
  t.deepEqual([...(await z.reshape([3, 2]).read())], [1, 2, 3, 4, 5, 6]);
  t.throws(() => z.reshape([4, 2]), { instanceOf: KernelArgError });
  t.throws(() => z.write([1]), { message: /expected 6/ });
  const e = ctx.zeros([0, 4]);
  t.is((await e.read()).length, 0);
  z.dispose();
  e.dispose();
});

test('tensor: bad shapes and lengths are named errors', async (t) => {
  const ctx = await gpu();
  t.throws(() => ctx.fromArray([1, 2, 3], [2, 2]), { instanceOf: KernelArgError, message: /fromArray.*3 values.*\[2,2\]/ });
  t.throws(() => ctx.tensor([2, -1]), { instanceOf: KernelArgError });
  t.throws(() => ctx.tensor([1.5]), { instanceOf: KernelArgError });
});

test('tensor: reading a disposed tensor throws naming it', async (t) => {
  const ctx = await gpu();
  const a = ctx.fromArray([1, 2], [2], 'f32', 'weights.x');
  a.dispose();
  a.dispose();
  await t.throwsAsync(() => a.read(), { instanceOf: KernelArgError, message: /weights\.x.*dispose/ });
  t.throws(() => copy(a), { instanceOf: KernelArgError, message: /^copy: src: .*disposed/ });
});

test('pool: buckets, reuse after submit, no growth across iterations', async (t) => {
  const ctx = await createNodeContext(); // own context: pool counters must not see other tests
  t.teardown(() => ctx.destroy());
  t.is(bucketSize(1), 256);
  t.is(bucketSize(1000), 1024);
  t.is(bucketSize((1 << 20) + 1), (1 << 21) / 8 * 5);
  // A bucket past the device's maxBufferSize: the request's own size, so what fits is allocated.
  const MiB = 1 << 20;
  t.is(bucketSize(290 * MiB), 320 * MiB);
  t.is(bucketSize(290 * MiB, 300 * MiB), 290 * MiB);
  t.is(bucketSize(290 * MiB + 1, 300 * MiB), 290 * MiB + 4);
  t.is(bucketSize(200 * MiB, 300 * MiB), 224 * MiB);
  const src = ctx.fromArray(new Float32Array(1000).fill(1), [1000]);
  const a0 = copy(src);
  copy(a0).dispose();
  a0.dispose();
  await ctx.sync();
  const created = ctx.pool.getStats().created;
  for (let i = 0; i < 20; i++) {
    const a = copy(src);
    const b = copy(a);
    a.dispose();
    b.dispose();
    await ctx.sync();
  }
  t.is(ctx.pool.getStats().created, created, 'no new buffers once the pool is warm');
  src.dispose();
});

test('pool: trim(keepBytes) destroys free buffers largest first down to keepBytes', async (t) => {
  const ctx = await createNodeContext(); // own context: pool counters must not see other tests
  t.teardown(() => ctx.destroy());
  const sizes = [1024, 4096, 65536, 4096];
  for (const x of sizes.map((n) => ctx.zeros([n / 4]))) x.dispose();
  await ctx.sync();
  const s0 = ctx.pool.getStats();
  t.is(s0.free, 1024 + 4096 + 65536 + 4096);
  ctx.pool.trim(10000);
  const s1 = ctx.pool.getStats();
  t.is(s1.free, 1024 + 4096 + 4096, 'the 64 KiB buffer went first');
  t.is(s1.allocated, s0.allocated - 65536);
  ctx.pool.trim(5000);
  t.is(ctx.pool.getStats().free, 1024, 'both 4 KiB buffers went, the 1 KiB one stayed');
  const created = ctx.pool.getStats().created;
  ctx.zeros([1024 / 4]).dispose();
  t.is(ctx.pool.getStats().created, created, 'a kept buffer is reused');
  ctx.pool.trim();
  t.is(ctx.pool.getStats().free, 0);
});

test('pool: a buffer released before submit is not overwritten by a later upload', async (t) => {
  const ctx = await gpu();
  const a = ctx.fromArray([1, 2, 3, 4], [4]);
  const b = copy(a); // recorded, not submitted
  a.dispose();
  const c = ctx.fromArray([9, 9, 9, 9], [4]); // must not reuse a's buffer yet
  t.deepEqual([...(await b.read())], [1, 2, 3, 4]);
  b.dispose();
  c.dispose();
});

test('pipeline cache: keyed by overrides, not by shape', async (t) => {
  const ctx = await gpu();
  const before = ctx.stats.pipelines;
  for (const n of [3, 17, 1000]) {
    const x = ctx.fromArray(new Float32Array(n), [n]);
    copy(x).dispose();
    x.dispose();
  }
  await ctx.sync();
  t.true(ctx.stats.pipelines - before <= 1);
});

test.serial('pipeline cache: overrides in another key order find the same pipeline', async (t) => {
  const ctx = await gpu();
  const a = matmul(ctx.fromArray(new Float32Array(6).fill(1), [2, 3]), ctx.fromArray(new Float32Array(12).fill(1), [3, 4]));
  await a.read();
  const spec = ctx.pipelineSpecs().find((p) => p.shader.startsWith('matmul') && Object.keys(p.overrides).length > 1)!;
  const shader = (await import('../kernels/pipelines.js')).shaderById(spec.shader);
  const reversed = Object.fromEntries(Object.entries(spec.overrides).reverse());
  const before = ctx.stats.pipelines;
  t.is(ctx.pipeline(shader, reversed), ctx.pipeline(shader, spec.overrides));
  t.is(ctx.stats.pipelines, before);
});

test.serial('bind groups: re-binding the same ranges reuses one (params at a dynamic offset); new buffers or values give right results', async (t) => {
  const ctx = await gpu();
  const dev = ctx.device;
  let created = 0;
  const orig = dev.createBindGroup.bind(dev);
  dev.createBindGroup = (d: GPUBindGroupDescriptor) => (created++, orig(d));
  t.teardown(() => (dev.createBindGroup = orig));
  const x = ctx.fromArray(Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const w = ctx.fromArray(Float32Array.from([1, 0, 0, 1]), [2, 2]);
  const out = ctx.tensor([2, 2]);
  matmul(x, w, { out });
  const first = created;
  for (let i = 0; i < 5; i++) matmul(x, w, { out, activation: 'relu' });
  t.is(created, first, 'same buffers and ranges: no new bind group, although the params differ per call');
  t.deepEqual(Array.from(await out.read()), [1, 2, 3, 4]);
  // Another weight buffer: its own bind group and its own result.
  const w2 = ctx.fromArray(Float32Array.from([0, 1, 1, 0]), [2, 2]);
  matmul(x, w2, { out });
  t.is(created, first + 1);
  t.deepEqual(Array.from(await out.read()), [2, 1, 4, 3]);
  // Params still per dispatch: the same bindings with a bias give the biased product.
  const bias = ctx.fromArray(Float32Array.from([10, 20]), [2]);
  t.deepEqual(Array.from(await matmul(x, w, { bias }).read()), [11, 22, 13, 24]);
});

test('foldGrid keeps every dimension under the limit', (t) => {
  t.deepEqual(foldGrid(10), [10, 1]);
  const [x, y] = foldGrid(200000);
  t.true(x <= 65535 && x * y >= 200000 && x * (y - 1) < 200000);
});

const FLAT: ShaderInfo = {
  id: 'flat_index_test_kernel',
  entry: 'main',
  code: `struct Params { n: u32, }
@group(0) @binding(0) var<storage, read_write> x: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(1) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wid.x + wid.y * nwg.x;
  if (i < params.n) { x[i] = i; }
}`,
  bindings: [
    { name: 'x', binding: 0, kind: 'storage' },
    { name: 'params', binding: 1, kind: 'uniform' },
  ],
  overrides: [],
  params: { fields: [{ name: 'n', type: 'u32', offset: 0 }], size: 16 },
};

test('dispatch: a grid folded past 65535 workgroups covers every index once', async (t) => {
  const ctx = await gpu();
  const n = 65535 * 2 + 7;
  const x = ctx.zeros([n], 'u32');
  ctx.dispatch(FLAT, { bindings: { x }, params: { n }, workgroups: foldGrid(n) });
  const out = await x.read();
  let bad = 0;
  for (let i = 0; i < n; i++) if (out[i] !== i) bad++;
  t.is(bad, 0);
  t.throws(() => ctx.dispatch(FLAT, { bindings: { x }, params: { n: -1 }, workgroups: [1] }), { message: /params\.n: -1 is not a valid u32/ });
  t.throws(() => ctx.dispatch(FLAT, { bindings: { x }, params: {}, workgroups: [1] }), { message: /params\.n: missing/ });
  t.throws(() => ctx.dispatch(FLAT, { bindings: { x }, params: { n: 1, m: 2 }, workgroups: [1] }), { message: /unknown field 'm'/ });
  x.dispose();
});

test('copy: a tensor larger than one storage binding is copied in chunks', async (t) => {
  const ctx = await gpu();
  const n = ctx.limits.maxStorageBufferBindingSize / 4 + 1000;
  const src = ctx.tensor([n], 'u32');
  ctx.dispatch(FLAT, { bindings: { x: { buffer: src.buffer, offset: 0, size: 4096 } }, params: { n: 1024 }, workgroups: [1024] });
  const tail = new Uint32Array(1000).map((_, i) => i + 7);
  ctx.writeBuffer(src.buffer, (n - 1000) * 4, tail);
  const dst = copy(src);
  const head = new Uint32Array(await ctx.readBuffer(dst.buffer, 0, 4096));
  const end = new Uint32Array(await ctx.readBuffer(dst.buffer, (n - 1000) * 4, 4000));
  t.is(head[1023], 1023);
  t.deepEqual([...end.slice(0, 3)], [7, 8, 9]);
  t.is(end[999], 1006);
  src.dispose();
  dst.dispose();
});

const BROKEN: ShaderInfo = {
  id: 'broken_test_kernel',
  entry: 'main',
  code: '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = undefined_thing; }',
  bindings: [{ name: 'x', binding: 0, kind: 'storage' }],
  overrides: [],
  params: null,
};

test('WGSL compile errors surface with the kernel id', async (t) => {
  const ctx = await createNodeContext();
  const x = ctx.zeros([4]);
  ctx.dispatch(BROKEN, { bindings: { x }, workgroups: [1] });
  const err = await t.throwsAsync(() => ctx.sync());
  t.true(err instanceof KernelCompileError || err instanceof DeviceError, String(err));
  t.regex(String(err?.message), /broken_test_kernel/);
  await ctx.destroy();
});

test('dispatch validation: missing binding, unknown param, bad workgroups', async (t) => {
  const ctx = await gpu();
  const x = ctx.zeros([4]);
  t.throws(() => ctx.dispatch(BROKEN, { bindings: {}, workgroups: [1] }), { message: /broken_test_kernel: x: binding not provided/ });
  t.throws(() => ctx.dispatch(BROKEN, { bindings: { x }, workgroups: [70000] }), { message: /workgroups/ });
  t.throws(() => ctx.dispatch(BROKEN, { bindings: { x, y: x }, workgroups: [1] }), { message: /y: shader has no binding/ });
  x.dispose();
});

test('destroyed context refuses work with a DeviceError', async (t) => {
  const ctx = await createNodeContext();
  const x = ctx.fromArray([1], [1]);
  const gone = ctx.destroy(); // the upload may still run: the device goes once it has
  t.throws(() => copy(x), { instanceOf: DeviceError });
  await t.throwsAsync(() => x.read(), { instanceOf: DeviceError });
  t.is(ctx.destroy(), gone);
  await gone;
});

// Destroying a device while an upload or submit ran crashed lavapipe's queue thread (SIGABRT on a
// freed mutex) in two of three runs of this loop (30 rounds) before destroy() waited for the queue.
test.serial('destroy with queue work in flight: contexts created, used and destroyed side by side', async (t) => {
  const round = async (i: number) => {
    const ctx = await createNodeContext();
    const a = ctx.fromArray(new Float32Array(64 * 64).fill(i), [64, 64]);
    const y = softmax(matmul(a, a));
    if (i % 2) ctx.submit();
    const read = i >= 3 ? y.read().catch((e: unknown) => e) : null;
    await ctx.destroy();
    const got = await read;
    if (got instanceof Float32Array) t.is(got[0], 1 / 64);
    else if (read) t.true(got instanceof DeviceError, String(got));
  };
  for (let r = 0; r < 20; r++) await Promise.all([round(1), round(2), round(3), round(4)]);
  t.pass();
});

test('scope: intermediates go back to the pool, results (and their views) survive', async (t) => {
  const ctx = await createNodeContext(); // own context: pool counters must not see other tests
  t.teardown(() => ctx.destroy());
  const x = ctx.fromArray([1, 2, 3, 4], [4]);
  const run = () =>
    ctx.scope(() => {
      const a = copy(x);
      const b = copy(a);
      const inner = ctx.scope(() => ({ keep: copy(b), drop: undefined }));
      return { y: inner.keep.reshape([2, 2]), n: 1 };
    });
  const { y } = run();
  t.deepEqual([...(await y.read())], [1, 2, 3, 4]);
  y.dispose();
  await ctx.sync();
  const inUse = ctx.pool.getStats().inUse;
  const created = ctx.pool.getStats().created;
  for (let i = 0; i < 5; i++) {
    run().y.dispose();
    await ctx.sync();
  }
  t.is(ctx.pool.getStats().inUse, inUse, 'no tensor leaks out of the scope');
  t.is(ctx.pool.getStats().created, created, 'buffers are reused');
  t.throws(() => ctx.scope(async () => 1), { message: /synchronous/ });
  x.dispose();
});

test('tensor: a reshape view and its original release the buffer once', async (t) => {
  const ctx = await createNodeContext();
  t.teardown(() => ctx.destroy());
  const a = ctx.fromArray([1, 2, 3, 4], [4]);
  const v = a.reshape([2, 2]);
  v.dispose();
  t.true(a.disposed);
  a.dispose();
  t.is(ctx.pool.getStats().inUse, 0);
});

test('pool: GPU-written outputs reuse buffers released in the same submission; uploads do not', async (t) => {
  const ctx = await createNodeContext();
  t.teardown(() => ctx.destroy());
  let x = ctx.fromArray(new Float32Array(1000).fill(3), [1000]);
  const before = ctx.pool.getStats().created;
  for (let i = 0; i < 20; i++) {
    const y = copy(x); // recorded only; nothing is submitted in this loop
    x.dispose();
    x = y;
  }
  t.true(ctx.pool.getStats().created - before <= 2, `a chain of 20 copies created ${ctx.pool.getStats().created - before} buffers`);
  const created = ctx.pool.getStats().created;
  t.true(ctx.pool.getStats().pending > 0);
  // The last copy still reads a pending buffer: an upload into it would run before that copy.
  const up = ctx.fromArray(new Float32Array(1000).fill(9), [1000]);
  t.is(ctx.pool.getStats().created, created + 1, 'the upload got a fresh buffer, not a pending one');
  t.deepEqual([...(await x.read()).slice(0, 3)], [3, 3, 3]);
  t.deepEqual([...(await up.read()).slice(0, 3)], [9, 9, 9]);
  const s = ctx.pool.getStats();
  t.is(s.allocated, s.inUse + s.pending + s.free);
});

test('tuning table: adapter classes, the CPU subgroup variants only where picked, overrides checked and restorable', async (t) => {
  const facts = (description: string, sg = 8) => ({ description, subgroupMinSize: sg, subgroupMaxSize: sg });
  t.is(adapterClass(facts('mesa / software / llvmpipe-llvm-15 / llvmpipe: Mesa 25.0.7')), 'lavapipe');
  t.is(adapterClass(facts('google / swiftshader / SwiftShader Device (Subzero)', 4)), 'swiftshader');
  t.is(adapterClass(facts('nvidia / ampere / NVIDIA H100', 32)), 'gpu', 'no CPU entry without the explicit name check');
  t.false(tuningFor(facts('llvmpipe (SSE only)', 4)).cpuSubgroupVariants, 'the broadcast variants need subgroups of >= 8');
  t.true(tuningFor(facts('nvidia / ampere', 32), 'lavapipe').cpuSubgroupVariants, 'an explicit class picks its entry');
  for (const [cls, e] of Object.entries(TUNING_TABLE)) t.true(e.why.length > 20, `${cls} says why`);
  const ctx = await gpu();
  t.deepEqual(ctx.tuning, tuningFor(ctx.adapterFacts, ctx.adapterClass));
  const prev = ctx.tune({ cpuSubgroupVariants: false });
  t.false(ctx.useCpuSubgroupVariants());
  t.is(flashKernel(ctx, 64), 'tiled');
  ctx.tune(prev);
  t.is(flashKernel(ctx, 64), ctx.useCpuSubgroupVariants() ? 'rows' : 'tiled');
  t.throws(() => ctx.tune({ matmulMinWorkgroups: 0 }), { message: /tune: matmulMinWorkgroups must be an integer >= 1, got 0/ });
  t.throws(() => ctx.tune({ rowWg: 48 }), { message: /tune: rowWg must be a power of two <= 256, got 48/ });
  t.throws(() => ctx.tune({ convTile: { wg: 32, rm: 16 } as never }), { message: /tune: convTile must be a whole tile \{ rm, rn, wg \}/ });
  t.throws(() => ctx.tune({ convTileSg: { wg: 24, rn: 4 } }), { message: /tune: convTileSg.wg must be a power of two <= 256, got 24/ });
  t.throws(() => ctx.tune({ nope: true } as never), { message: /tune: unknown key 'nope'/ });
  t.deepEqual(ctx.tuning, tuningFor(ctx.adapterFacts, ctx.adapterClass), 'refused overrides change nothing');
  t.regex(ctx.describe()[1]!, new RegExp(`^tuning: ${ctx.adapterClass} `));
});

test('tuning table: lavapipe holds the values measured there; SwiftShader and GPUs share its tiles for now', (t) => {
  const tiles = {
    simdRowWg: 8, convTile: { wg: 32, rm: 16, rn: 8 }, convTileSg: { wg: 32, rn: 4 }, matmulMinWorkgroups: 4,
    packedMaxWg: 32, packedMinWorkgroups: 8, vqMinWorkgroups: 16, rowWg: 32, normStatsWg: 64, flashBq: 64,
  };
  t.deepEqual(TUNING_TABLE.lavapipe.tuning, { ...tiles, cpuSubgroupVariants: true, normLaneLen: 1024, wideAttentionUnfused: true, workgroupGemm: false });
  t.deepEqual(TUNING_TABLE.swiftshader.tuning, { ...tiles, cpuSubgroupVariants: false, normLaneLen: 64, wideAttentionUnfused: true, workgroupGemm: false });
  // GPUs: the GEMM through workgroup memory, by design (unmeasured until a GPU session).
  t.deepEqual(TUNING_TABLE.gpu.tuning, { ...tiles, cpuSubgroupVariants: false, normLaneLen: 32, wideAttentionUnfused: false, workgroupGemm: true });
});

// Serial: no other test may create a context while the variable is set.
test.serial('tuning table: VIDEOWORLD_ADAPTER_CLASS picks another entry', async (t) => {
  const env = process.env.VIDEOWORLD_ADAPTER_CLASS;
  process.env.VIDEOWORLD_ADAPTER_CLASS = 'gpu';
  try {
    const ctx = await createNodeContext();
    t.is(ctx.adapterClass, 'gpu');
    t.deepEqual(ctx.tuning, TUNING_TABLE.gpu.tuning);
    t.false(ctx.useCpuSubgroupVariants());
    await ctx.destroy();
  } finally {
    if (env === undefined) delete process.env.VIDEOWORLD_ADAPTER_CLASS;
    else process.env.VIDEOWORLD_ADAPTER_CLASS = env;
  }
});

test('tuning table: kernels take their tiles and widths from ctx.tuning', async (t) => {
  const ctx = await createNodeContext(); // own context: its pipeline list holds only these
  ctx.tune({ cpuSubgroupVariants: false, simdRowWg: 4, convTile: { wg: 16, rm: 8, rn: 4 }, packedMaxWg: 16, rowWg: 64, normStatsWg: 32, flashBq: 32 });
  const last = (shader: string) => ctx.pipelineSpecs().filter((p) => p.shader === shader).at(-1)?.overrides;
  const w = ctx.zeros([8, 4, 1, 3, 3]);
  causalConv3d(ctx.zeros([1, 4, 1, 16, 16]), w);
  t.like(last('conv3d_causal'), { WG: 16, RM: 8, RN: 4 }, 'convTile');
  causalConv3d(ctx.zeros([1, 4, 1, 4, 4]), w);
  t.like(last('conv3d_causal'), { WG: 4, RM: 8, RN: 4 }, 'small frames: one simdRowWg row');
  matmul(ctx.zeros([512, 32]), ctx.zeros([32, 512]));
  t.like(last('matmul_packed'), { WG: 16 }, 'packedMaxWg');
  softmax(ctx.zeros([2, 8]));
  t.like(last('softmax'), { WG: 64 }, 'rowWg');
  groupNorm(ctx.zeros([1, 32, 4, 4]));
  t.like(last('group_norm_stats'), { WG: 32 }, 'normStatsWg');
  const q = ctx.zeros([1, 1, 32, 16]);
  attention(q, q, q);
  t.like(last('attention'), { BQ: 32 }, 'flashBq');
  await ctx.sync();
  await ctx.destroy();
});

// Serial: its matmul compiles pipelines, which the pipeline-cache count above must not see.
test.serial('knobs: withKnobs scopes per-call overrides, restores them, checks them, and refuses async work', async (t) => {
  const ctx = await gpu();
  t.deepEqual(knobs(), {});
  const inner = withKnobs({ maxBindingBytes: 4096 }, () => withKnobs({ attention: 'tiled' }, () => ({ ...knobs() })));
  t.deepEqual(inner, { maxBindingBytes: 4096, attention: 'tiled' }, 'nested scopes merge');
  t.deepEqual(knobs(), {}, 'restored after the scope');
  t.throws(() => withKnobs({ vqLookup: 'tiled' }, () => {
    throw new Error('boom');
  }), { message: 'boom' });
  t.deepEqual(knobs(), {}, 'restored after a throw');
  t.throws(() => withKnobs({ maxBindingBytes: 0 }, () => 1), { message: /withKnobs: maxBindingBytes 0 \(an integer >= 1\)/ });
  t.throws(() => withKnobs({}, async () => 1), { message: /withKnobs: fn returned a promise/ });
  // A knob reaches the kernel: 64-byte bindings make a 4 x 40 plain B unbindable.
  const a = ctx.zeros([3, 4]);
  t.throws(() => withKnobs({ maxBindingBytes: 64 }, () => matmul(a, ctx.zeros([4, 40]))), { instanceOf: KernelArgError, message: /over the 64-byte binding limit/ });
  t.notThrows(() => matmul(a, ctx.zeros([4, 40])).dispose(), 'and leaves it after the scope');
});
