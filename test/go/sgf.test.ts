import test from 'ava';
import type { Point } from '../../src/go/board.js';
import { GoGame } from '../../src/go/engine.js';
import { playGame } from '../../src/go/games.js';
import { parseSgf, toSgf } from '../../src/go/sgf.js';

const P = (row: number, col: number): Point => ({ row, col });

test('coordinates: sgfmill (0,0) = A1 = "ai", (8,8) = J9 = "ia", (5,3) = D6 = "dd"; pass = B[]', (t) => {
  const sgf = toSgf({ moves: [P(0, 0), P(8, 8), P(5, 3), null], komi: 7.5 });
  t.is(sgf, '(;FF[4]GM[1]SZ[9]KM[7.5]\n;B[ai];W[ia];B[dd];W[])\n');
  t.deepEqual(parseSgf(sgf), { moves: [P(0, 0), P(8, 8), P(5, 3), null], komi: 7.5, result: undefined, size: 9 });
});

test('round trip of a self-play game with header properties and escapes', (t) => {
  const rec = playGame({ seed: 3, playouts: 32, maxMoves: 60 });
  const game = GoGame.fromMoves(rec.moves);
  const sgf = toSgf({
    moves: rec.moves,
    komi: 7.5,
    result: game.result(),
    rules: 'Chinese',
    playerBlack: 'reference-32',
    playerWhite: 'reference-32',
    date: '2025-01-02',
    comment: 'seed 3 [self-play] \\ test',
  });
  t.regex(sgf, /^\(;FF\[4\]GM\[1\]SZ\[9\]KM\[7\.5\]RU\[Chinese\]RE\[[BW]\+[\d.]+\]PB\[reference-32\]PW\[reference-32\]DT\[2025-01-02\]C\[seed 3 \[self-play\\\] \\\\ test\]/);
  const back = parseSgf(sgf);
  t.deepEqual(back.moves, rec.moves);
  t.is(back.komi, 7.5);
  t.is(back.result, game.result());
  t.is(toSgf({ moves: [], komi: 6.5, result: 'W+R' }), '(;FF[4]GM[1]SZ[9]KM[6.5]RE[W+R]\n)\n');
  t.deepEqual(parseSgf(toSgf({ moves: [], komi: 6.5, result: 'W+R' })), { moves: [], komi: 6.5, result: 'W+R', size: 9 });
});

test('reads simple SGFs from other programs: whitespace, FF[3] passes, variations, SZ', (t) => {
  const text = `(;GM[1]FF[3]
    SZ[9] KM[5.5] RE[B+R] AP[SomeProgram:1.0]
    ;B[ee]C[first]
    ;W[tt]
    (;B[cc];W[gg])
    (;B[aa]))`;
  t.deepEqual(parseSgf(text), { moves: [P(4, 4), null, P(6, 2), P(2, 6)], komi: 5.5, result: 'B+R', size: 9 });
  t.deepEqual(parseSgf('(;SZ[19];B[pd])').moves, [P(15, 15)]);
  t.throws(() => parseSgf('(;SZ[9]AB[ee];W[cc])'), { message: /parseSgf: setup property AB/ });
  t.throws(() => parseSgf('(;SZ[9];W[cc])'), { message: /parseSgf: move 1 is W but B is to play/ });
  t.throws(() => parseSgf('(;SZ[9];B[zz])'), { message: /parseSgf: move 1 B\[zz\] is off the 9x9 board/ });
  t.throws(() => parseSgf('(;SZ[9];B[cc]'), { message: /parseSgf: missing '\)'/ });
  t.throws(() => toSgf({ moves: [P(9, 0)], komi: 7.5 }), { message: /toSgf: moves\[0\] row 9, col 0/ });
});
