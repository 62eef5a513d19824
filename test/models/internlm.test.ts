import test from 'ava';
import { ropeTable } from '../../kernels/index.js';
import { safetensorsSource } from '../../src/graph/weights.js';
import { DecoderLayer, INTERNLM_DEFAULTS, InternLM, type InternLMConfig } from '../../src/models/videoworld/internlm.js';
import { assertClose } from '../helpers/close.js';
import { loadGolden } from '../helpers/golden.js';
import { gpu } from '../helpers/gpu.js';

// Tolerance: the 1e-4 max abs on logits and block outputs (f32 vs upstream f32; the
// f32-vs-f64 gap of these files is ~1e-6).
const TOL = 1e-4;

function configOf(ctor: string): InternLMConfig {
  const c = (JSON.parse(ctor) as { config: Record<string, number | boolean | string> }).config;
  return {
    vocabSize: c.vocab_size as number,
    hiddenSize: c.hidden_size as number,
    intermediateSize: c.intermediate_size as number,
    numLayers: c.num_hidden_layers as number,
    numHeads: c.num_attention_heads as number,
    rmsNormEps: c.rms_norm_eps as number,
    bias: c.bias as boolean,
    maxPositions: (c.max_position_embeddings as number) ?? INTERNLM_DEFAULTS.maxPositions,
  };
}

const rows = (ids: Int32Array, B: number, L: number) => Array.from({ length: B }, (_, b) => Array.from(ids.subarray(b * L, (b + 1) * L)));

test('internlm_decoder_layer golden: hidden states and present k (after RoPE) / v', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('internlm_decoder_layer');
  const cfg = configOf(g.metadata.ctor!);
  const layer = new DecoderLayer('', cfg);
  layer.load(ctx, safetensorsSource(g));
  const [B, L, H] = g.entry('in/hidden_states').shape as [number, number, number];
  const table = ropeTable(ctx, H / cfg.numHeads, cfg.maxPositions, g.f32('self_attn.rotary_emb.inv_freq'));
  const cache = new (await import('../../kernels/index.js')).KVCache(ctx, { batch: B, heads: cfg.numHeads, maxLength: L, headDim: H / cfg.numHeads });
  const positions = ctx.fromArray(g.i32('in/position_ids'), [B, L], 'i32');
  const x = ctx.fromArray(g.f32('in/hidden_states'), [B * L, H]);
  const y = layer.forward(x, { B, L, positions }, table, cache);
  assertClose(t, await y.read(), g.f32('out/hidden_states'), { atol: TOL, shape: [B, L, H], name: 'hidden_states' });
  assertClose(t, await cache.k.read(), g.f32('out/present_key'), { atol: TOL, name: 'present_key' });
  assertClose(t, await cache.v.read(), g.f32('out/present_value'), { atol: TOL, name: 'present_value' });
});

test('internlm_tiny_lm golden: full pass, prefill 6 + cached step 7, left-padded batch', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('internlm_tiny_lm');
  const cfg = configOf(g.metadata.ctor!);
  const lm = new InternLM(cfg);
  const report = lm.load(ctx, safetensorsSource(g));
  t.deepEqual(report.unexpected, []);
  const [B, L] = g.entry('in/input_ids').shape as [number, number];
  const ids = rows(g.i32('in/input_ids'), B, L);
  const V = cfg.vocabSize;

  const full = await lm.forward(ctx, ids).read();
  assertClose(t, full, g.f32('out/logits'), { atol: TOL, shape: [B, L, V], name: 'logits' });

  const caches = lm.newCaches(ctx, B, L);
  const pre = await lm.forward(ctx, ids.map((r) => r.slice(0, 6)), { caches }).read();
  assertClose(t, pre, g.f32('out/logits_prefix6'), { atol: TOL, shape: [B, 6, V], name: 'logits_prefix6' });
  const step = await lm.forward(ctx, ids.map((r) => r.slice(6)), { caches }).read();
  assertClose(t, step, g.f32('out/logits_step7'), { atol: TOL, shape: [B, 1, V], name: 'logits_step7' });
  for (let l = 0; l < cfg.numLayers; l++) {
    assertClose(t, await caches[l]!.k.read(), g.f32(`out/past7.${l}.key`), { atol: TOL, name: `past7.${l}.key` });
    assertClose(t, await caches[l]!.v.read(), g.f32(`out/past7.${l}.value`), { atol: TOL, name: `past7.${l}.value` });
  }
  const last = await lm.forward(ctx, ids, { lastOnly: true }).read();
  assertClose(t, last.subarray(0, V), g.f32('out/logits').subarray((L - 1) * V, L * V), { atol: TOL, name: 'lastOnly row 0' });

  // Left padding: rows at pad positions [1, 0:2] are don't-care (a uniform softmax over masked keys).
  const mask = rows(g.i32('in/attention_mask_padded'), B, L);
  const pos = rows(g.i32('in/position_ids_padded'), B, L);
  const padded = await lm.forward(ctx, ids, { attentionMask: mask, positions: pos }).read();
  const ref = g.f32('const/logits_padded');
  const keep = (i: number) => !(Math.floor(i / V / L) === 1 && Math.floor(i / V) % L < 2);
  const pick = (a: Float32Array) => a.filter((_, i) => keep(i));
  assertClose(t, pick(padded), pick(ref), { atol: TOL, name: 'logits_padded (non-pad rows)' });
  t.true(padded.every(Number.isFinite), 'fully masked rows stay finite');
  lm.dispose();
  for (const c of caches) c.dispose();
});
