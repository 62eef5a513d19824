import type { GpuContext } from '../../kernels/index.js';
import { createNodeContext } from '../../src/node.js';

let shared: Promise<GpuContext> | null = null;

/**
 * One GpuContext per test process (each ava test file runs in its own process). No adapter is a
 * failure, never a skip: the error carries the command that installs lavapipe.
 */
export function gpu(): Promise<GpuContext> {
  if (!shared) {
    shared = createNodeContext();
    process.once('exit', () => {
      void shared?.then((c) => c.destroy()).catch(() => {});
    });
  }
  return shared;
}

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
