import test from 'ava';
import { inferTransformerConfig } from '../../src/models/videoworld/infer-config.js';
import { WEIGHT_MAPS, WeightMapError, checkKeys, detectWeightMap, formatKeyReport, mapKeys, resolveWeights } from '../../src/models/videoworld/weight-map.js';
import { openPthFile } from '../../src/node.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

test('go_fsq table: generator.* parts land on the battle model names; EMA/discriminator ignored', (t) => {
  const m = mapKeys(
    ['generator.encoder._in_conv.weight', 'generator.decoder._projector.2.bias', 'generator.post_encoder._conv.weight', 'generator.pre_decoder._conv.bias',
      'generator.quantizer.project_in.weight', 'generator_ema.module.encoder._in_conv.weight', 'discriminator.conv.weight', 'module.generator.quantizer.project_out.bias', 'generator.mystery'],
    WEIGHT_MAPS.go_fsq,
  );
  t.deepEqual(Object.fromEntries(m.mapped), {
    'vbackbone._in_conv.weight': 'generator.encoder._in_conv.weight',
    'v_token_decoder._projector.2.bias': 'generator.decoder._projector.2.bias',
    'post_encode._conv.weight': 'generator.post_encoder._conv.weight',
    'pre_decode._conv.bias': 'generator.pre_decoder._conv.bias',
    'v_token.project_in.weight': 'generator.quantizer.project_in.weight',
    'v_token.project_out.bias': 'module.generator.quantizer.project_out.bias',
  });
  t.deepEqual(m.ignored, ['generator_ema.module.encoder._in_conv.weight', 'discriminator.conv.weight']);
  t.deepEqual(m.unmatched, ['generator.mystery']);
});

test('battle table is the identity on its prefixes (v_token. vs v_token_decoder.); LDM prefers EMA whatever the order', (t) => {
  const b = mapKeys(['v_token.project_in.weight', 'v_token_decoder._in_conv.weight', 'neck.llm.lm_head.weight', 'head.x'], WEIGHT_MAPS.go_battle);
  t.deepEqual([...b.mapped.keys()], ['v_token.project_in.weight', 'v_token_decoder._in_conv.weight', 'neck.llm.lm_head.weight']);
  t.deepEqual(b.unmatched, ['head.x']);
  for (const order of [['generator.encoder.conv_in.conv.weight', 'generator_ema.module.encoder.conv_in.conv.weight'], ['generator_ema.module.encoder.conv_in.conv.weight', 'generator.encoder.conv_in.conv.weight']]) {
    const l = mapKeys([...order, 'generator_ema.steps', 'generator.decoder.conv_out.conv.bias'], WEIGHT_MAPS.ldm);
    t.is(l.mapped.get('ldm.encoder.conv_in.conv.weight'), 'generator_ema.module.encoder.conv_in.conv.weight');
    t.is(l.mapped.get('ldm.decoder.conv_out.conv.bias'), 'generator.decoder.conv_out.conv.bias', 'no EMA copy: the live weight');
    t.deepEqual(l.shadowed, ['generator.encoder.conv_in.conv.weight']);
    t.deepEqual(l.ignored, ['generator_ema.steps']);
  }
  t.is(detectWeightMap(['generator.encoder.a', 'generator.decoder.b'])?.id, 'go_fsq');
  t.is(detectWeightMap(['neck.llm.model.norm.weight', 'vbackbone.x'])?.id, 'go_battle');
  t.is(detectWeightMap(['foo.bar']), null);
});

test('resolveWeights reports unknown, missing and mis-shaped keys with shapes before loading', async (t) => {
  const ck = await openPthFile(`${GOLDEN_DIR}/pth/go_fsq_small.pth`);
  try {
    const shapes = new Map(ck.names.map((n) => [n, ck.get(n).shape]));
    const expected = new Map<string, number[]>([...mapKeys(ck.names, WEIGHT_MAPS.go_fsq).mapped].map(([ours, theirs]) => [ours, shapes.get(theirs)!]));
    t.is(resolveWeights(shapes, WEIGHT_MAPS.go_fsq, expected).get('vbackbone._in_conv.weight'), 'generator.encoder._in_conv.weight');
    expected.delete('v_token_decoder.half');
    expected.set('v_token.project_out.weight', [8, 6]);
    expected.set('vbackbone._in_conv.weight', [16, 3, 7, 7]);
    shapes.set('generator.extra', [2]);
    const err = t.throws(() => resolveWeights(shapes, WEIGHT_MAPS.go_fsq, expected), { instanceOf: WeightMapError });
    t.is(err!.message, [
      'weights do not match the go_fsq layout:',
      'missing (1):',
      '  v_token.project_out.weight [8,6]',
      'unexpected (2):',
      '  v_token_decoder.half [3,4] (from generator.decoder.half)',
      '  generator.extra [2]',
      'shape mismatch (1):',
      '  vbackbone._in_conv.weight: checkpoint [16,3,3,3], expected [16,3,7,7] (from generator.encoder._in_conv.weight)',
    ].join('\n'));
  } finally {
    await ck.close();
  }
  t.is(formatKeyReport(checkKeys(new Map([['a', [1]]]), new Map([['a', [1]]]))), '');
});

function transformer(opts: { layers: number; H: number; I: number; V: number; headDim?: number; bias: boolean; tied: boolean; prefix?: string }): Map<string, number[]> {
  const P = opts.prefix ?? 'neck.llm.model.';
  const { H, I } = opts;
  const s = new Map<string, number[]>([[`${P}embed_tokens.weight`, [opts.V, H]], [`${P}norm.weight`, [H]]]);
  if (!opts.tied) s.set(`${P.replace(/model\.$/, '')}lm_head.weight`, [opts.V, H]);
  for (let i = 0; i < opts.layers; i++) {
    const L = `${P}layers.${i}.`;
    for (const p of 'qkvo') {
      s.set(`${L}self_attn.${p}_proj.weight`, [H, H]);
      if (opts.bias) s.set(`${L}self_attn.${p}_proj.bias`, [H]);
    }
    if (opts.headDim) s.set(`${L}self_attn.rotary_emb.inv_freq`, [opts.headDim / 2]);
    s.set(`${L}mlp.gate_proj.weight`, [I, H]).set(`${L}mlp.up_proj.weight`, [I, H]).set(`${L}mlp.down_proj.weight`, [H, I]);
    s.set(`${L}input_layernorm.weight`, [H]).set(`${L}post_attention_layernorm.weight`, [H]);
  }
  return s;
}

test('transformer config: layers, hidden, intermediate, heads from inv_freq, biases, tying', (t) => {
  const c = inferTransformerConfig(transformer({ layers: 12, H: 96, I: 256, V: 1000, headDim: 32, bias: true, tied: false }))!;
  t.deepEqual(c, { prefix: 'neck.llm.model.', numLayers: 12, hiddenSize: 96, intermediateSize: 256, vocabSize: 1000, headDim: 32, numHeads: 3, qkvBias: true, oBias: true, tiedLmHead: false, problems: [] });
  const d = inferTransformerConfig(transformer({ layers: 2, H: 64, I: 160, V: 50, bias: false, tied: true, prefix: 'model.' }))!;
  t.like(d, { prefix: 'model.', numLayers: 2, headDim: null, numHeads: null, qkvBias: false, oBias: false, tiedLmHead: true, problems: [] });
  const broken = transformer({ layers: 4, H: 64, I: 160, V: 50, headDim: 16, bias: true, tied: false });
  for (const k of [...broken.keys()]) if (k.includes('layers.2.')) broken.delete(k);
  broken.set('neck.llm.model.layers.3.mlp.down_proj.weight', [160, 64]);
  broken.delete('neck.llm.model.layers.1.self_attn.k_proj.bias');
  t.deepEqual(inferTransformerConfig(broken)!.problems, [
    'layer indices missing: 2 (highest index 3)',
    'neck.llm.model.layers.1.self_attn.k_proj.bias is missing (expected [64])',
    'neck.llm.model.layers.3.mlp.down_proj.weight has shape [160,64], expected [64,160]',
  ]);
  t.is(inferTransformerConfig(new Map([['vbackbone._in_conv.weight', [16, 3, 3, 3]]])), null);
});
