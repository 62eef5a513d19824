import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as zlib from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PyDict, summarizePy, unpickle } from '../../src/io/pickle.js';
import { PthError, PthOpaque, openPth } from '../../src/io/pth.js';
import { openPthFile } from '../../src/node.js';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.js';
import { type Py, TCall, TOrderedDict, TTensor, TTuple, picklePy, storage, tensor, torchSave, torchSaveRaw, zipEntries, zipSegments } from '../helpers/pth-writer.js';
import { Rng } from '../helpers/rng.js';
import { crc32 } from '../../src/io/zip.js';

const PTH = join(GOLDEN_DIR, 'pth');
const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.compare(Buffer.from(bytesOf(a)), Buffer.from(bytesOf(b))) === 0;

test('golden go_fsq_small.pth: every tensor bit-exact with the safetensors copy (memory and file sources)', async (t) => {
  const expected = await loadGolden('pth/go_fsq_small.expected.safetensors');
  const mem = await openPth(new Uint8Array(readFileSync(join(PTH, 'go_fsq_small.pth'))), 'go_fsq_small.pth');
  const file = await openPthFile(join(PTH, 'go_fsq_small.pth'));
  try {
    for (const ck of [mem, file]) {
      t.deepEqual([...ck.names].sort(), [...expected.names].sort());
      for (const name of expected.names) {
        const got = await ck.read(name);
        const e = expected.entry(name);
        t.is(got.dtype, e.dtype, name);
        t.deepEqual(got.shape, e.shape, name);
        t.true(same(got.data, expected.raw(name)), `${name}: bytes differ`);
      }
    }
    // The golden file covers the awkward layouts on purpose; make sure they really are there.
    t.false(mem.get('generator.decoder.transposed').contiguous);
    t.true(mem.get('generator.decoder.tied_b').offset > 0);
    t.is(mem.get('generator.decoder.tied_a').storage, mem.get('generator.decoder.tied_b').storage);
    t.deepEqual(mem.get('generator.decoder.scalar').shape, []);
    t.is(mem.stateDictKey, 'state_dict');
    t.deepEqual(mem.otherKeys, ['meta', 'message_hub']);
    const meta = (mem.root as PyDict).get('meta') as PyDict;
    t.is(meta.get('iter'), 12000);
    t.is(meta.get('mmengine_version'), '0.10.3');
  } finally {
    await file.close();
  }
});

test('golden forbidden-global checkpoint is refused, naming the global', async (t) => {
  const bytes = new Uint8Array(readFileSync(join(PTH, 'go_fsq_small.forbidden-global.pth')));
  const err = await t.throwsAsync(() => openPth(bytes, 'bad.pth'), { instanceOf: PthError });
  t.regex(err!.message, /forbidden global '(posix|os|nt)\.system'/);
});

test('legacy (non-zip) torch files get the re-save hint; other non-zips say what they are', async (t) => {
  // Legacy torch.save starts with a pickled magic number (protocol 2, LONG1 0x1950a86a20f9469cfc6c).
  const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]);
  await t.throwsAsync(() => openPth(legacy, 'old.pth'), { instanceOf: PthError, message: /legacy .*re-save.*_use_new_zipfile_serialization=True/ });
  const tar = new Uint8Array(1024);
  tar.set(new TextEncoder().encode('ustar'), 257);
  await t.throwsAsync(() => openPth(tar, 'old.tar'), { message: /legacy .*tar format/ });
  await t.throwsAsync(() => openPth(new TextEncoder().encode('hello world, not a checkpoint'), 'x'), { message: /not a torch\.save zip archive \(first bytes 68 65/ });
  await t.throwsAsync(() => openPth(new Uint8Array(0), 'empty'), { message: /empty file/ });
});

function allDtypes(): [string, TTensor, ArrayBufferView][] {
  const rng = new Rng(7);
  const f32 = rng.array(6);
  const f64 = Float64Array.from(rng.array(3));
  const i64 = BigInt64Array.from([-(2n ** 62n), -1n, 5n]);
  const i32 = Int32Array.from([-7, 2 ** 30, 3]);
  const i16 = Int16Array.from([-300, 7]);
  const i8 = Int8Array.from([-1, 2, -3]);
  const u8 = Uint8Array.from([0, 255]);
  const bool = Uint8Array.from([1, 0, 1, 1]);
  const f16 = Uint16Array.from([0x3c00, 0xc000, 0x7c00, 0x0001]);
  const bf16 = Uint16Array.from([0x3f80, 0xff80, 0x0001]);
  return [
    ['f32', tensor('0', 'F32', [2, 3], f32), f32],
    ['f64', tensor('1', 'F64', [3], f64), f64],
    ['i64', tensor('2', 'I64', [3], i64), i64],
    ['i32', tensor('3', 'I32', [3, 1], i32), i32],
    ['i16', tensor('4', 'I16', [2], i16), i16],
    ['i8', tensor('5', 'I8', [3], i8), i8],
    ['u8', tensor('6', 'U8', [2], u8), u8],
    ['bool', tensor('7', 'BOOL', [2, 2], bool), bool],
    ['f16', tensor('8', 'F16', [4], f16), f16],
    ['bf16', tensor('9', 'BF16', [1, 3], bf16), bf16],
    ['scalar', tensor('10', 'F32', [], Float32Array.of(-2.5)), Float32Array.of(-2.5)],
    ['empty', tensor('11', 'F32', [0, 4], new Float32Array(0)), new Float32Array(0)],
  ];
}

test('every storage dtype, 0-d and empty tensors, through zip64, deflated pickle and odd archive names', async (t) => {
  const items = allDtypes();
  const sd = new TOrderedDict(items.map(([n, x]) => [n, x]), new TOrderedDict([['', new Map<Py, Py>([['version', 1]])]]));
  for (const opts of [{}, { zip64: true }, { deflatePickle: true, archive: 'my model.v2' }, { align: 1 }]) {
    const ck = await openPth(torchSave(new Map<Py, Py>([['state_dict', sd]]), opts), JSON.stringify(opts));
    for (const [name, x, data] of items) {
      const r = await ck.read(name);
      t.is(r.dtype, x.storage.dtype);
      t.deepEqual(r.shape, x.shape);
      t.true(same(r.data, data), `${name} ${JSON.stringify(opts)}`);
    }
    t.deepEqual(((ck.root as PyDict).get('state_dict') as PyDict).state instanceof PyDict, true, 'BUILD _metadata kept');
  }
});

/** Element (i0, i1, ...) of a strided view, read the way torch indexes: offset + sum(i_d * stride_d). */
function stridedRef(src: Float32Array, offset: number, shape: number[], stride: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let at = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      at += (rem % shape[d]!) * stride[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    out[flat] = src[at]!;
  }
  return out;
}

test('views: offsets, permutes, steps, broadcast strides and shared storages materialise row-major', async (t) => {
  const rng = new Rng(11);
  const base = rng.array(5 * 7 * 3 + 9);
  const s = storage('0', 'F32', base);
  const views: [string, number, number[], number[]][] = [
    ['permute3d', 2, [3, 5, 7], [1, 21, 3]],
    ['sliced', 4, [2, 3], [14, 2]],
    ['row', 7, [7], [1]],
    ['column', 1, [5, 1], [21, 9]],
    ['broadcast', 3, [4, 6], [0, 1]],
    ['one', 0, [1, 1, 1], [1, 1, 1]],
    ['tail', base.length - 1, [1], [1]],
  ];
  const sd = new TOrderedDict(views.map(([n, off, shape, stride]) => [n, new TTensor(s, off, shape, stride)]));
  const ck = await openPth(torchSave(sd), 'views');
  t.is(ck.stateDictKey, '', 'a bare state dict at the top level');
  for (const [name, off, shape, stride] of views) {
    const r = await ck.read(name);
    t.true(same(r.data, stridedRef(base, off, shape, stride)), name);
  }
});

test('mmengine checkpoint: parameters, optimizer tensors (never read), opaque message_hub objects, _codecs bytes', async (t) => {
  const w = tensor('0', 'F32', [2, 2], Float32Array.of(1, 2, 3, 4));
  const pw = new TTensor(w.storage, 0, [2, 2], [2, 1], true);
  const expAvg = tensor('1', 'F32', [2, 2], new Float32Array(4));
  // HistoryBuffer(numpy arrays) as mmengine pickles it, with numpy's reconstruct calls.
  const ndarray = new TCall('numpy.core.multiarray', '_reconstruct', [new TCall('numpy', 'ndarray', []), new TTuple([0]), Uint8Array.of(98)]);
  const hist = new TCall('mmengine.logging.history_buffer', 'HistoryBuffer', [[0.5, 0.25], ndarray]);
  const root = new Map<Py, Py>([
    ['meta', new Map<Py, Py>([['epoch', 3], ['cfg', 'model = dict(type="VideoWorld")'], ['seed', -1], ['big', 2n ** 70n], ['lr', 1e-4]])],
    ['state_dict', new TOrderedDict([['linear.weight', pw], ['flag', true]])],
    ['optimizer', new Map<Py, Py>([['state', new Map<Py, Py>([[0, new Map<Py, Py>([['exp_avg', expAvg]])]])], ['param_groups', [new Map<Py, Py>([['betas', new TTuple([0.9, 0.999])]])]]])],
    ['message_hub', new Map<Py, Py>([['log_scalars', new Map<Py, Py>([['loss', hist]])]])],
  ]);
  const ck = await openPth(torchSave(root), 'mm');
  t.deepEqual(ck.names, ['linear.weight']);
  t.deepEqual(ck.nonTensorKeys, ['flag']);
  t.deepEqual(ck.otherKeys, ['meta', 'optimizer', 'message_hub']);
  t.true(same((await ck.read('linear.weight')).data, Float32Array.of(1, 2, 3, 4)));
  const meta = (ck.root as PyDict).get('meta') as PyDict;
  t.is(meta.get('big'), 2n ** 70n);
  t.is(meta.get('seed'), -1);
  const loss = (((ck.root as PyDict).get('message_hub') as PyDict).get('log_scalars') as PyDict).get('loss');
  t.true(loss instanceof PthOpaque);
  t.is((loss as PthOpaque).qualname, 'mmengine.logging.history_buffer.HistoryBuffer');
  t.regex(summarizePy(ck.root), /HistoryBuffer/);
});

test('forbidden globals anywhere are refused by name, and nothing else is resolved', async (t) => {
  const w = tensor('0', 'F32', [1], Float32Array.of(1));
  const cases: [Py, string][] = [
    [new Map<Py, Py>([['state_dict', new TOrderedDict([['w', w]])], ['meta', new TCall('os', 'system', ['echo pwned'])]]), 'os.system'],
    [new Map<Py, Py>([['state_dict', new TOrderedDict([['w', w]])], ['x', [[new TCall('builtins', 'eval', ['1'])]]]]), 'builtins.eval'],
    [new TCall('__builtin__', 'getattr', []), '__builtin__.getattr'],
    [new TCall('torch', 'load', []), 'torch.load'],
    [new TCall('torch._tensor', '_rebuild_from_type_v2', []), 'torch._tensor._rebuild_from_type_v2'],
    [new TCall('numpy', 'load', []), 'numpy.load'],
    [new TCall('collections', 'OrderedDict.fromkeys', []), 'collections.OrderedDict.fromkeys'],
  ];
  for (const [obj, name] of cases) {
    await t.throwsAsync(() => openPth(torchSave(obj), 'evil'), { instanceOf: PthError, message: new RegExp(`forbidden global '${name.replace(/\./g, '\\.')}'`) });
  }
  // STACK_GLOBAL (protocol 4) takes the same path.
  const pkl = Uint8Array.from([0x80, 0x04, 0x8c, 0x02, ...new TextEncoder().encode('os'), 0x8c, 0x06, ...new TextEncoder().encode('system'), 0x93, 0x2e]);
  await t.throwsAsync(() => openPth(torchSaveRaw(pkl, new Map()), 'sg'), { message: /forbidden global 'os\.system'/ });
  await t.throwsAsync(() => openPth(torchSave(new TCall('torch', 'ComplexFloatStorage', [])), 'cx'), { message: /unsupported storage type 'torch\.ComplexFloatStorage'/ });
});

test('damaged checkpoints fail with specific errors', async (t) => {
  const good = tensor('0', 'F32', [2, 2], Float32Array.of(1, 2, 3, 4));
  const open = (obj: Py, opts = {}) => openPth(torchSave(obj, opts), 'bad');
  // Declared storage size disagrees with the entry: no allocation from the declared size.
  const pkl = picklePy(new TOrderedDict([['w', good]]));
  const at = Buffer.from(pkl).indexOf(Buffer.from([0x4b, 4, 0x74, 0x51])); // numel 4, TUPLE, BINPERSID
  t.true(at > 0);
  pkl[at + 1] = 200;
  await t.throwsAsync(() => openPth(torchSaveRaw(pkl, new Map([['0', good.storage]])), 'n'), { message: /declares 200 x F32 \(800 bytes\), its entry holds 16 bytes/ });
  await t.throwsAsync(() => open(new TOrderedDict([['w', new TTensor(good.storage, 1, [2, 2], [2, 1])]])), { message: /reaches element 4 of a 4-element storage/ });
  await t.throwsAsync(() => open(new TOrderedDict([['w', new TTensor(good.storage, 0, [2, 2], [2])]])), { message: /size has 2 dims, stride 1/ });
  await t.throwsAsync(() => openPth(torchSaveRaw(picklePy(new TOrderedDict([['w', good]])), new Map()), 'nostore'), { message: /storage '0' has no entry archive\/data\/0/ });
  // A flipped data byte is caught by the CRC (unless verification is off).
  const bytes = torchSave(new TOrderedDict([['w', good]]));
  const dataAt = Buffer.from(bytes).indexOf(Buffer.from(Float32Array.of(1, 2, 3, 4).buffer));
  bytes[dataAt + 5] = bytes[dataAt + 5]! ^ 0x40;
  await t.throwsAsync(async () => (await openPth(bytes, 'crc')).read('w'), { message: /CRC-32 mismatch/ });
  const unchecked = await openPth(bytes, 'crc', { verifyCrc: false });
  t.not((await unchecked.read('w')).data[5], 0);
  // TorchScript archives and data.pkl-less zips.
  await t.throwsAsync(() => openPth(zipEntries([{ name: 'm/constants.pkl', data: Uint8Array.of(0x80, 2, 0x29, 0x2e) }]), 'ts'), { message: /TorchScript/ });
  await t.throwsAsync(() => openPth(zipEntries([{ name: 'readme.txt', data: Uint8Array.of(1) }]), 'z'), { message: /no data\.pkl/ });
  await t.throwsAsync(() => open(new Map<Py, Py>([['meta', 1]])), { message: /no state dict: top-level keys are meta/ });
  await t.throwsAsync(() => open([1, 2]), { message: /is a list, not a dict/ });
  const err = await t.throwsAsync(async () => (await open(new TOrderedDict([['w', good]]))).read('nope'));
  t.regex(err!.message, /no tensor 'nope' \(has 1: w\)/);
});

test('pickle limits: deep nesting, huge memo indices and oversized lengths end in errors, not crashes', async (t) => {
  const wrap = (body: number[]) => torchSaveRaw(Uint8Array.from([0x80, 0x02, ...body, 0x2e]), new Map());
  const marks = new Array(70000).fill(0x28);
  await t.throwsAsync(() => openPth(wrap(marks), 'marks'), { message: /more than 65536 nested MARKs/ });
  // 100k nested lists via EMPTY_LIST ... APPEND: built iteratively, rendered with a depth bound.
  const nested = [...new Array(100000).fill(0x5d), ...new Array(99999).fill(0x61)];
  await t.throwsAsync(() => openPth(wrap(nested), 'nest'), { message: /the checkpoint is a list/ });
  await t.throwsAsync(() => openPth(wrap([0x6a, 0xff, 0xff, 0xff, 0x7f]), 'get'), { message: /memo key 2147483647 is not defined/ });
  await t.throwsAsync(() => openPth(wrap([0x58, 0xff, 0xff, 0xff, 0xff]), 'len'), { message: /truncated: needs 4294967295 more bytes/ });
  await t.throwsAsync(() => openPth(wrap([0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40]), 'len8'), { message: /exceeds the pickle size/ });
  await t.throwsAsync(() => openPth(wrap([0x8b, 0, 0, 0, 0x10]), 'long4'), { message: /too large/ });
  await t.throwsAsync(() => openPth(wrap([0x69]), 'inst'), { message: /INST\/OBJ/ });
  await t.throwsAsync(() => openPth(wrap([0x7d, 0x4e, 0x61]), 'append'), { message: /APPEND to a dict/ });
  await t.throwsAsync(() => openPth(wrap([0x4e, 0x29, 0x52]), 'reduce'), { message: /REDUCE on a None, not a resolved global/ });
  const many = new Array(300000).fill(0x4e);
  await t.throwsAsync(() => openPth(wrap(many), 'stack', { limits: { maxStack: 100000 } }), { message: /stack exceeds 100000 entries/ });
});

test('portable crc32 (slice-by-8) equals zlib\'s, at every length and alignment, and continues across pieces', (t) => {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, prev?: number) => number }).crc32;
  if (!native) return t.pass('zlib.crc32 needs Node >= 20.15; the golden files still check the CRC path');
  const rng = new Rng(3);
  const buf = Uint8Array.from({ length: 4096 }, () => rng.int(0, 255));
  for (let len = 0; len < 70; len++) for (const off of [0, 1, 3, 7]) t.is(crc32(buf.subarray(off, off + len)), native(buf.subarray(off, off + len)));
  t.is(crc32(buf), native(buf));
  t.is(crc32(buf.subarray(1000), crc32(buf.subarray(0, 1000))), crc32(buf));
  t.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('files past 4 GiB: zip64 offsets and file-handle reads beyond 2^32 (sparse file, nothing large in memory)', async (t) => {
  const w = tensor('0', 'BF16', [2, 2], Uint16Array.of(0x3f80, 0x4000, 0x4040, 0x4080));
  const pkl = picklePy(new Map<Py, Py>([['state_dict', new TOrderedDict([['w', w]])]]));
  const { segments, size } = zipSegments(
    [
      { name: 'archive/data/unused', data: new Uint8Array(0), hole: 2 ** 32 + 12345 },
      { name: 'archive/data.pkl', data: pkl },
      { name: 'archive/data/0', data: w.storage.bytes },
      { name: 'archive/version', data: new TextEncoder().encode('3\n') },
    ],
    { zip64: true },
  );
  const path = join(tmpdir(), `pth-sparse-${process.pid}.pth`);
  const fh = await open(path, 'w');
  try {
    for (const s of segments) await fh.write(s.bytes, 0, s.bytes.byteLength, s.offset);
    await fh.close();
    t.true(size > 2 ** 32);
    const ck = await openPthFile(path);
    const r = await ck.read('w');
    await ck.close();
    t.true(same(r.data, w.storage.bytes));
  } finally {
    rmSync(path, { force: true });
  }
});

test('the readers and weight tables are browser-safe (no Node built-ins outside *-node.ts)', (t) => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const f of ['src/io/pth.ts', 'src/io/pth-error.ts', 'src/io/zip.ts', 'src/io/pickle.ts', 'src/io/safetensors.ts', 'src/models/videoworld/weight-map.ts', 'src/models/videoworld/infer-config.ts']) {
    const src = readFileSync(join(root, f), 'utf8');
    t.notRegex(src, /from ['"](node:|fs|path|os|url|zlib|child_process)['"/]/, f);
    t.notRegex(src, /\b(process|Buffer)\./, f);
  }
});

test('summarizePy stays bounded on memo-shared DAGs and cycles', (t) => {
  // L0 = [], then 30 times L_{i+1} = [L_i] * 8 through the memo: 8^30 paths from ~400 bytes of pickle.
  const body: number[] = [0x80, 0x02, 0x5d];
  for (let i = 0; i < 30; i++) body.push(0x71, i, 0x30, 0x5d, 0x28, ...new Array(8).fill([0x68, i]).flat(), 0x65);
  body.push(0x2e);
  const dag = unpickle(Uint8Array.from(body), { source: 'dag', resolveGlobal: () => t.fail() as never, persistentLoad: () => t.fail() });
  const t0 = performance.now();
  const s = summarizePy(dag, 40, 8, 500);
  t.true(performance.now() - t0 < 1000);
  t.true(s.length < 20000, `${s.length} chars`);
  t.true(s.startsWith('[[[[[[[['));
  const cyc: unknown[] = [];
  cyc.push(cyc);
  t.is(summarizePy(cyc), '[[[[...]]]]');
});
