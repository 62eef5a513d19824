/**
 * The peer libraries, loaded lazily and once per process, all on the Dawn instance that
 * bench/run.ts installs as `navigator.gpu` (the one our GpuContext uses), so every WebGPU figure
 * comes from the same adapter. Each loader throws `Unavailable` with the reason when its peer
 * cannot run here (not installed: it names the install command).
 *
 * They resolve from bench/peers/node_modules (this folder's package.json, installed by
 * `npm run bench:peers:install`, never by the root `npm ci`); `webgpu` and our own modules resolve
 * from the repository root as usual.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BufferUsage, MapMode } from '../../kernels/core/constants.js';
import { Unavailable } from '../harness.js';

const require = createRequire(import.meta.url);

function navigatorGpu(): GPU {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Unavailable('navigator.gpu is not set (bench/run.ts installs Dawn there)');
  return gpu;
}

function describe(info: GPUAdapterInfo | undefined): string {
  return [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= load());
}

/** The command that installs the peer libraries (bench/peers/package.json) into bench/peers/node_modules. */
export const INSTALL_PEERS = 'npm run bench:peers:install';

async function loadError(name: string, e: unknown): Promise<never> {
  if (e instanceof Unavailable) throw e;
  const code = (e as { code?: string }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    throw new Unavailable(`${name} is not installed (bench/peers/node_modules): run \`${INSTALL_PEERS}\``);
  }
  throw new Unavailable(`${name} failed to load: ${(e as Error).message ?? String(e)}`);
}

export type OrtWeb = typeof import('onnxruntime-web');
export type OrtNode = typeof import('onnxruntime-node');

/**
 * onnxruntime-web's WebGPU execution provider on a device we create from the shared adapter.
 * The wasm binary is passed as bytes (Node cannot fetch it) and runs single-threaded; its heap is
 * a SharedArrayBuffer, which Dawn's queue.writeBuffer rejects, so those uploads are copied first.
 */
export const ortWeb = once(async () => {
  try {
    const gpu = navigatorGpu();
    const ort = (await import('onnxruntime-web/webgpu')) as unknown as OrtWeb;
    ort.env.wasm.wasmBinary = readFileSync(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm'));
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Unavailable('no WebGPU adapter');
    const requiredFeatures = (['timestamp-query', 'shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    const write = device.queue.writeBuffer.bind(device.queue);
    device.queue.writeBuffer = ((buffer: GPUBuffer, offset: number, data: GPUAllowSharedBufferSource, ...rest: number[]) => {
      // slice() of a typed array allocates a plain ArrayBuffer of the same element type, so the
      // element-based dataOffset/size arguments keep their meaning.
      const plain = ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer ? (data as Uint8Array).slice() : data;
      return write(buffer, offset, plain, ...rest);
    }) as GPUQueue['writeBuffer'];
    return { ort, device, adapter: describe(adapter.info) };
  } catch (e) {
    return loadError('onnxruntime-web', e);
  }
});

/** Session options that make a CPU fallback fail session creation instead of posing as WebGPU. */
export function ortWebSessionOptions(device: GPUDevice): import('onnxruntime-web').InferenceSession.SessionOptions {
  return {
    executionProviders: [{ name: 'webgpu', device } as import('onnxruntime-web').InferenceSession.ExecutionProviderConfig],
    preferredOutputLocation: 'gpu-buffer',
    extra: { session: { disable_cpu_ep_fallback: '1' } },
  };
}

/** A storage buffer on `device` holding `data`. */
export function gpuBuffer(device: GPUDevice, data: Float32Array | number): GPUBuffer {
  const bytes = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Reads `n` floats of a buffer on any device. */
export async function readGpuBuffer(device: GPUDevice, buffer: GPUBuffer, n: number): Promise<Float32Array> {
  const size = Math.ceil((n * 4) / 16) * 16;
  const staging = device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0, n * 4));
  staging.destroy();
  return out;
}

/** Native onnxruntime (CPU execution provider, both cores): the ceiling of this machine's CPU. */
export const ortNode = once(async () => {
  try {
    return (await import('onnxruntime-node')) as unknown as OrtNode;
  } catch (e) {
    return loadError('onnxruntime-node', e);
  }
});

export type Tf = typeof import('@tensorflow/tfjs');

/**
 * TF.js with the WebGPU backend. The backend registers itself only if navigator.gpu exists when
 * its module loads, which bench/run.ts guarantees by installing Dawn before any case is imported.
 */
export const tfjs = once(async () => {
  try {
    navigatorGpu();
    const tf = (await import('@tensorflow/tfjs')) as unknown as Tf;
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Unavailable('tf.setBackend("webgpu") returned false');
    await tf.ready();
    const backend = tf.backend() as unknown as { device: GPUDevice; adapterInfo?: { vendor?: string; architecture?: string }; submitQueue(): void };
    const info = backend.adapterInfo;
    return { tf, backend, adapter: info ? [info.vendor, info.architecture].filter(Boolean).join(' / ') : 'unknown adapter' };
  } catch (e) {
    return loadError('@tensorflow/tfjs-backend-webgpu', e);
  }
});

export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  setOutput(o: number[]): GpuJsKernel;
  setConstants(c: Record<string, number>): GpuJsKernel;
  setPipeline(p: boolean): GpuJsKernel;
  constructor: { name: string; mode?: string };
}
export interface GpuJs {
  mode: string;
  createKernel(fn: (...args: never[]) => number, settings?: Record<string, unknown>): GpuJsKernel;
  destroy(): void | Promise<void>;
}

/** gpu.js; `mode` 'webgpu' uses navigator.gpu, 'gpu' picks what the platform has (reported). */
export async function gpuJs(mode: 'webgpu' | 'gpu'): Promise<GpuJs> {
  try {
    if (mode === 'webgpu') navigatorGpu();
    const { GPU } = (await import('gpu.js')) as unknown as { GPU: new (s: { mode: string }) => GpuJs };
    return new GPU({ mode });
  } catch (e) {
    return loadError('gpu.js', e);
  }
}
