// The smallest end-to-end use of the tensor core: a device, two tensors, one kernel, a read back.
//   npm run example        (or: npx tsx examples/hello-kernel.ts)
import { add, mul } from '../kernels/index.js';
import { createNodeContext } from '../src/node.js';

const ctx = await createNodeContext({ log: (line) => console.log(`  ${line}`) });
try {
  const a = ctx.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
  const bias = ctx.fromArray([10, 20, 30], [3]); // broadcast over the last dim
  const scale = ctx.fromArray([0.5], [1]); // scalar
  const y = mul(add(a, bias), scale); // both dispatches go into one command buffer
  console.log('add(a, bias) * 0.5 =', Array.from(await y.read())); // read() submits and waits
  console.log(`dispatches: ${ctx.stats.dispatches}, submits: ${ctx.stats.submits}, pool:`, ctx.pool.getStats());
} finally {
  await ctx.destroy(); // lets Node exit
}
