/**
 * Benchmark harness (benchmark.js, deferred cycles). Every case is set up (pipelines compiled by a
 * warm-up run), checked against its CPU reference, and only then timed. GPU cases record `reps`
 * dispatches per cycle and wait for the queue, so the time per run is wall time / reps.
 */
import Benchmark from 'benchmark';
import { loadavg } from 'node:os';
import type { GpuContext } from '../kernels/index.js';

export interface BenchRun {
  /** Records (GPU) or performs (CPU) one run of the case. */
  run: () => void | Promise<void>;
  /** Throws if the result disagrees with the reference (called once, before timing). */
  check?: () => Promise<void>;
  dispose?: () => void;
}

export interface BenchCase {
  /** Our kernel id, or the peer's op name. */
  kernel: string;
  /** 'ours', or the peer's name ('cpu-ref', 'tfjs-webgpu', ...). */
  impl?: string;
  shape: string;
  /** Useful floating-point operations per run (2 per multiply-add). */
  flops?: number;
  /** Bytes that must move per run (each input read once + each output written once). */
  bytes?: number;
  /** Part of `--quick`. */
  quick?: boolean;
  /** True when run() does GPU work that the harness must wait for. */
  gpu?: boolean;
  setup: (ctx: GpuContext) => Promise<BenchRun>;
}

export interface BenchResult {
  kernel: string;
  impl: string;
  shape: string;
  ms_median: number;
  ms_min: number;
  samples: number;
  gflops: number | null;
  gbps: number | null;
  adapter: string;
  loadavg: number;
  date: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs one case and returns its row. */
export async function runCase(ctx: GpuContext, c: BenchCase, opts: { quick: boolean }): Promise<BenchResult> {
  const r = await c.setup(ctx);
  try {
    await r.run();
    if (c.gpu !== false) await ctx.sync();
    await r.check?.();
    // Enough runs per cycle that a cycle lasts a few ms even for tiny kernels.
    const t0 = performance.now();
    await r.run();
    if (c.gpu !== false) await ctx.sync();
    const once = Math.max(performance.now() - t0, 0.01);
    const reps = Math.max(1, Math.min(64, Math.floor(20 / once)));
    const sample = await new Promise<number[]>((resolve, reject) => {
      const b = new Benchmark(`${c.kernel} ${c.impl ?? 'ours'} ${c.shape}`, {
        defer: true,
        minSamples: opts.quick ? 3 : 7,
        maxTime: opts.quick ? 0.5 : 3,
        initCount: 1,
        fn: (d: { resolve: () => void }) => {
          void (async () => {
            for (let i = 0; i < reps; i++) await r.run();
            if (c.gpu !== false) await ctx.sync();
            d.resolve();
          })().catch(reject);
        },
        onComplete: () => resolve(b.stats.sample.map((s) => (s * 1000) / reps)),
        onError: (e: unknown) => reject(e),
      });
      b.run({ async: true });
    });
    const ms = median(sample);
    return {
      kernel: c.kernel,
      impl: c.impl ?? 'ours',
      shape: c.shape,
      ms_median: ms,
      ms_min: Math.min(...sample),
      samples: sample.length,
      gflops: c.flops ? c.flops / (ms * 1e6) : null,
      gbps: c.bytes ? c.bytes / (ms * 1e6) : null,
      adapter: ctx.adapterInfo,
      loadavg: loadavg()[0]!,
      date: new Date().toISOString(),
    };
  } finally {
    r.dispose?.();
  }
}
