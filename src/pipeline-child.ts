/**
 * The child process of compilePipelinesInChild (src/node.ts): compiles the pipelines given as a
 * JSON PipelineSpec[] in argv[2], in that order, on its own device, so that Mesa's on-disk shader
 * cache holds them when the parent's device reaches them. Prints each one's index as it is done.
 */
import { type PipelineSpec, warmPipelines } from '../kernels/index.js';
import { createNodeContext } from './node.js';

try {
  const specs = JSON.parse(process.argv[2] ?? '[]') as PipelineSpec[];
  const ctx = await createNodeContext();
  // One at a time, each reported: the parent creates its pipeline only once it is in the cache.
  for (const [i, spec] of specs.entries()) {
    warmPipelines(ctx, [spec]);
    await ctx.sync();
    process.stdout.write(`${i}\n`);
  }
  await ctx.destroy();
} catch (e) {
  // One line the parent reports (ChildCompileResult.detail).
  process.stderr.write(`pipeline-child: ${(e as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}
