/**
 * The Go commands of the `videoworld` CLI that play: `move` (one model move for the position a move
 * list reaches; PNGs and a JSON line out) and `play` (a game against the model in the terminal,
 * saved as SGF, animated GIF and the generated boards). Progress goes to stderr, so stdout stays
 * the JSON line (move) or the game transcript (play).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import gifenc from 'gifenc';
import type { GpuContext, WeightDtype } from '../../kernels/index.js';
import { BOARD_SIZE, type Colour, type Point, gtpName, opponentOf, parseGtp } from '../go/board.js';
import { GoGame, type Rules } from '../go/engine.js';
import { type RasterImage, encodePng } from '../go/png.js';
import { renderBoard } from '../go/render.js';
import { toSgf } from '../go/sgf.js';
import { type ModelMoveResult, type MoveReader, modelMove, resizeImage } from '../models/videoworld/go-player.js';
import { PRESETS } from '../models/videoworld/presets.js';
import { createNodeContext } from '../node.js';
import { type LoadedGoModel, loadGoModel } from './go-model.js';
import { UsageError } from './usage-error.js';

export const GO_PLAY_HELP = `  videoworld move [--moves "D6 E5 ..."] [--preset micro|tiny|go] [--weights F[,F]] [--seed N]
                  [--tries N] [--out DIR] [--reader grid|upstream] [--rules standard|upstream]
                  [--dtype f16|f32]
      One model move for the position the moves reach (Black first; GTP points A1..J9 without I,
      or pass; default: the empty board). Writes input.png (the 256x256 render) and generated.png
      (the model's next board) into --out (default: a new temp dir). Progress on stderr; one JSON
      line last on stdout: {"move": "C4" | null, "tries", "seconds", "png", "input_png",
      "stages_ms", "tokens_per_second", "weights", "reasons" (per failed try)}, with "reason" when
      no legal move came within --tries (default 10); "seconds" is the generation alone, not the
      weight loading. Exit 0 on a move or a clean null, 1 on a bad move list ("move 3 (E5):
      occupied") or missing weights.
  videoworld play [--color black|white] [--preset ...] [--weights ...] [--seed N] [--tries N]
                  [--out DIR] [--rules standard|upstream] [--komi 7.5] [--reader grid|upstream]
      A game against the model in the terminal: type a move (D5), pass, undo, resign or help.
      Two passes or a resignation end it, scored by area with komi. Reads moves line by line from
      stdin when it is not a terminal. Saves game.sgf, game.gif (every position) and each
      generated board as PNG into --out (default: a new temp dir). A model turn with no legal
      move within --tries is a pass.
      --reader grid (default) classifies every intersection of the generated board and diffs the
      positions (a board on which only opponent stones vanished reads as the one legal move that
      captures exactly them; a move into the model's own single-point eye is a failed try);
      upstream is the battle loop's morphology (one new stone). --rules standard
      (default: no suicide, positional superko) or upstream (suicide allowed, no ko).
      --dtype f16 (default) stores the packed weights (linear layers, output projection,
      convolutions, embedding table) as f16: half their GPU memory, f32 math; f32 keeps them f32.
`;

/** Bad user input (a move list, a missing weights file): the message is printed, exit 1. */
export class GoInputError extends Error {}

const RULES_TEXT: Record<Rules, string> = {
  standard: 'standard: area scoring, no suicide, positional superko',
  upstream: "upstream's board: area scoring, suicide allowed, no ko",
};

const COMMON_OPTIONS = {
  preset: { type: 'string' },
  weights: { type: 'string' },
  seed: { type: 'string' },
  tries: { type: 'string' },
  out: { type: 'string' },
  reader: { type: 'string' },
  rules: { type: 'string' },
  dtype: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

interface CommonOptions {
  preset?: string;
  weights?: string[];
  seed: number;
  tries: number;
  out?: string;
  reader: MoveReader;
  rules: Rules;
  dtype: WeightDtype;
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): Record<string, string | undefined> {
  try {
    return parseArgs({ args, options, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function int(v: string | undefined, name: string, min: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} needs an integer >= ${min}, got '${v}'`);
  return n;
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got '${v}'`);
  return v as T;
}

function commonOptions(v: Record<string, string | undefined>): CommonOptions {
  if (v.preset !== undefined && !(v.preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${v.preset}'`);
  return {
    preset: v.preset,
    weights: v.weights?.split(',').filter(Boolean),
    seed: int(v.seed, 'seed', 0, 1),
    tries: int(v.tries, 'tries', 1, 10),
    out: v.out,
    reader: oneOf(v.reader, 'reader', ['grid', 'upstream'], 'grid'),
    rules: oneOf(v.rules, 'rules', ['standard', 'upstream'], 'standard'),
    dtype: oneOf(v.dtype, 'dtype', ['f16', 'f32'], 'f16'),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function why(reason: string, rules: Rules): string {
  if (rules === 'standard' && (reason === 'suicide' || reason === 'superko')) return `${reason} (not allowed under --rules standard; --rules upstream allows it)`;
  return reason;
}

/**
 * Replays a move list ("D6 E5 pass ...", Black first) on a game with `rules`. Throws GoInputError
 * naming the first bad move and why.
 */
export function replayMoveList(text: string, rules: Rules): GoGame {
  const game = new GoGame({ rules });
  text
    .split(/[\s,]+/)
    .filter(Boolean)
    .forEach((name, i) => {
      const tag = `move ${i + 1} (${name})`;
      if (game.isOver()) throw new GoInputError(`${tag}: the game is over (two passes before it)`);
      if (name.toLowerCase() === 'pass') {
        game.play(null);
        return;
      }
      const p = parseGtp(name);
      if (!p) throw new GoInputError(`${tag}: unknown coordinate (columns A-J without I, rows 1-9, or pass)`);
      const reason = game.whyIllegal(p);
      if (reason) throw new GoInputError(`${tag}: ${why(reason, rules)}`);
      game.play(p);
    });
  return game;
}

function outDir(dir: string | undefined, prefix: string): string {
  if (dir === undefined) return mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return resolve(dir);
}

/** Model-resolution boards (20 or 32 px) are too small to look at: nearest-neighbour up to >= 160 px. */
function viewable(img: RasterImage): RasterImage {
  const k = Math.ceil(160 / img.width);
  return k > 1 ? resizeImage(img, img.width * k) : img;
}

/** Weight loading progress: a redrawn line on a terminal, quarters otherwise. */
function loadProgress(): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  let shown = -1;
  return (done, total) => {
    const line = `loading weights: ${done}/${total} tensors`;
    if (tty) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else if (Math.floor((4 * done) / total) > shown) {
      shown = Math.floor((4 * done) / total);
      log(line);
    }
  };
}

async function withModel<T>(o: CommonOptions, fn: (ctx: GpuContext, loaded: LoadedGoModel) => Promise<T>): Promise<T> {
  const ctx = await createNodeContext();
  try {
    log(`adapter: ${ctx.adapterInfo}`);
    const t0 = performance.now();
    let loaded: LoadedGoModel;
    try {
      loaded = await loadGoModel(ctx, { preset: o.preset, weights: o.weights, dtype: o.dtype, onProgress: loadProgress() });
    } catch (e) {
      throw new GoInputError(`cannot load the model: ${(e as Error).message}`);
    }
    for (const n of loaded.notes) log(n);
    log(`weights: ${loaded.weightsLabel} (loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return await fn(ctx, loaded);
  } finally {
    await ctx.destroy();
  }
}

async function inputErrorsExit1(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof GoInputError)) throw e;
    process.stderr.write(`videoworld: ${e.message}\n`);
    return 1;
  }
}

/** One model move with a stderr line per try (tokens, tokens/s, what was read) and one for the stages. */
async function thinkingMove(ctx: GpuContext, loaded: LoadedGoModel, game: GoGame, o: CommonOptions, seed: number): Promise<ModelMoveResult> {
  let first = 0;
  let last = 0;
  let count = 0;
  const r = await modelMove(ctx, loaded.model, game, {
    tries: o.tries,
    seed,
    reader: o.reader,
    onToken: (_id, step) => {
      last = performance.now();
      if (step === 0) [first, count] = [last, 0];
      count++;
    },
    onTry: (t) => {
      const rate = count > 1 && last > first ? ((count - 1) * 1000) / (last - first) : 0;
      log(`  try ${t.attempt + 1}/${o.tries}: ${t.tokens.length} tokens (${rate.toFixed(1)} tokens/s), ${(t.ms / 1000).toFixed(1)} s: ${t.move ? `${t.move}${t.impliedCapture ? ' (a capture shown without its capturing stone)' : ''}` : t.reason}`);
    },
  });
  const s = r.stagesMs;
  log(`  stages: encode ${s.encode.toFixed(0)} ms, prefill ${s.prefill.toFixed(0)} ms, tokens ${s.tokens.toFixed(0)} ms (${s.tokensPerSecond.toFixed(1)} tokens/s), decode ${s.decode.toFixed(0)} ms`);
  return r;
}

function noMoveReason(r: ModelMoveResult): string {
  return `no legal move in ${r.tries} ${r.tries === 1 ? 'try' : 'tries'} (last: ${r.reasons.at(-1)?.replace(/^try \d+: /, '') ?? 'none'})`;
}

export async function moveCommand(args: string[]): Promise<number> {
  const v = parse(args, { ...COMMON_OPTIONS, moves: { type: 'string' } });
  const o = commonOptions(v);
  return inputErrorsExit1(async () => {
    const game = replayMoveList(v.moves ?? '', o.rules);
    if (game.isOver()) throw new GoInputError('the moves end the game (two passes): there is no move to make');
    const out = outDir(o.out, 'videoworld-move-');
    return withModel(o, async (ctx, loaded) => {
      log(`${game.toPlay === 'b' ? 'Black' : 'White'} to play after ${game.moves.length} moves (${o.rules} rules, ${o.reader} reader)`);
      const r = await thinkingMove(ctx, loaded, game, o, o.seed);
      const inputPng = join(out, 'input.png');
      const png = join(out, 'generated.png');
      writeFileSync(inputPng, encodePng(renderBoard(game.board())));
      writeFileSync(png, encodePng(viewable(r.generated)));
      const s = r.stagesMs;
      const ms = (x: number) => Math.round(x * 10) / 10;
      const line = {
        move: r.ok ? r.gtp : null,
        ...(r.ok ? {} : { reason: noMoveReason(r) }),
        tries: r.tries,
        seconds: Math.round(r.seconds * 100) / 100,
        png,
        input_png: inputPng,
        stages_ms: { encode: ms(s.encode), prefill: ms(s.prefill), tokens: ms(s.tokens), decode: ms(s.decode) },
        tokens_per_second: ms(s.tokensPerSecond),
        weights: loaded.weightsLabel,
        reasons: r.reasons,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      return 0;
    });
  });
}

const HOSHI = new Set(['2,2', '2,6', '4,4', '6,2', '6,6']);

/** The board in ASCII: X black, O white, + star points, the last move in parentheses. */
export function boardText(game: GoGame, last?: Point | null): string {
  const n = game.side;
  const letters = [...'ABCDEFGHJKLMNOPQRST'.slice(0, n)];
  const header = `   ${letters.join(' ')}`;
  const lines = [header];
  for (let row = n - 1; row >= 0; row--) {
    const seps = Array<string>(n + 1).fill(' ');
    if (last && last.row === row) [seps[last.col], seps[last.col + 1]] = ['(', ')'];
    let line = `${String(row + 1).padStart(2)}`;
    for (let col = 0; col < n; col++) {
      const c = game.get(row, col);
      line += seps[col] + (c === 'b' ? 'X' : c === 'w' ? 'O' : n === BOARD_SIZE && HOSHI.has(`${row},${col}`) ? '+' : '.');
    }
    lines.push(`${line}${seps[n]}${row + 1}`);
  }
  lines.push(header);
  return lines.join('\n');
}

/** Every position of the game, 256x256 as upstream renders it, about a second each (the last 3 s). */
export function gameGif(moves: readonly (Point | null)[], rules: Rules): Uint8Array {
  const { GIFEncoder, quantize, applyPalette } = gifenc;
  const game = new GoGame({ rules });
  const gif = GIFEncoder();
  const frame = (delay: number) => {
    const img = renderBoard(game.board());
    const rgba = new Uint8Array(img.width * img.height * 4);
    for (let i = 0; i < img.width * img.height; i++) {
      rgba.set(img.data.subarray(3 * i, 3 * i + 3), 4 * i);
      rgba[4 * i + 3] = 255;
    }
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), img.width, img.height, { palette, delay, repeat: 0 });
  };
  frame(moves.length ? 1000 : 3000);
  moves.forEach((m, i) => {
    game.play(m);
    frame(i === moves.length - 1 ? 3000 : 1000);
  });
  gif.finish();
  return gif.bytes();
}

/** Lines from stdin: a readline prompt on a terminal; scripted input is echoed after the prompt. */
function lineReader(): { next(prompt: string): Promise<string | null>; close(): void } {
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty });
  // The iterator buffers lines that arrive while the model thinks (rl.question would drop them).
  const it = rl[Symbol.asyncIterator]();
  return {
    async next(prompt) {
      process.stdout.write(prompt);
      const r = await it.next();
      if (r.done) {
        process.stdout.write('\n');
        return null;
      }
      if (!tty) process.stdout.write(`${r.value}\n`);
      return r.value as string;
    },
    close: () => rl.close(),
  };
}

const PLAY_HELP = `Commands: a point such as D5 (columns A-J without I, rows 1-9), pass, undo (takes back your
last move and the model's reply), resign, help. Two passes in a row end the game.`;

export async function playCommand(args: string[]): Promise<number> {
  const v = parse(args, { ...COMMON_OPTIONS, color: { type: 'string' }, komi: { type: 'string' } });
  const o = commonOptions(v);
  const color = oneOf(v.color, 'color', ['black', 'white', 'b', 'w'], 'black');
  const human: Colour = color.startsWith('b') ? 'b' : 'w';
  const komi = v.komi === undefined ? 7.5 : Number(v.komi);
  if (v.komi !== undefined && (v.komi.trim() === '' || !Number.isFinite(komi))) throw new UsageError(`--komi needs a number, got '${v.komi}'`);
  return inputErrorsExit1(() =>
    withModel(o, async (ctx, loaded) => {
      const out = outDir(o.out, 'videoworld-play-');
      const say = (line = '') => process.stdout.write(`${line}\n`);
      const name = (c: Colour) => `${c === 'b' ? 'Black' : 'White'} (${c === human ? 'you' : 'model'})`;
      const game = new GoGame({ rules: o.rules, komi });
      const input = lineReader();
      const frames: string[] = [];
      let last: Point | null | undefined;
      let inputEnded = false;
      const show = () => {
        say(boardText(game, last));
        say(`captures: Black ${game.captures.b}, White ${game.captures.w}`);
      };
      const captured = (caps: Point[]) => (caps.length ? `, capturing ${caps.length} (${caps.map((p) => gtpName(p.row, p.col)).join(' ')})` : '');
      say(`You play ${human === 'b' ? 'Black (X)' : 'White (O)'}, the model ${human === 'b' ? 'White (O)' : 'Black (X)'}. Rules: ${RULES_TEXT[o.rules]}; komi ${komi}.`);
      if (!loaded.trained) say('The model has stand-in weights: its boards are noise, so are its moves (or it passes).');
      say(PLAY_HELP);
      show();
      try {
        while (!game.isOver()) {
          if (game.toPlay !== human) {
            const moveNo = game.moves.length + 1;
            log(`move ${moveNo}: the model thinks (up to ${o.tries} ${o.tries === 1 ? 'try' : 'tries'})`);
            const r = await thinkingMove(ctx, loaded, game, o, (o.seed + moveNo * o.tries) >>> 0);
            const png = join(out, `generated-${String(frames.length + 1).padStart(3, '0')}-move-${String(moveNo).padStart(3, '0')}.png`);
            writeFileSync(png, encodePng(viewable(r.generated)));
            frames.push(png);
            if (r.ok && r.move) {
              const caps = game.play(r.move).captures;
              say(`${name(opponentOf(human))}: ${r.gtp} (${r.tries} ${r.tries === 1 ? 'try' : 'tries'}, ${r.seconds.toFixed(1)} s)${captured(caps)}`);
            } else {
              game.play(null);
              say(`${name(opponentOf(human))} passes: ${noMoveReason(r)} (${r.seconds.toFixed(1)} s)`);
            }
            last = r.ok ? r.move : null;
            show();
            continue;
          }
          const line = await input.next(`${name(human)} > `);
          if (line === null) {
            inputEnded = true;
            break;
          }
          const cmd = line.trim().toLowerCase();
          if (!cmd) continue;
          if (cmd === 'help' || cmd === '?') say(PLAY_HELP);
          else if (cmd === 'undo') {
            const mine = game.moves.findLastIndex((_, i) => (i % 2 === 0 ? 'b' : 'w') === human);
            if (mine < 0) {
              say('Nothing to undo.');
              continue;
            }
            while (game.moves.length > mine) game.undo();
            last = game.moves.at(-1);
            say(`Took back to before move ${mine + 1}.`);
            show();
          } else if (cmd === 'resign') game.resign(human);
          else if (cmd === 'pass') {
            game.play(null);
            last = null;
          } else {
            const p = parseGtp(cmd);
            if (!p) {
              say(`'${line.trim()}' is not a move: a point such as D5 (columns A-J without I, rows 1-9), or pass, undo, resign, help.`);
              continue;
            }
            const reason = game.whyIllegal(p);
            if (reason) {
              say(`${gtpName(p.row, p.col)} is illegal: ${why(reason, o.rules)}.`);
              continue;
            }
            const caps = game.play(p).captures;
            last = p;
            if (caps.length) say(`${name(human)}: ${gtpName(p.row, p.col)}${captured(caps)}`);
          }
        }
      } finally {
        input.close();
      }
      say();
      let result: string | undefined;
      if (inputEnded) say('The input ended before the game did: saved unfinished, without a result.');
      else {
        result = game.result();
        if (game.resigned) say(`${name(game.resigned)} resigns. Result: ${result}`);
        else {
          const s = game.score();
          say(`Both passed. Area score: Black ${s.black}, White ${s.white - komi} + ${komi} komi = ${s.white}. Result: ${result}`);
        }
      }
      const model = `VideoWorld (${loaded.weightsLabel})`;
      const sgf = join(out, 'game.sgf');
      writeFileSync(
        sgf,
        toSgf({
          moves: [...game.moves],
          komi,
          result,
          rules: RULES_TEXT[o.rules],
          playerBlack: human === 'b' ? 'Human' : model,
          playerWhite: human === 'w' ? 'Human' : model,
          date: new Date().toISOString().slice(0, 10),
          comment: `videoworld play: --tries ${o.tries} --seed ${o.seed} --reader ${o.reader}`,
        }),
      );
      const gif = join(out, 'game.gif');
      writeFileSync(gif, gameGif(game.moves, o.rules));
      say(`Saved ${sgf}, ${gif} (${game.moves.length + 1} positions) and ${frames.length} generated board${frames.length === 1 ? '' : 's'} in ${out}`);
      return 0;
    }),
  );
}
