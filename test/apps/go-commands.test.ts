import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoInputError, boardText, gameGif, replayMoveList } from '../../src/apps/go-commands.js';
import { gtpName, parseGtp } from '../../src/go/board.js';
import { GoGame } from '../../src/go/engine.js';
import { decodePng } from '../../src/go/png.js';
import { parseSgf } from '../../src/go/sgf.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'videoworld-go-cmd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Frame count, size and per-frame delays (centiseconds) from the GIF block structure. */
function gifFrames(b: Uint8Array): { width: number; height: number; frames: number; delays: number[] } {
  const u16 = (i: number) => b[i]! | (b[i + 1]! << 8);
  if (new TextDecoder().decode(b.subarray(0, 6)) !== 'GIF89a') throw new Error('not a GIF89a');
  let i = 13 + (b[10]! & 0x80 ? 3 << ((b[10]! & 7) + 1) : 0);
  const skipSubBlocks = () => {
    while (b[i]) i += b[i]! + 1;
    i++;
  };
  let frames = 0;
  const delays: number[] = [];
  for (;;) {
    const tag = b[i++];
    if (tag === 0x3b) break;
    if (tag === 0x21) {
      if (b[i] === 0xf9) delays.push(u16(i + 3));
      i++;
      skipSubBlocks();
    } else if (tag === 0x2c) {
      frames++;
      const flags = b[i + 8]!;
      i += 9 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0) + 1;
      skipSubBlocks();
    } else throw new Error(`GIF: unexpected block 0x${tag?.toString(16)} at ${i - 1}`);
  }
  return { width: u16(6), height: u16(8), frames, delays };
}

test('replayMoveList: passes, captures, and bad moves named with the reason', (t) => {
  const g = replayMoveList('D6 E5, pass c3', 'standard');
  t.deepEqual(g.moves.map((m) => (m ? gtpName(m.row, m.col) : 'pass')), ['D6', 'E5', 'pass', 'C3']);
  t.is(g.toPlay, 'b');
  // White A1 is suicide under standard rules; upstream's board allows it and removes the stone.
  t.throws(() => replayMoveList('A2 E5 B1 A1', 'standard'), { instanceOf: GoInputError, message: /^move 4 \(A1\): suicide/ });
  const up = replayMoveList('A2 E5 B1 A1', 'upstream');
  t.is(up.get(0, 0), null);
  t.is(up.captures.b, 1);
  t.throws(() => replayMoveList('D6 I5', 'standard'), { message: 'move 2 (I5): unknown coordinate (columns A-J without I, rows 1-9, or pass)' });
  t.throws(() => replayMoveList('D6 D6', 'standard'), { message: 'move 2 (D6): occupied' });
  t.throws(() => replayMoveList('pass pass D6', 'standard'), { message: /^move 3 \(D6\): the game is over/ });
  // A ko: B E4 takes W D4; W retaking at once repeats the position (superko), which upstream allows.
  const ko = 'D5 E5 C4 F4 D3 E3 A9 D4 E4 D4';
  t.throws(() => replayMoveList(ko, 'standard'), { message: 'move 10 (D4): superko (not allowed under --rules standard; --rules upstream allows it)' });
  t.is(replayMoveList(ko, 'upstream').get(3, 4), null);
});

test('boardText marks the last move and star points; gameGif has one 256x256 frame per position', (t) => {
  const g = GoGame.fromMoves(['D6', 'E5'].map((m) => parseGtp(m)));
  const text = boardText(g, parseGtp('E5'));
  t.true(text.includes(' 6 . . . X . . . . . 6'), text);
  t.true(text.includes(' 5 . . . .(O). . . . 5'), text);
  t.true(text.includes(' 3 . . + . . . + . . 3'), text);
  const gif = gifFrames(gameGif(g.moves, 'standard'));
  t.deepEqual(gif, { width: 256, height: 256, frames: 3, delays: [100, 100, 300] });
});

test.serial('move --preset tiny: JSON line last, PNGs written, exit 0 with a null move and a reason', async (t) => {
  const out = tempDir(t);
  const r = await cli(['move', '--moves', 'D6 E5', '--preset', 'tiny', '--seed', '1', '--tries', '1', '--out', out]);
  t.is(r.code, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  t.deepEqual(Object.keys(line).sort(), ['input_png', 'move', 'png', 'reason', 'reasons', 'seconds', 'stages_ms', 'tokens_per_second', 'tries', 'weights'].sort());
  t.is(line.move, null);
  t.regex(line.reason, /^no legal move in 1 try \(last: .+\)$/);
  t.is(line.tries, 1);
  t.true(line.seconds > 0);
  t.deepEqual(Object.keys(line.stages_ms), ['encode', 'prefill', 'tokens', 'decode']);
  t.regex(line.weights, /stand-in weights/);
  t.is(line.png, join(out, 'generated.png'));
  const generated = decodePng(readFileSync(line.png));
  const input = decodePng(readFileSync(line.input_png));
  t.true(generated.width >= 160 && generated.width === generated.height, `${generated.width}`);
  t.is(input.width, 256);
  t.regex(r.stderr, /adapter: /);
  t.regex(r.stderr, /tokens\/s/);
});

test.serial('move: bad input exits 1 naming the move and why, before loading anything', async (t) => {
  const cases: [string, RegExp][] = [
    ['D6 E5 I5', /videoworld: move 3 \(I5\): unknown coordinate/],
    ['D6 E5 D6', /videoworld: move 3 \(D6\): occupied/],
    ['A2 E5 B1 A1', /videoworld: move 4 \(A1\): suicide \(not allowed under --rules standard/],
  ];
  for (const [moves, err] of cases) {
    const r = await cli(['move', '--moves', moves, '--preset', 'tiny']);
    t.is(r.code, 1, moves);
    t.regex(r.stderr, err);
    t.is(r.stdout, '');
  }
  t.is((await cli(['move', '--reader', 'morphology'])).code, 2);
});

test.serial('play --preset tiny from scripted stdin: two passes end it; SGF and GIF written, SGF reads back', async (t) => {
  const out = tempDir(t);
  const script = ['D5', 'I5', 'D5', 'undo', 'help', 'D5', 'C3', ...Array<string>(8).fill('pass')].join('\n');
  const r = await cli(['play', '--preset', 'tiny', '--tries', '1', '--out', out], `${script}\n`);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /'I5' is not a move/);
  t.regex(r.stdout, /D5 is illegal: occupied/);
  t.regex(r.stdout, /Took back to before move 1\./);
  t.regex(r.stdout, /Both passed\. Area score: Black \d+, White [\d.]+ \+ 7\.5 komi = [\d.]+\. Result: (B|W)\+[\d.]+/);
  // The transcript's moves, in order: the human's accepted inputs (undo drops the first D5 and
  // the model's reply) and the model's replies.
  const moves: string[] = [];
  for (const l of r.stdout.split('\n')) {
    const human = /^Black \(you\) > (\S+)$/.exec(l);
    if (human && (parseGtp(human[1]!) || human[1] === 'pass')) moves.push(human[1]!);
    const model = /^White \(model\)(?:: (\S+)| passes)/.exec(l);
    if (model) moves.push(model[1] ?? 'pass');
    if (l.startsWith('Took back')) moves.splice(-2);
    if (/ is illegal: /.test(l)) moves.pop();
  }
  const sgf = parseSgf(readFileSync(join(out, 'game.sgf'), 'utf8'));
  t.deepEqual(sgf.moves.map((m) => (m ? gtpName(m.row, m.col) : 'pass')), moves);
  t.deepEqual(moves.slice(-2), ['pass', 'pass']);
  t.is(sgf.komi, 7.5);
  t.is(sgf.result, /Result: (\S+)/.exec(r.stdout)![1]);
  t.regex(readFileSync(join(out, 'game.sgf'), 'utf8'), /PW\[VideoWorld \(stand-in weights/);
  const gif = gifFrames(readFileSync(join(out, 'game.gif')));
  t.is(gif.frames, moves.length + 1);
  t.deepEqual([gif.width, gif.height], [256, 256]);
  // One generated board per model turn, the undone reply's too.
  const generated = readdirSync(out).filter((f) => /^generated-\d{3}-move-\d{3}\.png$/.test(f));
  t.is(generated.length, r.stdout.match(/^White \(model\)/gm)!.length);
});
