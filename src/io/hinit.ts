/**
 * hinit-v1: the integer-hash weight generator of ../shared/golden (README "Weights: hinit-v1").
 * Bit-exact with the Python generator that filled the golden checkpoints.
 */

/** FNV-1a 32-bit over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The seed of one tensor: fnv1a32(caseId + ":" + key). */
export function hinitSeed(caseId: string, key: string): number {
  return fnv1a32(`${caseId}:${key}`);
}

/** Fills `out` (or a new Float32Array of n) with hinit-v1 values for (seed, scale, offset). */
export function hinit(n: number, seed: number, scale: number, offset: number, out: Float32Array = new Float32Array(n)): Float32Array {
  const f = Math.fround;
  const s = f(scale);
  const o = f(offset);
  for (let i = 0; i < n; i++) {
    let x = (seed + Math.imul(i, 0x9e3779b9)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35) >>> 0;
    x ^= x >>> 16;
    const r = ((x >>> 8) - 0x800000) / 0x800000;
    out[i] = f(f(r * s) + o);
  }
  return out;
}
