/**
 * InternLM (v1) decoder-only transformer, as `InternLMForCausalLM` in upstream
 * falcon/models/necks/modeling_internlm.py (spec section 4). Parameters carry the upstream
 * state_dict keys (`model.layers.0.self_attn.q_proj.weight`, `lm_head.weight`, ...).
 *
 *   h = E[ids]; per layer: h += o_proj(attn(RoPE(q), RoPE(k), v)) of RMSNorm(h);
 *                          h += down(silu(gate(m)) * up(m)), m = RMSNorm(h)
 *   logits = lm_head(RMSNorm(h))
 * Activations are [B*L, H] row-major; heads are split to [B, NH, L, HD] around attention.
 */
import {
  F32_MIN,
  type GpuContext,
  KVCache,
  F16Table,
  PackedMatmulWeight,
  type RopeTable,
  type Tensor,
  concat,
  linearSwiGLU,
  ropeInvFreq,
  ropeQkv,
  ropeTable,
} from '../../../kernels/index.js';
import { gatherRows } from '../../../kernels/gather_rows.js';
import { type SampleOptions, sample } from '../../../kernels/sampling.js';
import { activeTape } from '../../graph/autograd.js';
import { GraphError, Module, type Param } from '../../graph/module.js';
import { attentionOp, embedding, linear, permuteOp, reshape, rmsNormOp, ropeOp, siluMul } from '../../graph/ops.js';
import type { WeightSource } from '../../graph/weights.js';
import { Linear } from './layers.js';

export interface InternLMConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** RMSNorm epsilon (upstream constructor default 1e-6). */
  rmsNormEps: number;
  /** q/k/v/o projections have biases (InternLM default true). */
  bias: boolean;
  /** Size of the RoPE table and the longest KV cache. */
  maxPositions: number;
}

/** Layers recorded per submit in forward (in-process A/B of go decode steps: every 4 layers 178 ms median, 2: 186, 8: 181, once at the end: 191). */
const SUBMIT_EVERY_LAYERS = 4;

export const INTERNLM_DEFAULTS = { rmsNormEps: 1e-6, bias: true, maxPositions: 2048 } as const;

/** RMSNorm with a learned scale (InternLM's). */
export class RMSNorm extends Module {
  readonly weight: Param;
  constructor(
    path: string,
    dim: number,
    readonly eps: number,
  ) {
    super(path);
    this.weight = this.param('weight', [dim]);
  }
  forward(x: Tensor): Tensor<'f32'> {
    return rmsNormOp(x, this.weight.t, this.eps);
  }
}

/** One transformer block: x + attn(rmsnorm(x)), then + mlp(rmsnorm(.)). */
export class DecoderLayer extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;
  readonly inNorm: RMSNorm;
  readonly postNorm: RMSNorm;
  /** Upstream's persistent `rotary_emb.inv_freq` buffer (head_dim/2); declared so checkpoints map 1:1. */
  readonly invFreq: Param;
  /**
   * Inference: q, k, v packed side by side (their Linears hold views of it) and their biases
   * concatenated, so a step projects once and ropeQkv splits, rotates and caches in one dispatch.
   */
  private qkv: { weight: PackedMatmulWeight; bias: Tensor | null } | null = null;

  constructor(
    path: string,
    readonly cfg: InternLMConfig,
  ) {
    super(path);
    const { hiddenSize: H, intermediateSize: I, bias } = cfg;
    this.q = this.child('q', new Linear(this.key('self_attn.q_proj'), H, H, bias));
    this.k = this.child('k', new Linear(this.key('self_attn.k_proj'), H, H, bias));
    this.v = this.child('v', new Linear(this.key('self_attn.v_proj'), H, H, bias));
    this.o = this.child('o', new Linear(this.key('self_attn.o_proj'), H, H, bias));
    this.invFreq = this.param('self_attn.rotary_emb.inv_freq', [H / cfg.numHeads / 2], false);
    this.gate = this.child('gate', new Linear(this.key('mlp.gate_proj'), H, I, false));
    this.up = this.child('up', new Linear(this.key('mlp.up_proj'), H, I, false));
    this.down = this.child('down', new Linear(this.key('mlp.down_proj'), I, H, false));
    this.inNorm = this.child('in', new RMSNorm(this.key('input_layernorm'), H, cfg.rmsNormEps));
    this.postNorm = this.child('post', new RMSNorm(this.key('post_attention_layernorm'), H, cfg.rmsNormEps));
  }

  // Inference weights fused after loading: q|k|v into one GEMV (a view per Linear), gate and up
  // adjacent so linearSwiGLU runs them as one.
  protected override async afterLoad(ctx: GpuContext): Promise<void> {
    this.qkv?.weight.dispose();
    this.qkv?.bias?.dispose();
    this.qkv = null;
    Linear.fuse([this.gate, this.up])?.dispose();
    const weight = Linear.fuse([this.q, this.k, this.v]);
    if (!weight) return;
    const biases = [this.q, this.k, this.v].map((l) => l.bias?.t);
    this.qkv = { weight, bias: biases.every((b) => b) ? concat(biases as Tensor[], 0) : null };
    ctx.submit();
  }

  /** x [B*L, H] -> [B*L, H]. `cache` (if any) receives k (after RoPE) and v and is attended over. */
  forward(x: Tensor, s: StepInputs, table: RopeTable, cache?: KVCache): Tensor<'f32'> {
    const { B, L } = s;
    const NH = this.cfg.numHeads;
    const HD = this.cfg.hiddenSize / NH;
    const a = this.inNorm.forward(x);
    const tape = activeTape(x.ctx);
    let o: Tensor;
    if (this.qkv && !tape) {
      const qkv = linear(a, this.qkv.weight, this.qkv.bias).reshape([B, L, 3 * NH * HD]);
      const { q, k, v } = ropeQkv(qkv, s.positions, table, { heads: NH, ...(cache && { k: cache.k, v: cache.v, start: cache.length }) });
      cache?.advance(L);
      o = cache ? cache.attend(q, { causal: L > 1, mask: s.mask }) : attentionOp(q, k, v, { causal: true, mask: s.mask });
    } else {
      // [B, L, NH, HD] -> [B, NH, L, HD]; with L = 1 (a decode step) that keeps memory order: a view.
      const heads = (t: Tensor) => (L === 1 ? reshape(t, [B, NH, 1, HD]) : permuteOp(reshape(t, [B, L, NH, HD]), [0, 2, 1, 3]));
      const q = ropeOp(heads(this.q.forward(a)), s.positions, table);
      const k = ropeOp(heads(this.k.forward(a)), s.positions, table);
      const v = heads(this.v.forward(a));
      if (cache) cache.append(k, v);
      o = cache ? cache.attend(q, { causal: L > 1, mask: s.mask }) : attentionOp(q, k, v, { causal: true, mask: s.mask });
    }
    const merged = reshape(L === 1 ? o : permuteOp(o, [0, 2, 1, 3]), [B * L, NH * HD]);
    const h = this.o.forward(merged, { residual: x });
    const m = this.postNorm.forward(h);
    // While recording, SwiGLU's fused backward needs the gate before SiLU.
    const act = tape ? siluMul(this.gate.forward(m), this.up.forward(m)) : linearSwiGLU(m, this.gate.kernelWeight, this.up.kernelWeight);
    return this.down.forward(act, { residual: h });
  }

  override dispose(): void {
    super.dispose();
    this.qkv?.weight.dispose();
    this.qkv?.bias?.dispose();
    this.qkv = null;
  }
}

/** What one forward call needs besides the hidden states. */
export interface StepInputs {
  B: number;
  L: number;
  /** i32 positions [B, L] or [L]. */
  positions: Tensor;
  /** Additive key mask [B, kvLength] (0 or float32 min), for left padding. */
  mask?: Tensor;
}

export interface ForwardOptions {
  /** RoPE positions, [B][L] or one row shared by the batch; default past..past+L-1. */
  positions?: number[][] | number[];
  /** 1 = token, 0 = padding, [B][kvLength] over cached + new positions (HF attention_mask). */
  attentionMask?: number[][];
  /** Per-layer caches (from newCaches); appended in place. */
  caches?: KVCache[];
  /** Only compute logits for the last position of each row (generation). */
  lastOnly?: boolean;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** seed, temperature, topK, topP, greedy (see kernels/sampling.ts); `step` offsets the RNG counter. */
  sampling?: SampleOptions;
  /** Generation ends after emitting one of these. */
  stopTokens?: number[];
  /** Called with every new token; return false to stop. */
  onToken?: (id: number, step: number) => void | boolean;
}

export interface GenerateResult {
  tokens: number[];
  stoppedBy: 'length' | 'stop' | 'callback';
  prefillMs: number;
  decodeMsPerToken: number;
}

/**
 * The InternLM-style decoder-only transformer (RMSNorm, RoPE, SwiGLU, a KV cache for generation),
 * weights under upstream's keys.
 * @example
 * const lm = new InternLM(PRESETS.tiny.transformer, 'neck.llm');
 * const logits = lm.forward(ctx, [[1, 2, 3]]);                       // [1, 3, vocab]
 * const { tokens } = await lm.generate(ctx, [1, 2, 3], { maxNewTokens: 4, sampling: { greedy: true } });
 */
export class InternLM extends Module {
  readonly embed: Param;
  readonly layers: DecoderLayer[];
  readonly norm: RMSNorm;
  readonly lmHead: Param;
  /** The output projection packed while loading (its decode-step GEMV reads packed weights), unless training. */
  private lmHeadPacked: PackedMatmulWeight | null = null;
  /** With weightDtype 'f16' (inference): the embedding table as f16, built while loading (no f32 copy kept). */
  private embedF16: F16Table | null = null;
  private table: RopeTable | null = null;

  constructor(
    readonly cfg: InternLMConfig,
    path = '',
  ) {
    super(path);
    const { vocabSize: V, hiddenSize: H, numHeads, numLayers } = cfg;
    this.require(Number.isInteger(H / numHeads) && (H / numHeads) % 2 === 0, `hiddenSize ${H} must split into ${numHeads} heads of even size`);
    this.embed = this.param('model.embed_tokens.weight', [V, H]);
    this.layers = Array.from({ length: numLayers }, (_, i) => this.child(`layer${i}`, new DecoderLayer(this.key(`model.layers.${i}`), cfg)));
    this.norm = this.child('norm', new RMSNorm(this.key('model.norm'), H, cfg.rmsNormEps));
    this.lmHead = this.param('lm_head.weight', [V, H]);
  }

  get headDim(): number {
    return this.cfg.hiddenSize / this.cfg.numHeads;
  }

  protected override async afterLoad(ctx: GpuContext, src: WeightSource): Promise<void> {
    // RoPE tables from the checkpoint's own inv_freq (all layers hold the same buffer).
    const inv = await src.f32(this.layers[0]?.invFreq.key ?? '');
    const expected = ropeInvFreq(this.headDim);
    const maxDiff = Math.max(...inv.map((x, i) => Math.abs(x - expected[i]!)));
    // A f16/bf16 checkpoint holds a rounded copy (relative error <= 2^-9): build the table from the
    // exact values the model was trained with, not from the rounding.
    const maxRel = Math.max(...inv.map((x, i) => Math.abs(x - expected[i]!) / expected[i]!));
    if (maxDiff > 1e-6 && maxRel > 4e-3) throw new GraphError(this.layers[0]!.invFreq.key, `differs from 10000^(-2j/${this.headDim}) by ${maxDiff}: not a base-10000 RoPE`);
    this.table?.cos.dispose();
    this.table?.sin.dispose();
    this.table = ropeTable(ctx, this.headDim, this.cfg.maxPositions, maxDiff > 1e-6 ? expected : inv);
  }

  // The output projection (and with f16 weights the embedding table; 625 MiB each in f32 at the go
  // preset) go to their inference forms chunk by chunk, one after the other: never whole in f32 on
  // the GPU. An f32 embedding table is the lookup table itself and is uploaded as is.
  protected override upload(ctx: GpuContext, p: Param, data: Float32Array): void {
    const [V, H] = [this.cfg.vocabSize, this.cfg.hiddenSize];
    if (p === this.lmHead) {
      this.lmHeadPacked?.dispose();
      this.lmHeadPacked = null;
    }
    if (p === this.embed) {
      this.embedF16?.dispose();
      this.embedF16 = null;
    }
    if (!this.training && p === this.lmHead) this.lmHeadPacked = PackedMatmulWeight.linearFromHost(ctx, data, [V, H], { dtype: this.weightDtype });
    else if (!this.training && p === this.embed && this.weightDtype === 'f16') this.embedF16 = F16Table.fromHost(ctx, data, [V, H]);
    else return super.upload(ctx, p, data);
    p.tensor?.dispose();
    p.tensor = null;
  }

  protected override takesHalves(p: Param): boolean {
    return (p === this.lmHead || p === this.embed) && !this.training && this.weightDtype === 'f16' && this.cfg.hiddenSize % 4 === 0;
  }

  protected override uploadHalves(ctx: GpuContext, p: Param, halves: Uint16Array): void {
    const shape = [this.cfg.vocabSize, this.cfg.hiddenSize] as const;
    p.tensor?.dispose();
    p.tensor = null;
    if (p === this.lmHead) {
      this.lmHeadPacked?.dispose();
      this.lmHeadPacked = PackedMatmulWeight.linearFromHalves(ctx, halves, shape);
    } else {
      this.embedF16?.dispose();
      this.embedF16 = F16Table.fromHalves(ctx, halves, shape);
    }
  }

  /** One KV cache per layer, preallocated for maxLength positions. */
  newCaches(ctx: GpuContext, batch: number, maxLength: number): KVCache[] {
    if (maxLength > this.cfg.maxPositions) throw new GraphError(this.path || 'internlm', `maxLength ${maxLength} exceeds maxPositions ${this.cfg.maxPositions}`);
    return this.layers.map((l) => new KVCache(ctx, { batch, heads: this.cfg.numHeads, maxLength, headDim: this.headDim }, `${l.path}.kv`));
  }

  /**
   * ids [B][L] -> logits [B, L, V] (or [B, 1, V] with lastOnly). With caches, the new tokens
   * attend to the cached ones and are appended.
   */
  forward(ctx: GpuContext, ids: number[][], o: ForwardOptions = {}): Tensor<'f32'> {
    const table = this.table;
    if (!table) throw new GraphError(this.path || 'internlm', 'weights not loaded (call load() first)');
    const B = ids.length;
    const L = ids[0]?.length ?? 0;
    if (!B || !L || ids.some((r) => r.length !== L)) throw new GraphError(this.path || 'internlm', `ids must be a non-empty [B][L] array, got ${ids.map((r) => r.length).join('/')}`);
    if (o.caches && o.caches.length !== this.layers.length) throw new GraphError(this.path || 'internlm', `${o.caches.length} caches for ${this.layers.length} layers`);
    const past = o.caches?.[0]?.length ?? 0;
    const V = this.cfg.vocabSize;
    for (const r of ids) for (const id of r) if (!Number.isInteger(id) || id < 0 || id >= V) throw new GraphError(this.path || 'internlm', `token id ${id} outside the vocabulary [0, ${V})`);
    const pos = o.positions ?? Array.from({ length: L }, (_, i) => past + i);
    const posFlat = (Array.isArray(pos[0]) ? (pos as number[][]).flat() : (pos as number[])).map((p) => Math.max(0, p));
    return ctx.scope(() => {
      const positions = ctx.fromArray(posFlat, Array.isArray(pos[0]) ? [B, L] : [L], 'i32', 'positions');
      const mask = o.attentionMask
        ? ctx.fromArray(o.attentionMask.flat().map((m) => (m ? 0 : F32_MIN)), [B, o.attentionMask[0]!.length], 'f32', 'attention_mask')
        : undefined;
      const s: StepInputs = { B, L, positions, mask };
      let x: Tensor = embedding(this.embedF16 ?? this.embed.t, Int32Array.from(ids.flat()), [B * L]);
      this.layers.forEach((layer, i) => {
        // Each layer's intermediates (and its input) go back to the pool once it is recorded, so
        // activation memory does not grow with depth.
        const next = ctx.scope(() => layer.forward(x, s, table, o.caches?.[i]));
        x.dispose();
        x = next;
        // The GPU starts on the first layers while the next are recorded (a decode step records
        // ~200 dispatches: 10-20 ms of host work that would otherwise come before any GPU work).
        if (i % SUBMIT_EVERY_LAYERS === SUBMIT_EVERY_LAYERS - 1) ctx.submit();
      });
      let hN = this.norm.forward(x);
      if (o.lastOnly && L > 1) {
        const rows = Array.from({ length: B }, (_, b) => b * L + L - 1);
        hN = gatherRows(hN, Int32Array.from(rows), { shape: [B] });
      }
      return reshape(linear(hN, this.lmHeadPacked ?? this.lmHead.t), [B, o.lastOnly ? 1 : L, V]);
    });
  }

  /**
   * Autoregressive generation for one prompt (batch 1): a prefill of the prompt, then one token
   * per step against the KV cache, sampling each token on the GPU. `onToken` streams every token;
   * returning false from it stops early.
   * @example
   * const { tokens } = await lm.generate(ctx, prompt, { maxNewTokens: 25, sampling: { seed: 60 }, stopTokens: [50256] });
   */
  async generate(ctx: GpuContext, prompt: number[], opts: GenerateOptions): Promise<GenerateResult> {
    const { maxNewTokens } = opts;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new GraphError(this.path || 'internlm', `maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
    if (!prompt.length) throw new GraphError(this.path || 'internlm', 'the prompt is empty');
    const caches = this.newCaches(ctx, 1, prompt.length + maxNewTokens);
    const stop = new Set(opts.stopTokens ?? []);
    const tokens: number[] = [];
    const t0 = performance.now();
    let prefillMs = 0;
    let stoppedBy: GenerateResult['stoppedBy'] = 'length';
    try {
      let input = prompt;
      for (let step = 0; step < maxNewTokens; step++) {
        const logits = this.forward(ctx, [input], { caches, lastOnly: true });
        const [id] = await sample(logits.reshape([1, this.cfg.vocabSize]), { ...opts.sampling, step: ((opts.sampling?.step ?? 0) + step) >>> 0 });
        logits.dispose();
        if (step === 0) prefillMs = performance.now() - t0;
        tokens.push(id!);
        if (opts.onToken?.(id!, step) === false) {
          stoppedBy = 'callback';
          break;
        }
        if (stop.has(id!)) {
          stoppedBy = 'stop';
          break;
        }
        input = [id!];
      }
    } finally {
      for (const c of caches) c.dispose();
    }
    const totalMs = performance.now() - t0;
    return { tokens, stoppedBy, prefillMs, decodeMsPerToken: tokens.length > 1 ? (totalMs - prefillMs) / (tokens.length - 1) : 0 };
  }

  override dispose(): void {
    super.dispose();
    this.lmHeadPacked?.dispose();
    this.lmHeadPacked = null;
    this.embedF16?.dispose();
    this.embedF16 = null;
    this.table?.cos.dispose();
    this.table?.sin.dispose();
    this.table = null;
  }
}
