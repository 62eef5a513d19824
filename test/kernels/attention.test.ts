// attention (flash; decode where it must agree with flash) and rope vs their double references,
// and the attention cores of four goldens (surrounding projections/norms on the CPU in doubles).
import test from 'ava';
import { F32_MIN, KVCache, KernelArgError, attention, attentionDecode, attentionFlash, attentionRef, rope, ropeRef, ropeTable, ropeTableData, type GpuContext } from '../../kernels/index.js';
import { flashKernel, rowsVariant, withKnobs } from '../../kernels/internal.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu, notExercised } from '../helpers/gpu.js';
import { type Case, upload } from '../helpers/attention.js';
import { Rng } from '../helpers/rng.js';

// f32 dots of length HD and online-softmax sums of up to 600 keys vs doubles.
const ATOL = 2e-5;
const GOLDEN_ATOL = 1e-4;


const FLASH_CASES: Case[] = [
  { B: 1, NH: 1, Lq: 1, Lk: 1, HD: 64 },
  { B: 1, NH: 2, Lq: 7, Lk: 7, HD: 64, causal: true },
  { B: 2, NH: 3, Lq: 17, Lk: 17, HD: 64, causal: true },
  { B: 1, NH: 2, Lq: 17, Lk: 300, HD: 64 },
  { B: 1, NH: 1, Lq: 300, Lk: 300, HD: 64, causal: true },
  { B: 1, NH: 2, Lq: 7, Lk: 300, HD: 128, causal: true },
  { B: 2, NH: 2, Lq: 7, Lk: 17, HD: 128 },
  { B: 1, NH: 1, Lq: 16, Lk: 16, HD: 512 },
  { B: 2, NH: 1, Lq: 17, Lk: 7, HD: 512 },
  { B: 2, NH: 4, Lq: 7, Lk: 7, HD: 16, causal: true },
  { B: 1, NH: 3, Lq: 5, Lk: 33, HD: 8, scale: 0.7 },
  // 'rows': 32 queries are attention_rows_r1's last, 33 attention_rows' first (R = 4, partly filled).
  { B: 1, NH: 2, Lq: 32, Lk: 45, HD: 8, causal: true },
  { B: 1, NH: 2, Lq: 33, Lk: 45, HD: 8, causal: true },
];

/** Every prefill kernel the call can run: 'rows' where the device runs it for this head dim, 'tiled', and 'unfused' without masks. */
const kernelsFor = (ctx: GpuContext, HD: number, plain = false) => [...(flashKernel(ctx, HD) === 'rows' ? (['rows'] as const) : []), 'tiled' as const, ...(plain ? (['unfused'] as const) : [])];

for (const c of FLASH_CASES) {
  test(`attention flash B${c.B} NH${c.NH} Lq${c.Lq} Lk${c.Lk} HD${c.HD}${c.causal ? ' causal' : ''}`, async (t) => {
    const ctx = await gpu();
    const d = upload(ctx, c, Rng.fromString(t.title));
    const ref = attentionRef(d.qa, d.ka, d.va, c, { causal: c.causal, scale: c.scale });
    for (const kernel of kernelsFor(ctx, c.HD, !c.causal)) {
      const o = await withKnobs({ attention: kernel }, () => attentionFlash(d.q, d.k, d.v, { causal: c.causal, scale: c.scale })).read();
      assertClose(t, o, ref, { atol: ATOL, shape: [c.B, c.NH, c.Lq, c.HD], name: `${t.title} (${kernel === 'rows' ? rowsVariant(c.Lq).shader.id : kernel})` });
    }
  });
}

test('attention flash: the rows kernel is chosen for HD <= 64 where the tuning table picks the CPU subgroup variants, refused beyond', async (t) => {
  const ctx = await gpu();
  if (ctx.useCpuSubgroupVariants()) {
    t.is(flashKernel(ctx, 64), 'rows');
    t.deepEqual([1, 32, 33, 300].map((Lq) => rowsVariant(Lq).shader.id), ['attention_rows_r1', 'attention_rows_r1', 'attention_rows', 'attention_rows'], 'one query row per invocation up to 32 queries');
  } else {
    t.is(flashKernel(ctx, 64), 'tiled');
    notExercised(t, 'attention_rows', `not picked on ${ctx.adapterClass} (${ctx.adapterInfo})`);
  }
  t.is(flashKernel(ctx, 128), 'tiled');
  t.is(flashKernel(ctx, 512, true), ctx.tuning.wideAttentionUnfused ? 'unfused' : 'tiled', 'wide unmasked heads: two matmuls and a softmax where the table says so');
  t.is(flashKernel(ctx, 64, true), ctx.useCpuSubgroupVariants() ? 'rows' : 'tiled', 'not for HD <= 64');
  const d = upload(ctx, { B: 1, NH: 1, Lq: 2, Lk: 2, HD: 128 }, new Rng(1));
  t.throws(() => withKnobs({ attention: 'rows' }, () => attentionFlash(d.q, d.k, d.v)), { instanceOf: KernelArgError, message: /attention: knobs.attention: 'rows' needs HD <= 64 \(got 128\)/ });
  t.throws(() => withKnobs({ attention: 'unfused' }, () => attentionFlash(d.q, d.k, d.v, { causal: true })), { instanceOf: KernelArgError, message: /attention: knobs.attention: 'unfused' needs no mask, no causal mask/ });
  t.throws(() => withKnobs({ attention: 'unfused' }, () => attentionFlash(d.q, d.k, d.v, { kvLength: 1 })), { instanceOf: KernelArgError, message: /'unfused' needs .*k\/v of exactly Lk rows/ });
});

test('attention random shapes (seeded), flash and auto-routed', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  for (let n = 0; n < 6; n++) {
    const Lk = rng.int(1, 70);
    const c: Case = { B: rng.int(1, 2), NH: rng.int(1, 3), Lq: rng.int(1, Lk), Lk, HD: rng.pick([4, 12, 32, 64, 128]), causal: rng.next() < 0.5 };
    const d = upload(ctx, c, rng);
    const o = await attention(d.q, d.k, d.v, { causal: c.causal }).read();
    assertClose(t, o, attentionRef(d.qa, d.ka, d.va, c, { causal: c.causal }), { atol: ATOL, name: `seed ${rng.seed} #${n} ${JSON.stringify(c)}` });
  }
});

test('attention masks: padded keys, fully masked rows are finite uniform averages (flash and decode)', async (t) => {
  const ctx = await gpu();
  const c: Case = { B: 3, NH: 2, Lq: 9, Lk: 9, HD: 64 };
  const d = upload(ctx, c, Rng.fromString(t.title));
  // batch 0: no padding; batch 1: 4 left pads (HF left-padded prompt); batch 2: every key masked.
  const maskA = new Float32Array(c.B * c.Lk);
  for (let j = 0; j < 4; j++) maskA[c.Lk + j] = F32_MIN;
  for (let j = 0; j < c.Lk; j++) maskA[2 * c.Lk + j] = F32_MIN;
  const mask = ctx.fromArray(maskA, [c.B, c.Lk]);
  for (const [causal, kernel] of kernelsFor(ctx, c.HD).flatMap((kn) => [[false, kn], [true, kn]] as const)) {
    const o = await withKnobs({ attention: kernel }, () => attentionFlash(d.q, d.k, d.v, { causal, mask })).read();
    t.true(o.every(Number.isFinite), 'no NaN/inf');
    const ref = attentionRef(d.qa, d.ka, d.va, c, { causal, mask: maskA });
    assertClose(t, o, ref, { atol: ATOL, shape: [c.B, c.NH, c.Lq, c.HD], name: `flash causal=${causal} (${kernel})` });
    // A fully masked row (batch 2) is the plain mean of all Lk value rows.
    for (let h = 0; h < c.NH; h++) {
      for (let dd = 0; dd < c.HD; dd++) {
        let mean = 0;
        for (let j = 0; j < c.Lk; j++) mean += d.va[((2 * c.NH + h) * c.Lk + j) * c.HD + dd]! / c.Lk;
        t.true(Math.abs(o[((2 * c.NH + h) * c.Lq + 3) * c.HD + dd]! - mean) < ATOL);
      }
    }
  }
  // The last query alone through the decode kernel.
  const last = new Float32Array(c.B * c.NH * c.HD);
  for (let bh = 0; bh < c.B * c.NH; bh++) last.set(d.qa.subarray((bh * c.Lq + c.Lq - 1) * c.HD, (bh * c.Lq + c.Lq) * c.HD), bh * c.HD);
  const od = await attentionDecode(ctx.fromArray(last, [c.B, c.NH, 1, c.HD]), d.k, d.v, { mask }).read();
  assertClose(t, od, attentionRef(last, d.ka, d.va, { ...c, Lq: 1 }, { mask: maskA }), { atol: ATOL, name: 'decode with mask' });
});



test('attention: bad shapes and options are named errors', async (t) => {
  const ctx = await gpu();
  const q = ctx.zeros([1, 2, 5, 64]);
  const k = ctx.zeros([1, 2, 9, 64]);
  t.throws(() => attention(q, ctx.zeros([1, 3, 9, 64]), k), { instanceOf: KernelArgError, message: /^attention: k: shape \[1,3,9,64\], expected \[1,2,\*,64\]/ });
  t.throws(() => attention(q, k, ctx.zeros([1, 2, 8, 64])), { message: /^attention: v: shape \[1,2,8,64\], expected \[1,2,9,64\]/ });
  t.throws(() => attention(ctx.zeros([2, 5, 64]), k, k), { message: /^attention: q: rank 3/ });
  t.throws(() => attention(ctx.zeros([1, 2, 5, 96]), ctx.zeros([1, 2, 9, 96]), ctx.zeros([1, 2, 9, 96])), { message: /^attention: q: head dim 96 unsupported/ });
  t.throws(() => attention(ctx.zeros([1, 2, 10, 64]), k, k, { causal: true }), { message: /^attention: causal: 10 queries over 9 keys/ });
  t.throws(() => attention(q, k, k, { kvLength: 10 }), { message: /^attention: kvLength: 10 keys requested, k\/v hold 9 rows/ });
  t.throws(() => attention(q, k, k, { mask: ctx.zeros([1, 8]) }), { message: /^attention: mask: shape \[1,8\], expected \[1, >=9\]/ });
  t.throws(() => attention(q, k, k, { out: ctx.zeros([1, 2, 5, 32]) }), { message: /^attention: out: shape \[1,2,5,32\], expected \[1,2,5,64\]/ });
  t.throws(() => attention(ctx.zeros([1, 2, 1, 64]), ctx.zeros([1, 2, 9, 64], 'i32'), k), { message: /^attention: k: dtype i32, expected f32/ });
  t.throws(() => attentionDecode(q, k, k), { message: /^attention_decode: q: shape \[1,2,5,64\]: the decode kernel takes one query row/ });
});

test('rope vs reference (positions per batch and shared), and named errors', async (t) => {
  const ctx = await gpu();
  const rng = Rng.fromString(t.title);
  const tbl = ropeTable(ctx, 64, 50);
  const data = ropeTableData(64, 50);
  for (const shape of [[2, 3, 7, 64], [1, 1, 1, 64], [2, 16, 17, 64]] as [number, number, number, number][]) {
    const [B, , L] = shape;
    const xa = rng.array(shape.reduce((a, b) => a * b, 1));
    const pa = Int32Array.from({ length: B * L }, () => rng.int(0, 49));
    const o = await rope(ctx.fromArray(xa, shape), ctx.fromArray(pa, [B, L], 'i32'), tbl).read();
    assertClose(t, o, ropeRef(xa, shape, pa, data.cos, data.sin, 50), { atol: 1e-6, shape, name: `rope [${shape}]` });
    const shared = Int32Array.from({ length: L }, (_, i) => i + 3);
    const o2 = await rope(ctx.fromArray(xa, shape), ctx.fromArray(shared, [L], 'i32'), tbl).read();
    assertClose(t, o2, ropeRef(xa, shape, shared, data.cos, data.sin, 50), { atol: 1e-6, shape, name: `rope shared positions [${shape}]` });
  }
  const x = ctx.zeros([1, 2, 3, 64]);
  t.throws(() => rope(x, ctx.zeros([3], 'f32'), tbl), { instanceOf: KernelArgError, message: /^rope: positions: dtype f32, expected i32/ });
  t.throws(() => rope(x, ctx.zeros([2, 3], 'i32'), tbl), { message: /^rope: positions: shape \[2,3\], expected \[1,3\]/ });
  t.throws(() => rope(ctx.zeros([1, 2, 3, 32]), ctx.zeros([3], 'i32'), tbl), { message: /^rope: x: head dim 32, the table is for 64/ });
});

// ---- goldens: CPU (double) projections and norms around the GPU attention core ----------------

/** y[r, o] = sum_i x[r, i] W[o, i] + b[o] (PyTorch Linear), in doubles. */
function linear(x: ArrayLike<number>, rows: number, w: ArrayLike<number>, bias: ArrayLike<number> | null, nOut: number, nIn: number, wRow0 = 0): Float64Array {
  const y = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) {
      let s = bias ? bias[wRow0 + o]! : 0;
      const wb = (wRow0 + o) * nIn;
      for (let i = 0; i < nIn; i++) s += x[r * nIn + i]! * w[wb + i]!;
      y[r * nOut + o] = s;
    }
  }
  return y;
}

/** [B, L, NH*HD] -> [B, NH, L, HD]. */
function splitHeads(x: ArrayLike<number>, B: number, L: number, NH: number, HD: number): Float32Array {
  const y = new Float32Array(B * L * NH * HD);
  for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) for (let h = 0; h < NH; h++) for (let d = 0; d < HD; d++) y[((b * NH + h) * L + i) * HD + d] = x[(b * L + i) * NH * HD + h * HD + d]!;
  return y;
}

/** [B, NH, L, HD] -> [B, L, NH*HD]. */
function mergeHeads(x: ArrayLike<number>, B: number, L: number, NH: number, HD: number): Float64Array {
  const y = new Float64Array(B * L * NH * HD);
  for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) for (let h = 0; h < NH; h++) for (let d = 0; d < HD; d++) y[(b * L + i) * NH * HD + h * HD + d] = x[((b * NH + h) * L + i) * HD + d]!;
  return y;
}

function rmsNorm(x: ArrayLike<number>, rows: number, n: number, w: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = w[i]! * x[r * n + i]! * inv;
  }
  return y;
}

function layerNorm(x: ArrayLike<number>, rows: number, n: number, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[r * n + i]! / n;
    let vr = 0;
    for (let i = 0; i < n; i++) vr += (x[r * n + i]! - mean) ** 2 / n;
    const inv = 1 / Math.sqrt(vr + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i]! - mean) * inv * w[i]! + b[i]!;
  }
  return y;
}

const addInto = (a: Float64Array, b: ArrayLike<number>): Float64Array => a.map((x, i) => x + b[i]!);

test('golden internlm_decoder_layer: RoPE + causal attention (flash, and KV cache prefill + decode step)', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('internlm_decoder_layer');
  const B = 2, L = 7, H = 64, NH = 4, HD = 16, I = 176;
  const x = g.f32('in/hidden_states');
  const a = rmsNorm(x, B * L, H, g.f32('input_layernorm.weight'), 1e-6);
  const proj = (n: string) => splitHeads(linear(a, B * L, g.f32(`self_attn.${n}.weight`), g.f32(`self_attn.${n}.bias`), H, H), B, L, NH, HD);
  const table = ropeTable(ctx, HD, 64, g.f32('self_attn.rotary_emb.inv_freq'));
  const pos = ctx.fromArray(g.i32('in/position_ids'), [B, L], 'i32');
  const q = rope(ctx.fromArray(proj('q_proj'), [B, NH, L, HD]), pos, table);
  const k = rope(ctx.fromArray(proj('k_proj'), [B, NH, L, HD]), pos, table);
  const va = proj('v_proj');
  const v = ctx.fromArray(va, [B, NH, L, HD]);
  const ka = await k.read();
  assertClose(t, ka, g.f32('out/present_key'), { atol: GOLDEN_ATOL, shape: [B, NH, L, HD], name: 'present_key (RoPE on GPU)' });
  assertClose(t, va, g.f32('out/present_value'), { atol: GOLDEN_ATOL, name: 'present_value' });

  const finish = (attn: ArrayLike<number>) => {
    const h1 = addInto(linear(mergeHeads(attn, B, L, NH, HD), B * L, g.f32('self_attn.o_proj.weight'), g.f32('self_attn.o_proj.bias'), H, H), x);
    const m = rmsNorm(h1, B * L, H, g.f32('post_attention_layernorm.weight'), 1e-6);
    const gate = linear(m, B * L, g.f32('mlp.gate_proj.weight'), null, I, H);
    const up = linear(m, B * L, g.f32('mlp.up_proj.weight'), null, I, H);
    const act = gate.map((z, i) => (z / (1 + Math.exp(-z))) * up[i]!);
    return addInto(linear(act, B * L, g.f32('mlp.down_proj.weight'), null, H, I), h1);
  };
  const flash = await attention(q, k, v, { causal: true }).read();
  assertClose(t, finish(flash), g.f32('out/hidden_states'), { atol: GOLDEN_ATOL, shape: [B, L, H], name: 'hidden_states (flash)' });

  // Same layer generated as a prompt of 6 then one cached step.
  const qa = await q.read();
  const rows = (arr: Float32Array, from: number, to: number) => {
    const out = new Float32Array(B * NH * (to - from) * HD);
    for (let bh = 0; bh < B * NH; bh++) out.set(arr.subarray((bh * L + from) * HD, (bh * L + to) * HD), bh * (to - from) * HD);
    return ctx.fromArray(out, [B, NH, to - from, HD]);
  };
  const cache = new KVCache(ctx, { batch: B, heads: NH, maxLength: 64, headDim: HD });
  cache.append(rows(ka, 0, 6), rows(va, 0, 6));
  const pre = await cache.attend(rows(qa, 0, 6), { causal: true }).read();
  cache.append(rows(ka, 6, 7), rows(va, 6, 7));
  const step = await cache.attend(rows(qa, 6, 7)).read();
  const joined = new Float32Array(B * NH * L * HD);
  for (let bh = 0; bh < B * NH; bh++) {
    joined.set(pre.subarray(bh * 6 * HD, (bh + 1) * 6 * HD), bh * L * HD);
    joined.set(step.subarray(bh * HD, (bh + 1) * HD), (bh * L + 6) * HD);
  }
  assertClose(t, finish(joined), g.f32('out/hidden_states'), { atol: GOLDEN_ATOL, shape: [B, L, H], name: 'hidden_states (KV cache)' });
  // advance counts rows another kernel wrote in place (ropeQkv), within maxLength.
  cache.advance(57);
  t.is(cache.length, 64);
  t.throws(() => cache.advance(1), { instanceOf: KernelArgError, message: /^kv_cache: L: 1: expected an integer with 64 \+ L <= maxLength 64/ });
  t.throws(() => cache.advance(-1), { instanceOf: KernelArgError, message: /^kv_cache: L: -1/ });
  cache.dispose();
});

test('golden falcon_vqgan_attention_c512: single-head attention, head dim 512 over 16 tokens', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('falcon_vqgan_attention_c512');
  const C = 512, N = 16, G = 32;
  const x = g.f32('in/x');
  const gw = g.f32('_group_norm.weight');
  const gb = g.f32('_group_norm.bias');
  // GroupNorm(32, 512, 1e-6), then tokens [N, C] with token = h*W + w.
  const tok = new Float64Array(N * C);
  const cg = C / G;
  for (let gi = 0; gi < G; gi++) {
    let mean = 0;
    for (let c = gi * cg; c < (gi + 1) * cg; c++) for (let p = 0; p < N; p++) mean += x[c * N + p]! / (cg * N);
    let vr = 0;
    for (let c = gi * cg; c < (gi + 1) * cg; c++) for (let p = 0; p < N; p++) vr += (x[c * N + p]! - mean) ** 2 / (cg * N);
    const inv = 1 / Math.sqrt(vr + 1e-6);
    for (let c = gi * cg; c < (gi + 1) * cg; c++) for (let p = 0; p < N; p++) tok[p * C + c] = (x[c * N + p]! - mean) * inv * gw[c]! + gb[c]!;
  }
  const w = g.f32('_multihead_attention.in_proj_weight');
  const bias = g.f32('_multihead_attention.in_proj_bias');
  const part = (i: number) => ctx.fromArray(Float32Array.from(linear(tok, N, w, bias, C, C, i * C)), [1, 1, N, C]);
  const o = await attention(part(0), part(1), part(2)).read();
  const y = linear(o, N, g.f32('_multihead_attention.out_proj.weight'), g.f32('_multihead_attention.out_proj.bias'), C, C);
  const out = new Float64Array(C * N);
  for (let c = 0; c < C; c++) for (let p = 0; p < N; p++) out[c * N + p] = x[c * N + p]! + y[p * C + c]!;
  assertClose(t, out, g.f32('out/y'), { atol: GOLDEN_ATOL, shape: [1, C, 4, 4], name: 'y' });
});

/**
 * QFormerMFSep on the CPU except the cross-attention cores (GPU; one query row per batch, so the
 * split-K decode kernel). Query i uses qformers.i over frames [:tNum(i)].
 */
async function qformer(ctx: GpuContext, g: Awaited<ReturnType<typeof loadGolden>>, emb: Float32Array, pe: Float32Array, queries: Float32Array,
  dims: { B: number; D: number; T: number; HW: number; A: number; depth: number; NH: number }): Promise<Float64Array> {
  const { B, D, T, HW, A, depth, NH } = dims;
  const inner = D / 2;
  const HD = inner / NH;
  const out = new Float64Array(B * A * D);
  for (let qi = 0; qi < A; qi++) {
    const tNum = T - A === 1 ? qi + 2 : Math.floor(T / A) * (qi + 1);
    const Lk = tNum * HW;
    // keys [B, Lk, D] in (t, h, w) order from [B, D, T, H, W]; PE added to keys only.
    const keys = new Float64Array(B * Lk * D);
    const keysPe = new Float64Array(B * Lk * D);
    for (let b = 0; b < B; b++) for (let j = 0; j < Lk; j++) for (let c = 0; c < D; c++) {
      const src = ((b * D + c) * T) * HW + j;
      keys[(b * Lk + j) * D + c] = emb[src]!;
      keysPe[(b * Lk + j) * D + c] = emb[src]! + pe[src]!;
    }
    let q: Float64Array = new Float64Array(B * D);
    for (let b = 0; b < B; b++) for (let c = 0; c < D; c++) q[b * D + c] = queries[(b * A + qi) * D + c]!;
    const attn = async (pre: string, qIn: Float64Array): Promise<Float64Array> => {
      const lin = (n: string, x: ArrayLike<number>, rows: number, nOut: number, nIn: number) => linear(x, rows, g.f32(`${pre}.${n}.weight`), g.f32(`${pre}.${n}.bias`), nOut, nIn);
      const qh = ctx.fromArray(Float32Array.from(lin('q_proj', qIn, B, inner, D)), [B, NH, 1, HD]);
      const kh = ctx.fromArray(splitHeads(lin('k_proj', keysPe, B * Lk, inner, D), B, Lk, NH, HD), [B, NH, Lk, HD]);
      const vh = ctx.fromArray(splitHeads(lin('v_proj', keys, B * Lk, inner, D), B, Lk, NH, HD), [B, NH, Lk, HD]);
      const o = await attention(qh, kh, vh).read();
      for (const x of [qh, kh, vh]) x.dispose();
      return lin('out_proj', o, B, D, inner);
    };
    const p = `qformers.${qi}`;
    for (let l = 0; l < depth; l++) {
      const lp = `${p}.layers.${l}`;
      q = layerNorm(addInto(q, await attn(`${lp}.cross_attn_token_to_image`, q)), B, D, g.f32(`${lp}.norm2.weight`), g.f32(`${lp}.norm2.bias`), 1e-5);
      const h = linear(q, B, g.f32(`${lp}.mlp.lin1.weight`), g.f32(`${lp}.mlp.lin1.bias`), D, D).map((z) => Math.max(z, 0));
      q = layerNorm(addInto(q, linear(h, B, g.f32(`${lp}.mlp.lin2.weight`), g.f32(`${lp}.mlp.lin2.bias`), D, D)), B, D, g.f32(`${lp}.norm3.weight`), g.f32(`${lp}.norm3.bias`), 1e-5);
    }
    q = layerNorm(addInto(q, await attn(`${p}.final_attn_token_to_image`, q.map((z) => 2 * z))), B, D, g.f32(`${p}.norm_final_attn.weight`), g.f32(`${p}.norm_final_attn.bias`), 1e-5);
    for (let b = 0; b < B; b++) for (let c = 0; c < D; c++) out[(b * A + qi) * D + c] = q[b * D + c]!;
  }
  return out;
}

test('golden ldm_qformer_sep_small: cross-attention cores (4 heads x 8, 32..64 keys, T=3 and T=4)', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_qformer_sep_small');
  for (const T of [3, 4]) {
    const y = await qformer(ctx, g, g.f32(`in/emb_t${T}`), g.f32(`in/pe_t${T}`), g.f32('in/queries'), { B: 2, D: 64, T, HW: 16, A: 2, depth: 2, NH: 4 });
    assertClose(t, y, g.f32(`out/queries_t${T}`), { atol: GOLDEN_ATOL, shape: [2, 2, 64], name: `queries_t${T}` });
  }
});

test('golden ldm_qformer_sep_go: one query over 512 keys, 4 heads x 64 (split-K decode)', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_qformer_sep_go');
  const y = await qformer(ctx, g, g.f32('in/image_embedding'), g.f32('in/image_pe'), g.f32('in/queries'), { B: 1, D: 512, T: 2, HW: 256, A: 1, depth: 2, NH: 4 });
  assertClose(t, y, g.f32('out/queries'), { atol: GOLDEN_ATOL, shape: [1, 1, 512], name: 'queries' });
});
