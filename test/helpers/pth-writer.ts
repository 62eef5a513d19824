/**
 * A small torch.save imitation for tests, fuzzing and benchmarks: pickles (protocol 2, the opcodes
 * torch emits) of containers and tensors, packed into a stored zip the way torch lays it out
 * (`<archive>/data.pkl`, `<archive>/data/<key>`, `<archive>/version`), optionally with zip64
 * records or a deflated data.pkl to reach the reader's other paths.
 */
import { deflateSync } from 'fflate';
import { STORAGE_DTYPES } from '../../src/io/pth.js';
import type { SafetensorsDType } from '../../src/io/safetensors.js';
import { crc32 } from '../../src/io/zip.js';

export class TStorage {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDType,
    readonly bytes: Uint8Array,
    readonly itemsize: number,
  ) {}
  get numel(): number {
    return this.bytes.byteLength / this.itemsize;
  }
}

export class TTensor {
  constructor(
    readonly storage: TStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly parameter = false,
  ) {}
}

export class TTuple {
  constructor(readonly items: Py[]) {}
}

/** collections.OrderedDict, with the `_metadata` attribute torch state dicts carry when `metadata` is set. */
export class TOrderedDict {
  constructor(
    readonly entries: [Py, Py][],
    readonly metadata?: Py,
  ) {}
}

/** A call of an arbitrary global (to make forbidden or opaque objects): REDUCE(module.name, args). */
export class TCall {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: Py[],
  ) {}
}

export type Py = null | boolean | number | bigint | string | Uint8Array | Py[] | TTuple | Map<Py, Py> | TOrderedDict | TTensor | TCall;

const STORAGE_CLASS = Object.fromEntries(Object.entries(STORAGE_DTYPES).map(([cls, dt]) => [dt, cls])) as Record<SafetensorsDType, string>;
const ITEMSIZE: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };

export function storage(key: string, dtype: SafetensorsDType, data: ArrayBufferView): TStorage {
  return new TStorage(key, dtype, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ITEMSIZE[dtype]);
}

/** A contiguous tensor over its own storage. */
export function tensor(key: string, dtype: SafetensorsDType, shape: number[], data: ArrayBufferView): TTensor {
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return new TTensor(storage(key, dtype, data), 0, shape, stride);
}

class Out {
  private chunks: number[] = [];
  byte(...b: number[]) {
    for (const x of b) this.chunks.push(x & 0xff);
  }
  u32(v: number) {
    this.byte(v, v >>> 8, v >>> 16, v >>> 24);
  }
  raw(b: Uint8Array) {
    for (const x of b) this.chunks.push(x);
  }
  text(s: string) {
    this.raw(new TextEncoder().encode(s));
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Pickles `obj` with protocol-2 opcodes; storages referenced by tensors are collected into `storages`. */
export function picklePy(obj: Py, storages = new Map<string, TStorage>()): Uint8Array {
  const o = new Out();
  const global = (m: string, n: string) => {
    o.byte(0x63);
    o.text(`${m}\n${n}\n`);
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    o.byte(0x58);
    o.u32(b.length);
    o.raw(b);
  };
  const put = (v: Py): void => {
    if (v === null) o.byte(0x4e);
    else if (v === true) o.byte(0x88);
    else if (v === false) o.byte(0x89);
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) o.byte(0x4b, v);
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 65536) o.byte(0x4d, v, v >> 8);
    else if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
      o.byte(0x4a);
      o.u32(v >>> 0);
    } else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
      let x = BigInt(v);
      const b: number[] = [];
      for (;;) {
        b.push(Number(x & 0xffn));
        x >>= 8n;
        if ((x === 0n && !(b[b.length - 1]! & 0x80)) || (x === -1n && b[b.length - 1]! & 0x80)) break;
      }
      o.byte(0x8a, b.length, ...b);
    } else if (typeof v === 'number') {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setFloat64(0, v, false);
      o.byte(0x47);
      o.raw(new Uint8Array(dv.buffer));
    } else if (typeof v === 'string') str(v);
    else if (v instanceof Uint8Array) {
      // Protocol 2 spelling of bytes.
      global('_codecs', 'encode');
      str(String.fromCharCode(...v));
      str('latin1');
      o.byte(0x86, 0x52);
    } else if (Array.isArray(v)) {
      o.byte(0x5d, 0x28);
      for (const x of v) put(x);
      o.byte(0x65);
    } else if (v instanceof TTuple) {
      o.byte(0x28);
      for (const x of v.items) put(x);
      o.byte(0x74);
    } else if (v instanceof Map) {
      o.byte(0x7d, 0x28);
      for (const [k, x] of v) {
        put(k);
        put(x);
      }
      o.byte(0x75);
    } else if (v instanceof TOrderedDict) {
      global('collections', 'OrderedDict');
      o.byte(0x29, 0x52, 0x28);
      for (const [k, x] of v.entries) {
        put(k);
        put(x);
      }
      o.byte(0x75);
      if (v.metadata !== undefined) {
        put(new Map<Py, Py>([['_metadata', v.metadata]]));
        o.byte(0x62);
      }
    } else if (v instanceof TCall) {
      global(v.module, v.name);
      put(new TTuple(v.args));
      o.byte(0x52);
    } else if (v instanceof TTensor) {
      const s = v.storage;
      const prev = storages.get(s.key);
      if (prev && prev !== s) throw new Error(`two storages named ${s.key}`);
      storages.set(s.key, s);
      if (v.parameter) global('torch._utils', '_rebuild_parameter');
      global('torch._utils', '_rebuild_tensor_v2');
      o.byte(0x28, 0x28);
      str('storage');
      global('torch', STORAGE_CLASS[s.dtype]);
      str(s.key);
      str('cpu');
      put(s.numel);
      o.byte(0x74, 0x51);
      put(v.offset);
      put(new TTuple(v.shape));
      put(new TTuple(v.stride));
      o.byte(0x89);
      put(new TOrderedDict([]));
      o.byte(0x74, 0x52);
      if (v.parameter) {
        o.byte(0x88);
        put(new TOrderedDict([]));
        o.byte(0x87, 0x52);
      }
    } else throw new Error(`cannot pickle ${String(v)}`);
  };
  o.byte(0x80, 0x02);
  put(obj);
  o.byte(0x2e);
  return o.bytes();
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Instead of `data`: this many zero bytes, left as a hole (for sparse multi-GiB files; CRC field 0). */
  hole?: number;
}

export interface ZipOptions {
  /** Write zip64 sizes and offsets (as torch does past 4 GiB) even for small files. */
  zip64?: boolean;
  /** Align entry data to this many bytes with padding in the local extra field (torch uses 64). */
  align?: number;
}

/** A zip of stored (or deflated) entries, built in memory. */
export function zipEntries(entries: ZipInput[], opts: ZipOptions = {}): Uint8Array {
  const { segments, size } = zipSegments(entries, opts);
  const out = new Uint8Array(size);
  for (const s of segments) out.set(s.bytes, s.offset);
  return out;
}

/** The zip as byte segments at file offsets; gaps (entries given as `hole`) are zeros. */
export function zipSegments(entries: ZipInput[], opts: ZipOptions = {}): { segments: { offset: number; bytes: Uint8Array }[]; size: number } {
  const z64 = opts.zip64 === true;
  const align = opts.align ?? 64;
  const segments: { offset: number; bytes: Uint8Array }[] = [];
  const central: Uint8Array[] = [];
  let pos = 0;
  const enc = new TextEncoder();
  const push = (b: Uint8Array) => {
    segments.push({ offset: pos, bytes: b });
    pos += b.byteLength;
  };
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.deflate ? deflateSync(e.data) : e.data;
    const crc = e.hole === undefined ? crc32(e.data) : 0;
    const usize = e.hole ?? e.data.byteLength;
    const csize = e.hole ?? body.byteLength;
    const offset = pos;
    const z64extra = z64 ? 20 : 0;
    const pad = align > 1 ? (align - ((pos + 30 + name.length + z64extra + 4) % align)) % align : 0;
    const extraLen = z64extra + (align > 1 ? 4 + pad : 0);
    const h = new Uint8Array(30 + name.length + extraLen);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, z64 ? 45 : 20, true);
    dv.setUint16(8, e.deflate ? 8 : 0, true);
    dv.setUint32(14, crc, true);
    dv.setUint32(18, z64 ? 0xffffffff : csize, true);
    dv.setUint32(22, z64 ? 0xffffffff : usize, true);
    dv.setUint16(26, name.length, true);
    dv.setUint16(28, extraLen, true);
    h.set(name, 30);
    let q = 30 + name.length;
    if (z64) {
      dv.setUint16(q, 1, true);
      dv.setUint16(q + 2, 16, true);
      dv.setBigUint64(q + 4, BigInt(usize), true);
      dv.setBigUint64(q + 12, BigInt(csize), true);
      q += 20;
    }
    if (align > 1) {
      dv.setUint16(q, 0x4654, true); // 'FT', torch's padding field id
      dv.setUint16(q + 2, pad, true);
    }
    push(h);
    if (e.hole === undefined) push(body);
    else pos += e.hole;
    const c = new Uint8Array(46 + name.length + (z64 ? 28 : 0));
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, z64 ? 45 : 20, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint16(10, e.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : csize, true);
    cv.setUint32(24, z64 ? 0xffffffff : usize, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, z64 ? 28 : 0, true);
    cv.setUint32(42, z64 ? 0xffffffff : offset, true);
    c.set(name, 46);
    if (z64) {
      const r = 46 + name.length;
      cv.setUint16(r, 1, true);
      cv.setUint16(r + 2, 24, true);
      cv.setBigUint64(r + 4, BigInt(usize), true);
      cv.setBigUint64(r + 12, BigInt(csize), true);
      cv.setBigUint64(r + 20, BigInt(offset), true);
    }
    central.push(c);
  }
  const cdOffset = pos;
  for (const c of central) push(c);
  const cdSize = pos - cdOffset;
  if (z64) {
    const r = new Uint8Array(56 + 20);
    const v = new DataView(r.buffer);
    v.setUint32(0, 0x06064b50, true);
    v.setBigUint64(4, 44n, true);
    v.setUint16(12, 45, true);
    v.setUint16(14, 45, true);
    v.setBigUint64(24, BigInt(entries.length), true);
    v.setBigUint64(32, BigInt(entries.length), true);
    v.setBigUint64(40, BigInt(cdSize), true);
    v.setBigUint64(48, BigInt(cdOffset), true);
    v.setUint32(56, 0x07064b50, true);
    v.setBigUint64(64, BigInt(pos), true);
    v.setUint32(72, 1, true);
    push(r);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, z64 ? 0xffff : entries.length, true);
  ev.setUint16(10, z64 ? 0xffff : entries.length, true);
  ev.setUint32(12, z64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, z64 ? 0xffffffff : cdOffset, true);
  push(end);
  return { segments, size: pos };
}

export interface TorchSaveOptions extends ZipOptions {
  archive?: string;
  deflatePickle?: boolean;
}

/** The bytes torch.save(obj) would write (for the subset of objects above). */
export function torchSave(obj: Py, opts: TorchSaveOptions = {}): Uint8Array {
  const storages = new Map<string, TStorage>();
  const pkl = picklePy(obj, storages);
  return torchSaveRaw(pkl, storages, opts);
}

/** Packs an already-pickled data.pkl (possibly mutated) with its storages. */
export function torchSaveRaw(pkl: Uint8Array, storages: Map<string, TStorage>, opts: TorchSaveOptions = {}): Uint8Array {
  const a = opts.archive ?? 'archive';
  const entries: ZipInput[] = [{ name: `${a}/data.pkl`, data: pkl, deflate: opts.deflatePickle }];
  for (const s of storages.values()) entries.push({ name: `${a}/data/${s.key}`, data: s.bytes });
  entries.push({ name: `${a}/version`, data: new TextEncoder().encode('3\n') });
  return zipEntries(entries, opts);
}
