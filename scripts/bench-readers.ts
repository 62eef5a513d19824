/**
 * Reader throughput on a ~500 MB checkpoint: `npx tsx scripts/bench-readers.ts [MB=500] [dir=$TMPDIR]`.
 * Writes one safetensors file (our streaming writer) and one torch.save-layout .pth (the test
 * writer) of the same tensors, then times: safetensors whole-file read + parse, safetensors lazy
 * per-tensor reads, .pth open + read of every tensor (CRC on and off, from disk and from memory),
 * and .pth -> safetensors conversion. Files are deleted afterwards. Figures are MB/s of tensor
 * data (1 MB = 1e6 bytes); the files are fresh in the page cache, so this measures the reader
 * rather than the disk.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { fileSource, openPthFile, readSafetensorsFile, writeSafetensorsStream } from '../src/node.js';
import { openPth } from '../src/io/pth.js';
import { parseSafetensorsHeader, safetensorsHeaderLength, type TensorSpec } from '../src/io/safetensors.js';
import { crc32 } from '../src/io/zip.js';
import { type Py, TOrderedDict, tensor, torchSave } from '../test/helpers/pth-writer.js';

const targetMB = Number(process.argv[2] ?? 500);
const dir = process.argv[3] ?? tmpdir();
const stPath = join(dir, `bench-readers-${process.pid}.safetensors`);
const pthPath = join(dir, `bench-readers-${process.pid}.pth`);

// A transformer-like mix: square and rectangular f32 matrices, f16 copies, small vectors.
const specs: (TensorSpec & { data: Uint8Array })[] = [];
let total = 0;
let seed = 1;
const fill = (n: number) => {
  const u = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < u.length; i++) u[i] = seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return new Uint8Array(u.buffer, 0, n);
};
for (let i = 0; total < targetMB * 1e6; i++) {
  const shapes: [string, TensorSpec['dtype'], number[]][] = [
    [`layers.${i}.attn.weight`, 'F32', [1024, 1024]],
    [`layers.${i}.mlp.gate.weight`, 'F32', [2816, 1024]],
    [`layers.${i}.mlp.half.weight`, 'F16', [1024, 2816]],
    [`layers.${i}.norm.weight`, 'F32', [1024]],
  ];
  for (const [name, dtype, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1) * (dtype === 'F16' ? 2 : 4);
    specs.push({ name, dtype, shape, data: fill(n) });
    total += n;
  }
}
const MB = total / 1e6;
const rate = (secs: number) => `${(MB / secs).toFixed(0).padStart(6)} MB/s  (${secs.toFixed(3)} s)`;

async function time(label: string, fn: () => Promise<unknown>, reps = 3): Promise<void> {
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  ts.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} ${rate(ts[Math.floor(ts.length / 2)]!)}  [min ${rate(ts[0]!)}]`);
}

console.log(`${specs.length} tensors, ${MB.toFixed(0)} MB of tensor data`);
try {
  const byName = new Map(specs.map((s) => [s.name, s.data]));
  let t0 = performance.now();
  await writeSafetensorsStream(stPath, specs, async (s) => byName.get(s.name)!);
  console.log(`${'write safetensors (streaming writer)'.padEnd(58)} ${rate((performance.now() - t0) / 1000)}`);
  t0 = performance.now();
  const sd = new TOrderedDict(specs.map((s, i) => [s.name, tensor(String(i), s.dtype, s.shape, s.data)] as [Py, Py]));
  writeFileSync(pthPath, torchSave(new Map<Py, Py>([['meta', new Map<Py, Py>([['iter', 1]])], ['state_dict', sd]])));
  console.log(`${'write .pth (test writer, in memory + writeFileSync)'.padEnd(58)} ${rate((performance.now() - t0) / 1000)}`);

  await time('crc32 alone: portable slice-by-8 (browser path)', async () => {
    for (const s of specs) crc32(s.data);
  });
  await time('crc32 alone: zlib.crc32 (Node path)', async () => {
    for (const s of specs) zlib.crc32(s.data);
  });
  await time('safetensors: readSafetensorsFile (whole file + parse)', () => readSafetensorsFile(stPath));
  await time('safetensors: header + lazy per-tensor range reads', async () => {
    const src = await fileSource(stPath);
    const n = safetensorsHeaderLength(await src.read(0, 8), src.size);
    const h = parseSafetensorsHeader(await src.read(0, 8 + n), src.size);
    for (const e of h.entries.values()) await src.read(e.begin, e.end - e.begin);
    await src.close?.();
  });
  for (const verifyCrc of [true, false]) {
    await time(`pth: openPthFile + read every tensor (crc ${verifyCrc ? 'on' : 'off'})`, async () => {
      const ck = await openPthFile(pthPath, { verifyCrc });
      for (const name of ck.names) await ck.read(name);
      await ck.close();
    });
  }
  await time('pth: readFile + openPth in memory + read all (crc on)', async () => {
    const buf = readFileSync(pthPath);
    const ck = await openPth(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), pthPath);
    for (const name of ck.names) await ck.read(name);
  });
  const out = join(dir, `bench-readers-${process.pid}.converted.safetensors`);
  await time('convert: .pth -> safetensors (stream, crc on)', async () => {
    const ck = await openPthFile(pthPath);
    await writeSafetensorsStream(out, ck.names.map((n) => ({ name: n, dtype: ck.get(n).dtype, shape: ck.get(n).shape })), async (s) => (await ck.read(s.name)).data);
    await ck.close();
  }, 1);
  rmSync(out, { force: true });
} finally {
  rmSync(stPath, { force: true });
  rmSync(pthPath, { force: true });
}
