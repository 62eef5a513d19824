import test from 'ava';
import { GoBoard } from '../../src/go/board.js';
import { gameStates } from '../../src/go/games.js';
import { GoGame } from '../../src/go/engine.js';
import { RandomPlayer } from '../../src/go/players.js';
import { GRID_CELLS, readBoard } from '../../src/go/read.js';
import { denormalizeImage } from '../../src/go/render.js';
import { MICRO_TOKENS, PRESETS } from '../../src/models/videoworld/presets.js';
import { ImageTokenizer } from '../../src/models/videoworld/tokenizer.js';
import { LatentDynamicsModel } from '../../src/models/videoworld/ldm.js';
import { VideoWorldGo, randomWeights } from '../../src/models/videoworld/videoworld.js';
import { randomInitSource } from '../../src/graph/weights.js';
import { SeededRng } from '../../src/graph/rng.js';
import { assertClose } from '../helpers/close.js';
import { gpu } from '../helpers/gpu.js';
import { BoardTokenTable, moveSequence, moverStones, promptLength, sequenceTargets, transformPoint, transformStones, writeBoardImage } from '../../src/train/go-micro.js';
import { randomPosition } from '../../src/train/go-data.js';

test('the 8 symmetries are distinct, 0 is the identity, and each maps the board onto itself', (t) => {
  const p = { row: 1, col: 3 };
  const images = new Set(Array.from({ length: 8 }, (_, s) => JSON.stringify(transformPoint(p, s))));
  t.is(images.size, 8);
  t.deepEqual(transformPoint(p, 0), p);
  for (let s = 0; s < 8; s++) {
    const seen = new Set<string>();
    for (let r = 0; r < 9; r++) for (let c = 0; c < 9; c++) seen.add(JSON.stringify(transformPoint({ row: r, col: c }, s)));
    t.is(seen.size, 81);
  }
});

test('a transformed game position is the position of the transformed game (rendered and read back)', (t) => {
  const game = new GoGame();
  const player = new RandomPlayer(5);
  for (let i = 0; i < 60 && !game.isOver(); i++) game.play(player.choose(game));
  const states = gameStates({ moves: [...game.moves] });
  for (const sym of [0, 3, 5, 7]) {
    const moved = new GoGame();
    for (const m of game.moves) moved.play(m && transformPoint(m, sym));
    const want = transformStones(states.at(-1)!, sym);
    const x = new Float32Array(1200);
    writeBoardImage(want, 2, x, 0);
    const read = readBoard(denormalizeImage(x, 20, 20)).points;
    const b = moved.board();
    const truth: (string | null)[] = [];
    for (let r = 0; r < 9; r++) for (let c = 0; c < 9; c++) truth.push(b.get(r, c));
    t.deepEqual(read, truth, `symmetry ${sym}`);
  }
});

test('moverStones shows the mover as Black: colours swapped after a White move, kept after a Black one', (t) => {
  const stones = [
    { colour: 'b' as const, row: 0, col: 3 },
    { colour: 'w' as const, row: 8, col: 8 },
  ];
  t.deepEqual(moverStones(stones, 'b'), stones);
  t.deepEqual(moverStones(stones, 'w'), [
    { colour: 'w', row: 0, col: 3 },
    { colour: 'b', row: 8, col: 8 },
  ]);
  t.is(stones[0]!.colour, 'b', 'the input is not changed');
});

test('the micro LDM sees one feature cell per board point (its 2x down steps are the grid image\'s point size)', async (t) => {
  const preset = PRESETS.micro;
  t.is(preset.image.kind, 'grid');
  const pp = preset.image.kind === 'grid' ? preset.image.pointPixels : 0;
  const downs = preset.ldm.encoder.layers.filter(([kind]) => kind === 'spatial_down').length;
  t.is(2 ** downs, pp, 'a cell is one point: any other stride mixes a move\'s place inside its cell into its code');
  t.is(preset.ldm.encoder.peGrid, GRID_CELLS);
  t.is(preset.imageSize, GRID_CELLS * pp);
  const ctx = await gpu();
  const ldm = new LatentDynamicsModel(preset.ldm);
  await ldm.load(ctx, randomInitSource(ldm.namedParams(), 5));
  const S = preset.imageSize;
  const e = ldm.encode(ctx.fromArray(new Float32Array(2 * 3 * 2 * S * S).map((_, i) => Math.sin(i)), [2, 3, 2, S, S]));
  t.deepEqual(e.preEncodeOut.shape, [2, preset.ldm.dim, 1, GRID_CELLS, GRID_CELLS]);
  const out = ldm.decode(e.codes, e.preEncodeOut);
  t.deepEqual(out.shape, [2, 3, 2, S, S]);
  for (const x of [out, e.indices, e.codes, e.features, e.preEncodeOut]) x.dispose();
  ldm.dispose();
});

test('moveSequence lays out one move as the battle prompt does, and only the generated part is a target', (t) => {
  const layout = MICRO_TOKENS;
  const board = Array.from({ length: 25 }, (_, i) => i);
  const next = Array.from({ length: 25 }, (_, i) => 600 + i);
  const seq = moveSequence(layout, board, [7], next, 'w');
  t.is(seq.length, 25 + 25 + 8);
  t.is(seq[0], layout.imStart);
  t.is(seq[26], layout.imEnd);
  t.is(seq[27], layout.toPlay.w);
  t.is(seq[28], layout.actStart);
  t.is(seq[29], 7 + layout.actionOffset);
  t.is(seq[30], layout.actEnd);
  t.is(seq[31], layout.imStart);
  t.is(seq[32], 600 + layout.imageOffset);
  t.is(seq.at(-1), layout.imEnd);
  const prompt = promptLength(layout, 25);
  t.is(prompt, 29);
  const targets = sequenceTargets(seq, prompt, -100);
  // The last prompt position (<act_start>) predicts the action code; nothing before it is a target.
  t.deepEqual(targets.slice(0, prompt - 1), new Array(prompt - 1).fill(-100));
  t.is(targets[prompt - 1], seq[prompt]);
  t.throws(() => moveSequence(layout, board, [], next, 'b'), { message: /0 action codes, the layout has 1/ });
  const ablation = moveSequence({ ...layout, actionTokens: 0 }, board, [], next, 'b');
  t.is(ablation.length, seq.length - 1);
  t.true(new GoBoard().isEmpty());
});

test('patch encoder: a token depends on its own 4x4 patch only, and equals the patch encoded alone', async (t) => {
  const ctx = await gpu();
  const cfg = PRESETS.micro.tokenizer;
  t.true(cfg.patchEncoder);
  const tok = new ImageTokenizer(cfg);
  await tok.load(ctx, randomInitSource(tok.namedParams(), 7));
  const whole = new ImageTokenizer({ ...cfg, patchEncoder: false });
  await whole.load(ctx, randomInitSource(whole.namedParams(), 7));
  const rng = new SeededRng(3);
  const S = 20;
  const x = Float32Array.from({ length: 3 * S * S }, () => rng.next() * 2 - 1);
  const enc = async (img: Float32Array) => tok.encode(ctx.fromArray(img, [1, 3, S, S])).encoderOut.read();
  const a = await enc(x);
  // Change one pixel of patch (row 2, col 3): only that token's features move.
  const y = x.slice();
  y[1 * S * S + (2 * 4 + 1) * S + 3 * 4 + 2]! += 1;
  const b = await enc(y);
  const D = cfg.dim;
  for (let p = 0; p < 25; p++) {
    const moved = Array.from({ length: D }, (_, d) => a[d * 25 + p] !== b[d * 25 + p]).some(Boolean);
    t.is(moved, p === 2 * 5 + 3, `token ${p}`);
  }
  // Token (1, 4) equals its 4x4 patch run through the same encoder as a whole image.
  const patch = new Float32Array(3 * 16);
  for (let c = 0; c < 3; c++) for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) patch[c * 16 + r * 4 + q] = x[c * S * S + (4 + r) * S + 16 + q]!;
  const alone = await whole.encode(ctx.fromArray(patch, [1, 3, 4, 4])).encoderOut.read();
  assertClose(t, Array.from({ length: D }, (_, d) => a[d * 25 + 9]!), alone, { atol: 1e-5, rtol: 1e-5, name: 'patch alone' });
});

test('BoardTokenTable: a position\'s tokens by table equal the patch encoder\'s', async (t) => {
  const ctx = await gpu();
  const preset = PRESETS.micro;
  const tok = new ImageTokenizer(preset.tokenizer);
  await tok.load(ctx, randomInitSource(tok.namedParams(), 11));
  // A fresh encoder rounds every patch to one code (see the trainer): scale FSQ's input up.
  const w = tok.projectIn.weight.t;
  w.write((await w.read()).map((v) => v * 30));
  const S = preset.imageSize;
  const encode = async (x: Float32Array, n: number) => {
    const ids = tok.encode(ctx.fromArray(x, [n, 3, S, S])).indices;
    const v = await ids.read();
    ids.dispose();
    return v;
  };
  const table = await BoardTokenTable.build(encode, S, 2, 4);
  const rng = new SeededRng(4);
  const n = 12;
  const positions = Array.from({ length: n }, (_, i) => transformStones(randomPosition(rng, i * 12), i % 8));
  const x = new Float32Array(n * 3 * S * S);
  positions.forEach((p, i) => writeBoardImage(p, 2, x, i * 3 * S * S));
  const direct = await encode(x, n);
  const byTable = positions.map((p) => Array.from(table.tokens(p)));
  t.deepEqual(byTable.flat(), Array.from(direct));
  t.true(new Set(byTable.flat()).size >= 20, `codes used: ${new Set(byTable.flat()).size} (random weights still tell patterns apart)`);
  await t.throwsAsync(() => BoardTokenTable.build(encode, S, 3, 4), { message: /not a whole number/ });
});

test('requireChange: the generated board differs from the input, copied up to the first change', async (t) => {
  const ctx = await gpu();
  const preset = PRESETS.micro;
  const model = new VideoWorldGo(preset, preset.transformer, { ...preset.tokens, actionTokens: 0 });
  await model.load(ctx, randomWeights(model, 'require-change-test'));
  const S = preset.imageSize;
  const image = ctx.fromArray(Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 37) % 11) / 5 - 1), [1, 3, S, S]);
  for (const sampling of [{ greedy: true }, { seed: 5, temperature: 1 }]) {
    const r = await model.move(ctx, image, { sampling, toPlay: 'w', requireChange: true });
    r.nextImage.dispose();
    const first = r.nextIndices.findIndex((v, i) => v !== r.boardIndices[i]);
    t.true(first >= 0, `${JSON.stringify(sampling)}: the board changed`);
    t.deepEqual(r.tokens.slice(0, 2), [preset.tokens.actEnd, preset.tokens.imStart]);
  }
  // An LDM layout: the likeliest action code first, then the board's first change after it.
  const withActions = new VideoWorldGo(preset);
  await withActions.load(ctx, randomWeights(withActions, 'require-change-test'));
  const codes = preset.ldm.levels.reduce((a, b) => a * b, 1);
  const ranked = await withActions.move(ctx, image, { toPlay: 'b', actionRank: 0 });
  ranked.nextImage.dispose();
  for (const changeRank of [0, 3]) {
    const r = await withActions.move(ctx, image, { toPlay: 'b', requireChange: true, changeRank });
    r.nextImage.dispose();
    t.is(r.tokens[0], ranked.tokens[0], 'the likeliest action code');
    t.true(r.tokens[0]! >= preset.tokens.actionOffset! && r.tokens[0]! < preset.tokens.actionOffset! + codes);
    t.deepEqual(r.tokens.slice(1, 3), [preset.tokens.actEnd, preset.tokens.imStart]);
    t.true(r.nextIndices.some((v, i) => v !== r.boardIndices[i]), `changeRank ${changeRank}: the board changed after the action`);
    t.true(r.unchangedProbability! >= 0 && r.unchangedProbability! <= 1);
  }
  const upstream = new VideoWorldGo(preset, preset.transformer, { ...preset.tokens, actionTokens: 3, actionOffset: undefined });
  await upstream.load(ctx, randomWeights(upstream, 'require-change-test'));
  await t.throwsAsync(() => upstream.move(ctx, image, { requireChange: true }), { message: /requireChange needs a layout without action tokens or with one LDM action token \(this one has 3\)/ });
  // Without a stop token (upstream's layout) a move draws the tokens it reads and no more: the
  // 3 codes, <act_end>, <im_start> and the board (upstream's 25-token budget less its unread tail).
  const unstopped = new VideoWorldGo(preset, preset.transformer, { ...preset.tokens, actionTokens: 3, actionOffset: undefined, stop: undefined });
  await unstopped.load(ctx, randomWeights(unstopped, 'require-change-test'));
  const m = await unstopped.move(ctx, image, { sampling: { greedy: true } });
  t.is(m.tokens.length, m.tokens.includes(preset.tokens.eos) ? m.tokens.indexOf(preset.tokens.eos) + 1 : 3 + 2 + m.boardIndices.length);
  m.nextImage.dispose();
  image.dispose();
});

test('changeRank: ranked first changes are distinct, and the copy-drafted board equals token-by-token greedy decoding', async (t) => {
  const ctx = await gpu();
  const preset = PRESETS.micro;
  const layout = { ...preset.tokens, actionTokens: 0 };
  const model = new VideoWorldGo(preset, preset.transformer, layout);
  await model.load(ctx, randomWeights(model, 'change-rank-test'));
  const S = preset.imageSize;
  const image = ctx.fromArray(Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 29) % 13) / 6 - 1), [1, 3, S, S]);
  const firstChange = (model as unknown as { firstChange: (...a: unknown[]) => Promise<{ head: number[] }> }).firstChange.bind(model);
  const heads = new Set<string>();
  let redrafts = 0;
  for (const rank of [0, 1, 2, 7]) {
    const seen: number[] = [];
    const r = await model.move(ctx, image, { toPlay: 'b', requireChange: true, changeRank: rank, onToken: (id) => seen.push(id) });
    r.nextImage.dispose();
    t.deepEqual(seen, r.tokens, 'onToken sees every token');
    const prompt = model.prompt(r.boardIndices, 'b');
    const { head } = await firstChange(ctx, prompt, r.boardIndices, { greedy: true }, rank);
    heads.add(head.join(','));
    t.deepEqual(r.tokens.slice(0, head.length), head);
    const rest = r.tokens.length - head.length;
    const ref = await model.transformer.generate(ctx, [...prompt, ...head], { maxNewTokens: rest, sampling: { greedy: true } });
    t.deepEqual(r.tokens.slice(head.length), ref.tokens, `rank ${rank}`);
    // Every token after the head that is not the input board's is a redraft.
    redrafts += r.tokens.slice(head.length, head.length + r.boardIndices.length - (head.length - 2)).filter((id, j) => id !== r.boardIndices[head.length - 2 + j]! + layout.imageOffset).length;
  }
  t.is(heads.size, 4, 'each rank is a different first change');
  t.true(redrafts > 0, 'random weights disagree with the draft somewhere (the redraft path ran)');
  await t.throwsAsync(() => model.move(ctx, image, { changeRank: 0 }), { message: /changeRank needs requireChange/ });
  image.dispose();
});

test('actionRank: ranked action codes are distinct and ordered, the board after each equals greedy decoding', async (t) => {
  const ctx = await gpu();
  const preset = PRESETS.micro;
  const model = new VideoWorldGo(preset);
  await model.load(ctx, randomWeights(model, 'action-rank-test'));
  const S = preset.imageSize;
  const image = ctx.fromArray(Float32Array.from({ length: 3 * S * S }, (_, i) => ((i * 31) % 11) / 5 - 1), [1, 3, S, S]);
  const codes = preset.ldm.levels.reduce((a, b) => a * b, 1);
  const actions: number[] = [];
  let lastP = Infinity;
  for (const rank of [0, 1, 2, 9]) {
    const r = await model.move(ctx, image, { toPlay: 'w', actionRank: rank });
    r.nextImage.dispose();
    const [action] = r.tokens;
    t.true(action! >= preset.tokens.actionOffset! && action! < preset.tokens.actionOffset! + codes, `rank ${rank}: action id ${action}`);
    t.deepEqual(r.actionTokens, [action!]);
    t.true(r.actionProbability! <= lastP, `rank ${rank}: probability ${r.actionProbability} after ${lastP}`);
    lastP = r.actionProbability!;
    actions.push(action!);
    const prompt = model.prompt(r.boardIndices, 'w');
    const ref = await model.transformer.generate(ctx, [...prompt, action!], { maxNewTokens: r.tokens.length - 1, sampling: { greedy: true } });
    t.deepEqual(r.tokens.slice(1), ref.tokens, `rank ${rank}: the copy-drafted board is the greedy one`);
  }
  t.is(new Set(actions).size, 4, 'each rank is a different action');
  await t.throwsAsync(() => model.move(ctx, image, { actionRank: codes }), { message: new RegExp(`actionRank ${codes}: an integer in \\[0, ${codes}\\)`) });
  const noActions = new VideoWorldGo(preset, preset.transformer, { ...preset.tokens, actionTokens: 0 });
  await noActions.load(ctx, randomWeights(noActions, 'action-rank-test'));
  await t.throwsAsync(() => noActions.move(ctx, image, { actionRank: 0 }), { message: /actionRank needs a layout with one action token/ });
  image.dispose();
});
