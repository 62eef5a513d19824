import { BufferUsage, MapMode, ShaderStage } from './constants.js';
import { DeviceError, KernelArgError, KernelCompileError, NoAdapterError } from './errors.js';
import { BufferPool, bucketSize } from './pool.js';
import { type AdapterClass, type AdapterFacts, type KernelTuning, TUNING_TABLE, adapterClass, checkTuning, tuningFor } from './tuning.js';
import type { ShaderInfo } from './shader-info.js';
import { type DType, Tensor, checkShape, numel, toTyped } from './tensor.js';

/**
 * The WebGPU names that this package's public types mention, declared as empty interfaces: they
 * merge with the full declarations of TypeScript 7's DOM lib or of @webgpu/types where a project
 * has either, and a project with neither (Node without the DOM lib) still type-checks, the GPU
 * objects then being opaque.
 */
declare global {
  interface GPU {}
  interface GPUAdapter {}
  interface GPUBuffer {}
  interface GPUComputePassTimestampWrites {}
  interface GPUComputePipeline {}
  interface GPUDevice {}
}

/** The adapter limits a context requests (the adapter's real maxima, not WebGPU's defaults). */
export interface ContextLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
  minStorageBufferOffsetAlignment: number;
  minUniformBufferOffsetAlignment: number;
}
const LIMIT_NAMES: (keyof ContextLimits)[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
];
/** Features requested when the adapter has them. */
export type OptionalFeature = 'timestamp-query' | 'shader-f16' | 'subgroups';
export const OPTIONAL_FEATURES: readonly OptionalFeature[] = ['timestamp-query', 'shader-f16', 'subgroups'];

export interface ContextOptions {
  /** Use this device as is (a browser app's own device). Its limits are whatever it was created with. */
  device?: GPUDevice;
  /** Request the device from this adapter. */
  adapter?: GPUAdapter;
  /** The GPU entry point: `navigator.gpu` by default, Dawn's `create()` result in Node. */
  gpu?: GPU;
  /** Printed in the "no adapter" error: how to get one on this platform. */
  noAdapterHint?: string;
  /** If set, receives one line per fact about the adapter (info, limits, features) at creation. */
  log?: (line: string) => void;
  /** Called by destroy() after the device is destroyed (Node: keeps the device and its Dawn instance referenced). */
  onDestroy?: () => void;
  /**
   * Optional features not to request although the adapter has them: runs the kernels' fallback
   * variants (e.g. `['subgroups']`, as on an adapter without subgroups). Node: the
   * VIDEOWORLD_DISABLE_FEATURES environment variable (comma-separated).
   */
  disableFeatures?: readonly OptionalFeature[];
  /**
   * The tuning table's entry to use instead of the adapter's own class (kernels/core/tuning.ts).
   * Node: the VIDEOWORLD_ADAPTER_CLASS environment variable.
   */
  adapterClass?: AdapterClass;
}

/** A storage binding: a whole tensor, or an explicit buffer range (chunked weights). */
export type Binding = Tensor | { buffer: GPUBuffer; offset?: number; size: number };

/** A pipeline by name: a shader's id and its override values (GpuContext.pipelineSpecs, warmPipelines). */
export interface PipelineSpec {
  shader: string;
  overrides: Record<string, number>;
}

export interface DispatchSpec {
  /** Values for the shader's `override` constants (part of the pipeline key). */
  overrides?: Record<string, number>;
  /** One entry per storage binding of the shader, by its WGSL variable name. */
  bindings: Record<string, Binding>;
  /** Values for every field of the shader's `Params` struct, by name. */
  params?: Record<string, number>;
  /** Workgroup counts; use foldGrid for 1-D grids that may exceed 65535. */
  workgroups: readonly [number, number?, number?];
}

interface ArenaChunk {
  buffer: GPUBuffer;
  data: Uint8Array;
  used: number;
}
const ARENA_CHUNK = 64 * 1024;
/** WebGPU's default maxUniformBufferBindingSize (every device has it): the largest uniform binding used, one window of stageUniform's buffer. */
export const UNIFORM_STAGING_BYTES = 64 * 1024;
/** Windows of UNIFORM_STAGING_BYTES in stageUniform's buffer (a shader stage may bind 12 uniforms). */
export const UNIFORM_STAGING_WINDOWS = 4;
/** A pipeline's cache key: the shader id and its overrides in name order. */
const pipelineKey = (shader: ShaderInfo, overrides: Record<string, number>) => shader.id + JSON.stringify(Object.entries(overrides).sort());

/** Bind groups kept for re-binding (a go decode step binds ~200 distinct sets, each step alike). */
const BIND_GROUP_CACHE = 4096;

/**
 * Splits n workgroups into (x, y) under the per-dimension limit. Shaders rebuild the flat id as
 * `wid.x + wid.y * nwg.x` (see wgsl/lib/grid.wgsl) and return when it is >= n.
 */
export function foldGrid(n: number, max = 65535): [number, number] {
  if (n <= max) return [Math.max(1, n), 1];
  const y = Math.ceil(n / max);
  return [Math.ceil(n / y), y];
}

/**
 * Owns a GPUDevice: the buffer pool, pipeline cache, uniform arena and the command encoder that
 * collects dispatches until `submit()` (one submit per forward pass). Device loss and uncaptured
 * errors are turned into DeviceError on the next submit/sync/read.
 */
export class GpuContext {
  readonly pool: BufferPool;
  readonly limits: ContextLimits;
  readonly features: ReadonlySet<OptionalFeature>;
  /** What the tuning table's entry is chosen by: the description and the subgroup sizes. */
  readonly adapterFacts: Readonly<AdapterFacts>;
  /** The adapter's class in the tuning table (kernels/core/tuning.ts). */
  readonly adapterClass: AdapterClass;
  /** Variants and grid sizes the kernels use here: the table's entry, or what `tune` set. */
  get tuning(): Readonly<KernelTuning> {
    return this.tuned;
  }
  /** Counters for tests and benchmarks. */
  readonly stats = { dispatches: 0, submits: 0, pipelines: 0, shaderModules: 0 };
  /**
   * Profiling hook: called as each compute pass begins; the timestamp writes it returns (feature
   * 'timestamp-query') bracket that pass, so benchmarks can read kernel-only GPU time.
   */
  passTimestamps: (() => GPUComputePassTimestampWrites | undefined) | null = null;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: ArenaChunk[] = [];
  private arenaIndex = 0;
  private pipelines = new Map<string, GPUComputePipeline>();
  /** pipeline()'s lookup by the overrides in the caller's key order (no sort, no validation on a hit). */
  private pipelinesByCall = new Map<string, GPUComputePipeline>();
  /** Bind groups by shader and bound ranges (params bound at a dynamic offset): steady loops re-bind. */
  private bindGroups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  /** (shader id, overrides) of every pipeline created, in creation order (pipelineSpecs()). */
  private specs: PipelineSpec[] = [];
  /** Stand-in buffers of warmPipeline: one per binding index, a uniform, a zero indirect count. */
  private warmBuffers: { storage: GPUBuffer[]; uniform: GPUBuffer; indirect: GPUBuffer } | null = null;
  private uniformStaging: GPUBuffer | null = null;
  private layouts = new Map<string, GPUBindGroupLayout>();
  private modules = new Map<string, GPUShaderModule>();
  private checks: Promise<void>[] = [];
  private errors: Error[] = [];
  private lostInfo: string | null = null;
  private lostPromise: Promise<never>;
  private staging = new Map<number, GPUBuffer[]>();
  private destroyed = false;
  private gone: Promise<void> = Promise.resolve();
  /** Queue operations issued (writeBuffer, submit), and how many of them are known finished. */
  private queued = 0;
  private finished = 0;
  private scopes: Set<Tensor>[] = [];
  private constants = new Map<string, Tensor>();
  private tuned: KernelTuning;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: string,
    private onDestroy?: () => void,
    /** The tuning table's entry to use; default: the adapter's own class (tuningFor). */
    cls?: AdapterClass,
  ) {
    this.pool = new BufferPool(device);
    const lim = {} as ContextLimits;
    for (const k of LIMIT_NAMES) lim[k] = Number(device.limits[k]);
    this.limits = lim;
    this.features = new Set(OPTIONAL_FEATURES.filter((f) => device.features.has(f)));
    if (cls !== undefined && !(cls in TUNING_TABLE)) throw new RangeError(`adapterClass '${String(cls)}': one of ${Object.keys(TUNING_TABLE).join(', ')}`);
    const info = (device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
    this.adapterFacts = { description: adapterInfo, subgroupMinSize: info?.subgroupMinSize ?? 0, subgroupMaxSize: info?.subgroupMaxSize ?? 0 };
    this.adapterClass = cls ?? adapterClass(this.adapterFacts);
    this.tuned = tuningFor(this.adapterFacts, this.adapterClass);
    this.lostPromise = device.lost.then((info) => {
      if (!this.destroyed) this.lostInfo = `GPU device lost (${info.reason}): ${info.message}`;
      throw new DeviceError(this.lostInfo ?? 'GPU device destroyed');
    });
    this.lostPromise.catch(() => {});
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.errors.push(new DeviceError(`uncaptured WebGPU error: ${ev.error.message}`));
    };
  }

  /**
   * True when kernels may use subgroup operations with at least `size` invocations per subgroup
   * (the 'subgroups' feature and the adapter's subgroupMinSize): the subgroup kernel variants
   * (attention_rows, matmul_packed_sg) broadcast from lanes 0..7.
   */
  hasSubgroups(size = 8): boolean {
    return this.features.has('subgroups') && this.adapterFacts.subgroupMinSize >= size;
  }

  /** The CPU-SIMD subgroup variants, where the tuning table picks them and the adapter can run them. */
  useCpuSubgroupVariants(): boolean {
    return this.tuned.cpuSubgroupVariants && this.hasSubgroups(8);
  }

  /** Overrides tuning entries (benchmarks, tests); returns the previous values, to restore them. */
  tune(t: Partial<KernelTuning>): KernelTuning {
    checkTuning(t);
    const prev = { ...this.tuned };
    this.tuned = { ...this.tuned, ...t };
    return prev;
  }

  /** Adapter info, limits and features, one fact per line. */
  describe(): string[] {
    const lines = [`adapter: ${this.adapterInfo}`, `tuning: ${this.adapterClass} ${JSON.stringify(this.tuned)}`];
    lines.push(`subgroup sizes: ${this.adapterFacts.subgroupMinSize}..${this.adapterFacts.subgroupMaxSize}`);
    for (const k of LIMIT_NAMES) lines.push(`limit ${k}: ${this.limits[k]}`);
    lines.push(`features: ${[...this.features].join(', ') || '(none of ' + OPTIONAL_FEATURES.join(', ') + ')'}`);
    return lines;
  }

  // ---- tensors -------------------------------------------------------------------------------

  /** An uninitialised tensor from the pool, for the GPU to write. */
  tensor<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D, label = 'tensor'): Tensor<D> {
    return this.alloc(shape, dtype, label, false);
  }

  private alloc<D extends DType>(shape: readonly number[], dtype: D, label: string, hostWrite: boolean): Tensor<D> {
    this.checkAlive();
    checkShape('tensor', label, shape);
    const bytes = numel(shape) * 4;
    if (bytes > this.limits.maxBufferSize) {
      throw new KernelArgError('tensor', label, `[${shape.join(',')}] needs ${bytes} bytes, over maxBufferSize ${this.limits.maxBufferSize}`);
    }
    const t = new Tensor(this, shape, dtype, this.pool.acquire(bytes, label, { hostWrite }), label);
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /**
   * A tensor cached for the context's lifetime under `key` (lookup tables, stand-ins for unused
   * bindings). Created outside any scope, so a scope never disposes it; never dispose it yourself.
   */
  constant<D extends DType>(key: string, create: () => Tensor<D>): Tensor<D> {
    let t = this.constants.get(key);
    if (!t || t.disposed) {
      t = this.unscoped(create);
      this.constants.set(key, t);
    }
    return t as Tensor<D>;
  }

  /**
   * Runs `fn` outside every scope: the tensors it creates belong to the caller (e.g. a weight's
   * derived form built on first use inside a model's forward, kept beyond it).
   */
  unscoped<R>(fn: () => R): R {
    const saved = this.scopes;
    this.scopes = [];
    try {
      return fn();
    } finally {
      this.scopes = saved;
    }
  }

  /**
   * Runs `fn` (synchronous: kernels only record work) and disposes every tensor created inside
   * that is not part of its result, so intermediates return to the pool and activation memory
   * does not grow with depth. Views (reshape) of a returned tensor keep its buffer alive.
   */
  scope<R>(fn: () => R): R {
    const mine = new Set<Tensor>();
    this.scopes.push(mine);
    let result: R;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    if (result instanceof Promise) throw new KernelArgError('scope', 'fn', 'must be synchronous (record kernels, read after the scope)');
    const keep = new Set<GPUBuffer>();
    const visit = (v: unknown, depth: number): void => {
      if (v instanceof Tensor) {
        if (!v.disposed) keep.add(v.buffer);
      } else if (depth < 4 && v && typeof v === 'object') for (const x of Object.values(v)) visit(x, depth + 1);
    };
    visit(result, 0);
    const outer = this.scopes[this.scopes.length - 1];
    for (const t of mine) {
      if (t.disposed) continue;
      if (keep.has(t.buffer)) outer?.add(t);
      else t.dispose();
    }
    return result;
  }

  /** A zero-filled tensor (the clear is recorded in order with the dispatches). */
  zeros<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D, label = 'zeros'): Tensor<D> {
    const t = this.tensor(shape, dtype, label);
    this.endPass();
    this.getEncoder().clearBuffer(t.buffer, 0, Math.ceil(t.byteLength / 4) * 4 || 4);
    return t;
  }

  /** A tensor holding a copy of `data` (length must equal the shape's element count). */
  fromArray<D extends DType = 'f32'>(data: ArrayLike<number>, shape: readonly number[], dtype: D = 'f32' as D, label = 'fromArray'): Tensor<D> {
    checkShape('fromArray', label, shape);
    if (data.length !== numel(shape)) {
      throw new KernelArgError('fromArray', label, `got ${data.length} values for shape [${shape.join(',')}] (${numel(shape)} elements)`);
    }
    // A host-write buffer is referenced by no unsubmitted command, so writing it now is safe.
    const t = this.alloc(shape, dtype, label, true);
    if (data.length) {
      this.device.queue.writeBuffer(t.buffer, 0, toTyped(dtype, data));
      this.queued++;
    }
    return t;
  }

  /** Writes host data into a buffer after everything recorded so far (submits first). */
  writeBuffer(buffer: GPUBuffer, offset: number, data: Float32Array | Int32Array | Uint32Array | Uint8Array): void {
    this.submit();
    this.device.queue.writeBuffer(buffer, offset, data);
    this.queued++;
  }

  /**
   * The first `bytes` bytes of t copied, in order with the recorded dispatches, into the context's
   * uniform staging buffer, as the bindings of UNIFORM_STAGING_WINDOWS `var<uniform>` arrays of
   * UNIFORM_STAGING_BYTES: window w holds rows w R .. w R + R - 1 of t's rows of `rowBytes` bytes,
   * R = floor(UNIFORM_STAGING_BYTES / rowBytes) (a row never straddles two windows). There is one
   * such buffer: its content is t's for the dispatches recorded until the next stageUniform call
   * (each copy runs after the dispatches recorded before it). With `bytes` 0 nothing is copied:
   * the bindings of uniforms the dispatch does not read.
   */
  stageUniform(t: Tensor, bytes: number, rowBytes = 16): Binding[] {
    const rows = Math.floor(UNIFORM_STAGING_BYTES / rowBytes);
    const windowBytes = rows * rowBytes;
    if (rowBytes % 4 !== 0 || rows < 1 || bytes > t.byteLength || Math.ceil(bytes / windowBytes) > UNIFORM_STAGING_WINDOWS) {
      throw new RangeError(`stageUniform: ${bytes} bytes of a ${t.byteLength}-byte tensor in rows of ${rowBytes} bytes do not fit ${UNIFORM_STAGING_WINDOWS} uniform windows of ${UNIFORM_STAGING_BYTES} bytes`);
    }
    const size = UNIFORM_STAGING_WINDOWS * UNIFORM_STAGING_BYTES;
    const buffer = (this.uniformStaging ??= this.device.createBuffer({ label: 'uniform staging', size, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST }));
    for (let w = 0; w * windowBytes < bytes; w++) {
      this.copyBuffer(t.buffer, w * windowBytes, buffer, w * UNIFORM_STAGING_BYTES, Math.ceil(Math.min(windowBytes, bytes - w * windowBytes) / 4) * 4);
    }
    return Array.from({ length: UNIFORM_STAGING_WINDOWS }, (_, w) => ({ buffer, offset: w * UNIFORM_STAGING_BYTES, size: UNIFORM_STAGING_BYTES }));
  }

  /** Copies `bytes` bytes between buffers, in order with the recorded dispatches. */
  copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.checkAlive();
    if (bytes === 0) return;
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  // ---- pipelines -----------------------------------------------------------------------------

  private layoutFor(shader: ShaderInfo): GPUBindGroupLayout {
    let layout = this.layouts.get(shader.id);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: shader.id,
        // Params at a dynamic offset into the arena: a bind group outlives one dispatch's params.
        entries: shader.bindings.map((b) => ({ binding: b.binding, visibility: ShaderStage.COMPUTE, buffer: { type: b.kind, hasDynamicOffset: b.kind === 'uniform' && b.name === 'params' } })),
      });
      this.layouts.set(shader.id, layout);
    }
    return layout;
  }

  /** The pipeline for (shader, override values), created once; errors surface at the next sync(). */
  pipeline(shader: ShaderInfo, overrides: Record<string, number> = {}): GPUComputePipeline {
    let callKey = shader.id;
    for (const k in overrides) callKey += `,${k}=${overrides[k]}`;
    const known = this.pipelinesByCall.get(callKey);
    if (known) return known;
    const p = this.createPipeline(shader, overrides);
    this.pipelinesByCall.set(callKey, p);
    return p;
  }

  private createPipeline(shader: ShaderInfo, overrides: Record<string, number>): GPUComputePipeline {
    for (const k of Object.keys(overrides)) {
      if (!shader.overrides.some((o) => o.name === k)) throw new KernelArgError(shader.id, 'overrides', `unknown override '${k}' (has: ${shader.overrides.map((o) => o.name).join(', ') || 'none'})`);
    }
    const key = pipelineKey(shader, overrides);
    let p = this.pipelines.get(key);
    if (p) return p;
    this.checkAlive();
    this.device.pushErrorScope('validation');
    let module = this.modules.get(shader.id);
    if (!module) {
      module = this.device.createShaderModule({ label: shader.id, code: shader.code });
      this.modules.set(shader.id, module);
      this.stats.shaderModules++;
      const m = module;
      this.checks.push(
        m.getCompilationInfo().then((info) => {
          const errs = info.messages.filter((x) => x.type === 'error');
          if (errs.length) throw new KernelCompileError(shader.id, errs.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join('; '));
        }),
      );
    }
    p = this.device.createComputePipeline({
      label: shader.id,
      layout: this.device.createPipelineLayout({ label: shader.id, bindGroupLayouts: [this.layoutFor(shader)] }),
      compute: { module, entryPoint: shader.entry, constants: overrides },
    });
    const scope = this.device.popErrorScope().then((err) => {
      if (err) throw new KernelCompileError(`${shader.id} ${JSON.stringify(overrides)}`, err.message);
    });
    this.checks.push(scope);
    this.pipelines.set(key, p);
    this.specs.push({ shader: shader.id, overrides: { ...overrides } });
    this.stats.pipelines++;
    return p;
  }

  /** The (shader, overrides) of every pipeline created so far: a manifest for warmPipeline. */
  pipelineSpecs(): PipelineSpec[] {
    return this.specs.map((p) => ({ shader: p.shader, overrides: { ...p.overrides } }));
  }

  /**
   * Compiles the pipeline (shader, overrides) now without running it: one dispatch of zero
   * workgroups, given indirectly, over stand-in buffers, submitted on its own. CPU adapters
   * (lavapipe) compile a shader at its first dispatch, seconds for the big ones; warming the
   * pipelines a job will use while its weights load moves that wait off the first use. A shader
   * whose `enable` the device lacks is skipped (false), as is a created pipeline.
   */
  warmPipeline(shader: ShaderInfo, overrides: Record<string, number> = {}): boolean {
    const key = pipelineKey(shader, overrides);
    if (this.pipelines.has(key)) return false;
    if (/^\s*enable\s+subgroups/m.test(shader.code) && !this.features.has('subgroups')) return false;
    if (/^\s*enable\s+f16/m.test(shader.code) && !this.features.has('shader-f16')) return false;
    const pipeline = this.pipeline(shader, overrides);
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST;
    const w = (this.warmBuffers ??= {
      storage: [],
      uniform: this.device.createBuffer({ label: 'warm.uniform', size: UNIFORM_STAGING_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST }),
      indirect: this.device.createBuffer({ label: 'warm.indirect', size: 16, usage: BufferUsage.INDIRECT | BufferUsage.COPY_DST }),
    });
    const entries = shader.bindings.map((b, i) => ({
      binding: b.binding,
      resource: { buffer: b.kind === 'uniform' ? w.uniform : (w.storage[i] ??= this.device.createBuffer({ label: 'warm.storage', size: 1 << 16, usage })) },
    }));
    this.submit();
    const enc = this.device.createCommandEncoder({ label: `warm ${shader.id}` });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    const dynamicOffsets = shader.bindings.some((b) => b.kind === 'uniform' && b.name === 'params') ? [0] : undefined;
    pass.setBindGroup(0, this.device.createBindGroup({ label: `warm ${shader.id}`, layout: this.layoutFor(shader), entries }), dynamicOffsets);
    pass.dispatchWorkgroupsIndirect(w.indirect, 0);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    this.queued++;
    return true;
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private packParams(shader: ShaderInfo, values: Record<string, number> | undefined): GPUBufferBinding | null {
    const layout = shader.params;
    if (!layout) {
      if (values && Object.keys(values).length) throw new KernelArgError(shader.id, 'params', 'shader has no Params struct');
      return null;
    }
    const v = values ?? {};
    for (const k of Object.keys(v)) {
      if (!layout.fields.some((f) => f.name === k)) throw new KernelArgError(shader.id, 'params', `unknown field '${k}'`);
    }
    const align = this.limits.minUniformBufferOffsetAlignment;
    let chunk = this.arena[this.arenaIndex];
    if (chunk && chunk.used + layout.size > ARENA_CHUNK) chunk = this.arena[++this.arenaIndex];
    if (!chunk) {
      chunk = {
        buffer: this.device.createBuffer({ label: 'params arena', size: ARENA_CHUNK, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST }),
        data: new Uint8Array(ARENA_CHUNK),
        used: 0,
      };
      this.arena[this.arenaIndex] = chunk;
    }
    const offset = chunk.used;
    const view = new DataView(chunk.data.buffer, offset, layout.size);
    for (const f of layout.fields) {
      const x = v[f.name];
      if (x === undefined || !Number.isFinite(x) && f.type !== 'f32') throw new KernelArgError(shader.id, `params.${f.name}`, x === undefined ? 'missing' : `not finite: ${x}`);
      if (f.type === 'f32') view.setFloat32(f.offset, x, true);
      else {
        const lo = f.type === 'u32' ? 0 : -(2 ** 31);
        const hi = f.type === 'u32' ? 2 ** 32 - 1 : 2 ** 31 - 1;
        if (!Number.isInteger(x) || x < lo || x > hi) throw new KernelArgError(shader.id, `params.${f.name}`, `${x} is not a valid ${f.type}`);
        if (f.type === 'u32') view.setUint32(f.offset, x, true);
        else view.setInt32(f.offset, x, true);
      }
    }
    chunk.used = Math.ceil((offset + layout.size) / align) * align;
    return { buffer: chunk.buffer, offset, size: layout.size };
  }

  /** Records one dispatch of `shader`. Nothing runs until submit()/sync()/read(). */
  dispatch(shader: ShaderInfo, spec: DispatchSpec): void {
    this.checkAlive();
    const [x, y = 1, z = 1] = spec.workgroups;
    for (const n of [x, y, z]) {
      if (!Number.isInteger(n) || n < 0 || n > this.limits.maxComputeWorkgroupsPerDimension) {
        throw new KernelArgError(shader.id, 'workgroups', `[${x},${y},${z}] must be integers in 0..${this.limits.maxComputeWorkgroupsPerDimension}`);
      }
    }
    const entries: GPUBindGroupEntry[] = [];
    let key = shader.id;
    let dynamicOffsets: number[] | undefined;
    for (const b of shader.bindings) {
      if (b.kind === 'uniform' && b.name === 'params') {
        const res = this.packParams(shader, spec.params);
        if (res) {
          entries.push({ binding: b.binding, resource: { buffer: res.buffer, offset: 0, size: res.size } });
          dynamicOffsets = [res.offset!];
          key += `|${this.bufferId(res.buffer)}`;
        }
        continue;
      }
      const t = spec.bindings[b.name];
      if (!t) throw new KernelArgError(shader.id, b.name, 'binding not provided');
      const res: GPUBufferBinding =
        t instanceof Tensor
          ? { buffer: t.buffer, offset: 0, size: Math.min(t.buffer.size, Math.max(16, Math.ceil(t.byteLength / 16) * 16)) }
          : { buffer: t.buffer, offset: t.offset ?? 0, size: t.size };
      const [limit, limitName] = b.kind === 'uniform' ? [UNIFORM_STAGING_BYTES, 'maxUniformBufferBindingSize'] : [this.limits.maxStorageBufferBindingSize, 'maxStorageBufferBindingSize'];
      if (res.size! > limit) {
        throw new KernelArgError(shader.id, b.name, `binding of ${res.size} bytes exceeds ${limitName} ${limit}; bind it in chunks`);
      }
      entries.push({ binding: b.binding, resource: res });
      key += `|${this.bufferId(res.buffer)}:${res.offset}:${res.size}`;
    }
    for (const name of Object.keys(spec.bindings)) {
      if (!shader.bindings.some((b) => b.name === name)) throw new KernelArgError(shader.id, name, 'shader has no binding with this name');
    }
    const pipeline = this.pipeline(shader, spec.overrides);
    let bindGroup = this.bindGroups.get(key);
    if (!bindGroup) {
      bindGroup = this.device.createBindGroup({ label: shader.id, layout: this.layoutFor(shader), entries });
      // Oldest first out: keys of destroyed buffers never come back (ids are not reused).
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.delete(this.bindGroups.keys().next().value!);
      this.bindGroups.set(key, bindGroup);
    }
    if (x * y * z === 0) return;
    if (!this.pass) this.pass = this.getEncoder().beginComputePass({ label: 'videoworld', timestampWrites: this.passTimestamps?.() });
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup, dynamicOffsets);
    this.pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
  }

  /** A number per GPUBuffer object for bind-group keys (a WeakMap: buffers are not kept alive). */
  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }

  private getEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'videoworld' });
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  // ---- submission ----------------------------------------------------------------------------

  private checkAlive(): void {
    if (this.destroyed) throw new DeviceError('GpuContext used after destroy()');
    if (this.lostInfo) throw new DeviceError(this.lostInfo);
    if (this.errors.length) {
      const e = this.errors.shift()!;
      this.errors = [];
      throw e;
    }
  }

  /** Submits everything recorded since the last submit as one command buffer. */
  submit(): void {
    this.checkAlive();
    this.endPass();
    for (let i = 0; i <= this.arenaIndex && i < this.arena.length; i++) {
      const c = this.arena[i]!;
      if (c.used) {
        this.device.queue.writeBuffer(c.buffer, 0, c.data, 0, c.used);
        this.queued++;
      }
      c.used = 0;
    }
    this.arenaIndex = 0;
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.queued++;
      this.encoder = null;
      this.stats.submits++;
    }
    this.pool.afterSubmit();
  }

  /** Submits, waits for the GPU, and throws any compile, validation or device-loss error. */
  async sync(): Promise<void> {
    this.submit();
    const upTo = this.queued;
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostPromise]);
    this.finished = Math.max(this.finished, upTo);
    await this.drainChecks();
    this.checkAlive();
  }

  private async drainChecks(): Promise<void> {
    const checks = this.checks;
    this.checks = [];
    const results = await Promise.allSettled(checks);
    const bad = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (bad) throw bad.reason;
  }

  /** Reads `bytes` bytes of a buffer to the CPU after all recorded work. */
  async readBuffer(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.checkAlive();
    if (bytes === 0) return new ArrayBuffer(0);
    const size = bucketSize(bytes, this.limits.maxBufferSize);
    const staging =
      this.staging.get(size)?.pop() ??
      this.device.createBuffer({ label: 'readback', size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.copyBuffer(buffer, offset, staging, 0, Math.ceil(bytes / 4) * 4);
    this.submit();
    const upTo = this.queued;
    try {
      await Promise.race([staging.mapAsync(MapMode.READ, 0, size), this.lostPromise]);
    } catch (e) {
      if (this.destroyed) throw new DeviceError('GpuContext destroyed during a read');
      throw e;
    }
    this.finished = Math.max(this.finished, upTo);
    // destroy() came while the read waited: its buffers may be gone already, this one is ours.
    if (this.destroyed) {
      staging.destroy();
      throw new DeviceError('GpuContext destroyed during a read');
    }
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    const list = this.staging.get(size) ?? [];
    list.push(staging);
    this.staging.set(size, list);
    await this.drainChecks();
    this.checkAlive();
    return out;
  }

  /**
   * Destroys every pooled buffer and the device; the context refuses work from now on. With
   * queue work still running (an upload or submit not yet waited for) the destruction waits for
   * it, since destroying a device under running work crashes lavapipe's queue thread (a freed
   * mutex): await the result before the process ends.
   */
  destroy(): Promise<void> {
    if (this.destroyed) return this.gone;
    this.destroyed = true;
    this.encoder = null;
    this.pass = null;
    const free = () => {
      this.pool.destroy();
      for (const l of this.staging.values()) for (const b of l) b.destroy();
      for (const c of this.arena) c.buffer.destroy();
      this.device.destroy();
      this.onDestroy?.();
    };
    if (this.finished === this.queued) free();
    else this.gone = Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostPromise]).catch(() => {}).then(free);
    return this.gone;
  }
}

/**
 * Acquires an adapter and device. In a browser pass nothing (uses navigator.gpu) or your own
 * `device`; in Node use `createNodeContext` from `videoworld-webgpu/node`, which passes Dawn's GPU.
 */
export async function createContext(options: ContextOptions = {}): Promise<GpuContext> {
  if (options.device) {
    const own = (options.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const ctx = new GpuContext(options.device, own ? describeAdapter(own) : 'caller-provided device', options.onDestroy, options.adapterClass);
    if (options.log) for (const l of ctx.describe()) options.log(l);
    return ctx;
  }
  const hint = options.noAdapterHint ?? 'use a browser with WebGPU enabled';
  let adapter = options.adapter ?? null;
  const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!adapter) {
    if (!gpu) throw new NoAdapterError(`No WebGPU implementation found (navigator.gpu is missing). ${hint}`);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  }
  if (!adapter) throw new NoAdapterError(`No WebGPU adapter found. ${hint}`);
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMIT_NAMES) {
    requiredLimits[k] = Number(adapter.limits[k]);
  }
  for (const f of options.disableFeatures ?? []) {
    if (!OPTIONAL_FEATURES.includes(f)) throw new RangeError(`createContext: disableFeatures: unknown feature '${f}' (one of ${OPTIONAL_FEATURES.join(', ')})`);
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter!.features.has(f) && !options.disableFeatures?.includes(f));
  const device = await adapter.requestDevice({ label: 'videoworld', requiredLimits, requiredFeatures });
  const desc = describeAdapter(adapter.info);
  const ctx = new GpuContext(device, desc, options.onDestroy, options.adapterClass);
  if (options.log) for (const l of ctx.describe()) options.log(l);
  return ctx;
}

function describeAdapter(info: GPUAdapterInfo | undefined): string {
  return [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' / ') || 'unknown adapter';
}
