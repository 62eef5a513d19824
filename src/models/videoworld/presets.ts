/**
 * Model presets. `go`: the real sizes of the Go model (tokenizer 102 M parameters, LDM 340 M,
 * transformer ~636 M with the spec's placeholder 24 layers x 16 heads x 2816 MLP until a
 * checkpoint says otherwise: see inferTransformerConfig). `tiny`: the same code paths at sizes
 * that run in seconds on a software adapter (tests, examples, CI). `micro`: the model this project
 * trains itself (scripts/train-go-micro.ts) and ships in weights/.
 */
import type { InternLMConfig } from './internlm.js';
import { GO_LDM, type LdmConfig, MICRO_LDM, TINY_LDM } from './ldm.js';
import { GO_TOKENIZER, MICRO_TOKENIZER, TINY_TOKENIZER, type TokenizerConfig } from './tokenizer.js';

/** Where the tokens of one Go move sit in the transformer's vocabulary. */
export interface GoTokenLayout {
  imStart: number;
  imEnd: number;
  actStart: number;
  actEnd: number;
  /** LLM id = FSQ index + imageOffset. */
  imageOffset: number;
  eos: number;
  /** Short image slices are right-padded with this id (maps to index 0 after clamping). */
  pad: number;
  /** Latent-action tokens generated between <act_start> and <act_end>. */
  actionTokens: number;
  /** LLM id = LDM code index + actionOffset, where the model was trained on LDM codes. */
  actionOffset?: number;
  /**
   * The action id of an unchanged board (a pass): the LDM's code for a clip whose two frames are
   * equal, one code whatever the board with `deltaTokens` (its features are then exactly zero).
   * A move ranks the other codes, and the model's pass probability is this id's.
   */
  passAction?: number;
  /**
   * Side-to-move token between <im_end> and <act_start>. Upstream has none (its model is always
   * Black); a model that plays both colours cannot tell them apart from the board alone once
   * captures break the stone-count parity.
   */
  toPlay?: { b: number; w: number };
  /** Generation ends here instead of at eos (models trained on one move per sequence). */
  stop?: number;
}

/** Token ids of upstream's Go sequence layout (spec 2.3). */
export const GO_TOKENS = {
  imStart: 32000,
  imEnd: 32001,
  actStart: 32004,
  actEnd: 32006,
  imageOffset: 96005,
  /** upstream passes eos_token_id=50256 (a GPT-2 leftover). */
  eos: 50256,
  pad: 50260,
  actionTokens: 3,
} as const satisfies GoTokenLayout;

/** How a 256x256 board render becomes the model's input image. */
export type BoardImageMode =
  /** Box-filter downscale by 256 / imageSize (upstream's size: a copy). */
  | { kind: 'resize' }
  /** gridImage (src/go/read.ts): `pointPixels` per intersection, 2x2 intersections per token. */
  | { kind: 'grid'; pointPixels: number };

export interface VideoWorldPreset {
  name: string;
  tokenizer: TokenizerConfig;
  ldm: LdmConfig;
  transformer: InternLMConfig;
  /** Square input image side for the tokenizer. */
  imageSize: number;
  image: BoardImageMode;
  tokens: GoTokenLayout;
}

const MICRO_IMAGE_CODES = MICRO_TOKENIZER.levels.reduce((a, b) => a * b, 1);
const MICRO_LDM_CODES = MICRO_LDM.levels.reduce((a, b) => a * b, 1);
/**
 * Action ids reserved after the image codes: the first micro LDM's 8 * 5 * 5 codes. Fixed, so the
 * vocabulary (and every shipped micro checkpoint's embedding and lm_head) does not change with
 * MICRO_LDM's levels; an LDM with fewer codes leaves the rest unused.
 */
const MICRO_ACTION_SLOTS = 200;
if (MICRO_LDM_CODES > MICRO_ACTION_SLOTS) throw new Error(`MICRO_LDM has more codes than the ${MICRO_ACTION_SLOTS} reserved action ids`);

/**
 * The safetensors metadata `format` of micro model files. v2: the patch encoder (MICRO_TOKENIZER);
 * v1 files were trained with the whole-image encoder and read as noise under v2.
 */
export const MICRO_WEIGHTS_FORMAT = 'videoworld-micro-v2';

/** The micro model's vocabulary: 8 specials, then the image codes, then the LDM's action codes. */
export const MICRO_TOKENS = {
  pad: 0,
  imStart: 1,
  imEnd: 2,
  actStart: 3,
  actEnd: 4,
  eos: 5,
  toPlay: { b: 6, w: 7 },
  imageOffset: 8,
  actionOffset: 8 + MICRO_IMAGE_CODES,
  actionTokens: 1,
  stop: 2,
} as const satisfies GoTokenLayout;

/**
 * The token layout a micro model file was trained with, from its safetensors metadata: `layout`
 * 'no-ldm' (no action token) or 'ldm' (one LDM action token; `ldm_pass_code`, where recorded, the
 * LDM's code of an unchanged board).
 */
export function microLayout(metadata: Readonly<Record<string, string>>): GoTokenLayout {
  if (metadata.layout === 'no-ldm') return { ...MICRO_TOKENS, actionTokens: 0 };
  const pass = metadata.ldm_pass_code;
  if (pass === undefined) return MICRO_TOKENS;
  const code = Number(pass);
  if (!Number.isInteger(code) || code < 0 || code >= MICRO_LDM_CODES) throw new Error(`micro weights: metadata ldm_pass_code '${pass}' is not a code in [0, ${MICRO_LDM_CODES})`);
  return { ...MICRO_TOKENS, passAction: MICRO_TOKENS.actionOffset + code };
}

export const PRESETS: Record<'go' | 'tiny' | 'micro', VideoWorldPreset> = {
  go: {
    name: 'go',
    tokenizer: GO_TOKENIZER,
    ldm: GO_LDM,
    transformer: { vocabSize: 160005, hiddenSize: 1024, intermediateSize: 2816, numLayers: 24, numHeads: 16, rmsNormEps: 1e-6, bias: true, maxPositions: 2048 },
    imageSize: 256,
    image: { kind: 'resize' },
    tokens: GO_TOKENS,
  },
  tiny: {
    name: 'tiny',
    tokenizer: TINY_TOKENIZER,
    ldm: TINY_LDM,
    // Full Go vocabulary (the token layout needs ids up to 160004) at a tiny width.
    transformer: { vocabSize: 160005, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, rmsNormEps: 1e-6, bias: true, maxPositions: 256 },
    imageSize: 32,
    image: { kind: 'resize' },
    tokens: GO_TOKENS,
  },
  micro: {
    name: 'micro',
    tokenizer: MICRO_TOKENIZER,
    ldm: MICRO_LDM,
    transformer: { vocabSize: MICRO_TOKENS.actionOffset + MICRO_ACTION_SLOTS, hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4, rmsNormEps: 1e-6, bias: true, maxPositions: 64 },
    imageSize: 20,
    image: { kind: 'grid', pointPixels: 2 },
    tokens: MICRO_TOKENS,
  },
};

export type PresetName = keyof typeof PRESETS;
