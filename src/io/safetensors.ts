/**
 * Safetensors reader and writer (https://huggingface.co/docs/safetensors): 8-byte LE header
 * length N, N bytes of JSON, then raw little-endian data. The reader validates everything it is
 * given before touching data: header size bound, dtypes, shapes, offsets inside the buffer,
 * byte counts that match the shape, and no overlapping tensors.
 */

import { floatToHalf, halfToFloat, toHalves } from '../../kernels/core/ref_math.js';

export { floatToHalf, halfToFloat, toHalves };
export const SAFETENSORS_DTYPES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
} as const;
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** Largest JSON header accepted (the format's own reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorRecord {
  dtype: SafetensorsDType;
  shape: number[];
  /** Raw little-endian bytes, or a typed array whose element type matches dtype. */
  data: Uint8Array | Float32Array | Int32Array | Uint32Array | Float64Array | BigInt64Array | Uint16Array | Int8Array | Int16Array;
}

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range inside the file. */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(source: string, detail: string) {
    super(`safetensors ${source}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

/** A parsed safetensors file: its header entries and views of the tensor bytes (parseSafetensors). */
export class SafetensorsFile {
  constructor(
    readonly source: string,
    readonly bytes: Uint8Array,
    readonly metadata: Record<string, string>,
    readonly entries: Map<string, TensorEntry>,
  ) {}

  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(this.source, `no tensor '${name}' (has ${this.entries.size}: ${this.names.slice(0, 8).join(', ')}${this.entries.size > 8 ? ', ...' : ''})`);
    return e;
  }

  /** The raw bytes of a tensor (a view, no copy). */
  raw(name: string): Uint8Array {
    const e = this.entry(name);
    return this.bytes.subarray(e.begin, e.end);
  }

  /** A tensor as Float32Array, converting F16/BF16/F64/integer dtypes (into `into` when it is large enough: decodeF32). */
  f32(name: string, into?: Float32Array): Float32Array {
    const e = this.entry(name);
    return decodeF32(e.dtype, this.bytes.subarray(e.begin, e.end), e.shape.reduce((a, b) => a * b, 1), `${this.source}: ${name}`, into);
  }

  /** An F16 tensor's bits (a view, or a copy when the data is not 2-byte aligned); null for other dtypes. */
  halves(name: string): Uint16Array | null {
    const e = this.entry(name);
    return e.dtype === 'F16' && LITTLE_ENDIAN ? halvesOf(this.bytes.subarray(e.begin, e.end)) : null;
  }

  /** An integer or bool tensor as Int32Array (I64 values must fit in int32). */
  i32(name: string): Int32Array {
    const ints = this.ints(name);
    const out = new Int32Array(ints.length);
    for (let i = 0; i < ints.length; i++) {
      const v = ints[i]!;
      if (v !== (v | 0)) throw new SafetensorsError(this.source, `${name}[${i}] = ${v} does not fit in int32`);
      out[i] = v;
    }
    return out;
  }

  private ints(name: string): number[] {
    const e = this.entry(name);
    if (/^(F|BF)/.test(e.dtype)) throw new SafetensorsError(this.source, `${name} has dtype ${e.dtype}, expected an integer dtype`);
    const get = elementReader(e.dtype, new DataView(this.bytes.buffer, this.bytes.byteOffset + e.begin, e.end - e.begin));
    return Array.from({ length: e.shape.reduce((a, b) => a * b, 1) }, (_, i) => get(i));
  }

  /** Parsed JSON of a metadata value. */
  metaJson<T = unknown>(key: string): T {
    const v = this.metadata[key];
    if (v === undefined) throw new SafetensorsError(this.source, `no metadata key '${key}'`);
    return JSON.parse(v) as T;
  }
}

/** `into`'s first n values when it is large enough, else a new array (WeightSource.f32's `into` contract). */
export function scratchView(into: Float32Array | undefined, n: number): Float32Array {
  return into && into.length >= n ? into.subarray(0, n) : new Float32Array(n);
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian F16 bytes as a Uint16Array (a view when 2-byte aligned). */
export function halvesOf(bytes: Uint8Array): Uint16Array {
  const b = bytes.byteOffset % 2 ? bytes.slice() : bytes;
  return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
}
let halfTable: Float32Array | null = null;

/**
 * `n` little-endian values of `dtype` as float32 (floats rounded, ints and bools converted), written
 * into `into`'s first n values (and a view of them returned) when it holds at least n, else into a
 * new array.
 */
export function decodeF32(dtype: SafetensorsDType, bytes: Uint8Array, n: number, what = 'tensor', into?: Float32Array): Float32Array {
  if (bytes.byteLength !== n * SAFETENSORS_DTYPES[dtype]) throw new SafetensorsError(what, `${bytes.byteLength} bytes for ${n} ${dtype} values`);
  // The checkpoint dtypes through typed-array views (a 160005 x 1024 f16 table: ~0.5 s instead of
  // ~15 s per element through a DataView); other dtypes and big-endian hosts element by element.
  if (LITTLE_ENDIAN && (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16')) {
    const out = scratchView(into, n);
    if (dtype === 'F32') {
      // A byte copy: no aligned detour for a tensor at an odd offset.
      new Uint8Array(out.buffer, out.byteOffset, 4 * n).set(bytes);
      return out;
    }
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    const h = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
    if (dtype === 'BF16') {
      const bits = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) bits[i] = h[i]! << 16;
    } else {
      const table = (halfTable ??= Float32Array.from({ length: 65536 }, (_, b) => halfToFloat(b)));
      for (let i = 0; i < n; i++) out[i] = table[h[i]!]!;
    }
    return out;
  }
  const get = elementReader(dtype, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out = scratchView(into, n);
  for (let i = 0; i < n; i++) out[i] = get(i);
  return out;
}

/** Reads element i of a little-endian `dtype` array as a JS number (I64/U64 exact up to 2^53). */
export function elementReader(dtype: SafetensorsDType, dv: DataView): (i: number) => number {
  switch (dtype) {
    case 'F32': return (i) => dv.getFloat32(i * 4, true);
    case 'F64': return (i) => dv.getFloat64(i * 8, true);
    case 'F16': return (i) => halfToFloat(dv.getUint16(i * 2, true));
    case 'BF16': return (i) => bf16ToFloat(dv.getUint16(i * 2, true));
    case 'I64': return (i) => Number(dv.getBigInt64(i * 8, true));
    case 'U64': return (i) => Number(dv.getBigUint64(i * 8, true));
    case 'I32': return (i) => dv.getInt32(i * 4, true);
    case 'U32': return (i) => dv.getUint32(i * 4, true);
    case 'I16': return (i) => dv.getInt16(i * 2, true);
    case 'U16': return (i) => dv.getUint16(i * 2, true);
    case 'I8': return (i) => dv.getInt8(i);
    case 'U8':
    case 'BOOL': return (i) => dv.getUint8(i);
  }
}

export function bf16ToFloat(b: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, b << 16, true);
  return dv.getFloat32(0, true);
}

/** Parses and validates a whole safetensors buffer (no copies of tensor data). */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const h = parseSafetensorsHeader(bytes, bytes.byteLength, source);
  return new SafetensorsFile(source, bytes, h.metadata, h.entries);
}

/** The JSON header length N stored in the first 8 bytes, checked against the limit and the file size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, source = '<buffer>'): number {
  if (fileSize < 8 || first8.byteLength < 8) throw new SafetensorsError(source, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new SafetensorsError(source, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + n > fileSize) throw new SafetensorsError(source, `header length ${n} runs past the end of the file (${fileSize} bytes)`);
  return n;
}

/**
 * Validates the header of a safetensors file of `fileSize` bytes given only its first 8 + N bytes
 * (`head` may hold more), so that a large file can be inspected or read lazily.
 */
export function parseSafetensorsHeader(head: Uint8Array, fileSize: number, source = '<buffer>'): { metadata: Record<string, string>; entries: Map<string, TensorEntry>; dataStart: number } {
  const fail = (d: string) => new SafetensorsError(source, d);
  const n = safetensorsHeaderLength(head, fileSize, source);
  if (head.byteLength < 8 + n) throw fail(`header needs ${8 + n} bytes, ${head.byteLength} given`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n)));
  } catch (e) {
    throw fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, TensorEntry>();
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw fail(`__metadata__.${k} must be a string`);
        metadata[k] = s;
      }
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) throw fail(`${name}: entry is not an object`);
    if (typeof t.dtype !== 'string' || !(t.dtype in SAFETENSORS_DTYPES)) throw fail(`${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
    const dtype = t.dtype as SafetensorsDType;
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw fail(`${name}: shape must be an array of non-negative integers`);
    const shape = t.shape as number[];
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0)) throw fail(`${name}: data_offsets must be [begin, end]`);
    const [b, e] = offs as [number, number];
    if (b > e || e > dataLen) throw fail(`${name}: data_offsets [${b},${e}] outside the data section (${dataLen} bytes)`);
    let count = 1;
    for (const d of shape) count *= d;
    if (count * SAFETENSORS_DTYPES[dtype] !== e - b) throw fail(`${name}: ${dtype}[${shape.join(',')}] needs ${count * SAFETENSORS_DTYPES[dtype]} bytes, data_offsets give ${e - b}`);
    entries.set(name, { name, dtype, shape, begin: dataStart + b, end: dataStart + e });
  }
  const sorted = [...entries.values()].sort((x, y) => x.begin - y.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end && sorted[i]!.end > sorted[i]!.begin) throw fail(`tensors ${sorted[i - 1]!.name} and ${sorted[i]!.name} overlap`);
  }
  return { metadata, entries, dataStart };
}

export interface TensorSpec {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
}

export interface SafetensorsLayout {
  /** The 8-byte length and the space-padded JSON header: the file's first bytes. */
  header: Uint8Array;
  /** Tensors in file order with data-section offsets [begin, end). */
  tensors: (TensorSpec & { begin: number; end: number })[];
  dataBytes: number;
}

/** Header and data layout of a safetensors file; 8-byte dtypes first so every tensor is aligned to its element size. */
export function safetensorsLayout(specs: TensorSpec[], metadata?: Record<string, string>): SafetensorsLayout {
  for (const t of specs) if (!(t.dtype in SAFETENSORS_DTYPES)) throw new SafetensorsError(t.name, `unknown dtype ${t.dtype}`);
  const sorted = [...specs].sort((x, y) => SAFETENSORS_DTYPES[y.dtype] - SAFETENSORS_DTYPES[x.dtype] || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const json: Record<string, unknown> = {};
  if (metadata) json.__metadata__ = metadata;
  let off = 0;
  const tensors: SafetensorsLayout['tensors'] = [];
  for (const t of sorted) {
    if (t.name in json) throw new SafetensorsError(t.name, 'duplicate tensor name');
    const n = t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[t.dtype];
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    tensors.push({ ...t, begin: off, end: off + n });
    off += n;
  }
  const enc = new TextEncoder();
  let hb = enc.encode(JSON.stringify(json));
  const pad = (8 - (hb.byteLength % 8)) % 8;
  if (pad) hb = enc.encode(JSON.stringify(json) + ' '.repeat(pad));
  const header = new Uint8Array(8 + hb.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  header.set(hb, 8);
  return { header, tensors, dataBytes: off };
}

/** Serializes tensors (layout as in safetensorsLayout). */
export function serializeSafetensors(tensors: Record<string, TensorRecord>, metadata?: Record<string, string>): Uint8Array {
  const specs: TensorSpec[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t.dtype in SAFETENSORS_DTYPES)) throw new SafetensorsError(name, `unknown dtype ${t.dtype}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.byteLength !== count * SAFETENSORS_DTYPES[t.dtype]) {
      throw new SafetensorsError(name, `${t.dtype}[${t.shape.join(',')}] needs ${count * SAFETENSORS_DTYPES[t.dtype]} bytes, got ${t.data.byteLength}`);
    }
    specs.push({ name, dtype: t.dtype, shape: t.shape });
  }
  const layout = safetensorsLayout(specs, metadata);
  const out = new Uint8Array(layout.header.byteLength + layout.dataBytes);
  out.set(layout.header, 0);
  for (const t of layout.tensors) {
    const d = tensors[t.name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), layout.header.byteLength + t.begin);
  }
  return out;
}
