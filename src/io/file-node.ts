/**
 * Node-side file I/O for the weight readers and writers: a ByteSource over a file handle (files of
 * any size, read in pieces on demand), .pth opening, safetensors header-only reading and a
 * streaming safetensors writer that holds one tensor at a time.
 */
import { open, rename, unlink } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { type PthCheckpoint, type PthOptions, openPth } from './pth.js';
import { type SafetensorsLayout, type TensorEntry, type TensorSpec, LITTLE_ENDIAN, SafetensorsError, decodeF32, halvesOf, parseSafetensorsHeader, safetensorsHeaderLength, safetensorsLayout } from './safetensors.js';
import type { ByteSource, Crc32 } from './zip.js';

/** zlib.crc32 exists from Node 20.15 / 22.2; older Nodes use the portable implementation. */
const nativeCrc32 = (zlib as { crc32?: Crc32 }).crc32;

/** Node's FileHandle.read moves at most 2 GiB per call. */
const MAX_READ = 1 << 30;

/** A ByteSource over a file; `read` fills `into` (when it holds `length` bytes) instead of new memory. */
export async function fileSource(path: string): Promise<ByteSource & { read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> }> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  return {
    size,
    read: async (offset, length, into?: Uint8Array) => {
      if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`read [${offset}, ${offset + length}) outside ${path} (${size} bytes)`);
      // Not zero-filled: every byte is overwritten below or the read fails.
      const buf = into && into.byteLength >= length ? into : Buffer.allocUnsafeSlow(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await fh.read(buf, done, Math.min(length - done, MAX_READ), offset + done);
        if (bytesRead === 0) throw new RangeError(`${path} ended at ${offset + done} (was ${size} bytes when opened)`);
        done += bytesRead;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, length);
    },
    close: () => fh.close(),
  };
}

/** Opens a torch.save checkpoint lazily from disk; call `close()` when done. */
export async function openPthFile(path: string, options?: PthOptions): Promise<PthCheckpoint> {
  const src = await fileSource(path);
  try {
    return await openPth(src, path, { crc32: nativeCrc32, ...options });
  } catch (e) {
    await src.close?.();
    throw e;
  }
}

/** The validated header of a .safetensors file, reading only its first 8 + N bytes. */
export async function readSafetensorsHeaderFile(path: string): Promise<{ metadata: Record<string, string>; entries: Map<string, TensorEntry>; size: number }> {
  const src = await fileSource(path);
  try {
    const h = await readHeader(src, path);
    return { metadata: h.metadata, entries: h.entries, size: src.size };
  } finally {
    await src.close?.();
  }
}

async function readHeader(src: ByteSource, path: string): Promise<ReturnType<typeof parseSafetensorsHeader>> {
  const n = safetensorsHeaderLength(await src.read(0, Math.min(8, src.size)), src.size, path);
  return parseSafetensorsHeader(await src.read(0, 8 + n), src.size, path);
}

/**
 * A .safetensors file opened lazily: the header now, each tensor read from disk (and converted to
 * f32) when asked for, so a checkpoint never sits whole in memory. Call `close()` when done.
 * f32(name, into) decodes into `into` (WeightSource.f32) and reads the raw bytes into one buffer
 * kept for such calls (they run one at a time), so a load touches no new memory per tensor.
 */
export async function openSafetensorsFile(path: string): Promise<{ entries: Map<string, TensorEntry>; metadata: Record<string, string>; f32(name: string, into?: Float32Array): Promise<Float32Array>; halves(name: string, into?: Uint16Array): Promise<Uint16Array | null>; close(): Promise<void> }> {
  const src = await fileSource(path);
  let raw: Uint8Array | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  try {
    const h = await readHeader(src, path);
    const entry = (name: string) => {
      const e = h.entries.get(name);
      if (!e) throw new SafetensorsError(path, `no tensor '${name}'`);
      return e;
    };
    const decode = async (name: string, into?: Float32Array) => {
      const e = entry(name);
      const len = e.end - e.begin;
      if (into && (raw?.byteLength ?? 0) < len) raw = new Uint8Array(len);
      return decodeF32(e.dtype, await src.read(e.begin, len, into ? raw! : undefined), e.shape.reduce((a, b) => a * b, 1), `${path}: ${name}`, into);
    };
    // F16 bytes read straight into `into`'s memory (when it is large enough): they are the halves.
    const halves = async (name: string, into?: Uint16Array) => {
      const e = entry(name);
      if (e.dtype !== 'F16' || !LITTLE_ENDIAN) return null;
      const len = e.end - e.begin;
      return halvesOf(await src.read(e.begin, len, into && into.byteLength >= len ? new Uint8Array(into.buffer, into.byteOffset, len) : undefined));
    };
    // Reads into the shared buffers (raw, the caller's scratch) run one at a time.
    const serial = <T>(f: () => Promise<T>): Promise<T> => {
      const run = queue.then(f);
      queue = run.catch(() => {});
      return run;
    };
    return {
      entries: h.entries,
      metadata: h.metadata,
      f32: (name, into) => (into ? serial(() => decode(name, into)) : decode(name)),
      halves: (name, into) => (into ? serial(() => halves(name, into)) : halves(name)),
      close: async () => src.close?.(),
    };
  } catch (e) {
    await src.close?.();
    throw e;
  }
}

export interface StreamWriteOptions {
  metadata?: Record<string, string>;
  onProgress?: (bytesDone: number, bytesTotal: number, name: string) => void;
}

/**
 * Writes a safetensors file tensor by tensor: `data(spec)` is awaited for each tensor in file
 * order and its bytes written before the next is requested. Written to a temporary name and
 * renamed at the end, so a failure leaves no half-written output.
 */
export async function writeSafetensorsStream(
  path: string,
  specs: TensorSpec[],
  data: (spec: TensorSpec) => Promise<ArrayBufferView>,
  options: StreamWriteOptions = {},
): Promise<SafetensorsLayout> {
  const layout = safetensorsLayout(specs, options.metadata);
  const total = layout.header.byteLength + layout.dataBytes;
  const tmp = `${path}.partial-${process.pid}`;
  const fh = await open(tmp, 'w');
  let ok = false;
  try {
    let pos = 0;
    const write = async (b: Uint8Array) => {
      for (let done = 0; done < b.byteLength; ) {
        const { bytesWritten } = await fh.write(b, done, Math.min(b.byteLength - done, MAX_READ), pos + done);
        done += bytesWritten;
      }
      pos += b.byteLength;
    };
    await write(layout.header);
    options.onProgress?.(pos, total, '');
    for (const t of layout.tensors) {
      const d = await data(t);
      if (d.byteLength !== t.end - t.begin) throw new SafetensorsError(path, `${t.name}: ${t.dtype}[${t.shape.join(',')}] needs ${t.end - t.begin} bytes, got ${d.byteLength}`);
      await write(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      options.onProgress?.(pos, total, t.name);
    }
    ok = true;
  } finally {
    await fh.close();
    if (ok) await rename(tmp, path);
    else await unlink(tmp).catch(() => undefined);
  }
  return layout;
}
