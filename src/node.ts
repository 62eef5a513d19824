/**
 * videoworld-webgpu/node: Dawn bootstrap (npm `webgpu`) and file I/O. The only entry that may
 * touch Node built-ins.
 *
 * @example
 * import { createNodeContext } from 'videoworld-webgpu/node';
 * import { add } from 'videoworld-webgpu/kernels';
 * const ctx = await createNodeContext();
 * console.log(await add(ctx.fromArray([1, 2], [2]), ctx.fromArray([3, 4], [2])).read());
 * ctx.destroy(); // lets the process exit
 *
 * @module videoworld-webgpu/node
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ContextOptions, type GpuContext, type OptionalFeature, type PipelineSpec, OPTIONAL_FEATURES, createContext } from '../kernels/core/context.js';
import { NoAdapterError } from '../kernels/core/errors.js';
import { warmPipelines } from '../kernels/pipelines.js';
import { adapterClass } from '../kernels/core/tuning.js';
import type { WeightSource } from './graph/weights.js';
import { type TransformerConfig, inferTransformerConfig } from './models/videoworld/infer-config.js';
import { detectWeightMap, mapKeys } from './models/videoworld/weight-map.js';
import { openPthFile, openSafetensorsFile } from './io/file-node.js';
import { decodeF32, type SafetensorsFile, parseSafetensors, serializeSafetensors, type TensorRecord } from './io/safetensors.js';

/** The exact command that installs a software WebGPU adapter (Mesa lavapipe) on Debian/Ubuntu. */
export function installDriverCommand(): string {
  const candidates = ['../scripts/install-webgpu-driver.sh', '../../scripts/install-webgpu-driver.sh'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const script = candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return `${root ? '' : 'sudo '}bash ${script}`;
}

/** createNodeContext's options: the context's (log, disabled features, adapter class), Dawn toggles, or a Dawn GPU to share. */
export interface NodeContextOptions extends Pick<ContextOptions, 'log' | 'disableFeatures' | 'adapterClass'> {
  /** Dawn toggles passed to `create()`, e.g. 'disable-dawn-features=timestamp_quantization'. */
  dawnFlags?: string[];
  /** An existing Dawn `create()` result to share (e.g. with other WebGPU libraries via navigator.gpu). */
  gpu?: GPU;
  /**
   * How often Dawn checks for finished GPU work while some is pending: 'yield' (default on a CPU
   * adapter such as lavapipe) checks every millisecond and sleeps between checks; 'spin' leaves
   * Dawn's own loop, which checks back to back on one CPU core (default on GPUs, where it costs a
   * core but no GPU time). See `yieldDawnPolling`. Default: VIDEOWORLD_POLLING when set.
   */
  polling?: 'yield' | 'spin';
}

/** Creates a GpuContext on Dawn (npm `webgpu`). Fails with the install command when no adapter exists. */
export async function createNodeContext(options: NodeContextOptions = {}): Promise<GpuContext> {
  const asked = options.polling ?? (process.env.VIDEOWORLD_POLLING || undefined);
  if (asked !== undefined && asked !== 'yield' && asked !== 'spin') throw new RangeError(`createNodeContext: polling '${String(asked)}' (option or VIDEOWORLD_POLLING): one of yield, spin`);
  if (!process.env.XDG_RUNTIME_DIR) {
    // Vulkan loaders and Mesa warn (and some fail) without it; headless machines often lack it.
    const dir = join(tmpdir(), `xdg-runtime-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const hint = `Install Mesa's software Vulkan driver (lavapipe) with:\n  ${installDriverCommand()}`;
  let dawn: { create: (flags: string[]) => GPU };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    throw new NoAdapterError(`Cannot load the npm package 'webgpu' (Dawn for Node): ${(e as Error).message}. Run: npm install webgpu`);
  }
  const gpu: GPU = options.gpu ?? dawn.create(options.dawnFlags ?? []);
  let release: (() => void) | null = null;
  const disabled = (options.disableFeatures ?? process.env.VIDEOWORLD_DISABLE_FEATURES?.split(',') ?? []).map((f) => f.trim()).filter(Boolean);
  const ctx: GpuContext = await createContext({
    gpu,
    disableFeatures: disabled as OptionalFeature[],
    adapterClass: options.adapterClass ?? (process.env.VIDEOWORLD_ADAPTER_CLASS as ContextOptions['adapterClass']),
    noAdapterHint: hint,
    log: options.log,
    onDestroy: () => {
      retired.push(gpu, ctx.device);
      release?.();
    },
  });
  const polling = asked ?? (adapterClass(ctx.adapterFacts) === 'gpu' ? 'spin' : 'yield');
  if (polling === 'yield') release = yieldDawnPolling();
  return ctx;
}

let yielding = 0;
let restore: (() => void) | null = null;

/**
 * While GPU work is pending, Dawn's Node binding checks for its completion from a chain of
 * setImmediate callbacks (native functions): a busy loop on one core. On a CPU adapter the GPU
 * is those same cores, so the loop takes CPU time from the shaders: 8 768^3 GEMMs took 956-1291
 * ms awaited as is and 626-1118 ms with the checks 1 ms apart, on 2 cores (bench/README.md).
 * Until the returned release is called (reference-counted across contexts), setImmediate defers
 * native callbacks (Dawn's check; also promise resolvers and bound functions) by 1 ms through
 * setTimeout, and clearImmediate cancels either kind; JavaScript callbacks run as before.
 */
export function yieldDawnPolling(): () => void {
  if (yielding++ === 0) {
    const native = { set: globalThis.setImmediate, clear: globalThis.clearImmediate };
    const deferred = new WeakSet<object>();
    const isNative = (fn: unknown) => typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
    const set = (fn: (...a: unknown[]) => void, ...args: unknown[]) => {
      if (!isNative(fn)) return native.set(fn, ...args);
      const t = setTimeout(fn, 1, ...args);
      deferred.add(t);
      return t;
    };
    globalThis.setImmediate = Object.assign(set, { __promisify__: native.set.__promisify__ }) as typeof setImmediate;
    globalThis.clearImmediate = ((h: NodeJS.Immediate | undefined) => (h && deferred.has(h) ? clearTimeout(h as unknown as NodeJS.Timeout) : native.clear(h))) as typeof clearImmediate;
    restore = () => {
      globalThis.setImmediate = native.set;
      globalThis.clearImmediate = native.clear;
    };
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--yielding === 0) {
      restore?.();
      restore = null;
    }
  };
}

/**
 * Destroyed devices and their Dawn instances, referenced until the process ends: Dawn's event
 * loop hook ticks an instance's devices (InstanceBase::ProcessEvents), and a destroyed device that
 * V8 collected before a pending tick was a use-after-free (SIGSEGV in DeviceBase::APITick, seen
 * with contexts created and destroyed side by side). A destroyed device holds no GPU memory.
 */
const retired: unknown[] = [];

/** How a compilePipelinesInChild child ended. */
export interface ChildCompileResult {
  /** True when the child compiled every pipeline it was given (false: stopped, or it failed). */
  ok: boolean;
  /** Pipelines the child compiled, the first `pipelines` of its list. */
  pipelines: number;
  /** Its exit code or signal, and the child's error message when it failed. */
  detail: string;
}

/** A running compilePipelinesInChild child. */
export interface ChildCompile {
  /** Resolves (never rejects) when the child has exited; while awaited, it keeps this process alive. */
  done: Promise<ChildCompileResult>;
  /** Stops the child now; it is also stopped when this process exits. */
  stop(): void;
}

/**
 * Whether compilePipelinesInChild shortens a cold start here. lavapipe compiles a pipeline at its
 * first dispatch, on its device's queue thread, one at a time (two devices in one process compile
 * no faster: still one core busy), and keeps the code in Mesa's on-disk shader cache, which the
 * devices of other processes read. So where that cache is on (MESA_SHADER_CACHE_DISABLE unset) and
 * there is a second core, a child process that compiles the same pipelines from the other end of
 * the list shortens the wait (the go model's 46 pipelines: 33 -> 21 s on 2 cores). GPUs compile
 * when a pipeline is created; they never need it.
 * VIDEOWORLD_COMPILE_CHILD=0 turns it off.
 */
export function childCompileHelps(ctx: GpuContext): boolean {
  if (process.env.VIDEOWORLD_COMPILE_CHILD === '0') return false;
  if (/^(1|true|yes)$/i.test(process.env.MESA_SHADER_CACHE_DISABLE ?? '')) return false;
  return ctx.adapterClass === 'lavapipe' && availableParallelism() > 1;
}

/**
 * Compiles `specs` (in that order) on a device of a child Node process, into Mesa's on-disk shader
 * cache, while this process goes on (see childCompileHelps), reporting each index to `onCompiled`
 * as it is done. lavapipe looks a pipeline up in that cache when the pipeline is created, so ctx
 * must create it after the child has compiled it (warmPipelinesWithChild does). The child sees
 * ctx's features (a shader compiled for other features would not be the one ctx looks up).
 * Failures cost nothing but the time saved: they are reported by `done`, never thrown.
 */
export function compilePipelinesInChild(ctx: GpuContext, specs: readonly PipelineSpec[], options: { env?: NodeJS.ProcessEnv; onCompiled?: (index: number) => void } = {}): ChildCompile {
  const script = fileURLToPath(new URL(`./pipeline-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  const disabled = OPTIONAL_FEATURES.filter((f) => !ctx.features.has(f));
  const env = { ...process.env, ...options.env, VIDEOWORLD_DISABLE_FEATURES: disabled.join(','), VIDEOWORLD_COMPILE_CHILD: '0' };
  const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(specs)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () => child.kill();
  process.once('exit', stop);
  let out = '';
  let err = '';
  let compiled = 0;
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const l of lines) {
      compiled++;
      options.onCompiled?.(Number(l));
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err = (err + d).slice(-4096)));
  // The child keeps this process alive only while someone waits for it (done); otherwise it is
  // killed when this one exits.
  const handles = [child, child.stdout, child.stderr] as unknown as { ref?(): void; unref?(): void }[];
  for (const h of handles) h.unref?.();
  const result = new Promise<ChildCompileResult>((resolve) => {
    child.on('error', (e) => resolve({ ok: false, pipelines: 0, detail: e.message }));
    child.on('exit', (code, signal) => {
      process.removeListener('exit', stop);
      const why = /^pipeline-child: (.*)$/m.exec(err)?.[1];
      resolve({ ok: code === 0 && compiled === specs.length, pipelines: compiled, detail: `${signal ?? `exit ${code}`}${why ? `: ${why}` : ''}` });
    });
  });
  return {
    get done() {
      for (const h of handles) h.ref?.();
      return result;
    },
    stop,
  };
}

/**
 * warmPipelines(ctx, specs), shared with a child process where that helps (childCompileHelps): ctx
 * compiles from the front of the list, one pipeline at a time, the child from the back; ctx
 * creates the child's pipelines as the child reports them (cache hits) and stops it where the two
 * meet. Resolves when ctx has every pipeline of the list, with how many the child compiled.
 */
export async function warmPipelinesWithChild(ctx: GpuContext, specs: readonly PipelineSpec[]): Promise<{ warmed: number; byChild: number }> {
  if (specs.length < 2 || !childCompileHelps(ctx)) return { warmed: warmPipelines(ctx, specs), byChild: 0 };
  const n = specs.length;
  let front = 0;
  let back = n; // the child has compiled specs[back..n)
  let warmed = 0;
  let byChild = 0;
  const child = compilePipelinesInChild(ctx, [...specs].reverse(), {
    onCompiled: (i) => {
      const at = n - 1 - i;
      if (at < front) return;
      back = at;
      byChild++;
      warmed += warmPipelines(ctx, [specs[at]!]);
    },
  });
  let childEnded = false;
  const childExit = child.done.then(() => (childEnded = true));
  while (front < back && !childEnded) {
    warmed += warmPipelines(ctx, [specs[front++]!]);
    await Promise.race([ctx.device.queue.onSubmittedWorkDone(), childExit]);
  }
  child.stop();
  // What neither compiled yet (the child was stopped or failed): compiled here.
  warmed += warmPipelines(ctx, specs.slice(front));
  return { warmed, byChild };
}

/** Reads and validates a .safetensors file. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const buf = await readFile(path);
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/** Writes tensors (and string metadata) as a .safetensors file. */
export async function writeSafetensorsFile(path: string, tensors: Record<string, TensorRecord>, metadata?: Record<string, string>): Promise<void> {
  await writeFile(path, serializeSafetensors(tensors, metadata));
}

/** Weight files opened for streaming (openWeightFiles): a WeightSource over them, closed when done. */
export interface WeightFiles {
  /** Every tensor of the files under our (upstream battle-model) names; later files win. */
  source: WeightSource;
  /** The transformer config read off the checkpoint, when it holds one. */
  transformer: TransformerConfig | null;
  /** One line per file: which layout it was read as, and what was ignored. */
  notes: string[];
  close(): Promise<void>;
}

/**
 * Opens checkpoints (.pth written by torch.save, or .safetensors) for `Module.load`: names are
 * mapped with the detected weight map (go_fsq, go_battle, ldm; files already in our names pass
 * through), tensors are read one at a time on demand and converted to f32.
 */
export async function openWeightFiles(files: string[]): Promise<WeightFiles> {
  type Reader = { shape: number[]; read: (into?: Float32Array) => Promise<Float32Array>; halves?: (into?: Uint16Array) => Promise<Uint16Array | null> };
  const readers = new Map<string, Reader>();
  const notes: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  const rawShapes = new Map<string, number[]>();
  for (const file of files) {
    const entries = new Map<string, Reader>();
    if (file.endsWith('.safetensors')) {
      const st = await openSafetensorsFile(file);
      closers.push(() => st.close());
      for (const [n, e] of st.entries) entries.set(n, { shape: e.shape, read: (into) => st.f32(n, into), halves: (into) => st.halves(n, into) });
    } else {
      const ck = await openPthFile(file);
      closers.push(() => ck.close());
      for (const n of ck.names) {
        const t = ck.get(n);
        entries.set(n, { shape: t.shape, read: async (into) => { const r = await ck.read(n); return decodeF32(r.dtype, new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength), t.numel, `${file}: ${n}`, into); } });
      }
    }
    for (const [n, e] of entries) rawShapes.set(n, e.shape);
    const map = detectWeightMap([...entries.keys()]);
    if (!map) {
      for (const [n, e] of entries) readers.set(n, e);
      notes.push(`${file}: ${entries.size} tensors, names used as they are`);
      continue;
    }
    const m = mapKeys(entries.keys(), map);
    for (const [ours, theirs] of m.mapped) readers.set(ours, entries.get(theirs)!);
    for (const n of m.unmatched) readers.set(n, entries.get(n)!);
    notes.push(`${file}: ${map.id} layout, ${m.mapped.size} tensors mapped, ${m.ignored.length} ignored, ${m.shadowed.length} shadowed, ${m.unmatched.length} not covered by the map`);
  }
  return {
    source: {
      keys: () => [...readers.keys()],
      shape: (k) => readers.get(k)?.shape,
      f32: (k, into) => {
        const r = readers.get(k);
        if (!r) throw new Error(`openWeightFiles: no tensor ${k}`);
        return r.read(into);
      },
      halves: async (k, into) => (await readers.get(k)?.halves?.(into)) ?? null,
    },
    transformer: inferTransformerConfig(rawShapes),
    notes,
    close: async () => {
      for (const c of closers) await c();
    },
  };
}

export { fileSource, openPthFile, openSafetensorsFile, readSafetensorsHeaderFile, writeSafetensorsStream } from './io/file-node.js';
export type { StreamWriteOptions } from './io/file-node.js';
export * from './index.js';
