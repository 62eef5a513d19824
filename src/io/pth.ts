/**
 * Reader for PyTorch checkpoints written by torch.save (zip format, torch >= 1.6): the archive
 * holds `<name>/data.pkl` (a pickle, protocol 2) whose tensors point through persistent ids at
 * storages stored as `<name>/data/<key>` entries of raw little-endian bytes.
 *
 * Safety: the pickle is run by the restricted VM of ./pickle.ts, which executes nothing. Globals
 * are resolved against an allow-list:
 *   - interpreted: collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 *     torch._utils._rebuild_parameter(_with_state), torch.<T>Storage for the dtypes below,
 *     builtins set/frozenset/bytearray and _codecs.encode (how protocol 2 spells bytes);
 *   - opaque (kept as inert PthOpaque records, never interpreted): the data-only classes mmengine
 *     puts in `message_hub` and `meta` (HistoryBuffer, numpy arrays, dtypes and scalars);
 *   - anything else fails with `forbidden global '<module>.<name>'`, wherever it appears: a
 *     pickle cannot be skipped without being run, so a single stranger refuses the whole file.
 * Tensors are lazy (PthTensor: storage, offset, shape, strides) and validated when unpickled:
 * storage entry present with exactly numel * itemsize bytes, view inside its storage. Reading one
 * (`read`) returns contiguous row-major bytes: a single range read for contiguous views, a gather
 * for strided ones (transposes, shared storages). Only state_dict tensors are ever read; optimizer
 * state and the rest stay unread references.
 */
import { PyDict, PyTuple, type PickleLimits, type PyBuildable, type PyCallable, unpickle, pyTypeName } from './pickle.js';
import { PthError } from './pth-error.js';
import { SAFETENSORS_DTYPES, type SafetensorsDType, type TensorRecord } from './safetensors.js';
import { type ByteSource, type Crc32, type ZipEntry, ZipArchive, memorySource } from './zip.js';

export { PthError } from './pth-error.js';

/** torch.<name> storage classes and the dtype of their elements. */
export const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDType>> = {
  FloatStorage: 'F32', DoubleStorage: 'F64', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** Data-only classes found in mmengine checkpoints outside the state dict; kept as inert records. */
export const OPAQUE_GLOBALS: ReadonlySet<string> = new Set([
  'mmengine.logging.history_buffer.HistoryBuffer',
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar',
  'numpy.ndarray', 'numpy.dtype',
]);

export const LEGACY_FORMAT_HINT =
  'legacy (non-zip) torch.save format; re-save it with a newer torch: ' +
  "torch.save(torch.load('in.pth', weights_only=False), 'out.pth', _use_new_zipfile_serialization=True)";

export class PthStorage {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDType,
    readonly numel: number,
    readonly entry: ZipEntry,
  ) {}
}

export class PthTensor {
  readonly numel: number;
  constructor(
    readonly storage: PthStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {
    this.numel = shape.reduce((a, b) => a * b, 1);
  }

  get dtype(): SafetensorsDType {
    return this.storage.dtype;
  }

  get nbytes(): number {
    return this.numel * SAFETENSORS_DTYPES[this.dtype];
  }

  /** Row-major contiguous (size-1 dimensions may carry any stride). */
  get contiguous(): boolean {
    let expect = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.stride[d] !== expect) return false;
      expect *= this.shape[d]!;
    }
    return true;
  }

  toString(): string {
    return `tensor(${this.dtype}[${this.shape.join(',')}])`;
  }
}

/** An instance of an opaque (allowed but uninterpreted) global: its constructor arguments and BUILD state. */
export class PthOpaque implements PyBuildable {
  state: unknown = null;
  constructor(
    readonly qualname: string,
    readonly args: unknown[],
  ) {}
  build(state: unknown): void {
    this.state = state;
  }
  toString(): string {
    return `<${this.qualname}>`;
  }
}

class StorageType implements PyCallable {
  constructor(
    readonly qualname: string,
    readonly dtype: SafetensorsDType,
  ) {}
  call(): never {
    throw new Error('storage classes are only valid inside a persistent id');
  }
}

function fn(qualname: string, call: (args: unknown[]) => unknown): PyCallable {
  return { qualname, call };
}

function safeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what} must be a non-negative integer, got ${pyTypeName(v)} ${typeof v === 'number' || typeof v === 'bigint' ? v : ''}`.trimEnd());
  return v;
}

function intTuple(v: unknown, what: string): number[] {
  if (!(v instanceof PyTuple)) throw new Error(`${what} must be a tuple, got ${pyTypeName(v)}`);
  return v.items.map((x, i) => safeInt(x, `${what}[${i}]`));
}

function latin1Bytes(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error(`${what}: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

function rebuildTensor(args: unknown[]): PthTensor {
  if (args.length !== 6 && args.length !== 7) throw new Error(`expected 6 or 7 arguments, got ${args.length}`);
  const [storage, offsetV, sizeV, strideV] = args;
  if (!(storage instanceof PthStorage)) throw new Error(`storage argument is a ${pyTypeName(storage)}`);
  const offset = safeInt(offsetV, 'storage_offset');
  const shape = intTuple(sizeV, 'size');
  const stride = intTuple(strideV, 'stride');
  if (shape.length !== stride.length) throw new Error(`size has ${shape.length} dims, stride ${stride.length}`);
  let numel = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    numel *= shape[d]!;
    if (shape[d]! > 0) last += (shape[d]! - 1) * stride[d]!;
  }
  if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) throw new Error(`view size[${shape.join(',')}] stride[${stride.join(',')}] overflows`);
  if (numel > 0 ? last >= storage.numel : offset > storage.numel) {
    throw new Error(`view offset ${offset} size[${shape.join(',')}] stride[${stride.join(',')}] reaches element ${last} of a ${storage.numel}-element storage '${storage.key}'`);
  }
  return new PthTensor(storage, offset, shape, stride);
}

export interface PthOptions {
  /** Check CRC-32 of data.pkl and of every storage read whole (default true). */
  verifyCrc?: boolean;
  /** CRC-32 implementation (default: the portable one in ./zip.ts; openPthFile passes Node's zlib.crc32). */
  crc32?: Crc32;
  limits?: Partial<PickleLimits>;
}

/** A PyTorch `torch.save` checkpoint read without Python (openPth): its tensors, lazily decoded. */
export class PthCheckpoint {
  constructor(
    readonly source: string,
    private readonly zip: ZipArchive,
    /** The unpickled object (tensors as lazy PthTensor references). */
    readonly root: unknown,
    /** Where the model state dict was found: 'state_dict', 'model', or '' for the root itself. */
    readonly stateDictKey: string,
    /** The state dict's tensors by name, in file order. */
    readonly tensors: Map<string, PthTensor>,
    /** State-dict entries that are not tensors (skipped). */
    readonly nonTensorKeys: string[],
    private readonly verifyCrc: boolean,
  ) {}

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Top-level keys other than the state dict (meta, message_hub, optimizer, ...), never read. */
  get otherKeys(): string[] {
    if (!(this.root instanceof PyDict) || this.stateDictKey === '') return [];
    return [...this.root.keys()].filter((k) => k !== this.stateDictKey).map((k) => String(k));
  }

  get(name: string): PthTensor {
    const t = this.tensors.get(name);
    if (!t) throw new PthError(this.source, `no tensor '${name}' (has ${this.tensors.size}: ${this.names.slice(0, 8).join(', ')}${this.tensors.size > 8 ? ', ...' : ''})`);
    return t;
  }

  /** A tensor as contiguous row-major little-endian bytes in its own dtype. */
  async read(name: string): Promise<TensorRecord> {
    const t = this.get(name);
    const es = SAFETENSORS_DTYPES[t.dtype];
    const record = (data: Uint8Array): TensorRecord => ({ dtype: t.dtype, shape: [...t.shape], data });
    if (t.numel === 0) return record(new Uint8Array(0));
    const entry = t.storage.entry;
    if (t.contiguous) {
      if (t.offset === 0 && t.numel === t.storage.numel) return record(await this.zip.readEntry(entry, this.verifyCrc));
      return record(await this.zip.readRange(entry, t.offset * es, t.nbytes));
    }
    // Zero or overlapping strides could make a view far larger than its storage; refuse to expand past the file.
    if (t.nbytes > Math.max(this.zip.src.size, entry.size)) throw new PthError(this.source, `${name}: strided view of ${t.nbytes} bytes expands a ${entry.size}-byte storage`);
    let span = 0;
    for (let d = 0; d < t.shape.length; d++) span += (t.shape[d]! - 1) * t.stride[d]!;
    const src = await this.zip.readRange(entry, t.offset * es, (span + 1) * es);
    return record(gather(src, t.shape, t.stride, es, t.nbytes));
  }

  async close(): Promise<void> {
    await this.zip.src.close?.();
  }
}

function gather(src: Uint8Array, shape: number[], stride: number[], es: number, nbytes: number): Uint8Array {
  const out = new Uint8Array(nbytes);
  const nd = shape.length;
  const inner = shape[nd - 1]!;
  const istride = stride[nd - 1]! * es;
  const idx = new Array<number>(nd).fill(0);
  let base = 0;
  for (let o = 0; o < nbytes; ) {
    for (let i = 0, s = base; i < inner; i++, s += istride) for (let b = 0; b < es; b++) out[o++] = src[s + b]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      base += stride[d]! * es;
      if (idx[d]! < shape[d]!) break;
      base -= stride[d]! * es * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function notZipReason(head: Uint8Array): string {
  if (head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) return LEGACY_FORMAT_HINT;
  if (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar') return `${LEGACY_FORMAT_HINT} (this is the even older tar format)`;
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not a torch.save zip archive (first bytes ${hex || 'none: empty file'})`;
}

/** Opens a torch.save checkpoint: parses the zip directory and the pickle; tensor data stays unread. */
export async function openPth(input: ByteSource | Uint8Array, source = '<buffer>', options: PthOptions = {}): Promise<PthCheckpoint> {
  const src = input instanceof Uint8Array ? memorySource(input) : input;
  const fail = (d: string) => new PthError(source, d);
  const verifyCrc = options.verifyCrc ?? true;
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(src, source, notZipReason, options.crc32);
  } catch (e) {
    if (e instanceof PthError) throw e;
    throw fail(`cannot read the zip container: ${(e as Error).message}`);
  }
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]*\/?data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    if (zip.entries.has('constants.pkl') || [...zip.entries.keys()].some((n) => n.endsWith('/constants.pkl'))) throw fail('a TorchScript archive (torch.jit.save), not a torch.save checkpoint');
    throw fail(pkls.length ? `several data.pkl entries: ${pkls.join(', ')}` : 'no data.pkl in the archive (not a torch.save checkpoint)');
  }
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder) {
    const bo = new TextDecoder().decode(await zip.readEntry(byteorder, verifyCrc));
    if (bo !== 'little') throw fail(`storages are ${JSON.stringify(bo.slice(0, 20))}-endian; only little-endian checkpoints are supported`);
  }
  const pkl = await zip.readEntry(zip.entries.get(pkls[0]!)!, verifyCrc);

  const storages = new Map<string, PthStorage>();
  const collectionsOrderedDict = fn('collections.OrderedDict', (args) => {
    const d = new PyDict(true);
    const init = args[0];
    if (args.length > 1) throw new Error(`expected at most 1 argument, got ${args.length}`);
    if (init !== undefined) {
      const pairs = Array.isArray(init) ? init : init instanceof PyTuple ? init.items : null;
      if (!pairs) throw new Error(`cannot build from a ${pyTypeName(init)}`);
      for (const p of pairs) {
        const kv = p instanceof PyTuple ? p.items : Array.isArray(p) ? p : null;
        if (!kv || kv.length !== 2) throw new Error('items must be (key, value) pairs');
        d.set(kv[0], kv[1]);
      }
    }
    return d;
  });
  const allowed: Record<string, PyCallable> = {
    'collections.OrderedDict': collectionsOrderedDict,
    'torch._utils._rebuild_tensor_v2': fn('torch._utils._rebuild_tensor_v2', rebuildTensor),
    'torch._utils._rebuild_parameter': fn('torch._utils._rebuild_parameter', (args) => {
      if (!(args[0] instanceof PthTensor)) throw new Error(`data is a ${pyTypeName(args[0])}, not a tensor`);
      return args[0];
    }),
    'torch._utils._rebuild_parameter_with_state': fn('torch._utils._rebuild_parameter_with_state', (args) => {
      if (!(args[0] instanceof PthTensor)) throw new Error(`data is a ${pyTypeName(args[0])}, not a tensor`);
      return args[0];
    }),
    'builtins.set': fn('builtins.set', (args) => new Set(args.length ? iterable(args[0]) : [])),
    'builtins.frozenset': fn('builtins.frozenset', (args) => new Set(args.length ? iterable(args[0]) : [])),
    'builtins.bytearray': fn('builtins.bytearray', (args) => (args.length === 0 ? new Uint8Array(0) : encodeLatin1(args))),
    '_codecs.encode': fn('_codecs.encode', encodeLatin1),
  };
  const resolveGlobal = (module: string, name: string): PyCallable => {
    const mod = module === '__builtin__' ? 'builtins' : module;
    const q = `${mod}.${name}`;
    const hit = allowed[q];
    if (hit) return hit;
    if (mod === 'torch' && name.endsWith('Storage')) {
      const dtype = STORAGE_DTYPES[name];
      if (!dtype) throw fail(`unsupported storage type 'torch.${name}' (supported: ${Object.keys(STORAGE_DTYPES).join(', ')})`);
      return new StorageType(q, dtype);
    }
    if (OPAQUE_GLOBALS.has(q)) return fn(q, (args) => new PthOpaque(q, args));
    throw fail(`forbidden global '${module}.${name}' (a checkpoint needs only tensors, storages and containers; nothing is executed)`);
  };
  const persistentLoad = (pid: unknown): unknown => {
    const items = pid instanceof PyTuple ? pid.items : null;
    if (!items || items.length !== 5 || items[0] !== 'storage') throw fail(`persistent id ${pyTypeName(pid)} is not ('storage', type, key, location, numel)`);
    const [, type, key, , numelV] = items;
    if (!(type instanceof StorageType)) throw fail(`persistent id storage type is a ${pyTypeName(type)}`);
    if (typeof key !== 'string') throw fail(`persistent id key is a ${pyTypeName(key)}`);
    let numel: number;
    try {
      numel = safeInt(numelV, 'storage numel');
    } catch (e) {
      throw fail((e as Error).message);
    }
    const id = `${key}:${type.dtype}`;
    const known = storages.get(id);
    if (known) {
      if (known.numel !== numel) throw fail(`storage '${key}' declared with ${known.numel} and ${numel} elements`);
      return known;
    }
    const entry = zip.entries.get(`${prefix}data/${key}`);
    if (!entry) throw fail(`storage '${key}' has no entry ${prefix}data/${key} in the archive`);
    const es = SAFETENSORS_DTYPES[type.dtype];
    if (entry.size !== numel * es) throw fail(`storage '${key}' declares ${numel} x ${type.dtype} (${numel * es} bytes), its entry holds ${entry.size} bytes`);
    const s = new PthStorage(key, type.dtype, numel, entry);
    storages.set(id, s);
    return s;
  };
  const root = unpickle(pkl, { source, resolveGlobal, persistentLoad, limits: options.limits });

  let stateDictKey = '';
  let sd: unknown = root;
  if (root instanceof PyDict) {
    for (const k of ['state_dict', 'model']) {
      if (root.get(k) instanceof PyDict) {
        stateDictKey = k;
        sd = root.get(k);
        break;
      }
    }
  }
  if (!(sd instanceof PyDict)) throw fail(`the checkpoint is a ${pyTypeName(root)}, not a dict holding a state dict`);
  const tensors = new Map<string, PthTensor>();
  const nonTensorKeys: string[] = [];
  for (const [k, v] of sd) {
    if (typeof k !== 'string') throw fail(`state dict key ${pyTypeName(k)} is not a string`);
    if (v instanceof PthTensor) tensors.set(k, v);
    else nonTensorKeys.push(k);
  }
  if (stateDictKey === '' && tensors.size === 0) throw fail(`no state dict: top-level keys are ${[...sd.keys()].slice(0, 10).map(String).join(', ')}`);
  return new PthCheckpoint(source, zip, root, stateDictKey, tensors, nonTensorKeys, verifyCrc);
}

function iterable(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  if (v instanceof Set) return [...v];
  throw new Error(`cannot iterate a ${pyTypeName(v)}`);
}

/** Protocol 2 pickles bytes as _codecs.encode(latin-1 text, 'latin1'). */
function encodeLatin1(args: unknown[]): Uint8Array {
  const [s, enc] = args;
  if (args.length !== 2 || typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new Error("only encode(str, 'latin1') is supported");
  return latin1Bytes(s, 'encode');
}
