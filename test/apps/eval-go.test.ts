import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedWeights } from '../../src/apps/go-model.js';
// Static: the helper registers an ava hook, which cannot be added once the tests run.
import { gpu } from '../helpers/gpu.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** GPU context, the shipped model, modelMove and GoGame, imported on use (the CLI tests run no GPU here). */
async function goKit() {
  const [{ loadGoModel }, { modelMove }, { GoGame }] = await Promise.all([
    import('../../src/apps/go-model.js'),
    import('../../src/models/videoworld/go-player.js'),
    import('../../src/go/engine.js'),
  ]);
  const ctx = await gpu();
  const { model } = await loadGoModel(ctx);
  return { ctx, model, loadGoModel, modelMove, GoGame };
}

test('eval-go plays games with the shipped micro model and prints the JSON verdict last', async (t) => {
  t.true(existsSync(shippedWeights()), `the shipped weights ${shippedWeights()} must be in the repository`);
  // Short games (12 moves) keep the test at seconds; the figures themselves come from full runs (README).
  const r = await cli(['eval-go', '--games', '2', '--max-moves', '12', '--tries', '3', '--positions', '24', '--seed', '3']);
  t.is(r.code, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
  for (const k of ['legal_rate', 'win_rate', 'games', 'positions', 'tokenizer_board_accuracy', 'seconds']) t.true(k in line, `${k} in ${JSON.stringify(line)}`);
  t.is(line.games, 2);
  t.is(line.model_turns, 12);
  t.true(line.positions! > 0 && line.positions! <= 24);
  for (const k of ['legal_rate', 'win_rate']) t.true(line[k]! >= 0 && line[k]! <= 1, `${k} in [0, 1]: ${JSON.stringify(line)}`);
  // Trained weights: the tokenizer reads boards back (stand-in weights give about a third).
  t.true(line.tokenizer_board_accuracy! > 0.9, JSON.stringify(line));
  t.regex(r.stderr, /weights: micro model trained in-project/);
  t.regex(r.stderr, /game 2\/2: model White vs random/);
});

test('eval-go --workers: the games split over processes give the verdict of one process', async (t) => {
  const args = ['eval-go', '--games', '3', '--max-moves', '10', '--tries', '2', '--positions', '9', '--seed', '4'];
  const [one, three] = await Promise.all([cli([...args, '--workers', '1']), cli([...args, '--workers', '3'])]);
  t.is(one.code, 0, one.stderr);
  t.is(three.code, 0, three.stderr);
  const verdict = (out: string) => ({ ...JSON.parse(out.trim().split('\n').at(-1)!), seconds: 0 });
  t.deepEqual(verdict(three.stdout), verdict(one.stdout));
  t.regex(three.stderr, /3 worker processes play the games/);
  t.regex(three.stderr, /game 3\/3: model Black vs random, .* so far of part 3\/3 won \d\/1/);
  const bad = await cli(['eval-go', '--part', '2/2']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--part must be k\/N with 0 <= k < N, got '2\/2'/);
});

test('eval records survive their JSON line, and a verdict needs every game once', async (t) => {
  const [{ encodeEvalRecords, decodeEvalRecords, summarizeEval }, { GoGame }] = await Promise.all([import('../../src/apps/go-eval.js'), import('../../src/go/engine.js')]);
  const game = GoGame.fromMoves([{ row: 0, col: 1 }, { row: 0, col: 0 }, { row: 1, col: 0 }, { row: 4, col: 4 }]);
  const board = game.board();
  t.is(board.get(0, 0), null, 'the corner stone was captured');
  const rec = { game: 0, colour: 'b' as const, won: true, turns: 2, legal: 2, tries: 3, passes: 0, chosenPasses: 0, implied: 0, boards: [new GoGame().board(), board] };
  const back = decodeEvalRecords(encodeEvalRecords([rec]));
  t.deepEqual(back.map((r) => r.boards.map((b) => b.stones())), [rec.boards.map((b) => b.stones())]);
  t.deepEqual({ ...back[0]!, boards: [] }, { ...rec, boards: [] });
  t.throws(() => decodeEvalRecords(encodeEvalRecords([rec]).replace(/"\.{81}"/, `"${'x'.repeat(81)}"`)), { message: /board character 'x'/ });
  const ctx = null as never;
  await t.throwsAsync(summarizeEval(ctx, null as never, [rec, { ...rec, game: 2 }], { games: 3 }, 0), { message: /records of 2 games for 3 \(missing or repeated: game 2/ });
});

test('eval-go --log-turns prints every model turn with its tries', async (t) => {
  const r = await cli(['eval-go', '--games', '1', '--max-moves', '6', '--tries', '2', '--positions', '4', '--seed', '3', '--log-turns']);
  t.is(r.code, 0, r.stderr);
  const turns = r.stderr.split('\n').filter((l) => l.startsWith('game 1 move '));
  t.is(turns.length, 3, r.stderr);
  for (const [i, l] of turns.entries()) t.regex(l, new RegExp(`^game 1 move ${2 * i + 1}: (([A-HJ-T]\\d+|pass)( \\(an implied capture\\))?|no legal move, played as a pass) after [12] tr(y|ies), P\\(unchanged\\) \\d\\.\\d{3}`));
  t.is(JSON.parse(r.stdout.trim().split('\n').at(-1)!).model_turns, 3);
});

test('eval-go rejects bad options with a usage error', async (t) => {
  const r = await cli(['eval-go', '--opponent', 'gnugo']);
  t.is(r.code, 2);
  t.regex(r.stderr, /--opponent must be random or reference, got 'gnugo'/);
  // parseArgs reads '--games -1' as a missing value; '--games=-1' reaches our check.
  const g = await cli(['eval-go', '--games=-1']);
  t.is(g.code, 2);
  t.regex(g.stderr, /--games needs an integer >= 0, got '-1'/);
  const h = await cli(['eval-go', '--positions', 'many']);
  t.is(h.code, 2);
  t.regex(h.stderr, /--positions needs an integer >= 0, got 'many'/);
  const p = await cli(['eval-go', '--pass-at', '1.5']);
  t.is(p.code, 2);
  t.regex(p.stderr, /--pass-at needs a probability in \(0, 1\], got '1.5'/);
  const o = await cli(['eval-go', '--retry-over', 'stone']);
  t.is(o.code, 2);
  t.regex(o.stderr, /--retry-over must be change or action, got 'stone'/);
});

test('modelMove passes when the model finds the unchanged board likely enough (passAt), and plays otherwise', async (t) => {
  const { ctx, model, modelMove, GoGame } = await goKit();
  const game = new GoGame();
  for (const m of [{ row: 2, col: 2 }, { row: 6, col: 6 }]) game.play(m);
  const played = await modelMove(ctx, model, game, { passAt: 1 });
  t.true(played.ok && played.move !== null, 'passAt 1: a stone');
  const p = played.unchangedProbability!;
  t.true(p > 0 && p < 1, `P(unchanged) ${p}`);
  // Greedy decoding is deterministic: at a threshold of exactly that probability the model passes.
  const passed = await modelMove(ctx, model, game, { passAt: p });
  t.deepEqual([passed.ok, passed.move, passed.gtp, passed.tries], [true, null, 'pass', 1]);
  t.is(game.moves.length, 2, 'the game is not changed');
  await t.throwsAsync(() => modelMove(ctx, model, game, { passAt: 0 }), { message: /passAt 0/ });
});

test('modelMove reads a capture shown without its capturing stone as that capture (inferCaptures)', async (t) => {
  const { ctx, model, modelMove, GoGame } = await goKit();
  // Move 48 of an eval game (White to play): black E5 has one liberty, E6; the model's likeliest
  // board removes E5 but leaves E6 empty.
  const moves = [[4,1],[4,2],[7,0],[7,1],[1,4],[2,4],[2,7],[3,3],[5,7],[5,6],[3,6],[4,6],[4,0],[3,7],[7,3],[3,5],[5,4],[5,3],[1,3],[1,5],[6,7],[7,4],[4,5],[4,7],[1,2],[6,4],[0,3],[5,5],[2,1],[6,6],[7,2],[6,3],[4,4],[3,4],[2,6],[2,5],[8,1],[6,5],[5,1],[6,1],[3,2],[4,3],[7,8],[5,0],[4,4],[4,5],[3,0]] as const;
  const game = GoGame.fromMoves(moves.map(([row, col]) => ({ row, col })));
  const strict = await modelMove(ctx, model, game, { tries: 1, inferCaptures: false });
  t.false(strict.ok);
  t.regex(strict.reasons[0] ?? '', /no new stone, but 1 stone\(s\) vanished \(E5\)/);
  const read = await modelMove(ctx, model, game, { tries: 1 });
  t.deepEqual([read.ok, read.gtp, read.impliedCapture], [true, 'E6', true]);
  t.deepEqual(game.captureMove([{ row: 4, col: 4 }]), read.move);
  t.is(game.moves.length, moves.length, 'the game is not changed');
});

test('modelMove: a move into the mover\'s own single-point eye is a failed try unless eyeFills', async (t) => {
  const { ctx, model, modelMove, GoGame } = await goKit();
  // Move 76 of an eval game (White to play; two letters a move, column then row, '..' a pass):
  // the model's fifth likeliest change (passAt 1: no pass) is F7, an eye of its own; the four
  // before it fail for other reasons.
  const enc = 'ebecehdhibeddbfcbhfbcichaadihidceaccadddcbbcaheigggffafifghghdffaehfbabdaihheebiicfeideggbgcgdgeabbbbefhifghbfcffgggefcdhecaieigihafdfcgfdbgceagdgahhb';
  const moves = Array.from({ length: enc.length / 2 }, (_, i) => (enc[2 * i] === '.' ? null : { row: enc.charCodeAt(2 * i + 1) - 97, col: enc.charCodeAt(2 * i) - 97 }));
  const game = GoGame.fromMoves(moves);
  const filled = await modelMove(ctx, model, game, { tries: 5, passAt: 1, eyeFills: true });
  t.deepEqual([filled.ok, filled.gtp, filled.tries], [true, 'F7', 5]);
  t.true(game.isOwnEye(filled.move!));
  const refused = await modelMove(ctx, model, game, { tries: 5, passAt: 1 });
  t.false(refused.ok);
  t.is(refused.reasons.length, 5);
  t.is(refused.reasons[4], 'try 5: F7 fills its own eye');
  t.false(refused.reasons.slice(0, 4).some((r) => /own eye/.test(r)), refused.reasons.join('; '));
});

test('modelMove retryOver action: try k takes the k-th likeliest LDM action code; a layout without one is refused', async (t) => {
  const { ctx, model, modelMove, GoGame } = await goKit();
  const game = new GoGame();
  game.play({ row: 2, col: 2 });
  await t.throwsAsync(() => modelMove(ctx, model, game, { retryOver: 'action' }), { message: /retryOver 'action' needs a layout with one LDM action token \(this one has 0\)/ });
  const [{ VideoWorldGo, randomWeights }, { PRESETS }, { boardImage }, { normalizeImage }] = await Promise.all([
    import('../../src/models/videoworld/videoworld.js'),
    import('../../src/models/videoworld/presets.js'),
    import('../../src/models/videoworld/go-player.js'),
    import('../../src/go/index.js'),
  ]);
  const ldm = new VideoWorldGo(PRESETS.micro);
  await ldm.load(ctx, randomWeights(ldm, 'retry-over-test'));
  const firsts: number[] = [];
  await modelMove(ctx, ldm, game, { tries: 3, passAt: 1, retryOver: 'action', onTry: (x) => firsts.push(x.tokens[0]!) });
  t.true(firsts.length >= 2, `random weights fail the first try (tries: ${firsts.length})`);
  const S = PRESETS.micro.imageSize;
  for (let k = 0; k < firsts.length; k++) {
    const image = ctx.fromArray(normalizeImage(boardImage(PRESETS.micro, game.board()), 'render'), [1, 3, S, S]);
    const r = await ldm.move(ctx, image, { toPlay: 'w', actionRank: k });
    image.dispose();
    r.nextImage.dispose();
    t.is(firsts[k], r.tokens[0], `try ${k + 1} took the action code of rank ${k}`);
  }
});

test('a layout with a pass action ranks only the other codes and reads the pass code\'s probability as the unchanged board\'s', async (t) => {
  const ctx = await gpu();
  const [{ VideoWorldGo, randomWeights }, { PRESETS, MICRO_TOKENS, microLayout }, { boardImage }, { normalizeImage }, { GoGame }] = await Promise.all([
    import('../../src/models/videoworld/videoworld.js'),
    import('../../src/models/videoworld/presets.js'),
    import('../../src/models/videoworld/go-player.js'),
    import('../../src/go/index.js'),
    import('../../src/go/engine.js'),
  ]);
  const game = new GoGame();
  game.play({ row: 2, col: 2 });
  const S = PRESETS.micro.imageSize;
  const image = ctx.fromArray(normalizeImage(boardImage(PRESETS.micro, game.board()), 'render'), [1, 3, S, S]);
  const plain = new VideoWorldGo(PRESETS.micro);
  await plain.load(ctx, randomWeights(plain, 'pass-action-test'));
  // The stand-in weights' likeliest code made the pass code: it must then be skipped.
  const top = await plain.move(ctx, image, { toPlay: 'w', actionRank: 0 });
  const second = await plain.move(ctx, image, { toPlay: 'w', actionRank: 1 });
  const withPass = new VideoWorldGo(PRESETS.micro, PRESETS.micro.transformer, microLayout({ layout: 'ldm', ldm_pass_code: String(top.tokens[0]! - MICRO_TOKENS.actionOffset) }));
  await withPass.load(ctx, randomWeights(withPass, 'pass-action-test'));
  const r = await withPass.move(ctx, image, { toPlay: 'w', actionRank: 0 });
  t.is(r.tokens[0], second.tokens[0], 'rank 0 skips the pass code');
  t.is(r.unchangedProbability, top.actionProbability, "the unchanged board's probability is the pass code's");
  await t.throwsAsync(() => withPass.move(ctx, image, { toPlay: 'w', actionRank: 80 }), { message: /actionRank 80: an integer in \[0, 80\)/ });
  for (const m of [top, second, r]) m.nextImage.dispose();
  image.dispose();
});

test('microLayout reads a micro file\'s layout and pass code from its metadata', async (t) => {
  const { MICRO_TOKENS, microLayout } = await import('../../src/models/videoworld/presets.js');
  t.is(microLayout({ layout: 'no-ldm' }).actionTokens, 0);
  t.deepEqual(microLayout({ layout: 'ldm' }), MICRO_TOKENS);
  t.is(microLayout({ layout: 'ldm', ldm_pass_code: '61' }).passAction, MICRO_TOKENS.actionOffset + 61);
  t.throws(() => microLayout({ layout: 'ldm', ldm_pass_code: '81' }), { message: "micro weights: metadata ldm_pass_code '81' is not a code in [0, 81)" });
});

test('a with-LDM micro file trained on other LDM levels is refused by name, before its weights load', async (t) => {
  const [{ loadGoModel }, { serializeSafetensors }, { MICRO_WEIGHTS_FORMAT, PRESETS }, { mkdtempSync, writeFileSync }, { tmpdir }] = await Promise.all([
    import('../../src/apps/go-model.js'),
    import('../../src/io/safetensors.js'),
    import('../../src/models/videoworld/presets.js'),
    import('node:fs'),
    import('node:os'),
  ]);
  const ctx = await gpu();
  const dir = mkdtempSync(join(tmpdir(), 'vw-ldm-levels-'));
  const file = (name: string, meta: Record<string, string>) => {
    const f = join(dir, name);
    writeFileSync(f, serializeSafetensors({}, { format: MICRO_WEIGHTS_FORMAT, preset: 'micro', ...meta }));
    return f;
  };
  const want = JSON.stringify(PRESETS.micro.ldm.levels);
  const old = await t.throwsAsync(() => loadGoModel(ctx, { weights: [file('old.safetensors', { layout: 'ldm' })], warm: false }));
  t.true(old!.message.includes(`trained on LDM codes of levels [8,5,5]; this version's micro LDM has ${want}: retrain`), old!.message);
  await t.throwsAsync(() => loadGoModel(ctx, { weights: [file('other.safetensors', { layout: 'ldm', ldm_levels: '[7,7]' })], warm: false }), { message: /levels \[7,7\]/ });
  // The recorded levels pass the check (the empty file then fails on its missing weights).
  const e = await t.throwsAsync(() => loadGoModel(ctx, { weights: [file('same.safetensors', { layout: 'ldm', ldm_levels: want })], warm: false }));
  t.notRegex(e!.message, /LDM codes of levels/);
});

test('the micro model with f16 weights (matmuls, convs, embedding) (--dtype f16) plays the same move with the same pass probability', async (t) => {
  const { ctx, loadGoModel, modelMove, GoGame } = await goKit();
  const game = new GoGame();
  for (const m of [{ row: 2, col: 2 }, { row: 6, col: 6 }, { row: 4, col: 4 }]) game.play(m);
  const moves: { gtp: string | null; p: number }[] = [];
  for (const dtype of ['f32', 'f16'] as const) {
    const loaded = await loadGoModel(ctx, { dtype });
    t.is(loaded.model.transformer.weightDtype, dtype);
    if (dtype === 'f16') t.regex(loaded.weightsLabel, /weights stored as f16/);
    const r = await modelMove(ctx, loaded.model, game, { passAt: 1 });
    moves.push({ gtp: r.gtp, p: r.unchangedProbability! });
    loaded.model.dispose();
  }
  t.is(moves[1]!.gtp, moves[0]!.gtp);
  // The shipped weights are f16 values already, so f16 storage rounds nothing: the same products in
  // the same order (WGSL may fuse differently across pipelines: within a few ulps).
  t.true(Math.abs(moves[1]!.p - moves[0]!.p) < 1e-5, JSON.stringify(moves));
  const bad = await cli(['eval-go', '--dtype', 'bf16']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--dtype must be f32 or f16, got 'bf16'/);
});
