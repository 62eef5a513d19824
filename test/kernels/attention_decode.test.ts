// attention_decode (split-K over the keys of one query) and KVCache vs the double reference and the
// flash pass.
import test from 'ava';
import { KVCache, KernelArgError, attention, attentionDecode, attentionFlash, attentionRef } from '../../kernels/index.js';
import { DECODE_CHUNK, decodeScratchBytes } from '../../kernels/internal.js';
import { type Case, upload } from '../helpers/attention.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// f32 dots of length HD and online-softmax sums of up to 600 keys vs doubles (as attention.test.ts).
const ATOL = 2e-5;

test('attention_decode: Lq=1 split-K equals the flash pass and the reference (1 to 3 chunks)', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (const Lk of [1, 44, 300, 2 * DECODE_CHUNK + 5]) {
    const c: Case = { B: 2, NH: 3, Lq: 1, Lk, HD: 64 };
    const d = upload(ctx, c, rng);
    const od = await attentionDecode(d.q, d.k, d.v).read();
    const of = await attentionFlash(d.q, d.k, d.v).read();
    const ref = attentionRef(d.qa, d.ka, d.va, c);
    assertClose(t, od, ref, { atol: ATOL, name: `decode Lk=${Lk} vs ref` });
    assertClose(t, od, of, { atol: ATOL, name: `decode Lk=${Lk} vs flash` });
    // attention() with one query: attention_rows_r1 up to DECODE_CHUNK keys where 'rows' runs, else this kernel.
    assertClose(t, await attention(d.q, d.k, d.v).read(), ref, { atol: ATOL, name: `attention() Lq=1 Lk=${Lk} vs ref` });
    t.is(decodeScratchBytes(2, 3, 64, Lk), Lk > DECODE_CHUNK ? 2 * 3 * Math.ceil(Lk / DECODE_CHUNK) * 68 * 4 : 0);
  }
  for (const HD of [8, 128, 512]) {
    const c: Case = { B: 1, NH: 2, Lq: 1, Lk: 300, HD };
    const d = upload(ctx, c, rng);
    assertClose(t, await attentionDecode(d.q, d.k, d.v).read(), attentionRef(d.qa, d.ka, d.va, c), { atol: ATOL, name: `decode HD=${HD}` });
  }
});

test('KVCache: prefill then one token at a time equals the full causal pass', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const B = 2, NH = 2, HD = 64, L = 11, P = 7;
  const full: Case = { B, NH, Lq: L, Lk: L, HD, causal: true };
  const d = upload(ctx, full, rng);
  const fullOut = await attentionFlash(d.q, d.k, d.v, { causal: true }).read();
  const slice = (a: Float32Array, from: number, to: number) => {
    const out = new Float32Array(B * NH * (to - from) * HD);
    for (let bh = 0; bh < B * NH; bh++) out.set(a.subarray((bh * L + from) * HD, (bh * L + to) * HD), bh * (to - from) * HD);
    return ctx.fromArray(out, [B, NH, to - from, HD]);
  };
  const cache = new KVCache(ctx, { batch: B, heads: NH, maxLength: 12, headDim: HD });
  cache.append(slice(d.ka, 0, P), slice(d.va, 0, P));
  const pre = await cache.attend(slice(d.qa, 0, P), { causal: true }).read();
  for (let bh = 0; bh < B * NH; bh++) {
    assertClose(t, pre.subarray(bh * P * HD, (bh + 1) * P * HD), fullOut.subarray(bh * L * HD, (bh * L + P) * HD), { atol: ATOL, name: `prefill bh=${bh}` });
  }
  // A KV-cache prefill with Lq < Lk: the last 2 queries over all 7 cached keys.
  const tail = await cache.attend(slice(d.qa, P - 2, P), { causal: true }).read();
  for (let bh = 0; bh < B * NH; bh++) {
    assertClose(t, tail.subarray(bh * 2 * HD, (bh + 1) * 2 * HD), fullOut.subarray((bh * L + P - 2) * HD, (bh * L + P) * HD), { atol: ATOL, name: `query offset bh=${bh}` });
  }
  for (let i = P; i < L; i++) {
    cache.append(slice(d.ka, i, i + 1), slice(d.va, i, i + 1));
    t.is(cache.length, i + 1);
    const step = await cache.attend(slice(d.qa, i, i + 1)).read();
    for (let bh = 0; bh < B * NH; bh++) {
      assertClose(t, step.subarray(bh * HD, (bh + 1) * HD), fullOut.subarray((bh * L + i) * HD, (bh * L + i + 1) * HD), { atol: ATOL, name: `step ${i} bh=${bh}` });
    }
  }
  cache.append(slice(d.ka, 0, 1), slice(d.va, 0, 1));
  t.throws(() => cache.append(slice(d.ka, 0, 1), slice(d.va, 0, 1)), { instanceOf: KernelArgError, message: /^kv_cache: k: appending 1 positions to 12 exceeds maxLength 12/ });
  cache.reset();
  t.throws(() => cache.attend(slice(d.qa, 0, 1)), { message: /^kv_cache: q: the cache is empty/ });
  t.throws(() => cache.append(ctx.zeros([B, NH, 1, 32]), ctx.zeros([B, NH, 1, 32])), { message: /^kv_cache: k: shape \[2,2,1,32\], expected \[2,2,\*,64\]/ });
  cache.dispose();
});
