/**
 * Zip container reader for torch.save archives, over a random-access ByteSource so that files of
 * any size are read lazily: only the end-of-central-directory record, the central directory and
 * the local headers of entries actually used are touched. Zip64 records are honoured (torch writes
 * them past 4 GiB). Stored entries (what torch writes) are read as byte ranges, with no copy for
 * in-memory sources; deflated entries (a re-zipped checkpoint) are inflated whole by fflate.
 * Every size and offset is checked against the file size before anything is allocated or read.
 */
import { inflateSync } from 'fflate';
import { PthError } from './pth-error.js';

/** Random-access bytes: an in-memory buffer, or (Node) a file handle read in pieces. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (callers stay inside [0, size)). May be a view, not a copy. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) throw new RangeError(`read [${offset}, ${offset + length}) outside ${bytes.byteLength} bytes`);
      return bytes.subarray(offset, offset + length);
    },
  };
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
/** Deflate cannot expand more than ~1032:1; a larger declared size is a lie that would make us allocate. */
const MAX_INFLATE_RATIO = 1032;

const CRC_TABLES = (() => {
  const t = new Uint32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) for (let k = 1; k < 8; k++) t[k * 256 + i] = (t[(k - 1) * 256 + i]! >>> 8) ^ t[t[(k - 1) * 256 + i]! & 0xff]!;
  return t;
})();

export type Crc32 = (data: Uint8Array, prev?: number) => number;

/** CRC-32 (zip polynomial), slice-by-8 (~0.4-0.5 GB/s); pass the previous value to continue over pieces. */
export function crc32(d: Uint8Array, prev = 0): number {
  const T = CRC_TABLES;
  let c = ~prev;
  let i = 0;
  const n8 = d.length - 8;
  for (; i <= n8; i += 8) {
    c ^= d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24);
    c =
      T[1792 + (c & 0xff)]! ^ T[1536 + ((c >>> 8) & 0xff)]! ^ T[1280 + ((c >>> 16) & 0xff)]! ^ T[1024 + (c >>> 24)]! ^
      T[768 + d[i + 4]!]! ^ T[512 + d[i + 5]!]! ^ T[256 + d[i + 6]!]! ^ T[d[i + 7]!]!;
  }
  for (; i < d.length; i++) c = T[(c ^ d[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function u64(dv: DataView, at: number, what: string, fail: (d: string) => PthError): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`zip: ${what} ${v} is not a usable size`);
  return Number(v);
}

/** A zip archive's central directory and entries, read from a ByteSource (what `.pth` files are). */
export class ZipArchive {
  private readonly dataStarts = new Map<string, number>();

  private constructor(
    readonly src: ByteSource,
    readonly source: string,
    readonly entries: Map<string, ZipEntry>,
    private readonly crc: Crc32,
  ) {}

  private fail(detail: string): PthError {
    return new PthError(this.source, detail);
  }

  /**
   * Reads and validates the central directory; `notZip` explains a file that is no zip at all.
   * `crc` may be a native implementation (Node's zlib.crc32 is ~3x faster than ours).
   */
  static async open(src: ByteSource, source: string, notZip: (head: Uint8Array) => string, crc: Crc32 = crc32): Promise<ZipArchive> {
    const fail = (d: string) => new PthError(source, d);
    const size = src.size;
    const head = await src.read(0, Math.min(size, 512));
    if (size < 22 || head[0] !== 0x50 || head[1] !== 0x4b) throw fail(notZip(head));
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = await src.read(size - tailLen, tailLen);
    const tdv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let p = tailLen - 22; p >= 0; p--) {
      if (tdv.getUint32(p, true) === SIG_EOCD && p + 22 + tdv.getUint16(p + 20, true) <= tailLen) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) throw fail('zip: no end-of-central-directory record (truncated or not a zip file)');
    let count = tdv.getUint16(eocd + 10, true);
    let cdSize = tdv.getUint32(eocd + 12, true);
    let cdOffset = tdv.getUint32(eocd + 16, true);
    if (tdv.getUint16(eocd + 4, true) !== 0 || tdv.getUint16(eocd + 6, true) !== 0) throw fail('zip: multi-disk archives are not supported');
    const eocdAbs = size - tailLen + eocd;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (eocd < 20 || tdv.getUint32(eocd - 20, true) !== SIG_ZIP64_LOCATOR) throw fail('zip: zip64 sizes without a zip64 locator');
      const z64 = u64(tdv, eocd - 12, 'zip64 record offset', fail);
      if (z64 + 56 > eocdAbs - 20) throw fail(`zip: zip64 record offset ${z64} outside the file`);
      const r = await src.read(z64, 56);
      const rdv = new DataView(r.buffer, r.byteOffset, 56);
      if (rdv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw fail('zip: bad zip64 end-of-central-directory signature');
      count = u64(rdv, 32, 'entry count', fail);
      cdSize = u64(rdv, 40, 'central directory size', fail);
      cdOffset = u64(rdv, 48, 'central directory offset', fail);
    }
    if (cdOffset + cdSize > eocdAbs) throw fail(`zip: central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${eocdAbs}`);
    if (count * 46 > cdSize) throw fail(`zip: ${count} entries cannot fit in a ${cdSize}-byte central directory`);
    const cd = await src.read(cdOffset, cdSize);
    const dv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const entries = new Map<string, ZipEntry>();
    const dec = new TextDecoder('utf-8');
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || dv.getUint32(p, true) !== SIG_CENTRAL) throw fail(`zip: central directory entry ${i} is damaged`);
      const flags = dv.getUint16(p + 8, true);
      const method = dv.getUint16(p + 10, true);
      const crc = dv.getUint32(p + 16, true);
      let csize = dv.getUint32(p + 20, true);
      let usize = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let local = dv.getUint32(p + 42, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdSize) throw fail(`zip: central directory entry ${i} runs past the directory`);
      const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // Zip64 extended information: only the fields saturated in the fixed header are present, in this order.
      for (let q = p + 46 + nameLen; q + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = dv.getUint16(q, true);
        const len = dv.getUint16(q + 2, true);
        if (q + 4 + len > p + 46 + nameLen + extraLen) throw fail(`zip: ${name}: extra field runs past its entry`);
        if (id === 0x0001) {
          let r = q + 4;
          const take = (what: string) => {
            if (r + 8 > q + 4 + len) throw fail(`zip: ${name}: zip64 field too short for the ${what}`);
            const v = u64(dv, r, what, fail);
            r += 8;
            return v;
          };
          if (usize === 0xffffffff) usize = take('size');
          if (csize === 0xffffffff) csize = take('compressed size');
          if (local === 0xffffffff) local = take('local header offset');
        }
        q += 4 + len;
      }
      p = end;
      if (flags & 1) throw fail(`zip: ${name} is encrypted`);
      if (method !== 0 && method !== 8) throw fail(`zip: ${name} uses compression method ${method} (only stored and deflate are supported)`);
      if (method === 0 && csize !== usize) throw fail(`zip: stored entry ${name} has compressed size ${csize} != size ${usize}`);
      if (method === 8 && usize > csize * MAX_INFLATE_RATIO + 64) throw fail(`zip: ${name} claims ${usize} bytes from ${csize} compressed bytes`);
      if (local + 30 + csize > cdOffset) throw fail(`zip: ${name} ([${local}, +${csize}]) overlaps the central directory at ${cdOffset}`);
      if (entries.has(name)) throw fail(`zip: duplicate entry ${name}`);
      entries.set(name, { name, method, crc32: crc, compressedSize: csize, size: usize, localHeaderOffset: local });
    }
    return new ZipArchive(src, source, entries, crc);
  }

  private async dataStart(e: ZipEntry): Promise<number> {
    const known = this.dataStarts.get(e.name);
    if (known !== undefined) return known;
    const h = await this.src.read(e.localHeaderOffset, 30);
    const dv = new DataView(h.buffer, h.byteOffset, 30);
    if (dv.getUint32(0, true) !== SIG_LOCAL) throw this.fail(`zip: ${e.name}: bad local header signature`);
    const start = e.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    if (start + e.compressedSize > this.src.size) throw this.fail(`zip: ${e.name}: data runs past the end of the file`);
    this.dataStarts.set(e.name, start);
    return start;
  }

  /** The whole (inflated) entry; checks its CRC when asked. */
  async readEntry(e: ZipEntry, verifyCrc: boolean): Promise<Uint8Array> {
    const start = await this.dataStart(e);
    const raw = await this.src.read(start, e.compressedSize);
    let out = raw;
    if (e.method === 8) {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size + 1) });
      } catch (err) {
        throw this.fail(`zip: ${e.name}: deflate stream is corrupt (${(err as Error).message})`);
      }
      if (out.byteLength !== e.size) throw this.fail(`zip: ${e.name}: inflated to ${out.byteLength} bytes, directory says ${e.size}`);
    }
    if ((verifyCrc || e.method === 8) && this.crc(out) >>> 0 !== e.crc32) throw this.fail(`zip: ${e.name}: CRC-32 mismatch (file corrupt)`);
    return out;
  }

  /** `length` bytes at `offset` inside the entry (a range read for stored entries). */
  async readRange(e: ZipEntry, offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > e.size) throw this.fail(`zip: ${e.name}: range [${offset}, ${offset + length}) outside its ${e.size} bytes`);
    if (e.method === 8) return (await this.readEntry(e, false)).subarray(offset, offset + length);
    return this.src.read((await this.dataStart(e)) + offset, length);
  }
}
