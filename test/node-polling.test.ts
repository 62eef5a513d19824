// createNodeContext's polling: on a CPU adapter Dawn's completion checks (native setImmediate
// callbacks) are deferred by 1 ms so that they do not spin a core the shaders need.
import test from 'ava';
import { createNodeContext, yieldDawnPolling } from '../src/node.js';

const native = globalThis.setImmediate;
const nativeClear = globalThis.clearImmediate;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.serial('yieldDawnPolling defers native callbacks, runs JavaScript ones as before, and restores on the last release', async (t) => {
  const release = yieldDawnPolling();
  t.not(globalThis.setImmediate, native);
  const order: string[] = [];
  const t0 = performance.now();
  let nativeAt = 0;
  const done = new Promise<void>((resolve) => {
    // A bound function is native code, as Dawn's check is.
    globalThis.setImmediate(function (this: string) {
      nativeAt = performance.now() - t0;
      order.push(this);
      resolve();
    }.bind('native'));
  });
  globalThis.setImmediate(() => order.push('js'));
  await done;
  t.deepEqual(order, ['js', 'native']);
  t.true(nativeAt >= 0.9, `the native callback ran after ${nativeAt.toFixed(2)} ms`);
  // clearImmediate cancels a deferred handle (and a plain one).
  let ran = 0;
  globalThis.clearImmediate(globalThis.setImmediate((() => ran++).bind(null)));
  globalThis.clearImmediate(globalThis.setImmediate(() => ran++));
  await sleep(10);
  t.is(ran, 0);
  const second = yieldDawnPolling();
  release();
  release(); // a second call is a no-op
  t.not(globalThis.setImmediate, native, 'still held by the second caller');
  second();
  t.is(globalThis.setImmediate, native);
  t.is(globalThis.clearImmediate, nativeClear);
});

test.serial('createNodeContext: polling yields on a CPU adapter while the context lives, spin leaves Dawn as is', async (t) => {
  const ctx = await createNodeContext();
  const cpu = /llvmpipe|lavapipe|swiftshader/i.test(ctx.adapterFacts.description);
  t.is(globalThis.setImmediate !== native, cpu, `adapter ${ctx.adapterFacts.description}`);
  // GPU work still completes and reads back through the deferred checks.
  t.deepEqual([...(await ctx.fromArray([1, 2, 3], [3]).read())], [1, 2, 3]);
  await ctx.destroy();
  t.is(globalThis.setImmediate, native);
  const spin = await createNodeContext({ polling: 'spin' });
  t.is(globalThis.setImmediate, native);
  await spin.destroy();
  await t.throwsAsync(createNodeContext({ polling: 'busy' as never }), { instanceOf: RangeError, message: "createNodeContext: polling 'busy' (option or VIDEOWORLD_POLLING): one of yield, spin" });
  process.env.VIDEOWORLD_POLLING = 'spin';
  try {
    const fromEnv = await createNodeContext();
    t.is(globalThis.setImmediate, native, 'VIDEOWORLD_POLLING=spin');
    await fromEnv.destroy();
  } finally {
    delete process.env.VIDEOWORLD_POLLING;
  }
});
