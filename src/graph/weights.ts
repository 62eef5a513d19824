/** Where module parameters come from: a safetensors file, a key-renamed view, or hinit-v1. */
import { ropeInvFreq } from '../../kernels/index.js';
import { hinit, hinitSeed } from '../io/hinit.js';
import { type SafetensorsFile, scratchView } from '../io/safetensors.js';
import { SeededRng } from './rng.js';

export interface WeightSource {
  keys(): string[];
  /** The shape of `key`, or undefined when absent. */
  shape(key: string): readonly number[] | undefined;
  /**
   * The tensor converted to f32 (file-backed sources read it on demand). With `into` (at least the
   * tensor's size) a source may fill and return a view of it instead of a new array, valid until
   * `into` is reused: a loader passes one scratch array so that a checkpoint's tensors do not each
   * take fresh memory (first touch of new memory is slow in a VM; Module.load does this).
   */
  f32(key: string, into?: Float32Array): Float32Array | Promise<Float32Array>;
  /**
   * The tensor's f16 bits when it is stored as f16 (null otherwise): f16 inference weights take
   * them as they are, with no f32 detour on the host. `into` as for f32 (in halves).
   */
  halves?(key: string, into?: Uint16Array): Uint16Array | null | Promise<Uint16Array | null>;
}

/** Tensors of a safetensors file (optionally only those under `prefix`, with it stripped). */
export function safetensorsSource(file: SafetensorsFile, prefix = ''): WeightSource {
  const full = (k: string) => prefix + k;
  return {
    keys: () => file.names.filter((n) => n.startsWith(prefix) && !/^(in|out|aux|const|ref64)\//.test(n)).map((n) => n.slice(prefix.length)),
    shape: (k) => (file.has(full(k)) ? file.entry(full(k)).shape : undefined),
    f32: (k, into) => file.f32(full(k), into),
    halves: (k) => file.halves(full(k)),
  };
}

/** Weights regenerated with hinit-v1 from a golden file's `init_manifest` {key: [seed, scale, offset]}. */
export function hinitSource(manifest: Record<string, [number, number, number]>, shapes: Record<string, readonly number[]>, caseId?: string): WeightSource {
  return {
    keys: () => Object.keys(manifest),
    shape: (k) => (k in manifest ? shapes[k] : undefined),
    f32: (k, into) => {
      const m = manifest[k];
      const s = shapes[k];
      if (!m || !s) throw new Error(`hinit: no manifest entry or shape for ${k}`);
      if (caseId !== undefined && hinitSeed(caseId, k) !== m[0]) throw new Error(`hinit: seed of ${k} does not match fnv1a32("${caseId}:${k}")`);
      const n = s.reduce((a, b) => a * b, 1);
      return hinit(n, m[0], m[1], m[2], scratchView(into, n));
    },
  };
}

/**
 * Fresh weights for training from scratch, seeded per key (fnv1a32(seed:key) into mulberry32):
 * matrices and conv kernels U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch's Linear/Conv default bound),
 * embedding tables U(-0.035, 0.035) (std 0.02, InternLM's init), biases 0, norm weights 1, RoPE's
 * inv_freq its base-10000 values, the LDM's positional-encoding matrix N(0, 1) (SAM's
 * PositionEmbeddingRandom: a fixed buffer, so a small init would leave the encoding near constant).
 */
export function randomInitSource(params: Iterable<{ key: string; shape: readonly number[] }>, seed = 0): WeightSource {
  const shapes = new Map<string, readonly number[]>();
  for (const p of params) shapes.set(p.key, p.shape);
  return {
    keys: () => [...shapes.keys()],
    shape: (k) => shapes.get(k),
    f32: (k) => {
      const s = shapes.get(k);
      if (!s) throw new Error(`randomInitSource: no parameter ${k}`);
      const n = s.reduce((a, b) => a * b, 1);
      const out = new Float32Array(n);
      if (k.endsWith('rotary_emb.inv_freq')) return ropeInvFreq(2 * n);
      if (s.length === 1) return k.endsWith('bias') ? out : out.fill(1);
      const rng = new SeededRng(hinitSeed(String(seed), k));
      if (k.endsWith('positional_encoding_gaussian_matrix')) {
        // Box-Muller; 1 - next() keeps the log away from 0.
        for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
        return out;
      }
      const bound = /embed/.test(k) ? 0.02 * Math.sqrt(3) : 1 / Math.sqrt(n / s[0]!);
      for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * bound;
      return out;
    },
  };
}
