import test from 'ava';
import type { GpuContext } from '../../kernels/index.js';
import { createNodeContext } from '../../src/node.js';
import { type VariantLog, recordVariants, variantTarget } from './variants.js';

let shared: Promise<{ ctx: GpuContext; variants: VariantLog }> | null = null;

/**
 * One GpuContext per test process (each ava test file runs in its own process), destroyed after
 * the file's last test. No adapter is a
 * failure, never a skip: the error carries the command that installs lavapipe.
 */
export function gpu(): Promise<GpuContext> {
  if (!shared) shared = createNodeContext().then((ctx) => ({ ctx, variants: recordVariants(ctx) }));
  return shared.then((s) => s.ctx);
}

// Registered once by importing this helper, so every file that uses gpu() ends with the line that
// names the variants it ran (issue #18); a file must import it statically (hooks are declared
// before the tests start).
test.after.always('after all tests', async (t) => {
  const s = await shared?.catch(() => null);
  if (!s) return;
  t.log(`variants exercised (${variantTarget(s.ctx)}): ${s.variants.take()}`);
  await s.ctx.destroy();
});

/**
 * Says loudly (test log and stderr) that a kernel variant did not run on this context, e.g. the
 * subgroup variants with VIDEOWORLD_DISABLE_FEATURES=subgroups or on an adapter without them.
 */
export function notExercised(t: { log: (...v: unknown[]) => void; pass: () => void }, variant: string, why: string): void {
  const line = `NOT EXERCISED: ${variant}: ${why}`;
  t.log(line);
  process.stderr.write(`${line}\n`);
  t.pass();
}
