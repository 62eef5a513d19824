// Trains the micro VideoWorld Go model from scratch on this machine, the way the paper trains its Go
// model: from videos of games (board frames only, no move labels), in three stages.
//
//   npm run train:go-micro                         # everything, then ships weights/go-micro.safetensors
//   npm run train:go-micro -- --out /tmp/gm        # resumable: rerun the same command after a stop
//   npm run train:go-micro -- --ldm                # with the LDM's latent-action tokens (its codes
//                                                  # name the move's point to about one intersection,
//                                                  # see the README)
//   npm run train:go-micro -- --ldm --ldm-batch 4 --ldm-steps 2400 --ldm-probe-every 200 --ldm-code-norm running
//                                                  # the ldm stage's own batch size and probe interval;
//                                                  # FSQ inputs standardised by statistics of 256 fresh
//                                                  # clips every 10 steps, not by each batch's
//   npm run train:go-micro -- --ldm --ldm-lr 5e-4      # the ldm stage's peak learning rate (default 2e-3)
//
// The default skips the ldm and actions stages: that is the paper's "without latent actions" ablation,
// shipped as the default model until a with-LDM model is measured to play at least as well and its
// pipeline fits the 60-minute budget (it does not yet: README).
//
// Stages (each resumes from its checkpoint in --out, finished stages are skipped):
//   games        reference-player games (MCTS, --playouts per move): --games of self-play and
//                --random-games against a uniformly random player (only the reference player's
//                moves become transitions), made by --game-workers child processes (default: one
//                per core) alongside the tokenizer stage; the held-out games are never trained on
//   tokenizer    FSQ VQ-GAN on 20x20 grid images of random positions (reconstruction MSE)
//   tokens       every training position (x --symmetries) -> 25 board tokens (by a table of patch codes)
//   ldm          Latent Dynamics Model on (board, next board) frame pairs -> one latent action code
//   actions      the LDM code of every transition the transformer stage will draw (its draws replayed)
//   transformer  InternLM on <board> <side to move> <action code> <next board> sequences
// Then the shipped files: f16 safetensors with the config and the measured times in the metadata.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GameRecord } from '../src/go/games.js';
import { tokenizerBoardAccuracy } from '../src/apps/go-eval.js';
import type { GpuContext, Tensor } from '../kernels/index.js';
import type { Module } from '../src/graph/module.js';
import { concatOp, crossEntropy, mse, mulOp, reshape, sliceOp } from '../src/graph/ops.js';
import { SeededRng } from '../src/graph/rng.js';
import { noGrad } from '../src/graph/autograd.js';
import { randomInitSource } from '../src/graph/weights.js';
import { parseSafetensors, serializeSafetensors, toHalves, type TensorRecord } from '../src/io/safetensors.js';
import { InternLM } from '../src/models/videoworld/internlm.js';
import { LatentDynamicsModel, codeNormStats } from '../src/models/videoworld/ldm.js';
import { type GoTokenLayout, MICRO_WEIGHTS_FORMAT, PRESETS } from '../src/models/videoworld/presets.js';
import { ImageTokenizer } from '../src/models/videoworld/tokenizer.js';
import { createNodeContext } from '../src/node.js';
import { restoreCheckpoint } from '../src/train/checkpoint.js';
import { randomPosition } from '../src/train/go-data.js';
import { BoardTokenTable, type Transition, moveSequence, moverStones, promptLength, sequenceTargets, transformPoint, transformStones, writeBoardImage } from '../src/train/go-micro.js';
import { lossCurveSvg, trainLoop } from '../src/train/loop.js';
import { AdamW, warmupCosine } from '../src/train/optim.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: o } = parseArgs({
  options: {
    out: { type: 'string', default: join(here, '..', 'runs', 'go-micro') },
    ship: { type: 'string', default: join(here, '..', 'weights') },
    seed: { type: 'string', default: '1' },
    games: { type: 'string', default: '400' },
    'random-games': { type: 'string', default: '400' },
    'eval-games': { type: 'string', default: '40' },
    playouts: { type: 'string', default: '300' },
    'game-workers': { type: 'string', default: String(availableParallelism()) },
    part: { type: 'string' },
    symmetries: { type: 'string', default: '8' },
    batch: { type: 'string', default: '16' },
    'tokenizer-steps': { type: 'string', default: '600' },
    'ldm-steps': { type: 'string', default: '600' },
    'ldm-batch': { type: 'string' },
    'ldm-probe-every': { type: 'string', default: '50' },
    'ldm-lr': { type: 'string', default: '2e-3' },
    'ldm-code-norm': { type: 'string', default: 'batch' },
    'transformer-steps': { type: 'string', default: '3000' },
    ldm: { type: 'boolean', default: false },
    stage: { type: 'string', default: 'all' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (o.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}
const num = (k: keyof typeof o, min = 1) => {
  const v = Number(o[k]);
  if (!Number.isInteger(v) || v < min) throw new Error(`train-go-micro: --${k} must be an integer >= ${min}, got ${String(o[k])}`);
  return v;
};
const seed = num('seed', 0);
const batch = num('batch');
const syms = num('symmetries');
if (syms > 8) throw new Error(`train-go-micro: --symmetries is at most 8 (the board's symmetries), got ${syms}`);
const preset = PRESETS.micro;
const pp = preset.image.kind === 'grid' ? preset.image.pointPixels : 0;
const S = preset.imageSize;
const noLdm = !o.ldm;
const layout: GoTokenLayout = noLdm ? { ...preset.tokens, actionTokens: 0 } : preset.tokens;
const out = o.out!;
mkdirSync(out, { recursive: true });
const file = (name: string) => join(out, name);
const t00 = performance.now();
const log = (s: string) => console.error(`[${((performance.now() - t00) / 1000).toFixed(0).padStart(5)} s] ${s}`);

/** Stage bookkeeping: <stage>.done.json holds what the stage measured (resumed runs keep it). */
function done(stage: string): Record<string, unknown> | null {
  return existsSync(file(`${stage}.done.json`)) ? (JSON.parse(readFileSync(file(`${stage}.done.json`), 'utf8')) as Record<string, unknown>) : null;
}
/** An int32 file's values (a small file's Buffer is a view into Node's shared pool: copy its own bytes). */
function readInt32(path: string): Int32Array {
  const b = readFileSync(path);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
/** A kill mid-write leaves the previous file whole (rename is atomic on one filesystem). */
function writeAtomic(path: string, bytes: Uint8Array): void {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}
function finish(stage: string, info: Record<string, unknown>): void {
  writeFileSync(file(`${stage}.done.json`), `${JSON.stringify(info, null, 1)}\n`);
  log(`${stage}: done ${JSON.stringify(info)}`);
}

// ---- games (also the child processes' whole job) ----
const nGames = num('games');
const nRandomGames = num('random-games', 0);
const nEval = num('eval-games');
const gameSeed = (split: 'train' | 'eval' | 'random') => seed * 1000 + { train: 1, eval: 2, random: 3 }[split];
function gamesFile(): { train: GameRecord[]; eval: GameRecord[] } {
  return JSON.parse(readFileSync(file('games.json'), 'utf8')) as { train: GameRecord[]; eval: GameRecord[] };
}
if (!['all', 'games', 'tokenizer'].includes(o.stage!)) throw new Error(`train-go-micro: --stage must be all, games or tokenizer (the others resume inside 'all'), got ${o.stage}`);
// Loaded on use: the tokenizer stage does not need the Go engine.
const goGames = () => import('../src/go/games.js');
// The games are independent (each seeded by its index), so --game-workers child processes each make
// every n-th game of each split (`--stage games --part k`) and the parent merges them in order: the
// same games.json as one process, on every core (one process left a core idle once the tokenizer
// stage was done).
const workers = num('game-workers');
const partFile = (k: number) => file(`games.part-${k}-of-${workers}.json`);
type GameSplits = { train: GameRecord[]; random: GameRecord[]; eval: GameRecord[] };
if (o.stage === 'games' && o.part !== undefined) {
  const k = Number(o.part);
  if (!Number.isInteger(k) || k < 0 || k >= workers) throw new Error(`train-go-micro: --part must be an integer in [0, ${workers}), got ${o.part}`);
  const { generateGames } = await goGames();
  const t0 = performance.now();
  const make = (split: keyof GameSplits, count: number) => {
    const mine = Math.ceil((count - k) / workers);
    let n = 0;
    return generateGames({
      count,
      seed: gameSeed(split),
      playouts: num('playouts'),
      vsRandom: split === 'random',
      part: { index: k, of: workers },
      onGame: () => {
        if (++n % 10 === 0 || n === mine) log(`games part ${k + 1}/${workers} (${split}): ${n}/${mine}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      },
    });
  };
  const part: GameSplits = { train: make('train', nGames), random: make('random', nRandomGames), eval: make('eval', nEval) };
  writeAtomic(partFile(k), new TextEncoder().encode(JSON.stringify(part)));
  process.exit(0);
}

/** Makes games.json with --game-workers child processes (parts already on disk are kept). */
async function runGames(): Promise<void> {
  if (done('games')) return;
  const t0 = performance.now();
  const child = (k: number) =>
    new Promise<void>((resolve, reject) => {
      const args = [...process.execArgv, fileURLToPath(import.meta.url), '--stage', 'games', '--part', String(k), '--game-workers', String(workers), '--out', out, '--seed', String(seed), '--games', String(nGames), '--random-games', String(nRandomGames), '--eval-games', String(nEval), '--playouts', o.playouts!];
      const c = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      c.on('error', reject);
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`train-go-micro: games process ${k + 1}/${workers} exited with ${code}`))));
    });
  const ks = Array.from({ length: workers }, (_, k) => k);
  await Promise.all(ks.filter((k) => !existsSync(partFile(k))).map(child));
  const { mergeGameParts } = await goGames();
  const parts = ks.map((k) => JSON.parse(readFileSync(partFile(k), 'utf8')) as GameSplits);
  const merge = (split: keyof GameSplits) => mergeGameParts(parts.map((p) => p[split]));
  const games = { train: [...merge('train'), ...merge('random')], eval: merge('eval') };
  writeAtomic(file('games.json'), new TextEncoder().encode(JSON.stringify(games)));
  finish('games', { train: nGames, random: nRandomGames, eval: nEval, playouts: num('playouts'), workers, moves: games.train.reduce((a, g) => a + g.moves.length, 0), seconds: Math.round((performance.now() - t0) / 1000) });
  ks.forEach((k) => rmSync(partFile(k)));
}
if (o.stage === 'games') {
  await runGames();
  process.exit(0);
}

// ---- shared training plumbing ----
/** The seed of a stage's data order (train() seeds its loop with it). */
const loopSeed = (stage: string) => seed + 17 * stage.length;
async function train(ctx: GpuContext, stage: string, model: Module, steps: number, lr: number, batchOf: (rng: SeededRng) => unknown, loss: (b: never) => ReturnType<typeof mse>, init?: () => Promise<void>, probe?: { every: number; run: (step: number) => Promise<void> }): Promise<{ losses: number[]; seconds: number }> {
  const ckpt = file(`${stage}.ckpt.safetensors`);
  await model.load(ctx, randomInitSource(model.namedParams(), seed + stage.length));
  await init?.();
  const opt = new AdamW((model as Module & { parameters(): never }).parameters(), { lr, weightDecay: 0 });
  const resume = existsSync(ckpt) ? restoreCheckpoint(parseSafetensors(new Uint8Array(readFileSync(ckpt)), ckpt), model, opt) : undefined;
  if (resume) log(`${stage}: resuming at step ${resume.step}/${steps}`);
  const prevSeconds = Number(resume?.extra?.seconds ?? 0);
  const t0 = performance.now();
  const r = await trainLoop({
    ctx,
    model,
    optimizer: opt,
    steps,
    seed: loopSeed(stage),
    resume,
    batch: (_s, _m, rng) => batchOf(rng),
    loss: loss as (b: unknown) => ReturnType<typeof mse>,
    schedule: warmupCosine({ lr, warmupSteps: Math.min(50, steps / 10), totalSteps: steps, minLr: lr / 20 }),
    clip: 1,
    logEvery: 25,
    log: (l) => log(`${stage}: ${l}`),
    evalEvery: probe?.every,
    onEval: probe?.run,
    checkpoint: {
      every: 100,
      save: (bytes) => {
        writeAtomic(ckpt, bytes);
      },
    },
  });
  opt.dispose();
  const seconds = prevSeconds + (performance.now() - t0) / 1000;
  writeFileSync(file(`${stage}-loss.svg`), lossCurveSvg(r.losses, `${stage} loss (${r.losses.length} steps)`));
  return { losses: r.losses, seconds };
}

/**
 * How much of the move LDM codes carry: codes used, and the share of transitions whose (colour,
 * move) key is the majority one of their code (1.0 = each code names one move); `chance` is the
 * purity of the same codes shuffled over the transitions (seeded): what codes that carry nothing
 * of the move score with this many codes this often used.
 */
function codeStats(keys: readonly string[], codes: ArrayLike<number>): { used: number; purity: number; chance: number } {
  const purity = (codeOf: (i: number) => number) => {
    const byCode = new Map<number, Map<string, number>>();
    keys.forEach((key, i) => {
      const m = byCode.get(codeOf(i)) ?? new Map<string, number>();
      m.set(key, (m.get(key) ?? 0) + 1);
      byCode.set(codeOf(i), m);
    });
    let majority = 0;
    for (const m of byCode.values()) majority += Math.max(...m.values());
    return { used: byCode.size, purity: majority / keys.length };
  };
  const order = Array.from({ length: keys.length }, (_, i) => i);
  const rng = new SeededRng(12345);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return { ...purity((i) => codes[i]!), chance: purity((i) => codes[order[i]!]!).purity };
}

async function f16Records(m: Module, prefix = ''): Promise<Record<string, TensorRecord>> {
  const recs: Record<string, TensorRecord> = {};
  for (const p of m.namedParams()) {
    if (!p.tensor) continue;
    const f = (await p.tensor.read()) as Float32Array;
    recs[prefix + p.key] = { dtype: 'F16', shape: [...p.shape], data: toHalves(f) };
  }
  return recs;
}

// ---- the pipeline ----
const gamesDone = o.stage === 'tokenizer' ? Promise.resolve() : runGames();
const ctx = await createNodeContext();
log(`adapter: ${ctx.adapterInfo}; out ${out}`);
try {
  // Tokenizer: random positions (every local pattern, captures included), rendered on the fly; up to
  // 160 random moves, as dense as late game positions (at 90 the tokenizer read 97% of them back).
  const RANDOM_MOVES = 160;
  const tok = new ImageTokenizer(preset.tokenizer).train();
  const tokSteps = num('tokenizer-steps');
  const per = 3 * S * S;
  const randomBoards = (rng: SeededRng, n: number) => {
    const x = new Float32Array(n * per);
    for (let i = 0; i < n; i++) writeBoardImage(transformStones(randomPosition(rng, rng.int(RANDOM_MOVES)), rng.int(8)), pp, x, i * per);
    return x;
  };
  if (!done('tokenizer')) {
    // project_in starts 10x the default scale: at 1/sqrt(dim) every token of a fresh encoder rounds to
    // the same FSQ code, the decoder sees a constant map and its GroupNorms blow the gradient up (1e29).
    const init = async () => {
      const w = tok.projectIn.weight.t;
      w.write((await w.read()).map((v) => v * 10));
    };
    const r = await train(ctx, 'tokenizer', tok, tokSteps, 3e-3, (rng) => ctx.fromArray(randomBoards(rng, batch), [batch, 3, S, S]), (x) => mse(tok.reconstruct(x).recon, x), init);
    // Board accuracy on fresh random positions (eval-go measures it on positions of its games).
    const rng = new SeededRng(seed + 99);
    const acc = await tokenizerBoardAccuracy(ctx, tok, preset, Array.from({ length: 256 }, () => randomPosition(rng, rng.int(RANDOM_MOVES))));
    finish('tokenizer', { steps: tokSteps, final_mse: r.losses.at(-1), board_accuracy: acc.accuracy, seconds: Math.round(r.seconds) });
  } else {
    await tok.load(ctx, randomInitSource(tok.namedParams(), 0));
    restoreCheckpoint(parseSafetensors(new Uint8Array(readFileSync(file('tokenizer.ckpt.safetensors')))), tok, new AdamW(tok.parameters(), { lr: 0 }));
  }

  if (o.stage === 'tokenizer') process.exit(0);
  log('waiting for the games processes');
  await gamesDone;
  const games = gamesFile().train;
  const { gameStates } = await goGames();
  // Positions: per game its states; index = stateBase[g] + t.
  const states = games.map((g) => gameStates(g));
  const stateBase: number[] = [];
  let nStates = 0;
  for (const s of states) {
    stateBase.push(nStates);
    nStates += s.length;
  }
  const transitions: { g: number; t: number }[] = [];
  // The random player's moves are positions to answer, not moves to learn.
  games.forEach((g, gi) => g.moves.forEach((_, t) => g.random !== (t % 2 === 0 ? 'b' : 'w') && transitions.push({ g: gi, t })));
  const transition = (k: number, sym: number): Transition => {
    const { g, t } = transitions[k]!;
    const m = games[g]!.moves[t]!;
    return { before: states[g]![t]!, after: states[g]![t + 1]!, mover: t % 2 === 0 ? 'b' : 'w', move: m && transformPoint(m, sym) };
  };
  const moveKey = (k: number, sym: number) => {
    const tr = transition(k, sym);
    return `${tr.mover}:${tr.move ? `${tr.move.row},${tr.move.col}` : 'pass'}`;
  };
  log(`${games.length} training games, ${nStates} positions, ${transitions.length} transitions, x${syms} symmetries`);
  // A random (transition, symmetry): the transformer stage's draw of one sequence (the actions
  // stage replays them), the LDM's batches and probes.
  const drawTransition = (rng: SeededRng) => {
    const k = rng.int(transitions.length);
    return { k, sym: rng.int(syms) };
  };
  // (transition, symmetry) of index sym * transitions + k, as actions.bin holds them.
  const pairOf = (j: number) => ({ k: j % transitions.length, sym: Math.floor(j / transitions.length) });
  const trStage = noLdm ? 'transformer-noldm' : 'transformer';
  const trSteps = num('transformer-steps');

  // Board tokens of every position under every used symmetry: Int32 [syms][nStates][n], looked up in
  // a table of every patch pattern (the patch encoder's tokens depend on their own patch alone),
  // checked against the encoder itself on a sample of positions.
  const n = (S / 4) ** 2;
  if (!done('tokens')) {
    const t0 = performance.now();
    const encode = async (x: Float32Array, m: number) => {
      const out = new Int32Array(m * n);
      for (let i = 0; i < m; i += 64) {
        const b = Math.min(64, m - i);
        const t = ctx.scope(() => tok.encode(ctx.fromArray(x.subarray(i * per, (i + b) * per), [b, 3, S, S])).indices);
        out.set(await t.read(), i * n);
        t.dispose();
      }
      return out;
    };
    const table = await BoardTokenTable.build(encode, S, pp, 4);
    const flat = states.flat();
    const tokens = new Int32Array(syms * nStates * n);
    for (let sym = 0; sym < syms; sym++) for (let i = 0; i < nStates; i++) tokens.set(table.tokens(transformStones(flat[i]!, sym)), (sym * nStates + i) * n);
    const rng = new SeededRng(seed + 7);
    const sample = Array.from({ length: 256 }, () => ({ i: rng.int(nStates), sym: rng.int(syms) }));
    const x = new Float32Array(sample.length * per);
    sample.forEach(({ i, sym }, j) => writeBoardImage(transformStones(flat[i]!, sym), pp, x, j * per));
    const direct = await encode(x, sample.length);
    sample.forEach(({ i, sym }, j) => {
      const want = direct.subarray(j * n, (j + 1) * n);
      const got = tokens.subarray((sym * nStates + i) * n, (sym * nStates + i + 1) * n);
      if (got.some((v, k) => v !== want[k])) throw new Error(`train-go-micro: the token table disagrees with the encoder on position ${i} (symmetry ${sym}): ${got.join(',')} vs ${want.join(',')}`);
    });
    writeFileSync(file('tokens.bin'), tokens);
    finish('tokens', { positions: nStates, symmetries: syms, checked: sample.length, seconds: Math.round((performance.now() - t0) / 1000) });
  }
  const tokens = readInt32(file('tokens.bin'));
  const boardTokens = (g: number, t: number, sym: number) => tokens.subarray((sym * nStates + stateBase[g]! + t) * n, (sym * nStates + stateBase[g]! + t + 1) * n);

  // LDM: frame pairs, the mover drawn as Black (moverStones) -> one latent action code. The loss
  // weighs the changed pixels up: a move is a few pixels of a 20x20 frame pair, and with weight 4
  // the decoder rebuilt the rest from the first frame and ignored the code (4 codes used).
  const CHANGE_WEIGHT = 10;
  let actions: Int32Array | null = null;
  let passCode = -1;
  if (!noLdm) {
    const ldm = new LatentDynamicsModel(preset.ldm).train();
    const clips = (ks: { k: number; sym: number }[]) => {
      const x = new Float32Array(ks.length * 2 * per);
      const w = new Float32Array(ks.length * 2 * per);
      ks.forEach(({ k, sym }, i) => {
        const tr = transition(k, sym);
        writeBoardImage(moverStones(transformStones(tr.before, sym), tr.mover), pp, x, i * 2 * per, 2, 0);
        writeBoardImage(moverStones(transformStones(tr.after, sym), tr.mover), pp, x, i * 2 * per, 2, 1);
      });
      const hw = S * S;
      for (let i = 0; i < ks.length; i++) {
        for (let c = 0; c < 3; c++) {
          const base = i * 2 * per + c * 2 * hw;
          for (let p = 0; p < hw; p++) {
            const changed = x[base + p] !== x[base + hw + p] ? CHANGE_WEIGHT : 1;
            w[base + p] = changed;
            w[base + hw + p] = changed;
          }
        }
      }
      return { x, w, B: ks.length };
    };
    const ldmSteps = num('ldm-steps');
    // Localising a move is update-starved (README): smaller LDM batches buy more updates a second.
    const ldmBatch = o['ldm-batch'] === undefined ? batch : num('ldm-batch');
    const probeEvery = num('ldm-probe-every');
    const ldmLr = Number(o['ldm-lr']);
    if (!(ldmLr > 0 && ldmLr < 1)) throw new Error(`train-go-micro: --ldm-lr must be a learning rate in (0, 1), got ${o['ldm-lr']}`);
    if (!['batch', 'running'].includes(o['ldm-code-norm']!)) throw new Error(`train-go-micro: --ldm-code-norm must be batch or running, got ${o['ldm-code-norm']}`);
    const running = o['ldm-code-norm'] === 'running';
    if (running && probeEvery % 10 !== 0) throw new Error(`train-go-micro: with --ldm-code-norm running, --ldm-probe-every must be a multiple of 10 (the statistics' refresh), got ${probeEvery}`);
    // How much of the move the codes carry, on a fixed probe of transitions (codeStats: codes used,
    // purity, and the purity of the same codes shuffled).
    const probe = (() => {
      const rng = new SeededRng(seed + 7);
      return Array.from({ length: 1024 }, () => drawTransition(rng));
    })();
    // f's output for every clip of ks, 64 clips a batch, read back in order.
    const overClips = async (ks: { k: number; sym: number }[], f: (x: Tensor) => Tensor) => {
      const out: number[] = [];
      for (let i = 0; i < ks.length; i += 64) {
        const c = clips(ks.slice(i, i + 64));
        const t = noGrad(ctx, () => ctx.scope(() => f(ctx.fromArray(c.x, [c.B, 3, 2, S, S]))));
        out.push(...(await t.read()));
        t.dispose();
      }
      return out;
    };
    // codeStats of the probe's codes against the (colour, move) key, and against colour and point alone.
    let codeNorm: { mean: number[]; variance: number[] } | null = null;
    const statsRng = new SeededRng(seed + 11);
    const refreshCodeNorm = async () => {
      codeNorm = await projectInStats(Array.from({ length: 256 }, () => drawTransition(statsRng)));
    };
    // How training standardises FSQ's inputs (the probes use the same).
    const trainNorm = () => (running ? { codeNorm: codeNorm! } : { batchNormCodes: true });
    const probeCodes = async (asTrained: boolean) => {
      const codes = await overClips(probe, (x) => ldm.encode(x, asTrained ? trainNorm() : {}).indices);
      const keys = probe.map(({ k, sym }) => moveKey(k, sym));
      return { ...codeStats(keys, codes), colour: codeStats(keys.map((k) => k.split(':')[0]!), codes), point: codeStats(keys.map((k) => k.split(':')[1]!), codes) };
    };
    // The weighted reconstruction loss of the training step (w: the changed pixels' weights, target: x * w).
    const reconLoss = (codes: Tensor, preEncodeOut: Tensor, w: Tensor, target: Tensor) => mse(mulOp(ldm.decode(codes, preEncodeOut), w), target);
    // Whether the decoder reads the code: the weighted loss over the first 64 probe clips with each
    // clip's own code and with the code of the next clip (equal when the code carries nothing).
    const codeReliance = async () => {
      const c = clips(probe.slice(0, 64));
      const shape = [c.B, 3, 2, S, S];
      const target = ctx.fromArray(c.x.map((v, i) => v * c.w[i]!), shape);
      const w = ctx.fromArray(c.w, shape);
      const [own, other] = noGrad(ctx, () =>
        ctx.scope(() => {
          const e = ldm.encode(ctx.fromArray(c.x, shape), trainNorm());
          const next = concatOp([sliceOp(e.codes, 0, 1, c.B), sliceOp(e.codes, 0, 0, 1)], 0);
          return [reconLoss(e.codes, e.preEncodeOut, w, target), reconLoss(next, e.preEncodeOut, w, target)];
        }),
      );
      const r = { own: (await own!.read())[0]!, other: (await other!.read())[0]! };
      for (const t of [own!, other!, target, w]) t.dispose();
      return r;
    };
    // FSQ's inputs are standardised while training, over each batch (encode's batchNormCodes) or by
    // running statistics (codeNorm, 256 fresh clips every 10 steps); after it, their statistics over
    // the probe clips are folded into project_in for the plain path.
    const projectInStats = async (ks: { k: number; sym: number }[]) => {
      const u = await overClips(ks, (x) => ldm.projectIn.forward(reshape(ldm.encode(x).features, [x.shape[0]!, preset.ldm.dim])));
      return codeNormStats(u, preset.ldm.levels.length);
    };
    const foldCodeNorm = async () => {
      const { mean, variance } = await projectInStats(probe);
      await ldm.foldCodeNorm(mean, variance);
      return { mean, variance };
    };
    if (!done('ldm')) {
      // Codes of an earlier LDM must not be resumed into this one's actions.
      for (const f of ['actions.partial.bin', 'actions.bin', 'actions.done.json']) rmSync(file(f), { force: true });
      const r = await train(
        ctx,
        'ldm',
        ldm,
        ldmSteps,
        ldmLr,
        (rng) => clips(Array.from({ length: ldmBatch }, () => drawTransition(rng))),
        (b: { x: Float32Array; w: Float32Array; B: number }) => {
          const shape = [b.B, 3, 2, S, S];
          const x = ctx.fromArray(b.x, shape);
          const w = ctx.fromArray(b.w, shape);
          const e = ldm.encode(x, trainNorm());
          return reconLoss(e.codes, e.preEncodeOut, w, ctx.fromArray(b.x.map((v, i) => v * b.w[i]!), shape));
        },
        running ? refreshCodeNorm : undefined,
        {
          every: running ? 10 : probeEvery,
          run: async (step) => {
            if (running) await refreshCodeNorm();
            if (step % probeEvery !== 0) return;
            const p = await probeCodes(true);
            const r = await codeReliance();
            const vs = (q: { purity: number; chance: number }) => `${q.purity.toFixed(3)} (shuffled codes ${q.chance.toFixed(3)})`;
            log(`ldm: step ${step}: probe of ${probe.length} transitions: ${p.used} codes used, purity ${vs(p)}, of colour ${vs(p.colour)}, of point ${vs(p.point)}; loss ${r.own.toFixed(4)} with each clip's code, ${r.other.toFixed(4)} with another's`);
          },
        },
      );
      const stats = await foldCodeNorm();
      const p = await probeCodes(false);
      finish('ldm', { steps: ldmSteps, final_loss: r.losses.at(-1), probe_codes_used: p.used, probe_purity: p.purity, probe_purity_shuffled: p.chance, code_mean: stats.mean, code_variance: stats.variance, seconds: Math.round(r.seconds) });
    } else {
      await ldm.load(ctx, randomInitSource(ldm.namedParams(), 0));
      restoreCheckpoint(parseSafetensors(new Uint8Array(readFileSync(file('ldm.ckpt.safetensors')))), ldm, new AdamW(ldm.parameters(), { lr: 0 }));
      await foldCodeNorm();
    }
    // Only the transitions the transformer stage draws need a code (at 4500 steps x 16, 64,959 of
    // 339,096): its draws are replayed from its loop seed, and seqOf refuses a transition without one.
    // Codes depend on the LDM alone, so a finished or partial file is topped up when the plan grows.
    const need = new Uint8Array(syms * transitions.length);
    const planRng = new SeededRng(loopSeed(trStage));
    for (let i = 0; i < trSteps * batch; i++) {
      const { k, sym } = drawTransition(planRng);
      need[sym * transitions.length + k] = 1;
    }
    const planned = need.reduce((a, v) => a + v, 0);
    const actsFile = file('actions.bin');
    const partial = file('actions.partial.bin');
    const acts = existsSync(actsFile) ? readInt32(actsFile) : existsSync(partial) ? readInt32(partial) : new Int32Array(syms * transitions.length).fill(-1);
    if (acts.length !== syms * transitions.length) throw new Error(`train-go-micro: ${existsSync(actsFile) ? actsFile : partial} holds ${acts.length} codes, not ${syms * transitions.length} (${syms} symmetries x ${transitions.length} transitions): delete it`);
    const missing = need.reduce<number[]>((a, v, i) => (v && acts[i]! < 0 ? (a.push(i), a) : a), []);
    if (missing.length > 0 || !done('actions')) {
      const t0 = performance.now();
      if (missing.length < planned) log(`actions: ${planned - missing.length} of ${planned} planned codes already computed`);
      const B = 64;
      for (let i = 0; i < missing.length; i += B) {
        const chunk = missing.slice(i, i + B);
        const c = clips(chunk.map(pairOf));
        const t = ctx.scope(() => ldm.encode(ctx.fromArray(c.x, [c.B, 3, 2, S, S])).indices);
        const ids = await t.read();
        t.dispose();
        chunk.forEach((j, m) => (acts[j] = ids[m]!));
        const at = Math.min(i + B, missing.length);
        if (at % (B * 64) === 0 || at === missing.length) {
          writeAtomic(partial, new Uint8Array(acts.buffer));
          log(`actions: ${at}/${missing.length} transitions encoded, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        }
      }
      writeAtomic(actsFile, new Uint8Array(acts.buffer));
      rmSync(partial, { force: true });
      const drawn = need.reduce<number[]>((a, v, i) => (v ? (a.push(i), a) : a), []);
      const st = codeStats(drawn.map(pairOf).map(({ k, sym }) => moveKey(k, sym)), drawn.map((j) => acts[j]!));
      const prev = Number(done('actions')?.seconds ?? 0);
      finish('actions', { planned, codes_used: st.used, code_purity: st.purity, code_purity_shuffled: st.chance, seconds: Math.round(prev + (performance.now() - t0) / 1000) });
    }
    actions = acts;
    // A pass repeats the board: the clip's delta features are exactly zero, so every unchanged
    // board gets one code (checked on the empty board and a game position); the player ranks the
    // other codes as moves and reads this one's probability as its pass (GoTokenLayout.passAction).
    const x = new Float32Array(2 * 2 * per);
    for (const [i, stones] of [[], transformStones(states[0]![Math.min(20, states[0]!.length - 1)]!, 0)].entries()) {
      for (const f of [0, 1]) writeBoardImage(stones, pp, x, i * 2 * per, 2, f);
    }
    const still = ctx.scope(() => ldm.encode(ctx.fromArray(x, [2, 3, 2, S, S])).indices);
    const passIds = await still.read();
    still.dispose();
    if (passIds[0] !== passIds[1]) throw new Error(`train-go-micro: the LDM codes two unchanged boards differently (${passIds[0]}, ${passIds[1]}): a pass has no single code`);
    passCode = passIds[0]!;
    log(`ldm: an unchanged board (a pass) is code ${passCode}`);
    writeFileSync(file('ldm.f16.safetensors'), serializeSafetensors(await f16Records(ldm), { format: 'videoworld-micro-ldm-v1', preset: 'micro' }));
    ldm.dispose();
  }

  // Transformer: one move per sequence; the loss covers what the model must generate.
  const lm = new InternLM(preset.transformer, 'neck.llm').train();
  const prompt = promptLength(layout, n);
  const seqOf = (k: number, sym: number) => {
    const { g, t } = transitions[k]!;
    const code = actions?.[sym * transitions.length + k] ?? -1;
    if (layout.actionTokens && code < 0) throw new Error(`train-go-micro: transition ${k} (symmetry ${sym}) has no LDM code: the actions stage encodes the transformer stage's draws, rerun it with the same --seed, --batch and --transformer-steps`);
    return moveSequence(layout, boardTokens(g, t, sym), layout.actionTokens ? [code] : [], boardTokens(g, t + 1, sym), t % 2 === 0 ? 'b' : 'w');
  };
  if (!done(trStage)) {
    const V = preset.transformer.vocabSize;
    const r = await train(
      ctx,
      trStage,
      lm,
      trSteps,
      2e-3,
      (rng) =>
        Array.from({ length: batch }, () => {
          const { k, sym } = drawTransition(rng);
          return seqOf(k, sym);
        }),
      (seqs: number[][]) => {
        const L = seqs[0]!.length - 1;
        const logits = lm.forward(ctx, seqs.map((q) => q.slice(0, L)));
        return crossEntropy(reshape(logits, [seqs.length * L, V]), Int32Array.from(seqs.flatMap((q) => sequenceTargets(q, prompt, -100))), { ignoreIndex: -100 });
      },
    );
    finish(trStage, { steps: trSteps, final_loss: r.losses.at(-1), seconds: Math.round(r.seconds) });
  } else {
    await lm.load(ctx, randomInitSource(lm.namedParams(), 0));
    restoreCheckpoint(parseSafetensors(new Uint8Array(readFileSync(file(`${trStage}.ckpt.safetensors`)))), lm, new AdamW(lm.parameters(), { lr: 0 }));
  }

  // Ship: tokenizer + transformer in one f16 file (VideoWorldGo's keys), the LDM beside it.
  mkdirSync(o.ship!, { recursive: true });
  const info = Object.fromEntries(['games', 'tokenizer', 'tokens', 'ldm', 'actions', trStage].map((s) => [s, done(s)]));
  const name = noLdm ? 'go-micro' : 'go-micro-with-ldm';
  const meta = {
    format: MICRO_WEIGHTS_FORMAT,
    preset: 'micro',
    layout: noLdm ? 'no-ldm' : 'ldm',
    action_tokens: String(layout.actionTokens),
    ...(noLdm ? {} : { ldm_levels: JSON.stringify(preset.ldm.levels), ldm_pass_code: String(passCode) }),
    seed: String(seed),
    training: JSON.stringify(info),
  };
  writeFileSync(join(o.ship!, `${name}.safetensors`), serializeSafetensors({ ...(await f16Records(tok)), ...(await f16Records(lm)) }, meta));
  if (!noLdm) writeFileSync(join(o.ship!, 'go-micro-ldm.safetensors'), readFileSync(file('ldm.f16.safetensors')));
  const total = Object.values(info).reduce((a, s) => a + Number((s as { seconds?: number } | null)?.seconds ?? 0), 0);
  log(`shipped ${join(o.ship!, `${name}.safetensors`)}; stage seconds ${total} (the games run alongside the tokenizer), wall ${((performance.now() - t00) / 1000).toFixed(0)} s this run`);
  writeFileSync(file(`${name}.report.json`), `${JSON.stringify({ ...info, wall_seconds_this_run: Math.round((performance.now() - t00) / 1000) }, null, 1)}\n`);
} finally {
  await ctx.destroy();
}
