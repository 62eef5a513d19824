/**
 * Minimal PNG codec for the Go environment's board images: 8-bit, non-interlaced greyscale,
 * grey+alpha, RGB and RGBA (colour types 0, 2, 4, 6), all five row filters. That covers every PNG
 * upstream and the golden generator write (matplotlib RGBA, PIL RGB, OpenCV 8-bit masks).
 * Palette, 16-bit, sub-byte depths and Adam7 are refused with a PngError of kind 'unsupported'
 * rather than decoded wrongly. zlib is fflate's; chunk CRCs are checked. Browser-safe.
 */
import { unzlibSync, zlibSync } from 'fflate';
import { crc32 } from '../io/zip.js';

/** Row-major, channel-interleaved 8-bit pixels: data[(y * width + x) * channels + c]. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

export type PngErrorKind = 'not-png' | 'corrupt' | 'unsupported';

export class PngError extends Error {
  constructor(
    readonly kind: PngErrorKind,
    detail: string,
  ) {
    super(`png: ${kind}: ${detail}`);
    this.name = 'PngError';
  }
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** PNG colour type -> channels, for the types decoded here. */
const CHANNELS_OF_TYPE: Partial<Record<number, 1 | 2 | 3 | 4>> = { 0: 1, 2: 3, 4: 2, 6: 4 };
const TYPE_OF_CHANNELS = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;
/** Caps a hostile IHDR before it turns into a huge allocation. */
const MAX_PIXELS = 1 << 28;

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function chunkType(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes PNG bytes (8-bit RGB/RGBA/grey, non-interlaced) to a raster; PngError names what is unsupported. */
export function decodePng(bytes: Uint8Array): RasterImage {
  if (bytes.length < 8 || SIGNATURE.some((v, i) => bytes[i] !== v)) throw new PngError('not-png', 'missing the 8-byte PNG signature');
  let width = 0;
  let height = 0;
  let channels: 1 | 2 | 3 | 4 | undefined;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  for (let o = 8; !sawEnd; ) {
    if (o + 12 > bytes.length) throw new PngError('corrupt', `truncated chunk header at byte ${o}`);
    const len = u32(bytes, o);
    const type = chunkType(bytes, o + 4);
    if (o + 12 + len > bytes.length) throw new PngError('corrupt', `chunk ${type} at byte ${o} runs past the end (${len} bytes)`);
    const body = bytes.subarray(o + 8, o + 8 + len);
    if (crc32(bytes.subarray(o + 4, o + 8 + len)) >>> 0 !== u32(bytes, o + 8 + len)) throw new PngError('corrupt', `CRC mismatch in chunk ${type} at byte ${o}`);
    if (o === 8 && type !== 'IHDR') throw new PngError('corrupt', `first chunk is ${type}, not IHDR`);
    if (type === 'IHDR') {
      if (len !== 13) throw new PngError('corrupt', `IHDR has ${len} bytes, not 13`);
      width = u32(body, 0);
      height = u32(body, 4);
      const [depth, colourType, compression, filter, interlace] = [body[8]!, body[9]!, body[10]!, body[11]!, body[12]!];
      if (width === 0 || height === 0) throw new PngError('corrupt', `image size ${width}x${height}`);
      if (width * height > MAX_PIXELS) throw new PngError('unsupported', `${width}x${height} exceeds ${MAX_PIXELS} pixels`);
      channels = CHANNELS_OF_TYPE[colourType];
      if (depth !== 8 || channels === undefined) throw new PngError('unsupported', `bit depth ${depth}, colour type ${colourType} (only 8-bit grey, grey+alpha, RGB, RGBA)`);
      if (compression !== 0 || filter !== 0) throw new PngError('corrupt', `compression method ${compression}, filter method ${filter}`);
      if (interlace !== 0) throw new PngError('unsupported', 'Adam7 interlacing');
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      sawEnd = true;
    } else if ((bytes[o + 4]! & 0x20) === 0) {
      // Upper-case first letter = critical chunk: skipping it could change the pixels (PLTE).
      throw new PngError('unsupported', `critical chunk ${type}`);
    }
    o += 12 + len;
  }
  if (channels === undefined) throw new PngError('corrupt', 'no IHDR');
  if (idat.length === 0) throw new PngError('corrupt', 'no IDAT');
  const zipped = new Uint8Array(idat.reduce((s, c) => s + c.length, 0));
  idat.reduce((at, c) => (zipped.set(c, at), at + c.length), 0);
  const stride = width * channels;
  let raw: Uint8Array;
  try {
    raw = unzlibSync(zipped);
  } catch (e) {
    throw new PngError('corrupt', `IDAT does not inflate: ${(e as Error).message}`);
  }
  if (raw.length < height * (stride + 1)) throw new PngError('corrupt', `IDAT inflates to ${raw.length} bytes, need ${height * (stride + 1)}`);
  const data = new Uint8Array(height * stride);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? data[row + i - bpp]! : 0;
      const b = y > 0 ? data[up + i]! : 0;
      const c = i >= bpp && y > 0 ? data[up + i - bpp]! : 0;
      const v = raw[src + i]!;
      switch (f) {
        case 0: data[row + i] = v; break;
        case 1: data[row + i] = v + a; break;
        case 2: data[row + i] = v + b; break;
        case 3: data[row + i] = v + ((a + b) >> 1); break;
        case 4: data[row + i] = v + paeth(a, b, c); break;
        default: throw new PngError('corrupt', `row ${y} has filter type ${f}`);
      }
    }
  }
  return { width, height, channels, data };
}

export interface EncodePngOptions {
  /** Row filter for every row (0 none, 1 sub, 2 up, 3 average, 4 Paeth); default 0. */
  filter?: 0 | 1 | 2 | 3 | 4;
  /** zlib level 0-9; default 6. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)) >>> 0);
  return out;
}

/** Encodes an 8-bit raster (grey, grey+alpha, RGB or RGBA) as PNG bytes (zlib by fflate, one row filter for every row). */
export function encodePng(img: RasterImage, opts: EncodePngOptions = {}): Uint8Array {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new RangeError(`encodePng: size ${width}x${height}`);
  if (!(channels in TYPE_OF_CHANNELS)) throw new RangeError(`encodePng: channels ${channels} (1-4)`);
  const stride = width * channels;
  if (data.length !== height * stride) throw new RangeError(`encodePng: data has ${data.length} bytes, ${width}x${height}x${channels} needs ${height * stride}`);
  const filter = opts.filter ?? 0;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const dst = y * (stride + 1);
    raw[dst] = filter;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[row + i - channels]! : 0;
      const b = y > 0 ? data[row - stride + i]! : 0;
      const c = i >= channels && y > 0 ? data[row - stride + i - channels]! : 0;
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      raw[dst + 1 + i] = (data[row + i]! - pred) & 0xff;
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = TYPE_OF_CHANNELS[channels];
  const parts = [new Uint8Array(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: opts.level ?? 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Drops alpha and expands grey, as PIL's convert('RGB') does for these types. */
export function toRgb(img: RasterImage): RasterImage {
  const { width, height, channels, data } = img;
  if (channels === 3) return img;
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * channels + (channels >= 3 ? c : 0)]!;
  }
  return { width, height, channels: 3, data: out };
}
