import test from 'ava';
import { BoardError, GoBoard, gtpName, opponentOf, parseGtp, parseUpstreamMove, replayMoves } from '../../src/go/board.js';
import { type RenderJson, goJson } from './golden-go.js';

/** Sets up a position from an ASCII diagram, top line = row 8 (as printed boards are read). */
function boardFrom(rows: string[]): GoBoard {
  const b = new GoBoard(rows.length);
  rows.forEach((line, i) => {
    [...line.replaceAll(' ', '')].forEach((ch, col) => {
      if (ch === 'X') b.play(rows.length - 1 - i, col, 'b');
      if (ch === 'O') b.play(rows.length - 1 - i, col, 'w');
    });
  });
  return b;
}

test('GTP names: A..J without I, row 0 = "1" at the bottom', (t) => {
  t.is(gtpName(0, 0), 'A1');
  t.is(gtpName(8, 8), 'J9');
  t.is(gtpName(5, 3), 'D6');
  t.is(gtpName(0, 7), 'H1');
  t.is(gtpName(3, 8), 'J4');
  t.throws(() => gtpName(-1, 0), { instanceOf: RangeError });
  t.throws(() => gtpName(0, 19), { instanceOf: RangeError });
  for (let r = 0; r < 9; r++) for (let c = 0; c < 9; c++) t.deepEqual(parseGtp(gtpName(r, c)), { row: r, col: c });
  t.deepEqual(parseGtp(' d6 '), { row: 5, col: 3 });
  for (const bad of ['I5', 'J10', 'K1', 'A0', 'E', '', 'pass', 'E5x']) t.is(parseGtp(bad), null, bad);
  t.deepEqual(parseGtp('K10', 19), { row: 9, col: 9 });
  t.is(opponentOf('b'), 'w');
});

test("upstream's human-move reading: 'I' aliases J, lower case and K+ fall off the board", (t) => {
  t.deepEqual(parseUpstreamMove('E5'), { row: 4, col: 4 });
  t.deepEqual(parseUpstreamMove('J5'), { row: 4, col: 8 });
  t.deepEqual(parseUpstreamMove('I5'), { row: 4, col: 8 });
  t.deepEqual(parseUpstreamMove('K5'), { row: 4, col: 10 });
  t.deepEqual(parseUpstreamMove('e5'), { row: 4, col: 36 });
  t.deepEqual(parseUpstreamMove('E 5 '), { row: 4, col: 4 });
  t.deepEqual(parseUpstreamMove('E0'), { row: -1, col: 4 });
  t.deepEqual(parseUpstreamMove('E1_0'), { row: 9, col: 4 });
  for (const bad of ['', 'E', 'E5.0', 'Ex']) t.is(parseUpstreamMove(bad), null, bad);
  const b = new GoBoard();
  for (const text of ['e5', 'K5', 'E0', 'E10']) {
    const p = parseUpstreamMove(text)!;
    t.is(t.throws(() => b.play(p.row, p.col, 'w'), { instanceOf: BoardError })!.kind, 'off-board', text);
  }
});

test('captures: a single stone; a move without liberties that captures is not suicide', (t) => {
  const b = boardFrom([
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . X . . . .',
    '. . . X O X . . .',
    '. . . . . . . . .',
    'O X . . . . . . .',
    '. O X . . . . . .',
  ]);
  t.deepEqual(b.play(2, 4, 'b'), { koPoint: null, captures: [{ row: 3, col: 4 }] });
  t.is(b.get(3, 4), null);
  // Black A1 has no liberty itself, but it takes B1's last one: the capture wins, A1 stays.
  const r = b.play(0, 0, 'b');
  t.deepEqual(r.captures, [{ row: 0, col: 1 }]);
  t.is(b.get(0, 0), 'b');
  t.is(b.get(1, 0), 'w', 'A2 keeps its liberty at A3');
});

test('two opponent groups captured by one move, and the ko point reported but not enforced', (t) => {
  const b = boardFrom([
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    'X . . . . . . . .',
    'O X . . . . . . .',
    '. O X . . . . . .',
  ]);
  // Black A1 takes the last liberty of two white groups (A2, B1): both go, in row-major order.
  const r = b.play(0, 0, 'b');
  t.deepEqual(r.captures, [{ row: 0, col: 1 }, { row: 1, col: 0 }]);
  t.is(r.koPoint, null);

  const k = boardFrom([
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . X O . . . .',
    '. . X . X O . . .',
    '. . . X O . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
  ]);
  // White D4 captures the single black stone E4 with a single stone: E4 is the simple-ko point.
  const cap = k.play(3, 3, 'w');
  t.deepEqual(cap, { koPoint: { row: 3, col: 4 }, captures: [{ row: 3, col: 4 }] });
  // No ko rule: black retakes at once.
  t.deepEqual(k.play(3, 4, 'b').captures, [{ row: 3, col: 3 }]);
});

test('suicide of a group removes it; filling the last liberty of the whole board empties it', (t) => {
  const b = boardFrom([
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . O . . . .',
    '. . . O X O . . .',
    '. . . O . O . . .',
    '. . . . O . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
  ]);
  const r = b.play(3, 4, 'b');
  t.deepEqual(r.captures, [{ row: 3, col: 4 }, { row: 4, col: 4 }]);
  t.is(b.get(4, 4), null);
  t.is(b.get(4, 3), 'w');

  const full = new GoBoard();
  for (let i = 0; i < 80; i++) full.play(Math.floor(i / 9), i % 9, 'b');
  t.false(full.isEmpty());
  t.is(full.play(8, 8, 'b').captures.length, 81);
  t.true(full.isEmpty());
});

test('occupied and off-board points raise BoardError kinds (upstream ValueError / IndexError)', (t) => {
  const b = new GoBoard();
  b.play(4, 4, 'b');
  const occ = t.throws(() => b.play(4, 4, 'w'), { instanceOf: BoardError })!;
  t.is(occ.kind, 'occupied');
  t.regex(occ.message, /E5/);
  t.is(b.get(4, 4), 'b');
  for (const [r, c] of [[-1, 0], [0, -1], [9, 0], [0, 9], [1.5, 2]] as const) {
    t.is(t.throws(() => b.play(r, c, 'b'), { instanceOf: BoardError })!.kind, 'off-board');
  }
  const c = b.copy();
  c.play(0, 0, 'w');
  t.is(b.get(0, 0), null, 'copy is independent');
});

test('replaying every golden move list reproduces its captures and final stones', (t) => {
  const meta = goJson<RenderJson>('render/render.json');
  let captured = 0;
  for (const im of meta.images) {
    const { board, moves } = replayMoves(im.moves);
    moves.forEach((m, i) => {
      t.deepEqual(m.captures, im.moves[i]!.captures.map(({ row, col }) => ({ row, col })), `${im.name} move ${i + 1}`);
      captured += m.captures.length;
    });
    t.deepEqual(board.stones(), im.stones_on_board.map(({ colour, row, col }) => ({ colour, row, col })), im.name);
  }
  t.true(captured >= 10, `${captured} captured stones in the golden games`);
});
