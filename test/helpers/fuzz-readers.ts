/**
 * Deterministic fuzzers for the .pth and safetensors readers. Each case mutates a valid seed file
 * (truncation, flipped bytes, saturated zip fields, pickle edits re-zipped with a valid CRC so the
 * mutation reaches the unpickler, huge lengths and storage sizes, forbidden globals, opcode soups
 * for deep nesting), then opens it and reads every tensor. A case passes if it either loads or
 * ends in the reader's own error type (PthError / SafetensorsError); anything else (TypeError,
 * RangeError, stack overflow, a hang past `maxCaseMs`) is a failure reported with its seed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizePy } from '../../src/io/pickle.js';
import { PthError, openPth } from '../../src/io/pth.js';
import { SafetensorsError, parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { ZipArchive, memorySource } from '../../src/io/zip.js';
import { GOLDEN_DIR } from './golden.js';
import { type Py, TCall, TOrderedDict, TStorage, TTensor, TTuple, picklePy, storage, tensor, torchSaveRaw } from './pth-writer.js';
import { Rng } from './rng.js';

export interface FuzzFailure {
  index: number;
  kind: string;
  error: string;
  bytes: Uint8Array;
}

export interface FuzzStats {
  cases: number;
  loaded: number;
  rejected: number;
  kinds: Record<string, { loaded: number; rejected: number }>;
  /** How often each error message shape (digits and quoted names blanked) occurred. */
  errors: Map<string, number>;
  maxCaseMs: number;
  /** Largest growth of ArrayBuffer memory seen across one case. */
  maxArrayBufferGrowth: number;
  failures: FuzzFailure[];
}

const FORBIDDEN = ['os\nsystem', 'posix\nsystem', 'builtins\neval', '__builtin__\nexec', 'subprocess\nPopen', 'builtins\ngetattr', 'torch\nload', 'numpy\nload', 'pickle\nloads', 'torch.serialization\n_load', 'webbrowser\nopen', 'collections\ndefaultdict'];

interface PthSeed {
  name: string;
  pkl: Uint8Array;
  storages: Map<string, TStorage>;
  file: Uint8Array;
}

async function seedFromFile(name: string, file: Uint8Array): Promise<PthSeed> {
  const zip = await ZipArchive.open(memorySource(file), name, () => 'not a zip');
  const storages = new Map<string, TStorage>();
  let pkl = new Uint8Array(0);
  for (const e of zip.entries.values()) {
    const data = (await zip.readEntry(e, false)).slice();
    if (e.name.endsWith('/data.pkl')) pkl = data;
    const m = /\/data\/(.+)$/.exec(e.name);
    if (m) storages.set(m[1]!, new TStorage(m[1]!, 'U8', data, 1));
  }
  return { name, pkl, storages, file };
}

function madeSeeds(): { name: string; obj: Py }[] {
  const rng = new Rng(99);
  const base = storage('b', 'F32', rng.array(40));
  const hist = new TCall('mmengine.logging.history_buffer', 'HistoryBuffer', [[0.5, 0.25], new TCall('numpy.core.multiarray', '_reconstruct', [new TCall('numpy', 'ndarray', []), new TTuple([0]), Uint8Array.of(98)])]);
  return [
    {
      name: 'mmengine',
      obj: new Map<Py, Py>([
        ['meta', new Map<Py, Py>([['epoch', 3], ['big', 2n ** 70n], ['lr', 1e-4], ['neg', -5]])],
        ['state_dict', new TOrderedDict([
          ['a', tensor('0', 'F16', [2, 3], Uint16Array.from([1, 2, 3, 4, 5, 6]))],
          ['b', new TTensor(base, 3, [4, 5], [1, 4])],
          ['c', new TTensor(base, 0, [8], [5], true)],
          ['d', tensor('1', 'I64', [2], BigInt64Array.from([-1n, 7n]))],
          ['e', tensor('2', 'BOOL', [], Uint8Array.of(1))],
        ], new TOrderedDict([['', new Map<Py, Py>([['version', 1]])]]))],
        ['optimizer', new Map<Py, Py>([['param_groups', [new Map<Py, Py>([['betas', new TTuple([0.9, 0.999])], ['params', [0, 1]]])]]])],
        ['message_hub', new Map<Py, Py>([['log_scalars', new Map<Py, Py>([['loss', hist]])]])],
      ]),
    },
    { name: 'flat', obj: new TOrderedDict([['x', tensor('0', 'BF16', [3, 1], Uint16Array.from([0x3f80, 0, 1]))], ['y', tensor('1', 'I32', [2, 2], Int32Array.from([1, -2, 3, -4]))]]) },
  ];
}

export async function pthSeeds(): Promise<PthSeed[]> {
  const seeds: PthSeed[] = [];
  for (const f of ['go_fsq_small.pth', 'go_fsq_small.forbidden-global.pth']) seeds.push(await seedFromFile(f, new Uint8Array(readFileSync(join(GOLDEN_DIR, 'pth', f)))));
  for (const { name, obj } of madeSeeds()) {
    const storages = new Map<string, TStorage>();
    const pkl = picklePy(obj, storages);
    seeds.push({ name, pkl, storages, file: torchSaveRaw(pkl, storages) });
  }
  return seeds;
}

function flip(rng: Rng, b: Uint8Array, lo = 0, hi = b.length): Uint8Array {
  const out = b.slice();
  const n = rng.int(1, 8);
  for (let i = 0; i < n && hi > lo; i++) {
    const at = rng.int(lo, hi - 1);
    out[at] = out[at]! ^ (1 << rng.int(0, 7));
  }
  return out;
}

/** Overwrites a 2/4/8-byte field with all-ones, zero, the largest signed value or random bytes. */
function saturate(rng: Rng, b: Uint8Array, lo: number, hi: number): Uint8Array {
  const out = b.slice();
  const w = rng.pick([2, 4, 8]);
  const at = rng.int(lo, Math.max(lo, hi - w));
  const mode = rng.int(0, 3);
  for (let i = 0; i < w && at + i < out.length; i++) out[at + i] = mode === 0 ? 0xff : mode === 1 ? 0 : mode === 2 ? (i === w - 1 ? 0x7f : 0xff) : rng.int(0, 255);
  return out;
}

function findAll(b: Uint8Array, pred: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) if (pred(i)) out.push(i);
  return out;
}

/** Random opcode soups that stress nesting, the memo and container ops. */
function soup(rng: Rng): Uint8Array {
  const n = rng.pick([10, 100, 1000, 20000, 200000]);
  const style = rng.int(0, 3);
  const ops = [0x28, 0x5d, 0x7d, 0x29, 0x61, 0x65, 0x74, 0x75, 0x73, 0x4e, 0x88, 0x85, 0x86, 0x87, 0x30, 0x31, 0x32, 0x6c, 0x64, 0x8f, 0x90, 0x91, 0x94];
  const out: number[] = [0x80, 0x02];
  for (let i = 0; i < n; i++) {
    if (style === 0) out.push(rng.pick(ops));
    else if (style === 1) out.push(i < n / 2 ? 0x5d : 0x61); // list nesting then appends
    else if (style === 2) out.push(i < n / 2 ? 0x28 : 0x74); // mark nesting then tuples
    else {
      out.push(rng.pick([0x71, 0x68, 0x5d, 0x61, 0x32]));
      out.push(rng.int(0, 255));
    }
  }
  if (rng.next() < 0.5) out.push(0x2e);
  return Uint8Array.from(out);
}

function mutatePickle(rng: Rng, pkl: Uint8Array): { kind: string; pkl: Uint8Array; expect?: RegExp } {
  const k = rng.int(0, 6);
  if (k === 0) return { kind: 'pkl-flip', pkl: flip(rng, pkl) };
  if (k === 1) return { kind: 'pkl-truncate', pkl: pkl.slice(0, rng.int(0, pkl.length - 1)) };
  if (k === 2) {
    // Length-bearing opcodes: BINUNICODE, LONG_BINGET/PUT, BININT, BINSTRING.
    const at = findAll(pkl, (i) => [0x58, 0x6a, 0x72, 0x4a, 0x54, 0x42].includes(pkl[i]!) && i + 5 <= pkl.length);
    const out = pkl.slice();
    if (at.length) {
      const p = rng.pick(at);
      new DataView(out.buffer).setUint32(p + 1, rng.pick([0xffffffff, 0x7fffffff, 0x80000000, pkl.length, rng.int(0, 0xffffffff)]) >>> 0, true);
    }
    return { kind: 'pkl-length', pkl: out };
  }
  if (k === 3) {
    // Replace one GLOBAL opcode (the seeds' own modules, so the match is an opcode, not string data).
    const text = Buffer.from(pkl).toString('latin1');
    const globals = [...text.matchAll(/c(collections|torch|torch\._utils|_codecs|numpy|numpy\.core\.multiarray|mmengine\.logging\.history_buffer|posix|os)\n[A-Za-z_]\w*\n/g)];
    if (!globals.length) return { kind: 'pkl-global', pkl };
    const g = rng.pick(globals);
    const forb = rng.pick(FORBIDDEN);
    const out = Buffer.concat([pkl.subarray(0, g.index + 1), Buffer.from(`${forb}\n`), pkl.subarray(g.index + g[0].length)]);
    return { kind: 'pkl-global', pkl: new Uint8Array(out), expect: new RegExp(`forbidden global '${forb.replace('\n', '.').replace(/[.]/g, '\\.')}'`) };
  }
  if (k === 4) {
    // Storage numel: the integer just before TUPLE, BINPERSID. Replace with a huge LONG1.
    // torch memoizes the pid tuple (BINPUT) before BINPERSID; our writer does not.
    const ats = findAll(pkl, (i) => pkl[i] === 0x74 && (pkl[i + 1] === 0x51 || (pkl[i + 1] === 0x71 && pkl[i + 3] === 0x51)));
    if (!ats.length) return { kind: 'pkl-storage-size', pkl };
    const t = rng.pick(ats);
    const intAt = pkl[t - 2] === 0x4b ? t - 2 : pkl[t - 3] === 0x4d ? t - 3 : pkl[t - 5] === 0x4a ? t - 5 : -1;
    if (intAt < 0) return { kind: 'pkl-storage-size', pkl };
    const huge = rng.pick([[0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x40], [0x4a, 0xff, 0xff, 0xff, 0x7f], [0x4a, 0xff, 0xff, 0xff, 0xff], [0x8a, 0x01, 0x03]]);
    return { kind: 'pkl-storage-size', pkl: Uint8Array.from([...pkl.subarray(0, intAt), ...huge, ...pkl.subarray(t)]) };
  }
  if (k === 5) {
    // Splice: duplicate, drop or insert a random span.
    const a = rng.int(0, pkl.length);
    const b = Math.min(pkl.length, a + rng.int(1, 64));
    const mode = rng.int(0, 2);
    const parts = mode === 0 ? [pkl.subarray(0, b), pkl.subarray(a)] : mode === 1 ? [pkl.subarray(0, a), pkl.subarray(b)] : [pkl.subarray(0, a), Uint8Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255)), pkl.subarray(a)];
    return { kind: 'pkl-splice', pkl: Uint8Array.from(parts.flatMap((p) => [...p])) };
  }
  return { kind: 'pkl-soup', pkl: soup(rng) };
}

function mutateFile(rng: Rng, file: Uint8Array): { kind: string; file: Uint8Array } {
  const k = rng.int(0, 3);
  if (k === 0) return { kind: 'zip-truncate', file: file.slice(0, rng.int(0, file.length - 1)) };
  if (k === 1) return { kind: 'zip-flip', file: flip(rng, file) };
  // The central directory and end records sit in the last few hundred bytes.
  const tail = Math.max(0, file.length - rng.pick([22, 98, 400, 2000]));
  if (k === 2) return { kind: 'zip-flip-tail', file: flip(rng, file, tail) };
  return { kind: 'zip-saturate', file: saturate(rng, file, tail, file.length) };
}

function blank(msg: string): string {
  return msg.replace(/^(pth|safetensors) [^:]*: /, '').replace(/'[^']*'/g, "'_'").replace(/\d+/g, 'N').slice(0, 90);
}

function newStats(): FuzzStats {
  return { cases: 0, loaded: 0, rejected: 0, kinds: {}, errors: new Map(), maxCaseMs: 0, maxArrayBufferGrowth: 0, failures: [] };
}

async function runCase(stats: FuzzStats, index: number, kind: string, bytes: Uint8Array, body: () => Promise<void>, ownError: (e: unknown) => boolean, expect?: RegExp) {
  const k = (stats.kinds[kind] ??= { loaded: 0, rejected: 0 });
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  stats.cases++;
  try {
    await body();
    if (expect) throw new Error(`loaded, expected an error matching ${expect}`);
    stats.loaded++;
    k.loaded++;
  } catch (e) {
    if (ownError(e) && (!expect || expect.test((e as Error).message))) {
      stats.rejected++;
      k.rejected++;
      const key = blank((e as Error).message);
      stats.errors.set(key, (stats.errors.get(key) ?? 0) + 1);
    } else {
      stats.failures.push({ index, kind, error: `${(e as Error)?.name}: ${(e as Error)?.message}`, bytes });
    }
  }
  stats.maxCaseMs = Math.max(stats.maxCaseMs, performance.now() - t0);
  stats.maxArrayBufferGrowth = Math.max(stats.maxArrayBufferGrowth, process.memoryUsage().arrayBuffers - ab0);
}

/** `count` mutated .pth files from a fixed seed; every one must load or fail with a PthError. */
export async function fuzzPth(count: number, seed = 1): Promise<FuzzStats> {
  const seeds = await pthSeeds();
  const stats = newStats();
  for (let i = 0; i < count; i++) {
    const rng = new Rng(seed * 1_000_003 + i);
    // The forbidden-global seed fails early whatever is mutated; draw it less often.
    const s = seeds[rng.next() < 0.1 ? 1 : rng.pick([0, 2, 3])]!;
    let kind: string;
    let bytes: Uint8Array;
    let expect: RegExp | undefined;
    if (rng.next() < 0.6) {
      const m = mutatePickle(rng, s.pkl);
      kind = m.kind;
      expect = m.expect;
      bytes = torchSaveRaw(m.pkl, s.storages, { zip64: rng.next() < 0.2, deflatePickle: rng.next() < 0.2 });
    } else {
      const m = mutateFile(rng, s.file);
      kind = m.kind;
      bytes = m.file;
    }
    await runCase(stats, i, kind, bytes, async () => {
      const ck = await openPth(bytes, `fuzz#${i}`);
      summarizePy(ck.root, 6, 16);
      for (const name of ck.names) await ck.read(name);
    }, (e) => e instanceof PthError, expect);
  }
  return stats;
}

function safetensorsSeeds(): Uint8Array[] {
  const rng = new Rng(5);
  return [
    new Uint8Array(readFileSync(join(GOLDEN_DIR, 'pth', 'go_fsq_small.expected.safetensors'))),
    serializeSafetensors(
      {
        w: { dtype: 'F32', shape: [3, 4], data: rng.array(12) },
        h: { dtype: 'F16', shape: [5], data: Uint16Array.from([1, 2, 3, 4, 5]) },
        i: { dtype: 'I64', shape: [2], data: BigInt64Array.from([1n, 2n ** 40n]) },
        b: { dtype: 'BOOL', shape: [], data: Uint8Array.of(1) },
      },
      { note: 'seed' },
    ),
  ];
}

function withJson(file: Uint8Array, json: string): Uint8Array {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + file.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(file.subarray(8 + n), 8 + hb.length);
  return out;
}

function mutateHeader(rng: Rng, file: Uint8Array): Uint8Array {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, Record<string, unknown>>;
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  const e = h[rng.pick(names)]!;
  const weird = () => rng.pick<unknown>([-1, 1.5, 2 ** 53, 1e308, null, 'x', [], {}, [2 ** 40, 2 ** 40], -0, '1', true]);
  switch (rng.int(0, 6)) {
    case 0: e.dtype = rng.pick(['F32', 'F16', 'I64', 'BOOL', 'Q8', '', 'f32', 'F8_E4M3', 7]); break;
    case 1: e.shape = rng.pick([[weird()], [2 ** 26, 2 ** 26, 2 ** 26], [], [0], weird()]); break;
    case 2: e.data_offsets = rng.pick([[0, 2 ** 60], [5, 1], [weird(), 4], [0], weird(), [0, 0]]); break;
    case 3: h.__metadata__ = rng.pick<Record<string, unknown>>([{ a: 1 } as unknown as Record<string, unknown>, [] as unknown as Record<string, unknown>, { a: { b: 'c' } } as unknown as Record<string, unknown>]); break;
    case 4: h[rng.pick(names)] = rng.pick<Record<string, unknown>>([null as unknown as Record<string, unknown>, [] as unknown as Record<string, unknown>, { ...e }]); break;
    case 5: return withJson(file, `${'['.repeat(rng.pick([10, 1000, 100000]))}${']'.repeat(rng.pick([0, 10, 100000]))}`);
    default: {
      const other = h[rng.pick(names)]!;
      e.data_offsets = other.data_offsets;
    }
  }
  return withJson(file, JSON.stringify(h));
}

/** `count` mutated safetensors files; every one must parse and read or fail with a SafetensorsError. */
export async function fuzzSafetensors(count: number, seed = 1): Promise<FuzzStats> {
  const seeds = safetensorsSeeds();
  const stats = newStats();
  for (let i = 0; i < count; i++) {
    const rng = new Rng(seed * 7_000_003 + i);
    const s = rng.pick(seeds);
    const k = rng.int(0, 4);
    const n = Number(new DataView(s.buffer, s.byteOffset).getBigUint64(0, true));
    const [kind, bytes] =
      k === 0 ? ['st-truncate', s.slice(0, rng.int(0, s.length - 1))] :
      k === 1 ? ['st-flip-header', flip(rng, s, 0, 8 + n)] :
      k === 2 ? ['st-length', saturate(rng, s, 0, 8)] :
      k === 3 ? ['st-flip', flip(rng, s)] :
      ['st-json', mutateHeader(rng, s)];
    await runCase(stats, i, kind as string, bytes as Uint8Array, async () => {
      const f = parseSafetensors(bytes as Uint8Array, `fuzz#${i}`);
      for (const name of f.names) {
        f.f32(name);
        f.raw(name);
      }
    }, (e) => e instanceof SafetensorsError);
  }
  return stats;
}

export function formatStats(title: string, s: FuzzStats): string {
  const kinds = Object.entries(s.kinds).map(([k, v]) => `${k} ${v.loaded}/${v.rejected}`).join(', ');
  const top = [...s.errors].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, n]) => `  ${String(n).padStart(6)}  ${m}`).join('\n');
  return `${title}: ${s.cases} cases, ${s.loaded} loaded, ${s.rejected} rejected with a clear error, ${s.failures.length} failures; ` +
    `slowest case ${s.maxCaseMs.toFixed(1)} ms, largest ArrayBuffer growth ${(s.maxArrayBufferGrowth / 1e6).toFixed(1)} MB\n` +
    `  by kind (loaded/rejected): ${kinds}\n  most common errors:\n${top}`;
}
