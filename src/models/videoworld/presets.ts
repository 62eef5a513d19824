/**
 * Model presets. `go`: the real sizes of the Go model (tokenizer 102 M parameters, LDM 340 M,
 * transformer ~636 M with the spec's placeholder 24 layers x 16 heads x 2816 MLP until a
 * checkpoint says otherwise: see inferTransformerConfig). `tiny`: the same code paths at sizes
 * that run in seconds on a software adapter (tests, examples, CI).
 */
import type { InternLMConfig } from './internlm.js';
import { GO_LDM, type LdmConfig, TINY_LDM } from './ldm.js';
import { GO_TOKENIZER, TINY_TOKENIZER, type TokenizerConfig } from './tokenizer.js';

/** Token ids of the Go sequence layout (spec 2.3). */
export const GO_TOKENS = {
  imStart: 32000,
  imEnd: 32001,
  actStart: 32004,
  actEnd: 32006,
  /** LLM id = FSQ index + imageOffset (vocab 160005 - 64000 codes). */
  imageOffset: 96005,
  /** upstream passes eos_token_id=50256 (a GPT-2 leftover). */
  eos: 50256,
  /** Short image slices are right-padded with this id (maps to index 0 after clamping). */
  pad: 50260,
} as const;

export interface VideoWorldPreset {
  name: string;
  tokenizer: TokenizerConfig;
  ldm: LdmConfig;
  transformer: InternLMConfig;
  /** Square input image side for the tokenizer. */
  imageSize: number;
}

export const PRESETS: Record<'go' | 'tiny', VideoWorldPreset> = {
  go: {
    name: 'go',
    tokenizer: GO_TOKENIZER,
    ldm: GO_LDM,
    transformer: { vocabSize: 160005, hiddenSize: 1024, intermediateSize: 2816, numLayers: 24, numHeads: 16, rmsNormEps: 1e-6, bias: true, maxPositions: 2048 },
    imageSize: 256,
  },
  tiny: {
    name: 'tiny',
    tokenizer: TINY_TOKENIZER,
    ldm: TINY_LDM,
    // Full Go vocabulary (the token layout needs ids up to 160004) at a tiny width.
    transformer: { vocabSize: 160005, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, rmsNormEps: 1e-6, bias: true, maxPositions: 256 },
    imageSize: 32,
  },
};
