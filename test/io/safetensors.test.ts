import test from 'ava';
import { readdirSync } from 'node:fs';
import { decodeF32, elementReader, parseSafetensors, serializeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.js';

test('safetensors: round trip with metadata and mixed dtypes', (t) => {
  const bytes = serializeSafetensors(
    {
      w: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      idx: { dtype: 'I64', shape: [3], data: new BigInt64Array([1n, -2n, 3n]) },
      m: { dtype: 'I32', shape: [1], data: new Int32Array([-5]) },
    },
    { case: 'x' },
  );
  const f = parseSafetensors(bytes);
  t.deepEqual([...f.f32('w')], [1, 2, 3, 4]);
  t.deepEqual([...f.i32('idx')], [1, -2, 3]);
  t.deepEqual([...f.i32('m')], [-5]);
  t.is(f.metadata.case, 'x');
  t.is(f.entry('idx').begin % 8, 0);
});

test('decodeF32: the typed-array paths of F32, F16 and BF16 equal the element reader, aligned or not', (t) => {
  // Every half and bfloat16 bit pattern (inf, NaN, subnormals, -0), and f32 values from their bits.
  const halves = new Uint8Array(new Uint16Array(Array.from({ length: 65536 }, (_, i) => i)).buffer);
  const f32 = new Uint8Array(new Uint32Array(Array.from({ length: 4099 }, (_, i) => (i * 2654435761) >>> 0)).buffer);
  for (const [dtype, bytes] of [['F16', halves], ['BF16', halves], ['F32', f32]] as const) {
    for (const offset of [0, 1, 2]) {
      const buf = new Uint8Array(bytes.byteLength + offset);
      buf.set(bytes, offset);
      const view = buf.subarray(offset);
      const n = bytes.byteLength / (dtype === 'F32' ? 4 : 2);
      const got = decodeF32(dtype, view, n);
      const get = elementReader(dtype, new DataView(view.buffer, view.byteOffset, view.byteLength));
      const want = Float32Array.from({ length: n }, (_, i) => get(i));
      // Compared as bits (-0 and subnormals exactly); NaN for NaN (the reader's JS numbers may drop payloads).
      const gb = new Uint32Array(got.buffer);
      const wb = new Uint32Array(want.buffer);
      const bad = gb.findIndex((b, i) => b !== wb[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i])));
      t.is(bad, -1, `${dtype} at byte offset ${offset}: element ${bad}`);
      // Into a scratch array (a view at a nonzero offset, larger than needed): the same bits, in it.
      const scratch = new Float32Array(n + 9).fill(7).subarray(3);
      const into = decodeF32(dtype, view, n, 'tensor', scratch);
      t.is(into.buffer, scratch.buffer, `${dtype}: decoded into the scratch array`);
      t.is(into.byteOffset, scratch.byteOffset);
      t.deepEqual(new Uint32Array(into.buffer, into.byteOffset, n), new Uint32Array(got.buffer), `${dtype} into scratch at byte offset ${offset}`);
      t.is(scratch[n], 7, 'nothing past n written');
    }
  }
  const small = new Float32Array(1);
  t.not(decodeF32('F32', f32, 4099, 'tensor', small).buffer, small.buffer, 'a scratch array too small is not used');
  t.deepEqual([...decodeF32('I32', new Uint8Array(new Int32Array([5, -6]).buffer), 2, 'tensor', new Float32Array(4))], [5, -6], 'the element-reader path fills scratch too');
  t.throws(() => decodeF32('F16', new Uint8Array(3), 2), { instanceOf: SafetensorsError, message: /3 bytes for 2 F16 values/ });
});

function withHeader(h: object, dataLen = 16): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + json.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

test('safetensors: malformed headers are rejected with a reason', (t) => {
  t.throws(() => parseSafetensors(new Uint8Array(4)), { instanceOf: SafetensorsError, message: /shorter than/ });
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  t.throws(() => parseSafetensors(huge), { message: /exceeds/ });
  const past = new Uint8Array(16);
  new DataView(past.buffer).setBigUint64(0, 100n, true);
  t.throws(() => parseSafetensors(past), { message: /past the end/ });
  t.throws(() => parseSafetensors(withHeader({ a: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } })), { message: /unknown dtype/ });
  t.throws(() => parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } })), { message: /needs 8 bytes/ });
  t.throws(() => parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } })), { message: /outside the data/ });
  t.throws(() => parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } })), { message: /non-negative/ });
  t.throws(
    () => parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } })),
    { message: /overlap/ },
  );
  t.throws(() => parseSafetensors(withHeader([1, 2])), { message: /not a JSON object/ });
});

test('safetensors: every golden file parses', async (t) => {
  const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors'));
  t.true(files.length >= 30);
  for (const f of files) {
    const g = await loadGolden(f);
    t.truthy(g.metadata.case, f);
  }
});

test('openSafetensorsFile / openWeightFiles read tensors from disk on demand, as parseSafetensors decodes them', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openSafetensorsFile } = await import('../../src/io/file-node.js');
  const { openWeightFiles } = await import('../../src/node.js');
  const dir = mkdtempSync(join(tmpdir(), 'vw-st-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'w.safetensors');
  const bytes = serializeSafetensors({
    a: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x0001]) },
    b: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 3, 0.25]) },
    c: { dtype: 'BF16', shape: [1], data: new Uint16Array([0x4049]) },
  });
  writeFileSync(path, bytes);
  const whole = parseSafetensors(bytes);
  const st = await openSafetensorsFile(path);
  for (const n of ['a', 'b', 'c']) t.deepEqual([...(await st.f32(n))], [...whole.f32(n)], n);
  // With scratch arrays: calls issued together still decode their own tensors (reads take turns).
  const scratches = [new Float32Array(4), new Float32Array(4), new Float32Array(4)];
  const got = await Promise.all(['a', 'b', 'c'].map((n, i) => st.f32(n, scratches[i])));
  got.forEach((g, i) => t.is(g.buffer, scratches[i]!.buffer));
  t.deepEqual(got.map((g) => [...g]), ['a', 'b', 'c'].map((n) => [...whole.f32(n)]), 'scratch reads');
  await t.throwsAsync(() => st.f32('nope'), { instanceOf: SafetensorsError, message: /no tensor 'nope'/ });
  await st.close();
  const w = await openWeightFiles([path]);
  t.deepEqual(w.source.keys().sort(), ['a', 'b', 'c']);
  t.deepEqual([...(await w.source.f32('a'))], [1, -2, 2 ** -24]);
  await w.close();
});
