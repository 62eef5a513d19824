/**
 * Conformance against golden-format files (../shared/golden): build the module named in the
 * file's metadata under its upstream key names, run it on the stored inputs, compare with the
 * stored float32 upstream outputs. Whole-model files regenerate their weights with hinit-v1 from
 * `init_manifest`, checked against the `weights_manifest` sums first. Browser-safe (no file I/O):
 * `videoworld verify <file>` is the Node front end.
 */
import { type GpuContext, KVCache, type Tensor, type WeightDtype, fourierPe, isWeightDtype, fsqCodesToIndices, fsqIndicesToCodes, fsqQuantize, pad, ropeTable } from '../kernels/index.js';
import { hinitSource, safetensorsSource, type WeightSource } from './graph/weights.js';
import type { Module } from './graph/module.js';
import type { SafetensorsFile } from './io/safetensors.js';
import { verifyGradGolden } from './verify-grad.js';
import { DecoderLayer, InternLM, type InternLMConfig } from './models/videoworld/internlm.js';
import { AdaGN, LatentDynamicsModel, type LdmConfig, type LdmLayer, LdmResidual, QFormerSep, SpatialDown, SpatialUp } from './models/videoworld/ldm.js';
import { CausalConv3d } from './models/videoworld/layers.js';
import { ImageTokenizer, type TokenizerConfig, type VQGANConfig, VQAttention, VQDownsample, VQResidual, VQUpsample } from './models/videoworld/tokenizer.js';

export interface VerifyResult {
  case: string;
  max_abs_err: number;
  max_rel_err: number;
  /** All integer outputs (FSQ indices) equal; null when the case has none. */
  indices_equal: boolean | null;
  /** Integer mismatches accepted because upstream's own value sits on a rounding tie (aux/near_tie). */
  near_tie_mismatches: number;
  tolerance: number;
  /** Storage of the packed matmul weights the run used (f16: the verdict is relative, see verifyGolden). */
  dtype: WeightDtype;
  pass: boolean;
  /** Per-output errors. */
  outputs: { name: string; max_abs_err: number; max_rel_err: number; exact?: boolean; mismatches?: number }[];
  seconds: number;
}

interface Comparison {
  name: string;
  actual: ArrayLike<number>;
  /** Golden tensor name (out/... or const/...). */
  expected: string;
  exact?: boolean;
  /** Only these flat indices are compared (don't-care rows excluded). */
  keep?: (i: number) => boolean;
  /** For exact outputs: flat indices whose mismatch is a documented near-tie. */
  nearTie?: (i: number) => boolean;
}

/** Issue 8's bounds: blocks 1e-4; `_small` models 5e-4; full-size `_go` models 2e-3. */
export function toleranceFor(caseId: string, module: string): number {
  if (/_go$/.test(caseId) && /Generator|VQGANEncoder|tokenizer/i.test(module + caseId)) return 2e-3;
  if (/_small$/.test(caseId) && /Generator|VQGANEncoder/.test(module)) return 5e-4;
  return 1e-4;
}

type Ctor = Record<string, unknown>;
const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number') throw new Error(`verify: ctor ${what} is ${JSON.stringify(v)}, expected a number`);
  return v;
};

/** Evaluates the ctor expressions upstream configs use ('len(width_mults)-1', 'width*width_mults[0]'). */
function vqganConfig(c: Ctor): VQGANConfig {
  const mults = c.width_mults as number[];
  const width = num(c.width, 'width');
  const expr = (v: unknown): number => {
    if (typeof v === 'number') return v;
    const s = String(v).replace(/\s/g, '');
    const m = /^len\(width_mults\)(-(\d+))?$/.exec(s);
    if (m) return mults.length - Number(m[2] ?? 0);
    if (s === 'width*width_mults[0]') return width * mults[0]!;
    throw new Error(`verify: cannot evaluate ctor expression ${JSON.stringify(v)}`);
  };
  return {
    inChannels: num(c.in_channels, 'in_channels'),
    outChannels: num(c.out_channels, 'out_channels'),
    width,
    depth: num(c.depth_mult ?? c.depth, 'depth_mult'),
    widthMults: mults,
    attentionLayer: expr(c.attention_layer),
    refineLayer: expr(c.refine_layer),
    hiddenChannels: c.hidden_channels === undefined ? undefined : expr(c.hidden_channels),
  };
}

function ldmConfig(c: Ctor): LdmConfig {
  const e = c.encoder as Ctor;
  const d = c.decoder as Ctor;
  const q = c.quantizer as Ctor;
  return {
    encoder: {
      initDim: num(e.init_dim, 'encoder.init_dim'),
      layers: e.layers as LdmLayer[],
      preOutLayer: num(e.pre_out_layer, 'encoder.pre_out_layer'),
      frameNum: num(e.frame_num, 'encoder.frame_num'),
      timePadding: num(e.time_padding, 'encoder.time_padding'),
      actEmbeddingNum: num(e.act_embedding_num, 'encoder.act_embedding_num'),
      qformerDepth: 2,
      peGrid: 16,
    },
    decoder: { initDim: num(d.init_dim, 'decoder.init_dim'), layers: d.layers as LdmLayer[], timePadding: num(d.time_padding, 'decoder.time_padding') },
    levels: q.levels as number[],
    dim: num(q.dim, 'quantizer.dim'),
  };
}

/** InternLMConfig from a golden file's `ctor` ({config: {...}} as upstream's HF config). */
export function internlmConfig(c: Ctor): InternLMConfig {
  const k = (c.config ?? c) as Ctor;
  return {
    vocabSize: num(k.vocab_size, 'vocab_size'),
    hiddenSize: num(k.hidden_size, 'hidden_size'),
    intermediateSize: num(k.intermediate_size, 'intermediate_size'),
    numLayers: num(k.num_hidden_layers, 'num_hidden_layers'),
    numHeads: num(k.num_attention_heads, 'num_attention_heads'),
    rmsNormEps: num(k.rms_norm_eps ?? 1e-6, 'rms_norm_eps'),
    bias: k.bias !== false,
    maxPositions: num(k.max_position_embeddings ?? 2048, 'max_position_embeddings'),
  };
}

/** The weights a golden file's module needs: stored tensors, or hinit-v1 regenerated and checked. */
export function goldenWeights(g: SafetensorsFile): WeightSource {
  if (!g.metadata.weights_manifest) return safetensorsSource(g);
  const wm = g.metaJson<[string, number[], string, number, number][]>('weights_manifest');
  const src = hinitSource(g.metaJson('init_manifest'), Object.fromEntries(wm.map(([k, s]) => [k, s])), g.metadata.case);
  const manifest = new Map(wm.map(([k, , , sum, abs]) => [k, { sum, abs }]));
  return {
    ...src,
    f32: async (k) => {
      const w = await src.f32(k);
      const m = manifest.get(k);
      if (m) {
        let s = 0;
        let a = 0;
        for (const x of w) {
          s += x;
          a += Math.abs(x);
        }
        if (Math.abs(a - m.abs) > 1e-4 * Math.max(1, m.abs)) throw new Error(`verify: regenerated ${k} has abs_sum ${a}, weights_manifest says ${m.abs}`);
        if (Math.abs(s - m.sum) > 1e-4 * Math.max(1, m.abs)) throw new Error(`verify: regenerated ${k} has sum ${s}, weights_manifest says ${m.sum}`);
      }
      return w;
    },
  };
}

const input = (ctx: GpuContext, g: SafetensorsFile, name: string) => ctx.fromArray(g.f32(name), g.entry(name).shape, 'f32', name);
/** The weight dtype verifyGolden was asked for, per golden file (read by `loaded`). */
const weightDtypes = new WeakMap<SafetensorsFile, WeightDtype>();
const loaded = async <M extends Module>(ctx: GpuContext, g: SafetensorsFile, m: M): Promise<M> => {
  m.withWeightDtype(weightDtypes.get(g) ?? 'f32');
  await m.load(ctx, goldenWeights(g));
  return m;
};

type Runner = (ctx: GpuContext, g: SafetensorsFile, c: Ctor) => Promise<Comparison[]>;
const read = (t: Tensor) => t.read() as Promise<ArrayLike<number>>;

const RUNNERS: Record<string, Runner> = {
  async CausalConv3d(ctx, g, c) {
    const w = g.entry('conv.weight').shape;
    const stride = (c.stride as number[] | undefined) ?? [1, 1, 1];
    const m = await loaded(ctx, g, new CausalConv3d('', w[1]!, w[0]!, w[2]!, stride[1] === 2 ? [1, 2, 2] : [1, 1, 1]));
    const x = g.has('in/video') ? pad(input(ctx, g, 'in/video'), [[0, 0], [0, 0], [3, 0], [0, 0], [0, 0]]) : input(ctx, g, 'in/x');
    return [{ name: 'y', actual: await read(m.forward(x)), expected: 'out/y' }];
  },
  async ResidualLA(ctx, g, c) {
    const m = await loaded(ctx, g, new LdmResidual('', num(c.in_channels, 'in_channels'), num(c.out_channels, 'out_channels'), num(c.frame_num, 'frame_num')));
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'))), expected: 'out/y' }];
  },
  async Residual(ctx, g, c) {
    const [cin, cout] = [num(c.in_channels, 'in_channels'), num(c.out_channels, 'out_channels')];
    const m = g.metadata.module!.includes('vqgan') ? new VQResidual('', cin, cout) : new LdmResidual('', cin, cout, null);
    await loaded(ctx, g, m);
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'))), expected: 'out/y' }];
  },
  async Downsample(ctx, g, c) {
    const C = num(c.num_channels, 'num_channels');
    const m = g.metadata.module!.includes('vqgan') ? new VQDownsample('', C) : new SpatialDown('', C);
    await loaded(ctx, g, m);
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'))), expected: 'out/y' }];
  },
  async Upsample(ctx, g, c) {
    const m = await loaded(ctx, g, new VQUpsample('', num(c.num_channels, 'num_channels')));
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'))), expected: 'out/y' }];
  },
  async SpatialUpsample2x(ctx, g, c) {
    const m = await loaded(ctx, g, new SpatialUp('', num(c.dim, 'dim')));
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'))), expected: 'out/y' }];
  },
  async Attention(ctx, g, c) {
    const m = await loaded(ctx, g, new VQAttention('', num(c.num_channels, 'num_channels')));
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'))), expected: 'out/y' }];
  },
  async AdaGroupNorm(ctx, g, c) {
    const m = await loaded(ctx, g, new AdaGN('', num(c.embedding_dim, 'embedding_dim'), num(c.out_dim, 'out_dim')));
    return [{ name: 'y', actual: await read(m.forward(input(ctx, g, 'in/x'), input(ctx, g, 'in/cond'))), expected: 'out/y' }];
  },
  async PositionEmbeddingRandom(ctx, g) {
    const G = input(ctx, g, 'positional_encoding_gaussian_matrix');
    return [
      { name: 'pe', actual: await read(fourierPe(G, 16, 16)), expected: 'out/pe' },
      { name: 'pe_8x4', actual: await read(fourierPe(G, 8, 4)), expected: 'out/pe_8x4' },
    ];
  },
  async QFormerMFSep(ctx, g, c) {
    const m = await loaded(ctx, g, new QFormerSep('', num(c.embedding_dim, 'embedding_dim'), num(c.depth, 'depth'), num(c.qformer_num, 'qformer_num')));
    const q = input(ctx, g, 'in/queries');
    const out: Comparison[] = [];
    for (const name of g.names.filter((n) => n.startsWith('out/'))) {
      const suffix = name.slice('out/queries'.length); // '' or '_t3'
      const emb = g.has(`in/image_embedding${suffix}`) ? `in/image_embedding${suffix}` : `in/emb${suffix}`;
      const pe = g.has(`in/image_pe${suffix}`) ? `in/image_pe${suffix}` : `in/pe${suffix}`;
      out.push({ name: name.slice(4), actual: await read(m.forward(input(ctx, g, emb), input(ctx, g, pe), q)), expected: name });
    }
    return out;
  },
  async FSQ(ctx, g, c) {
    const levels = c.levels as number[];
    const proj = (p: string) => (g.has(`${p}.weight`) ? { weight: input(ctx, g, `${p}.weight`), bias: input(ctx, g, `${p}.bias`) } : undefined);
    const projectIn = proj('project_in');
    const projectOut = proj('project_out');
    const z = input(ctx, g, 'in/z');
    const { codes, indices } = fsqQuantize(z, { levels, projectIn });
    const nearTie = g.has('aux/near_tie') ? g.i32('aux/near_tie') : null;
    const nl = levels.length;
    const out: Comparison[] = [{ name: 'indices', actual: await read(indices), expected: 'out/indices', exact: true, nearTie: nearTie ? (i) => nearTie.subarray(i * nl, (i + 1) * nl).some((v) => v !== 0) : undefined }];
    const cf = z.shape.length >= 4;
    out.push({ name: 'out', actual: await read(projectOut ? fsqIndicesToCodes(indices, { levels, projectOut, channelFirst: cf }) : codes), expected: 'out/out', keep: nearTie ? (i) => !nearTie[i] : undefined });
    const ids = g.has('in/indices') ? 'in/indices' : g.has('in/indices_img') ? 'in/indices_img' : null;
    if (ids) {
      const t = ctx.fromArray(g.i32(ids), g.entry(ids).shape, 'i32');
      if (g.has('out/codes_from_indices')) out.push({ name: 'codes_from_indices', actual: await read(fsqIndicesToCodes(t, { levels, projectOut })), expected: 'out/codes_from_indices' });
      if (g.has('out/codes_from_indices_noproj')) out.push({ name: 'codes_from_indices_noproj', actual: await read(fsqIndicesToCodes(t, { levels })), expected: 'out/codes_from_indices_noproj' });
    }
    if (g.has('in/indices_tokens')) {
      const t = ctx.fromArray(g.i32('in/indices_tokens'), g.entry('in/indices_tokens').shape, 'i32');
      out.push({ name: 'codes_from_indices_tokens', actual: await read(fsqIndicesToCodes(t, { levels, projectOut })), expected: 'out/codes_from_indices_tokens' });
    }
    if (g.has('in/codes')) out.push({ name: 'indices_from_codes', actual: await read(fsqCodesToIndices(input(ctx, g, 'in/codes'), { levels })), expected: 'out/indices_from_codes', exact: true });
    return out;
  },
  async MagVitGenerator(ctx, g, c) {
    const ldm = await loaded(ctx, g, new LatentDynamicsModel(ldmConfig(c)));
    const enc = ldm.encode(input(ctx, g, 'in/video'));
    const out: Comparison[] = [
      { name: 'indices', actual: await read(enc.indices), expected: 'out/indices', exact: true },
      { name: 'encode_feat', actual: await read(enc.features), expected: 'out/encode_feat' },
      { name: 'codes', actual: await read(enc.codes), expected: 'out/codes' },
      { name: 'pre_encode_out', actual: await read(enc.preEncodeOut), expected: 'aux/pre_encode_out' },
    ];
    out.push({ name: 'recon', actual: await read(ldm.decode(enc.codes, enc.preEncodeOut)), expected: 'out/recon' });
    ldm.dispose();
    return out;
  },
  async Tokenizer(ctx, g, c) {
    const v = c.v_token as Ctor;
    const cfg: TokenizerConfig = { encoder: vqganConfig(c.vbackbone as Ctor), decoder: vqganConfig(c.v_token_decoder as Ctor), levels: v.levels as number[], dim: num(v.dim, 'v_token.dim') };
    const tok = await loaded(ctx, g, new ImageTokenizer(cfg));
    const enc = tok.encode(input(ctx, g, 'in/image'));
    const out: Comparison[] = [
      { name: 'indices', actual: await read(enc.indices), expected: 'out/indices', exact: true },
      { name: 'encoder_out', actual: await read(enc.encoderOut), expected: 'out/encoder_out' },
      { name: 'post_encode', actual: await read(enc.postEncode), expected: 'out/post_encode' },
      { name: 'codes_from_indices', actual: await read(tok.codes(enc.indices)), expected: 'out/codes_from_indices' },
    ];
    // The reconstruction is decoded from the golden indices, as upstream's generate_image does.
    out.push({ name: 'recon', actual: await read(tok.decode(g.i32('out/indices'), g.entry('out/indices').shape)), expected: 'out/recon' });
    tok.dispose();
    return out;
  },
  async InternLMDecoderLayer(ctx, g, c) {
    const cfg = internlmConfig(c);
    const layer = await loaded(ctx, g, new DecoderLayer('', cfg));
    const [B, L, H] = g.entry('in/hidden_states').shape as [number, number, number];
    const HD = H / cfg.numHeads;
    const table = ropeTable(ctx, HD, cfg.maxPositions, g.f32('self_attn.rotary_emb.inv_freq'));
    const cache = new KVCache(ctx, { batch: B, heads: cfg.numHeads, maxLength: L, headDim: HD });
    const positions = ctx.fromArray(g.i32('in/position_ids'), [B, L], 'i32');
    const y = layer.forward(input(ctx, g, 'in/hidden_states').reshape([B * L, H]), { B, L, positions }, table, cache);
    return [
      { name: 'hidden_states', actual: await read(y), expected: 'out/hidden_states' },
      { name: 'present_key', actual: await read(cache.k), expected: 'out/present_key' },
      { name: 'present_value', actual: await read(cache.v), expected: 'out/present_value' },
    ];
  },
  async InternLMForCausalLM(ctx, g, c) {
    const cfg = internlmConfig(c);
    const lm = await loaded(ctx, g, new InternLM(cfg));
    const [B, L] = g.entry('in/input_ids').shape as [number, number];
    const rows = (a: Int32Array) => Array.from({ length: B }, (_, b) => Array.from(a.subarray(b * L, (b + 1) * L)));
    const ids = rows(g.i32('in/input_ids'));
    const out: Comparison[] = [{ name: 'logits', actual: await read(lm.forward(ctx, ids)), expected: 'out/logits' }];
    const caches = lm.newCaches(ctx, B, L);
    const P = L - 1;
    out.push({ name: `logits_prefix${P}`, actual: await read(lm.forward(ctx, ids.map((r) => r.slice(0, P)), { caches })), expected: `out/logits_prefix${P}` });
    out.push({ name: `logits_step${L}`, actual: await read(lm.forward(ctx, ids.map((r) => r.slice(P)), { caches })), expected: `out/logits_step${L}` });
    for (let l = 0; l < cfg.numLayers; l++) {
      out.push({ name: `past${L}.${l}.key`, actual: await read(caches[l]!.k), expected: `out/past${L}.${l}.key` });
      out.push({ name: `past${L}.${l}.value`, actual: await read(caches[l]!.v), expected: `out/past${L}.${l}.value` });
    }
    if (g.has('in/attention_mask_padded')) {
      const mask = rows(g.i32('in/attention_mask_padded'));
      const positions = rows(g.i32('in/position_ids_padded'));
      const V = cfg.vocabSize;
      // Rows at pad positions are don't-care (a uniform softmax over fully masked keys).
      const keep = (i: number) => mask[Math.floor(i / V / L)]![Math.floor(i / V) % L] !== 0;
      out.push({ name: 'logits_padded', actual: await read(lm.forward(ctx, ids, { attentionMask: mask, positions })), expected: 'const/logits_padded', keep });
    }
    for (const c of caches) c.dispose();
    lm.dispose();
    return out;
  },
};

function runnerFor(g: SafetensorsFile): Runner {
  const module = g.metadata.module ?? '';
  if (/VQGANEncoder/.test(module)) return RUNNERS.Tokenizer!;
  const cls = module.split('::').pop()!.split(' ')[0]!;
  const r = RUNNERS[cls];
  if (!r) throw new Error(`verify: no runner for module '${module}' (case ${g.metadata.case}); known: ${Object.keys(RUNNERS).join(', ')}`);
  return r;
}

/** f16 weights: the largest max |err| / max |reference| a float output may have. */
export const F16_REL_TOLERANCE = 5e-3;
/** f16 weights: the share of integer outputs (FSQ / VQ indices) that may differ. */
export const F16_INDEX_MISMATCH_RATE = 0.01;

/**
 * Runs one golden file and compares; never throws for a mismatch (see `pass`). With dtype 'f16'
 * the modules pack their matmul weights as f16 and the verdict is relative: every float output's
 * max_rel_err <= F16_REL_TOLERANCE (unless `tolerance` is given: then max_abs_err as for f32) and
 * at most F16_INDEX_MISMATCH_RATE of the integer outputs differ (f16 weights move values near a
 * rounding boundary across it).
 */
export async function verifyGolden(ctx: GpuContext, g: SafetensorsFile, opts: { tolerance?: number; dtype?: WeightDtype } = {}): Promise<VerifyResult> {
  const dtype = opts.dtype ?? 'f32';
  if (!isWeightDtype(dtype)) throw new Error(`verify: weight dtype '${String(dtype)}' (f32 | f16)`);
  if (g.metadata.kind === 'backward') {
    if (dtype !== 'f32') throw new Error(`verify: ${g.metadata.case ?? g.source} is a backward golden: training keeps f32 weights, --dtype f16 does not apply`);
    return verifyGradGolden(ctx, g, opts);
  }
  const t0 = performance.now();
  const caseId = g.metadata.case ?? g.source;
  const relative = dtype === 'f16' && opts.tolerance === undefined;
  const tolerance = relative ? F16_REL_TOLERANCE : (opts.tolerance ?? toleranceFor(caseId, g.metadata.module ?? ''));
  const ctor = g.metadata.ctor ? (JSON.parse(g.metadata.ctor) as Ctor) : {};
  weightDtypes.set(g, dtype);
  const comparisons = await runnerFor(g)(ctx, g, ctor);
  const res: VerifyResult = { case: caseId, max_abs_err: 0, max_rel_err: 0, indices_equal: null, near_tie_mismatches: 0, tolerance, dtype, pass: true, outputs: [], seconds: 0 };
  for (const c of comparisons) {
    const exp = c.exact ? g.i32(c.expected) : g.f32(c.expected);
    if (exp.length !== c.actual.length) throw new Error(`verify ${caseId}: ${c.name} has ${c.actual.length} values, golden ${c.expected} has ${exp.length}`);
    let maxAbs = 0;
    let maxRef = 0;
    let mismatches = 0;
    let ties = 0;
    let compared = 0;
    for (let i = 0; i < exp.length; i++) {
      if (c.keep && !c.keep(i)) continue;
      compared++;
      const a = c.actual[i]!;
      const e = exp[i]!;
      if (c.exact) {
        if (a !== e) {
          if (c.nearTie?.(i)) ties++;
          else mismatches++;
        }
        continue;
      }
      const err = Number.isNaN(a) || Number.isNaN(e) ? (Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity) : Math.abs(a - e);
      maxAbs = Math.max(maxAbs, err);
      maxRef = Math.max(maxRef, Math.abs(e));
    }
    if (c.exact) {
      res.indices_equal = (res.indices_equal ?? true) && mismatches + ties === 0;
      res.near_tie_mismatches += ties;
      if (relative ? mismatches + ties > F16_INDEX_MISMATCH_RATE * compared : mismatches) res.pass = false;
      res.outputs.push({ name: c.name, max_abs_err: 0, max_rel_err: 0, exact: true, mismatches: mismatches + ties });
    } else {
      const rel = maxAbs / Math.max(maxRef, 1e-30);
      res.max_abs_err = Math.max(res.max_abs_err, maxAbs);
      res.max_rel_err = Math.max(res.max_rel_err, rel);
      if (!((relative ? rel : maxAbs) <= tolerance)) res.pass = false;
      res.outputs.push({ name: c.name, max_abs_err: maxAbs, max_rel_err: rel });
    }
  }
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}
