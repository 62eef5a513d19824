/** Where module parameters come from: a safetensors file, a key-renamed view, or hinit-v1. */
import { hinit, hinitSeed } from '../io/hinit.js';
import type { SafetensorsFile } from '../io/safetensors.js';

export interface WeightSource {
  keys(): string[];
  /** The shape of `key`, or undefined when absent. */
  shape(key: string): readonly number[] | undefined;
  /** The tensor converted to f32 (file-backed sources read it on demand). */
  f32(key: string): Float32Array | Promise<Float32Array>;
}

/** Tensors of a safetensors file (optionally only those under `prefix`, with it stripped). */
export function safetensorsSource(file: SafetensorsFile, prefix = ''): WeightSource {
  const full = (k: string) => prefix + k;
  return {
    keys: () => file.names.filter((n) => n.startsWith(prefix) && !/^(in|out|aux|const|ref64)\//.test(n)).map((n) => n.slice(prefix.length)),
    shape: (k) => (file.has(full(k)) ? file.entry(full(k)).shape : undefined),
    f32: (k) => file.f32(full(k)),
  };
}

/** Weights regenerated with hinit-v1 from a golden file's `init_manifest` {key: [seed, scale, offset]}. */
export function hinitSource(manifest: Record<string, [number, number, number]>, shapes: Record<string, readonly number[]>, caseId?: string): WeightSource {
  return {
    keys: () => Object.keys(manifest),
    shape: (k) => (k in manifest ? shapes[k] : undefined),
    f32: (k) => {
      const m = manifest[k];
      const s = shapes[k];
      if (!m || !s) throw new Error(`hinit: no manifest entry or shape for ${k}`);
      if (caseId !== undefined && hinitSeed(caseId, k) !== m[0]) throw new Error(`hinit: seed of ${k} does not match fnv1a32("${caseId}:${k}")`);
      return hinit(
        s.reduce((a, b) => a * b, 1),
        m[0],
        m[1],
        m[2],
      );
    },
  };
}
