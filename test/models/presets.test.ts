import test from 'ava';
import { InternLM } from '../../src/models/videoworld/internlm.js';
import { LatentDynamicsModel } from '../../src/models/videoworld/ldm.js';
import { PRESETS } from '../../src/models/videoworld/presets.js';
import { ImageTokenizer } from '../../src/models/videoworld/tokenizer.js';

// Building a module declares every parameter under its upstream key: the counts must equal the
// spec's (section 8.1) and the golden weights manifests, with nothing uploaded.
test('go preset parameter counts match the spec', (t) => {
  const go = PRESETS.go;
  t.is(new ImageTokenizer(go.tokenizer).paramCount(), 101_984_393);
  // 339,558,793 parameters + the 512-entry positional-encoding buffer (ldm_generator_go manifest).
  t.is(new LatentDynamicsModel(go.ldm).paramCount(), 339_559_305);
  // 636,120,064 parameters + 24 rotary inv_freq buffers of 32.
  t.is(new InternLM(go.transformer).paramCount(), 636_120_064 + 24 * 32);
});

test('go preset keys follow upstream naming', (t) => {
  const keys = [...new LatentDynamicsModel(PRESETS.go.ldm).namedParams()].map((p) => p.key);
  t.true(keys.includes('encoder.encoder_layers.0.3._residual.0.weight'));
  t.true(keys.includes('encoder.encoder_layers.2._shortcut.conv.weight'));
  t.true(keys.includes('encoder.encoder_layers.10.2.weight'), 'never-executed tail is declared');
  t.true(keys.includes('decoder.decoder_layers.13.2._residual.5.conv.weight'));
  t.true(keys.includes('decoder.decoder_layers.14.weight'), 'never-executed decoder GN is declared');
  t.true(keys.includes('decoder.conv_out.conv.weight'));
  const tk = [...new ImageTokenizer(PRESETS.go.tokenizer).namedParams()].map((p) => p.key);
  t.true(tk.includes('vbackbone._layers.6._attentions.1._multihead_attention.in_proj_weight'));
  t.true(tk.includes('v_token_decoder._layers.0._attentions.2._group_norm.weight'));
});

test('config errors name the module path', (t) => {
  t.throws(() => new LatentDynamicsModel({ ...PRESETS.go.ldm, encoder: { ...PRESETS.go.ldm.encoder, initDim: 96 } }), { message: /encoder ends at 384 channels/ });
  t.throws(() => new InternLM({ ...PRESETS.tiny.transformer, numHeads: 5 }), { message: /must split into 5 heads/ });
});
