/**
 * The InternLM transformer's size read off a state dict (videoworld-spec 4.3 and 9.2): layers from
 * the highest `layers.{i}` index, hidden size and vocabulary from `embed_tokens.weight` (V, H),
 * intermediate size from `gate_proj.weight` (I, H), head_dim = 2 * len(rotary_emb.inv_freq) (a
 * persistent buffer in InternLM v1), biases from the presence of `q_proj.bias` / `o_proj.bias`,
 * and tying from the absence of `lm_head.weight`. Every other shape is checked against these.
 */

export interface TransformerConfig {
  /** Key prefix of the decoder stack, e.g. 'neck.llm.model.'. */
  prefix: string;
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  vocabSize: number;
  /** null when rotary_emb.inv_freq is not saved (read num_attention_heads from config.json). */
  headDim: number | null;
  numHeads: number | null;
  qkvBias: boolean;
  oBias: boolean;
  tiedLmHead: boolean;
  /** Inconsistencies found (missing layers or tensors, shapes that disagree); empty when all is well. */
  problems: string[];
}

const eq = (a: number[] | undefined, b: number[]) => a !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);

/** Returns null when the state dict holds no `...embed_tokens.weight` with `...layers.{i}.` keys. */
export function inferTransformerConfig(shapes: Map<string, number[]>): TransformerConfig | null {
  let prefix: string | null = null;
  for (const name of shapes.keys()) {
    const m = /^(.*)embed_tokens\.weight$/.exec(name);
    if (m && [...shapes.keys()].some((k) => k.startsWith(`${m[1]}layers.`))) {
      prefix = m[1]!;
      break;
    }
  }
  if (prefix === null) return null;
  const P = prefix;
  const emb = shapes.get(`${P}embed_tokens.weight`)!;
  const problems: string[] = [];
  if (emb.length !== 2) problems.push(`${P}embed_tokens.weight has shape [${emb}], expected (vocab, hidden)`);
  const [vocabSize = 0, hiddenSize = 0] = emb;
  const layerIds = new Set<number>();
  const layerRe = new RegExp(`^${P.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}layers\\.(\\d+)\\.`);
  for (const name of shapes.keys()) {
    const m = layerRe.exec(name);
    if (m) layerIds.add(Number(m[1]));
  }
  if (layerIds.size === 0) return null;
  const numLayers = Math.max(...layerIds) + 1;
  const absent = [...Array(numLayers).keys()].filter((i) => !layerIds.has(i));
  if (absent.length) problems.push(`layer indices missing: ${absent.join(', ')} (highest index ${numLayers - 1})`);
  const L = (i: number, k: string) => `${P}layers.${i}.${k}`;
  const gate = shapes.get(L(0, 'mlp.gate_proj.weight'));
  if (!gate) problems.push(`${L(0, 'mlp.gate_proj.weight')} is missing`);
  const intermediateSize = gate?.[0] ?? 0;
  const invFreq = shapes.get(L(0, 'self_attn.rotary_emb.inv_freq'));
  const headDim = invFreq && invFreq.length === 1 ? 2 * invFreq[0]! : null;
  let numHeads: number | null = null;
  if (headDim !== null) {
    if (hiddenSize % headDim) problems.push(`hidden size ${hiddenSize} is not a multiple of head_dim ${headDim}`);
    else numHeads = hiddenSize / headDim;
  }
  const qkvBias = shapes.has(L(0, 'self_attn.q_proj.bias'));
  const oBias = shapes.has(L(0, 'self_attn.o_proj.bias'));
  const H = hiddenSize;
  const I = intermediateSize;
  const expect: [string, number[]][] = [];
  for (const i of layerIds) {
    for (const p of ['q', 'k', 'v', 'o']) {
      expect.push([L(i, `self_attn.${p}_proj.weight`), [H, H]]);
      if (p === 'o' ? oBias : qkvBias) expect.push([L(i, `self_attn.${p}_proj.bias`), [H]]);
    }
    expect.push([L(i, 'mlp.gate_proj.weight'), [I, H]], [L(i, 'mlp.up_proj.weight'), [I, H]], [L(i, 'mlp.down_proj.weight'), [H, I]]);
    expect.push([L(i, 'input_layernorm.weight'), [H]], [L(i, 'post_attention_layernorm.weight'), [H]]);
    if (headDim !== null) expect.push([L(i, 'self_attn.rotary_emb.inv_freq'), [headDim / 2]]);
  }
  expect.push([`${P}norm.weight`, [H]]);
  const lmHead = `${P.endsWith('model.') ? P.slice(0, -6) : P}lm_head.weight`;
  const tiedLmHead = !shapes.has(lmHead);
  if (!tiedLmHead) expect.push([lmHead, [vocabSize, H]]);
  for (const [name, shape] of expect) {
    const got = shapes.get(name);
    if (!got) problems.push(`${name} is missing (expected [${shape}])`);
    else if (!eq(got, shape)) problems.push(`${name} has shape [${got}], expected [${shape}]`);
  }
  return { prefix: P, numLayers, hiddenSize, intermediateSize, vocabSize, headDim, numHeads, qkvBias, oBias, tiedLmHead, problems };
}
