/** The Go commands of the `videoworld` CLI (src/cli.ts): eval-go. */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createNodeContext } from '../node.js';
import { decodeEvalRecords, encodeEvalRecords, evaluateGo, playEvalGames, summarizeEval } from './go-eval.js';
import { loadGoModel } from './go-model.js';
import { UsageError } from './usage-error.js';
import { isWeightDtype } from '../../kernels/index.js';

export const GO_HELP = `  videoworld eval-go [--weights F[,F]] [--preset micro|tiny|go] [--games N] [--positions N]
                     [--seed S] [--opponent random|reference] [--tries N] [--playouts N] [--max-moves N]
                     [--pass-at P] [--no-implied-captures] [--eye-fills] [--retry-over change|action]
                     [--dtype f16|f32] [--log-turns] [--workers N]
      Plays N games (default 100) as Black and White alternately against a uniformly random
      legal player or the reference MCTS player (area scoring, komi 7.5, standard rules; a game
      is scored as it stands after --max-moves moves, default 200) and
      checks the tokenizer on up to --positions (default 500) positions of those games. The model
      passes when its probability of an unchanged board is at least --pass-at (default 0.5). A
      generated board on which only opponent stones vanished reads as the one legal move that
      captures exactly them (counted in implied_captures); --no-implied-captures makes it a failed try.
      A move into the model's own single-point eye is a failed try unless --eye-fills.
      Try k takes the k-th likeliest first change of the board (--retry-over change, default) or,
      for a model trained with LDM action codes, the k-th likeliest action code (action).
      --dtype f16 (default) stores the packed weights as f16 (f32 math); f32 keeps them f32.
      --log-turns adds a line per model turn: its move, tries, P(unchanged) and why each failed
      try failed.
      --workers N (default: one per core) plays the games in N processes, each every N-th game:
      the same games and figures as one process (a game depends on its index alone), each
      process loading the model.
      Progress on stderr; one JSON line last on stdout: {"legal_rate", "win_rate", "games",
      "positions", "tokenizer_board_accuracy", "seconds", ...}. Default weights: the shipped
      micro model (weights/go-micro.safetensors).
`;

function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} needs an integer >= ${min}, got '${v}'`);
  return n;
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export async function evalGoCommand(args: string[]): Promise<number> {
  const v = parse(args, {
    weights: { type: 'string' },
    preset: { type: 'string' },
    games: { type: 'string' },
    positions: { type: 'string' },
    seed: { type: 'string' },
    opponent: { type: 'string' },
    tries: { type: 'string' },
    playouts: { type: 'string' },
    'max-moves': { type: 'string' },
    'pass-at': { type: 'string' },
    'no-implied-captures': { type: 'boolean' },
    'eye-fills': { type: 'boolean' },
    'retry-over': { type: 'string' },
    dtype: { type: 'string' },
    'log-turns': { type: 'boolean' },
    workers: { type: 'string' },
    // Internal: this process is worker k of N (k/N) and prints its games' records, not a verdict.
    part: { type: 'string' },
  });
  const passAt = v['pass-at'] === undefined ? undefined : Number(v['pass-at']);
  if (passAt !== undefined && !(passAt > 0 && passAt <= 1)) throw new UsageError(`--pass-at needs a probability in (0, 1], got '${String(v['pass-at'])}'`);
  const dtype = (v.dtype as string | undefined) ?? 'f16';
  if (!isWeightDtype(dtype)) throw new UsageError(`--dtype must be f32 or f16, got '${dtype}'`);
  const retryOver = (v['retry-over'] as string | undefined) ?? 'change';
  if (retryOver !== 'change' && retryOver !== 'action') throw new UsageError(`--retry-over must be change or action, got '${retryOver}'`);
  const opponent = (v.opponent as string | undefined) ?? 'random';
  if (opponent !== 'random' && opponent !== 'reference') throw new UsageError(`--opponent must be random or reference, got '${opponent}'`);
  const opts = {
    games: int(v.games as string, 'games', 0),
    positions: int(v.positions as string, 'positions', 0),
    seed: int(v.seed as string, 'seed', 0),
    tries: int(v.tries as string, 'tries', 1),
    playouts: int(v.playouts as string, 'playouts', 1),
    maxMoves: int(v['max-moves'] as string, 'max-moves', 1),
    opponent: opponent as 'random' | 'reference',
    passAt,
    inferCaptures: !v['no-implied-captures'],
    eyeFills: Boolean(v['eye-fills']),
    retryOver: retryOver as 'change' | 'action',
    logTurns: Boolean(v['log-turns']),
  };
  const part = v.part === undefined ? undefined : /^(\d+)\/(\d+)$/.exec(v.part as string);
  if (part === null || (part && !(Number(part[1]) < Number(part[2])))) throw new UsageError(`--part must be k/N with 0 <= k < N, got '${String(v.part)}'`);
  const games = opts.games ?? 100;
  const workers = part ? 1 : (int(v.workers as string, 'workers', 1) ?? Math.max(1, Math.min(availableParallelism(), games)));
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const t0 = performance.now();
  // Workers play while this process loads the model for the tokenizer check.
  const played = workers > 1 ? playInWorkers(args, workers) : null;
  played?.catch(() => {});
  const ctx = await createNodeContext();
  try {
    if (!part) log(`adapter: ${ctx.adapterInfo}${workers > 1 ? `; ${workers} worker processes play the games` : ''}`);
    const loaded = await loadGoModel(ctx, { preset: v.preset as string | undefined, weights: (v.weights as string | undefined)?.split(','), dtype });
    if (!part) log(`weights: ${loaded.weightsLabel}`);
    if (part) {
      const recs = await playEvalGames(ctx, loaded.model, { ...opts, log, part: { index: Number(part[1]), of: Number(part[2]) } });
      process.stdout.write(`${encodeEvalRecords(recs)}\n`);
      return 0;
    }
    const r = played ? await summarizeEval(ctx, loaded.model, await played, { ...opts, log }, t0) : await evaluateGo(ctx, loaded.model, { ...opts, log });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  } finally {
    await ctx.destroy();
  }
}

/** The records of every game, from `workers` child processes of this CLI (eval-go --part k/N); one failing stops the rest. */
async function playInWorkers(args: string[], workers: number) {
  const children = Array.from({ length: workers }, (_, k) => spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'eval-go', ...args, '--part', `${k}/${workers}`], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const run = (k: number) =>
    new Promise<string>((resolve, reject) => {
      const child = children[k]!;
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`eval-go: worker ${k + 1}/${workers} exited with ${code}`))));
    });
  try {
    const outs = await Promise.all(children.map((_, k) => run(k)));
    return outs.flatMap((o) => decodeEvalRecords(o.trim().split('\n').at(-1)!));
  } catch (e) {
    for (const c of children) if (c.exitCode === null) c.kill();
    throw e;
  }
}
