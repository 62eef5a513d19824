/**
 * A restricted pickle virtual machine (protocols 0-5 as Python 3 writes them; torch.save uses 2).
 * It never executes code: GLOBAL/STACK_GLOBAL go through a caller-supplied resolver that either
 * returns an inert PyCallable (a data constructor the caller implements in TypeScript) or throws;
 * REDUCE/NEWOBJ can only call such PyCallables; BUILD only stores state. Python values map to:
 * None -> null, bool -> boolean, int -> number (bigint when beyond 2^53), float -> number,
 * str -> string, bytes/bytearray -> Uint8Array, tuple -> PyTuple, list -> Array, dict -> PyDict,
 * set/frozenset -> Set.
 *
 * Resource bounds: the loop consumes at least one byte per opcode, so run time is linear in the
 * pickle length; every length field is checked against the bytes left before it is used; the
 * stack, mark stack and memo are capped (PickleLimits), and integers are capped in size. Deep
 * nesting costs no JS recursion here (the VM is iterative); consumers that walk the result must
 * bound their own depth, and may meet cycles (a list appended to itself through the memo).
 */
import { PthError } from './pth-error.js';

export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** A dict or collections.OrderedDict; `state` holds attributes set by BUILD (torch's `_metadata`). */
export class PyDict extends Map<unknown, unknown> {
  state: unknown = null;
  constructor(readonly ordered = false) {
    super();
  }
}

/** What a resolved global may be: a constructor of inert data, implemented by the caller. */
export interface PyCallable {
  readonly qualname: string;
  call(args: unknown[]): unknown;
}

/** An object whose BUILD state is kept as data (e.g. an opaque class instance). */
export interface PyBuildable {
  build(state: unknown): void;
}

export interface PickleLimits {
  maxStack: number;
  maxMarks: number;
  maxMemo: number;
  /** Bytes of one LONG1/LONG4/text integer. */
  maxIntBytes: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxStack: 1 << 20, maxMarks: 1 << 16, maxMemo: 1 << 22, maxIntBytes: 4096 };

export interface UnpickleOptions {
  source: string;
  /** Returns the callable for module.name, or throws a PthError naming it. */
  resolveGlobal(module: string, name: string): PyCallable;
  persistentLoad(pid: unknown): unknown;
  limits?: Partial<PickleLimits>;
}

export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object' && v !== null && 'qualname' in v) return `global ${(v as PyCallable).qualname}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function isCallable(v: unknown): v is PyCallable {
  return typeof v === 'object' && v !== null && typeof (v as PyCallable).call === 'function' && typeof (v as PyCallable).qualname === 'string';
}

function isBuildable(v: unknown): v is PyBuildable {
  return typeof v === 'object' && v !== null && typeof (v as PyBuildable).build === 'function';
}

const utf8 = new TextDecoder('utf-8');
const MARK = Symbol('mark');

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Little-endian two's-complement bytes (LONG1/LONG4) to a number, or a bigint beyond 2^53. */
function intFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return narrow(v);
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  const lim = { ...DEFAULT_PICKLE_LIMITS, ...opts.limits };
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opPos = 0;
  const fail = (detail: string) => new PthError(opts.source, `pickle: ${detail} (opcode at byte ${opPos})`);

  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) throw fail(`truncated: needs ${n} more bytes, ${data.length - pos} left`);
  };
  const u8 = () => (need(1), data[pos++]!);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) throw fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  };
  const bytes = (n: number) => {
    need(n);
    pos += n;
    return data.subarray(pos - n, pos);
  };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw fail('truncated: missing newline');
    const s = latin1(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const textInt = (s: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t) || t.length > lim.maxIntBytes) throw fail(`bad integer literal ${JSON.stringify(s.slice(0, 40))}`);
    return narrow(BigInt(t));
  };
  const push = (v: unknown) => {
    if (stack.length >= lim.maxStack) throw fail(`stack exceeds ${lim.maxStack} entries`);
    stack.push(v);
  };
  const pop = (): unknown => {
    const m = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= m) throw fail('pop from an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    const m = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= m) throw fail('empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw fail('no MARK on the stack');
    return stack.splice(m);
  };
  const memoIndex = (i: number) => {
    if (!memo.has(i) && memo.size >= lim.maxMemo) throw fail(`memo exceeds ${lim.maxMemo} entries`);
    memo.set(i, top());
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) throw fail(`memo key ${i} is not defined`);
    push(memo.get(i));
  };
  const textIndex = () => {
    const v = textInt(line());
    if (typeof v !== 'number' || v < 0) throw fail(`bad memo index ${v}`);
    return v;
  };
  const list = (): unknown[] => {
    const l = top();
    if (!Array.isArray(l)) throw fail(`APPEND to a ${pyTypeName(l)}`);
    return l;
  };
  const dict = (): PyDict => {
    const d = top();
    if (!(d instanceof PyDict)) throw fail(`SETITEM on a ${pyTypeName(d)}`);
    return d;
  };
  const set = (): Set<unknown> => {
    const s = top();
    if (!(s instanceof Set)) throw fail(`ADDITEMS on a ${pyTypeName(s)}`);
    return s;
  };
  const callable = (f: unknown, op: string): PyCallable => {
    if (!isCallable(f)) throw fail(`${op} on a ${pyTypeName(f)}, not a resolved global`);
    return f;
  };
  const tupleArgs = (a: unknown, op: string): unknown[] => {
    if (!(a instanceof PyTuple)) throw fail(`${op} arguments are a ${pyTypeName(a)}, not a tuple`);
    return a.items;
  };
  const call = (f: PyCallable, args: unknown[]) => {
    try {
      return f.call(args);
    } catch (e) {
      if (e instanceof PthError) throw e;
      throw fail(`${f.qualname}: ${(e as Error).message}`);
    }
  };
  const global = (module: string, name: string) => {
    const g = opts.resolveGlobal(module, name);
    push(g);
  };
  const str = (v: unknown, what: string): string => {
    if (typeof v !== 'string') throw fail(`${what} is a ${pyTypeName(v)}, not a str`);
    return v;
  };

  for (;;) {
    opPos = pos;
    if (pos >= data.length) throw fail('truncated: no STOP opcode');
    const op = data[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) throw fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME: a length prefix only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length === 0) throw fail('STOP with an empty stack');
        return stack.pop();
      case 0x28: // MARK
        if (marks.length >= lim.maxMarks) throw fail(`more than ${lim.maxMarks} nested MARKs`);
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x4a: push(i32()); break; // BININT
      case 0x8a: push(intFromBytes(bytes(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) throw fail(`negative LONG4 length ${n}`);
        if (n > lim.maxIntBytes) throw fail(`integer of ${n} bytes is too large`);
        push(intFromBytes(bytes(n)));
        break;
      }
      case 0x49: { // INT (text); protocol 0 spells booleans 00/01
        const s = line();
        push(s === '00' ? false : s === '01' ? true : textInt(s));
        break;
      }
      case 0x4c: push(textInt(line())); break; // LONG (text)
      case 0x46: { // FLOAT (text)
        const s = line().trim();
        const v = Number(s);
        if (s === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(s))) throw fail(`bad float literal ${JSON.stringify(s.slice(0, 40))}`);
        push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: push(utf8.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: push(utf8.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: push(utf8.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x54: { // BINSTRING (Python 2 str)
        const n = i32();
        if (n < 0) throw fail(`negative BINSTRING length ${n}`);
        push(latin1(bytes(n)));
        break;
      }
      case 0x55: push(latin1(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: push(bytes(u32())); break; // BINBYTES
      case 0x43: push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x8e: push(bytes(u64())); break; // BINBYTES8
      case 0x96: push(bytes(u64()).slice()); break; // BYTEARRAY8
      case 0x29: push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x85: push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x74: push(new PyTuple(popMark())); break; // TUPLE
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x6c: push(popMark()); break; // LIST
      case 0x7d: push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) throw fail('DICT with an odd number of items');
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        push(d);
        break;
      }
      case 0x8f: push(new Set()); break; // EMPTY_SET
      case 0x91: push(new Set(popMark())); break; // FROZENSET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = set();
        for (const x of items) s.add(x);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        list().push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = list();
        for (const x of items) l.push(x);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        dict().set(k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) throw fail('SETITEMS with an odd number of items');
        const d = dict();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x67: memoGet(textIndex()); break; // GET
      case 0x68: memoGet(u8()); break; // BINGET
      case 0x6a: memoGet(u32()); break; // LONG_BINGET
      case 0x70: memoIndex(textIndex()); break; // PUT
      case 0x71: memoIndex(u8()); break; // BINPUT
      case 0x72: memoIndex(u32()); break; // LONG_BINPUT
      case 0x94: memoIndex(memo.size); break; // MEMOIZE
      case 0x63: { // GLOBAL
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = str(pop(), 'STACK_GLOBAL name');
        global(str(pop(), 'STACK_GLOBAL module'), name);
        break;
      }
      case 0x52: { // REDUCE
        const args = tupleArgs(pop(), 'REDUCE');
        push(call(callable(pop(), 'REDUCE'), args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = tupleArgs(pop(), 'NEWOBJ');
        push(call(callable(pop(), 'NEWOBJ'), args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = tupleArgs(pop(), 'NEWOBJ_EX');
        const cls = callable(pop(), 'NEWOBJ_EX');
        if (!(kwargs instanceof PyDict) || kwargs.size) throw fail(`NEWOBJ_EX of ${cls.qualname} with keyword arguments`);
        push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        else if (isBuildable(obj)) obj.build(state);
        else if (state !== null) throw fail(`BUILD on a ${pyTypeName(obj)}`);
        break;
      }
      case 0x51: push(opts.persistentLoad(pop())); break; // BINPERSID
      case 0x50: push(opts.persistentLoad(line())); break; // PERSID
      case 0x53: case 0x56:
        throw fail(`protocol-0 text string opcode '${String.fromCharCode(op)}' is not supported (re-save with torch.save, which writes protocol 2)`);
      case 0x69: case 0x6f:
        throw fail(`class-instantiating opcode '${String.fromCharCode(op)}' (INST/OBJ) is not allowed`);
      case 0x82: case 0x83: case 0x84:
        throw fail('EXT opcodes (copyreg extension registry) are not allowed');
      case 0x97: case 0x98:
        throw fail('out-of-band buffers (protocol 5 NEXT_BUFFER/READONLY_BUFFER) are not supported');
      default:
        throw fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

/**
 * A bounded, cycle-safe rendering of an unpickled value (for `inspect` and error messages). Depth,
 * items per container and total nodes are all capped: the memo lets a small pickle reference one
 * container many times at every level, so depth and breadth caps alone would allow exponential work.
 */
export function summarizePy(v: unknown, maxDepth = 4, maxItems = 8, maxNodes = 2000): string {
  let budget = maxNodes;
  const go = (x: unknown, depth: number): string => {
    if (--budget < 0) return '...';
    if (x === null) return 'None';
    if (typeof x === 'boolean') return x ? 'True' : 'False';
    if (typeof x === 'number' || typeof x === 'bigint') return String(x);
    if (typeof x === 'string') return JSON.stringify(x.length > 60 ? `${x.slice(0, 57)}...` : x);
    if (x instanceof Uint8Array) return `bytes[${x.length}]`;
    if (depth >= maxDepth) return '...';
    const items = (xs: Iterable<unknown>, size: number, each: (y: unknown) => string) => {
      const out: string[] = [];
      for (const y of xs) {
        if (out.length >= maxItems) break;
        out.push(each(y));
      }
      return out.join(', ') + (size > maxItems ? `, ... (${size})` : '');
    };
    const child = (y: unknown) => go(y, depth + 1);
    if (Array.isArray(x)) return `[${items(x, x.length, child)}]`;
    if (x instanceof PyTuple) return `(${items(x.items, x.items.length, child)})`;
    if (x instanceof Set) return `{${items(x, x.size, child)}}`;
    if (x instanceof PyDict) return `{${items(x.entries(), x.size, (e) => `${go((e as [unknown, unknown])[0], depth + 1)}: ${go((e as [unknown, unknown])[1], depth + 1)}`)}}`;
    if (typeof x === 'object' && typeof (x as { toString?: unknown }).toString === 'function' && (x as object).toString !== Object.prototype.toString) return String(x);
    return pyTypeName(x);
  };
  return go(v, 0);
}
