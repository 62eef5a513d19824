/**
 * Benchmark harness (benchmark.js, deferred cycles). Every case is set up (pipelines compiled by a
 * warm-up run), checked against its CPU reference, and only then timed. GPU cases record `reps`
 * dispatches per cycle and wait for the queue, so the time per run is wall time / reps.
 *
 * Kernel-only GPU time: for our cases on an adapter with 'timestamp-query', a second measurement
 * brackets every compute pass with timestamps (GpuContext.passTimestamps) and sums end - begin;
 * peers may report their own profiler's figure through BenchRun.kernelMs.
 */
import Benchmark from 'benchmark';
import { loadavg } from 'node:os';
import { copy } from '../kernels/index.js';
import type { GpuContext, Tensor } from '../kernels/index.js';
import { BufferUsage, MapMode } from '../kernels/core/constants.js';

/**
 * Which rows a row is compared with: `ours` rows get ratios against the fastest `webgpu-peer` and
 * the `native-cpu` row of the same kernel and shape, and fractions of the `ceiling` rows.
 */
export type BenchRole = 'ours' | 'webgpu-peer' | 'cpu-peer' | 'native-cpu' | 'ceiling';

/** Thrown by `setup` when an implementation cannot run here; the row then carries the reason. */
export class Unavailable extends Error {}

/**
 * Deterministic inputs without an Rng: a 32-bit LCG mapped to [-scale, scale). Cheap enough that
 * the 625 MiB output-projection weight takes well under a minute.
 */
export function pattern(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2147483648 - 1) * scale;
  }
  return a;
}

/** A seeded pattern() tensor of `shape`. */
export function patternTensor(ctx: GpuContext, shape: number[], seed: number, scale = 1): Tensor {
  return ctx.fromArray(pattern(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
}

/** What finiteCase's `make` returns: one run, the outputs the check reads, and the cleanup. */
export type Made = { run: () => void; out: () => Tensor[]; dispose: () => void };

/** Runs `f`, keeps its last outputs for the check and frees the previous ones. */
export function keepLast(f: () => Tensor[]): Pick<Made, 'run' | 'out'> {
  let last: Tensor[] = [];
  return {
    run: () => {
      for (const x of last) x.dispose();
      last = f();
    },
    out: () => last,
  };
}

/** A case whose check is: every output finite and not all zero (the kernel's tests compare with its reference). */
export function finiteCase(kernel: string, shape: string, cost: { flops?: number; bytes?: number }, quick: boolean, make: (ctx: GpuContext) => Made): BenchCase {
  return {
    kernel,
    shape,
    ...cost,
    quick,
    setup: async (ctx) => {
      const m = make(ctx);
      return {
        run: m.run,
        check: async () => {
          for (const t of m.out()) {
            const v = await t.read();
            if (!v.every(Number.isFinite) || v.every((x) => x === 0)) throw new Error(`${kernel} bench ${shape}: output ${t.label} is not finite or all zero`);
          }
        },
        dispose: m.dispose,
      };
    },
  };
}

/** The copy kernel over `bytes` (row impl 'copy-roofline'): the roofline a memory-bound row of `kernel` is judged against. */
export function copyRoofline(kernel: string, bytes: number, quick: boolean): BenchCase {
  const n = Math.ceil(bytes / 8);
  return {
    kernel,
    impl: 'copy-roofline',
    shape: `copy [${n}] f32`,
    bytes: 8 * n,
    quick,
    setup: async (ctx) => {
      const src = ctx.fromArray(pattern(n, 6), [n]);
      const dst = ctx.tensor([n]);
      return {
        run: () => void copy(src, dst),
        check: async () => {
          if ((await dst.read())[n - 1] !== (await src.read())[n - 1]) throw new Error('copy roofline: wrong result');
        },
        dispose: () => (src.dispose(), dst.dispose()),
      };
    },
  };
}

export interface BenchRun {
  /** Records (GPU) or performs (CPU) one run of the case. */
  run: () => void | Promise<void>;
  /** Throws if the result disagrees with the reference (called once, before timing). */
  check?: () => Promise<void>;
  dispose?: () => void;
  /** Waits until every run issued so far has finished (a peer on its own device); default ctx.sync(). */
  sync?: () => Promise<void>;
  /** Kernel-only GPU ms of one run from the implementation's own profiler (e.g. tf.time). */
  kernelMs?: () => Promise<number | null>;
  /** The adapter a peer ran on, when it is not our context's. */
  adapter?: string;
  /** What actually ran (backend mode, layout caveats); shown with the row. */
  note?: string;
}

export interface BenchCase {
  /** Our kernel id (peer rows use the id of the kernel they are compared with). */
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
  /** Default: 'ours' when impl is 'ours' or absent, else 'cpu-peer'. */
  role?: BenchRole;
  /** The peer's operation (ONNX op, TF.js call) when it differs from `kernel`. */
  op?: string;
  /** Fewer benchmark.js samples for runs that take seconds (CPU references). */
  minSamples?: number;
  /**
   * Loads a peer library from bench/peers/node_modules (a package of its own, not installed by the
   * root `npm ci`): bench/run.ts installs it first when a selected case needs it.
   */
  needsPeers?: boolean;
  setup: (ctx: GpuContext) => Promise<BenchRun>;
}

export interface BenchResult {
  kernel: string;
  impl: string;
  role: BenchRole;
  op?: string;
  shape: string;
  ms_median: number | null;
  ms_min: number | null;
  samples: number;
  /** Kernel-only GPU time per run, and where it came from. */
  kernel_ms_median: number | null;
  kernel_ms_source: string | null;
  gflops: number | null;
  gbps: number | null;
  adapter: string;
  loadavg: number;
  date: string;
  note?: string;
  /** Why the implementation did not run here. */
  unavailable?: string;
  /** The check or the run failed (a peer that fails its check is still timed). */
  error?: string;
  // Our rows, filled in by annotate():
  best_webgpu_peer?: string | null;
  ratio_vs_best_webgpu_peer?: number | null;
  fraction_of_fma_peak?: number | null;
  fraction_of_copy_bw?: number | null;
  ratio_vs_native_cpu?: number | null;
}

export function roleOf(c: BenchCase): BenchRole {
  return c.role ?? ((c.impl ?? 'ours') === 'ours' ? 'ours' : 'cpu-peer');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeEach(run: () => void | Promise<void>, wait: () => Promise<void>, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    await wait();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Passes one cycle may time; more passes than this and the kernel time is not reported. */
const MAX_PASSES = 512;

/**
 * The durations (ms) of the first `passes` passes timestamped into `querySet` (pass i wrote 2i and
 * 2i + 1), once the work that wrote them has been submitted.
 */
export async function passDurationsMs(ctx: GpuContext, querySet: GPUQuerySet, passes: number): Promise<number[]> {
  const dev = ctx.device;
  const resolved = dev.createBuffer({ label: 'timestamps', size: 16 * passes, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const readback = dev.createBuffer({ label: 'timestamps readback', size: 16 * passes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  try {
    const enc = dev.createCommandEncoder({ label: 'timestamps' });
    enc.resolveQuerySet(querySet, 0, 2 * passes, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, readback, 0, 16 * passes);
    dev.queue.submit([enc.finish()]);
    await readback.mapAsync(MapMode.READ);
    const t = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    return Array.from({ length: passes }, (_, i) => Number(t[2 * i + 1]! - t[2 * i]!) / 1e6);
  } finally {
    resolved.destroy();
    readback.destroy();
  }
}

/**
 * Median kernel-only ms per run over `cycles` cycles of `reps` runs, from timestamps written at the
 * beginning and end of every compute pass our context records; null when a run records no pass.
 */
async function timestampKernelMs(ctx: GpuContext, run: () => void | Promise<void>, reps: number, cycles: number): Promise<number | null> {
  const dev = ctx.device;
  const querySet = dev.createQuerySet({ type: 'timestamp', count: 2 * MAX_PASSES });
  const perRun: number[] = [];
  try {
    for (let c = 0; c < cycles; c++) {
      let passes = 0;
      let overflow = false;
      ctx.passTimestamps = () => {
        if (passes === MAX_PASSES) {
          overflow = true;
          return undefined;
        }
        const i = passes++;
        return { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
      };
      for (let i = 0; i < reps; i++) await run();
      ctx.submit();
      ctx.passTimestamps = null;
      if (overflow || passes === 0) return null;
      perRun.push((await passDurationsMs(ctx, querySet, passes)).reduce((a, x) => a + x, 0) / reps);
    }
    await ctx.sync();
    return median(perRun);
  } finally {
    ctx.passTimestamps = null;
    querySet.destroy();
  }
}

/** Runs one case and returns its row (an `unavailable` or `error` row instead of throwing). */
export async function runCase(ctx: GpuContext, c: BenchCase, opts: { quick: boolean }): Promise<BenchResult> {
  const row: BenchResult = {
    kernel: c.kernel,
    impl: c.impl ?? 'ours',
    role: roleOf(c),
    ...(c.op ? { op: c.op } : {}),
    shape: c.shape,
    ms_median: null,
    ms_min: null,
    samples: 0,
    kernel_ms_median: null,
    kernel_ms_source: null,
    gflops: null,
    gbps: null,
    adapter: ctx.adapterInfo,
    loadavg: loadavg()[0]!,
    date: new Date().toISOString(),
  };
  let r: BenchRun;
  try {
    r = await c.setup(ctx);
  } catch (e) {
    if (e instanceof Unavailable) return { ...row, unavailable: e.message };
    return { ...row, error: `setup: ${(e as Error).message ?? String(e)}` };
  }
  if (r.adapter) row.adapter = r.adapter;
  if (r.note) row.note = r.note;
  const gpu = c.gpu !== false;
  const wait = r.sync ?? (gpu ? () => ctx.sync() : async () => {});
  try {
    await r.run();
    await wait();
    try {
      await r.check?.();
    } catch (e) {
      // A peer that computes something else is still timed (users meet that figure in the wild),
      // but its row carries the error and annotate() leaves it out of every comparison.
      row.error = `check: ${(e as Error).message}`;
      if (row.role === 'ours' || row.role === 'ceiling') return row;
    }
    // Enough runs per cycle that a cycle lasts a few ms even for tiny kernels.
    const t0 = performance.now();
    await r.run();
    await wait();
    const once = Math.max(performance.now() - t0, 0.01);
    const reps = Math.max(1, Math.min(64, Math.floor(20 / once)));
    const minSamples = c.minSamples ?? (opts.quick ? 3 : 7);
    // Runs of seconds (CPU references at the standard shapes) are timed one by one: benchmark.js
    // would add calibration cycles of the same length.
    const sample = once > 2000 ? await timeEach(r.run, wait, minSamples) : await new Promise<number[]>((resolve, reject) => {
      const b = new Benchmark(`${c.kernel} ${row.impl} ${c.shape}`, {
        defer: true,
        minSamples,
        maxTime: opts.quick ? 0.5 : 3,
        initCount: 1,
        fn: (d: { resolve: () => void }) => {
          void (async () => {
            for (let i = 0; i < reps; i++) await r.run();
            await wait();
            d.resolve();
          })().catch(reject);
        },
        onComplete: () => resolve(b.stats.sample.map((s) => (s * 1000) / reps)),
        onError: (e: unknown) => reject(e),
      });
      b.run({ async: true });
    });
    const ms = median(sample);
    Object.assign(row, {
      ms_median: ms,
      ms_min: Math.min(...sample),
      samples: sample.length,
      gflops: c.flops ? c.flops / (ms * 1e6) : null,
      gbps: c.bytes ? c.bytes / (ms * 1e6) : null,
      loadavg: loadavg()[0]!,
    });
    if (r.kernelMs) {
      row.kernel_ms_median = await r.kernelMs();
      row.kernel_ms_source = row.kernel_ms_median === null ? null : `${row.impl} profiler`;
    } else if (gpu && !r.sync && ctx.features.has('timestamp-query')) {
      row.kernel_ms_median = await timestampKernelMs(ctx, r.run, reps, opts.quick ? 3 : 5);
      row.kernel_ms_source = row.kernel_ms_median === null ? null : 'timestamp-query';
    }
    return row;
  } catch (e) {
    return { ...row, error: `run: ${(e as Error).message ?? String(e)}` };
  } finally {
    r.dispose?.();
  }
}

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/**
 * Fills in the comparison fields of our rows from the other rows of the same run: the fastest
 * WebGPU peer on the same kernel and shape (ratio = peer ms / our ms, > 1 means we are faster), the
 * native-CPU row likewise, and our throughput as a fraction of the measured FMA peak and copy
 * bandwidth ceilings.
 */
export function annotate(rows: BenchResult[]): void {
  const ceiling = (impl: string) => rows.find((r) => r.role === 'ceiling' && r.impl === impl && !r.error && !r.unavailable);
  const fma = ceiling('fma-scalar')?.gflops;
  const copy = ceiling('copy-vec4')?.gbps;
  for (const r of rows) {
    if (r.role !== 'ours' || !finite(r.ms_median)) continue;
    const same = rows.filter((p) => p.kernel === r.kernel && p.shape === r.shape && finite(p.ms_median) && !p.error);
    const peers = same.filter((p) => p.role === 'webgpu-peer').sort((a, b) => a.ms_median! - b.ms_median!);
    const best = peers[0];
    const native = same.find((p) => p.role === 'native-cpu');
    r.best_webgpu_peer = best ? best.impl : null;
    r.ratio_vs_best_webgpu_peer = best ? best.ms_median! / r.ms_median : null;
    r.ratio_vs_native_cpu = native ? native.ms_median! / r.ms_median : null;
    r.fraction_of_fma_peak = finite(fma) && r.gflops !== null ? r.gflops / fma : null;
    r.fraction_of_copy_bw = finite(copy) && r.gbps !== null ? r.gbps / copy : null;
  }
}
