/**
 * The Go model of VideoWorld (spec sections 1-2): the image tokenizer and the InternLM transformer
 * under the attribute names of upstream's battle model (`vbackbone`, `v_token`, ..., `neck.llm`),
 * so `go_battle.pth` maps 1:1 and `go_fsq.pth` through the weight map.
 *
 * One move: board image -> 16 FSQ indices -> prompt [<im_start> 16 ids <im_end> <act_start>] ->
 * sample 3 latent-action tokens, <act_end>, <im_start>, 16 next-board tokens -> decode the next
 * board image. (The move itself is read off the two images; see src/go.)
 */
import { type GpuContext, type SampleOptions, type Tensor, ropeInvFreq, sampleRef, softmaxRef } from '../../../kernels/index.js';
import { Module, type Param } from '../../graph/module.js';
import { hinit, hinitSeed } from '../../io/hinit.js';
import { scratchView } from '../../io/safetensors.js';
import type { WeightSource } from '../../graph/weights.js';
import { type GenerateResult, InternLM, type InternLMConfig } from './internlm.js';
import type { Colour } from '../../go/board.js';
import type { GoTokenLayout, VideoWorldPreset } from './presets.js';
import { ImageTokenizer } from './tokenizer.js';

export interface MoveOptions {
  sampling?: SampleOptions;
  /** Side to move, for layouts with a side-to-move token (default Black, as upstream). */
  toPlay?: Colour;
  /** Called with each generated token. */
  onToken?: (id: number, step: number) => void;
  /**
   * Sample the next board conditioned on its differing from the input board (layouts without
   * action tokens, or after an LDM layout's action token, see actionRank): the model's own first-change distribution from one teacher-forced pass over
   * an unchanged board, P(first change at i) = P(not copy at i | copies before) * prod P(copy
   * before), picks where (argmax when greedy), the token there is drawn without the copy, the rest
   * is generated as usual. Per-token greedy decoding copies the board: at each single position a
   * copy is the likeliest token, although some position must change.
   */
  requireChange?: boolean;
  /**
   * With requireChange: the rank-th likeliest first change (0: the likeliest), ranked by its joint
   * probability prod P(copy before) * P(token at i), instead of one drawn by `sampling`; the rest of
   * the board is decoded greedily. A player's retries walk down this list, so no two tries repeat a
   * board head (sampled retries redraw likely failures and corrupt the rest of the board).
   */
  changeRank?: number;
  /**
   * Layouts with one latent-action token trained on LDM codes: take the rank-th likeliest action
   * code (0: the likeliest; with requireChange the default) and decode the board after it: with
   * requireChange as above (its first change ranked or sampled), otherwise greedily with the input
   * board as the draft. With the layout's passAction the pass code is not ranked (a pass is not a
   * move), and unchangedProbability is its probability.
   */
  actionRank?: number;
}

export interface MoveResult {
  /** FSQ indices of the input board, row-major. */
  boardIndices: Int32Array;
  /** Every generated token id. */
  tokens: number[];
  /** The latent-action tokens (upstream's 3 are read but not used). */
  actionTokens: number[];
  /** FSQ indices of the predicted next board (short generations padded as upstream does). */
  nextIndices: Int32Array;
  /** The predicted next board [1, 3, H, W], unbounded; see toUint8Image. */
  nextImage: Tensor<'f32'>;
  /**
   * With requireChange: the model's probability that the next board is the input board unchanged
   * (its pass: the training games' passes repeat the position), prod over positions of P(copy);
   * with an action taken in a layout with a passAction, the pass code's probability.
   */
  unchangedProbability?: number;
  /** With actionRank: the model's probability of the action code it took. */
  actionProbability?: number;
  timings: { encodeMs: number; prefillMs: number; decodeMsPerToken: number; imageDecodeMs: number; totalMs: number };
}

/**
 * The VideoWorld Go model: the image tokenizer and the transformer (the LDM is separate), one move
 * = board image -> tokens -> transformer continuation -> next board image.
 * @example
 * const model = new VideoWorldGo(PRESETS.tiny);
 * await model.load(ctx, randomWeights(model));
 * const r = await model.move(ctx, image);            // image [1, 3, S, S] in [-1, 1]
 * const next = await r.nextImage.read();             // the predicted next board
 */
export class VideoWorldGo extends Module {
  readonly tokenizer: ImageTokenizer;
  readonly transformer: InternLM;

  constructor(
    readonly preset: VideoWorldPreset,
    transformer: InternLMConfig = preset.transformer,
    /** The token layout the transformer was trained on (the micro ablation has no action tokens). */
    readonly tokens: GoTokenLayout = preset.tokens,
  ) {
    super('');
    this.tokenizer = this.child('tokenizer', new ImageTokenizer(preset.tokenizer));
    this.transformer = this.child('llm', new InternLM(transformer, 'neck.llm'));
    const codes = preset.tokenizer.levels.reduce((a, b) => a * b, 1);
    this.require(transformer.vocabSize >= tokens.imageOffset + codes, `vocab ${transformer.vocabSize} cannot hold the image ids (needs ${tokens.imageOffset + codes})`);
  }

  /** Board tokens per image (4x4 = 16 for the go preset). */
  get imageTokens(): number {
    const down = 2 ** (this.preset.tokenizer.encoder.widthMults.length - 1);
    return (this.preset.imageSize / down) ** 2;
  }

  /** The prompt for a board: no BOS; upstream's is 3 + imageTokens ids (no side-to-move token). */
  prompt(boardIndices: ArrayLike<number>, toPlay: Colour = 'b'): number[] {
    const t = this.tokens;
    return [t.imStart, ...Array.from(boardIndices, (i) => i + t.imageOffset), t.imEnd, ...(t.toPlay ? [t.toPlay[toPlay]] : []), t.actStart];
  }

  /**
   * Next-board indices from generated tokens, by position as upstream (pad, minus offset, clamp >= 0);
   * ids past the image codes (an action or special token sampled out of place) clamp to the last code.
   */
  nextIndicesFrom(tokens: number[]): Int32Array {
    const n = this.imageTokens;
    const first = this.tokens.actionTokens + 2;
    const codes = this.preset.tokenizer.levels.reduce((a, b) => a * b, 1);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.min(codes - 1, Math.max(0, (tokens[first + i] ?? this.tokens.pad) - this.tokens.imageOffset));
    return out;
  }

  /**
   * See MoveOptions.requireChange: the generated tokens up to and including the first changed board
   * token, and the model's probability that the next board is the input board unchanged.
   */
  private async firstChange(ctx: GpuContext, prompt: number[], board: Int32Array, sampling: SampleOptions, rank?: number): Promise<{ head: number[]; unchanged: number }> {
    const t = this.tokens;
    const ids = Array.from(board, (i) => i + t.imageOffset);
    const copy = [t.actEnd, t.imStart, ...ids];
    const V = this.transformer.cfg.vocabSize;
    const logits = this.transformer.forward(ctx, [[...prompt, ...copy.slice(0, -1)]]);
    const all = await logits.read();
    logits.dispose();
    // Row r of `all` predicts token r + 1; board token i is copy[2 + i], predicted by row prompt.length + 1 + i.
    const row = (i: number) => all.subarray((prompt.length + 1 + i) * V, (prompt.length + 2 + i) * V);
    const logFirst = new Float64Array(ids.length);
    const ranked: { at: number; id: number; logP: number }[] = [];
    let logCopies = 0;
    ids.forEach((id, i) => {
      const p = softmaxRef(row(i), V);
      logFirst[i] = logCopies + Math.log(Math.max(1e-30, 1 - p[id]!));
      if (rank !== undefined) p.forEach((pv, v) => v !== id && pv > 0 && ranked.push({ at: i, id: v, logP: logCopies + Math.log(pv) }));
      logCopies += Math.log(p[id]!);
    });
    if (rank !== undefined) {
      this.require(Number.isInteger(rank) && rank >= 0 && rank < ranked.length, `changeRank ${rank}: an integer in [0, ${ranked.length})`);
      const { at, id } = ranked.sort((a, b) => b.logP - a.logP || a.at - b.at || a.id - b.id)[rank]!;
      return { head: [...copy.slice(0, 2 + at), id], unchanged: Math.exp(logCopies) };
    }
    const [at] = sampleRef(logFirst, ids.length, sampling);
    const r = Float64Array.from(row(at!));
    r[ids[at!]!] = -Infinity;
    const [id] = sampleRef(r, V, { ...sampling, step: ((sampling.step ?? 0) + 1) >>> 0 });
    return { head: [...copy.slice(0, 2 + at!), id!], unchanged: Math.exp(logCopies) };
  }

  /**
   * See MoveOptions.actionRank: the rank-th likeliest action token after the prompt, and its
   * probability; with the layout's passAction, the rank-th likeliest of the others, and the pass's
   * probability.
   */
  private async rankedAction(ctx: GpuContext, prompt: number[], rank: number): Promise<{ id: number; p: number; pass?: number }> {
    const t = this.tokens;
    const codes = this.preset.ldm.levels.reduce((a, b) => a * b, 1);
    this.require(t.actionTokens === 1 && t.actionOffset !== undefined, `actionRank needs a layout with one action token trained on LDM codes (this one has ${t.actionTokens}${t.actionOffset === undefined ? ', no actionOffset' : ''})`);
    const moves = t.passAction === undefined ? codes : codes - 1;
    this.require(Number.isInteger(rank) && rank >= 0 && rank < moves, `actionRank ${rank}: an integer in [0, ${moves})`);
    const V = this.transformer.cfg.vocabSize;
    const logits = this.transformer.forward(ctx, [prompt]);
    const all = await logits.read();
    logits.dispose();
    const p = softmaxRef(all.subarray((prompt.length - 1) * V, prompt.length * V), V);
    const ids = Array.from({ length: codes }, (_, c) => c + t.actionOffset!)
      .filter((id) => id !== t.passAction)
      .sort((a, b) => p[b]! - p[a]! || a - b);
    return { id: ids[rank]!, p: p[ids[rank]!]!, ...(t.passAction === undefined ? {} : { pass: p[t.passAction]! }) };
  }

  /**
   * Greedy decoding with the input board as the draft (speculative decoding whose draft is a copy):
   * one forward checks every drafted token, the first the model disagrees with is replaced by its
   * argmax and drafting resumes after it, so a move that changes k tokens takes k + 1 passes instead
   * of one per token. Ends with the draft (the board, <im_end>, the stop token).
   */
  private async copyDraftGreedy(ctx: GpuContext, prefix: number[], draft: number[], onToken?: (id: number, step: number) => void): Promise<GenerateResult> {
    const V = this.transformer.cfg.vocabSize;
    const tokens: number[] = [];
    const t0 = performance.now();
    while (tokens.length < draft.length) {
      const logits = this.transformer.forward(ctx, [[...prefix, ...tokens, ...draft.slice(tokens.length)]]);
      const all = await logits.read();
      logits.dispose();
      // Row r predicts token r + 1: drafted token j is predicted by row prefix.length - 1 + j.
      for (let j = tokens.length; j < draft.length; j++) {
        const [id] = sampleRef(all.subarray((prefix.length - 1 + j) * V, (prefix.length + j) * V), V, { greedy: true });
        tokens.push(id!);
        onToken?.(id!, j);
        if (id !== draft[j]) break;
      }
    }
    // No prefill of its own: the passes' time is spread over the tokens they gave.
    return { tokens, stoppedBy: 'stop', prefillMs: 0, decodeMsPerToken: (performance.now() - t0) / tokens.length };
  }

  /** One model move: image [1, 3, S, S] in [-1, 1] -> generated tokens and the predicted next board. */
  async move(ctx: GpuContext, image: Tensor, opts: MoveOptions = {}): Promise<MoveResult> {
    const S = this.preset.imageSize;
    this.require(image.shape.length === 4 && image.shape[0] === 1 && image.shape[1] === 3 && image.shape[2] === S && image.shape[3] === S, `image [${image.shape.join(',')}], expected [1,3,${S},${S}]`);
    const t0 = performance.now();
    const enc = this.tokenizer.encode(image);
    const boardIndices = await enc.indices.read();
    enc.indices.dispose();
    enc.encoderOut.dispose();
    enc.postEncode.dispose();
    const t1 = performance.now();
    const n = this.imageTokens;
    const t = this.tokens;
    const prompt = this.prompt(boardIndices, opts.toPlay);
    this.require(opts.changeRank === undefined || opts.requireChange === true, 'changeRank needs requireChange');
    const sampling: SampleOptions | undefined = opts.changeRank === undefined ? opts.sampling : { greedy: true };
    const ldmAction = t.actionTokens === 1 && t.actionOffset !== undefined;
    this.require(!opts.requireChange || t.actionTokens === 0 || ldmAction, `requireChange needs a layout without action tokens or with one LDM action token (this one has ${t.actionTokens})`);
    const action = opts.actionRank !== undefined || (opts.requireChange && ldmAction) ? await this.rankedAction(ctx, prompt, opts.actionRank ?? 0) : null;
    const actionIds = action ? [action.id] : [];
    const first = opts.requireChange ? await this.firstChange(ctx, [...prompt, ...actionIds], boardIndices, sampling ?? {}, opts.changeRank) : null;
    const head = [...actionIds, ...(first?.head ?? [])];
    const headMs = performance.now() - t1;
    head.forEach((id, step) => opts.onToken?.(id, step));
    const onToken = opts.onToken && ((id: number, step: number) => opts.onToken!(id, step + head.length));
    // head = [action] <act_end> <im_start> board[0 .. at) changed-token: the draft copies
    // board[at + 1 ..]; head = action alone: the draft is <act_end> <im_start> and the whole board.
    const draft = first ? Array.from(boardIndices.subarray(first.head.length - 2), (i) => i + t.imageOffset) : [t.actEnd, t.imStart, ...Array.from(boardIndices, (i) => i + t.imageOffset)];
    const gen = (first && sampling?.greedy) || (action && !first) ? await this.copyDraftGreedy(ctx, [...prompt, ...head], [...draft, t.imEnd, t.stop ?? t.eos], onToken) : await this.transformer.generate(ctx, [...prompt, ...head], {
      // Upstream asks for 25 new tokens but reads only the first actionTokens + 2 + n (codes,
      // <act_end>, <im_start>, the board; spec 2.4): sampling is causal, so stopping there draws
      // what is used from the same distribution. A layout with its own stop token needs its move.
      maxNewTokens: (t.stop === undefined ? t.actionTokens + 2 + n : t.actionTokens + n + 3) - head.length,
      sampling,
      stopTokens: [t.eos, ...(t.stop === undefined ? [] : [t.stop])],
      onToken,
    });
    gen.tokens = [...head, ...gen.tokens];
    const t2 = performance.now();
    const nextIndices = this.nextIndicesFrom(gen.tokens);
    const side = Math.sqrt(n);
    const nextImage = this.tokenizer.decode(nextIndices, [1, side, side]);
    await ctx.sync();
    const t3 = performance.now();
    return {
      boardIndices,
      tokens: gen.tokens,
      // With a pass action, the unchanged board's probability is the pass's, not the board's
      // after the (non-pass) action taken.
      ...(action?.pass !== undefined ? { unchangedProbability: action.pass } : first ? { unchangedProbability: first.unchanged } : {}),
      ...(action ? { actionProbability: action.p } : {}),
      actionTokens: gen.tokens.slice(0, t.actionTokens),
      nextIndices,
      nextImage,
      timings: { encodeMs: t1 - t0, prefillMs: headMs + gen.prefillMs, decodeMsPerToken: gen.decodeMsPerToken, imageDecodeMs: t3 - t2, totalMs: t3 - t0 },
    };
  }
}

/**
 * Deterministic stand-in weights for a module (hinit-v1 with the golden files' scale rules:
 * weights 1/sqrt(fan_in), biases 0.1, norm weights 1 +- 0.1, embeddings 1.0, RoPE inv_freq exact).
 * For demos and benchmarks without a checkpoint: the outputs are meaningless.
 */
export function randomWeights(m: Module, caseId = 'videoworld-random'): WeightSource {
  const params = new Map<string, Param>();
  for (const p of m.namedParams()) params.set(p.key, p);
  return {
    keys: () => [...params.keys()],
    shape: (k) => params.get(k)?.shape,
    f32: (k, into) => {
      const p = params.get(k);
      if (!p) throw new Error(`randomWeights: no parameter ${k}`);
      if (k.endsWith('rotary_emb.inv_freq')) return ropeInvFreq(2 * p.size);
      const rank = p.shape.length;
      const embedding = /embed_tokens|positional_encoding_gaussian_matrix|\.act\.weight$/.test(k);
      const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
      let std = embedding ? 1 : rank >= 2 ? 1 / Math.sqrt(fanIn) : 0.1;
      const offset = !embedding && rank === 1 && k.endsWith('weight') ? 1 : 0;
      if (k.endsWith('in_proj_weight')) std = 1 / Math.sqrt(p.shape[1]!);
      return hinit(p.size, hinitSeed(caseId, k), std * Math.sqrt(3), offset, scratchView(into, p.size));
    },
  };
}
