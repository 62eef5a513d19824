import test from 'ava';
import { GoBoard, type Point } from '../../src/go/board.js';
import { GoGame } from '../../src/go/engine.js';
import { SeededRng } from '../../src/graph/rng.js';

const P = (row: number, col: number): Point => ({ row, col });

/**
 * A game whose position is the diagram (last line = row 0; omitted top rows are empty), built by alternating moves with single
 * passes where one colour has more stones (never two passes in a row, so the game stays open).
 */
function gameFrom(rows: string[], opts: ConstructorParameters<typeof GoGame>[0] = {}): GoGame {
  const black: Point[] = [];
  const white: Point[] = [];
  rows.forEach((line, i) => {
    [...line.replaceAll(' ', '')].forEach((ch, col) => {
      if (ch === 'X') black.push(P(rows.length - 1 - i, col));
      if (ch === 'O') white.push(P(rows.length - 1 - i, col));
    });
  });
  const moves: (Point | null)[] = [];
  while (black.length || white.length) {
    moves.push(black.shift() ?? null);
    moves.push(white.shift() ?? null);
  }
  while (moves.length && moves.at(-1) === null) moves.pop();
  return GoGame.fromMoves(moves, opts);
}

function randomSequence(rng: SeededRng, side: number, n: number): Point[] {
  return Array.from({ length: n }, () => P(rng.int(side), rng.int(side)));
}

test('captures: a stone, a group on the edge, the capture counts', (t) => {
  const g = new GoGame();
  // B D5, W E5, B E6, W pass, B F5, W pass, B E4: captures E5.
  for (const m of [P(4, 3), P(4, 4), P(5, 4), null, P(4, 5), null]) g.play(m);
  t.deepEqual(g.play(P(3, 4)).captures, [P(4, 4)]);
  t.is(g.get(4, 4), null);
  t.deepEqual(g.captures, { b: 1, w: 0 });
  // A two-stone white group on the bottom edge.
  const h = gameFrom([
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. X X . . . . . .',
    'X O O . . . . . .',
  ]);
  t.is(h.toPlay, 'w');
  h.play(P(5, 5));
  t.deepEqual(h.play(P(0, 3)).captures, [P(0, 1), P(0, 2)]);
  t.deepEqual(h.captures, { b: 2, w: 0 });
  t.is(h.key().slice(0, 9), 'X..X.....');
});

test('captureMove: the one legal move that captures exactly the given stones, the game unchanged', (t) => {
  const h = gameFrom([
    '. . . . X O X . .',
    '. X X . . . . . .',
    'X O O . . . . . .',
  ]);
  h.play(P(8, 8));
  t.is(h.toPlay, 'b');
  const key = h.key();
  const n = h.moves.length;
  t.deepEqual(h.captureMove([P(0, 1), P(0, 2)]), P(0, 3));
  t.deepEqual(h.captureMove([P(0, 2), P(0, 1)]), P(0, 3));
  t.is(h.captureMove([P(0, 1)]), null, 'part of a group: no move captures only it');
  t.is(h.captureMove([P(2, 5)]), null, 'two liberties: not capturable in one move');
  t.is(h.captureMove([P(0, 1), P(0, 2), P(8, 8)]), null, 'stones of two groups no one move captures');
  t.is(h.captureMove([P(1, 1)]), null, "the mover's own stone");
  t.is(h.captureMove([P(4, 4)]), null, 'an empty point');
  t.is(h.captureMove([]), null);
  t.is(h.key(), key);
  t.is(h.moves.length, n);
  t.is(h.toPlay, 'b');
  // Ko: the recapture is illegal, so no move captures the stone.
  const k = gameFrom([
    '. X O . . . . . .',
    'X O . O . . . . .',
    '. X O . . . . . .',
  ]);
  if (k.toPlay === 'w') k.play(P(8, 8));
  k.play(P(1, 2));
  t.is(k.get(1, 1), null, 'black took the ko');
  t.is(k.captureMove([P(1, 2)]), null);
  k.play(P(8, 0));
  k.play(P(8, 1));
  t.deepEqual(k.captureMove([P(1, 2)]), P(1, 1), 'after a ko threat exchange the recapture is legal');
});

test('isOwnEye: single-point eyes of the side to play (at most one opposing diagonal, none on the edge)', (t) => {
  const g = gameFrom([
    '. X . X O . . . .',
    'X . X . X O . . .',
    '. X . X . X . . .',
  ]);
  if (g.toPlay !== 'b') g.play(P(8, 8));
  t.true(g.isOwnEye(P(1, 1)), 'surrounded, no opposing diagonal');
  t.true(g.isOwnEye(P(0, 0)), 'corner');
  t.true(g.isOwnEye(P(0, 2)), 'edge, no opposing diagonal');
  t.true(g.isOwnEye(P(1, 3)), 'one opposing diagonal (E3) inside the board');
  t.false(g.isOwnEye(P(0, 4)), 'one opposing diagonal (F2) on the edge');
  t.false(g.isOwnEye(P(2, 0)), 'an empty neighbour');
  t.false(g.isOwnEye(P(2, 1)), 'occupied');
  g.play(P(8, 0));
  t.false(g.isOwnEye(P(1, 1)), "White to play: Black's eye is not White's");
});

test('standard rules reject suicide (single stone and group) and name the move', (t) => {
  const g = gameFrom([
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    '. . . . . . . . .',
    'O O . . . . . . .',
    'X X O . . . . . .',
    '. X O . . . . . .',
  ]);
  t.is(g.toPlay, 'b');
  t.is(g.whyIllegal(P(0, 0)), 'suicide');
  t.false(g.isLegal(P(0, 0)));
  t.throws(() => g.play(P(0, 0)), { message: /GoGame\.play: B A1 .*suicide/ });
  g.play(P(8, 8));
  t.is(g.whyIllegal(P(0, 0)), null, 'white A1 captures');
  t.is(g.whyIllegal(P(4, 4)), null);
  t.is(g.whyIllegal(P(1, 0)), 'occupied');
  t.is(g.whyIllegal(P(9, 0)), 'off-board');
  t.is(g.whyIllegal(P(0, -1)), 'off-board');
  t.throws(() => g.play(P(9, 0)), { message: /row 9, col 0 .*off-board/ });
  t.deepEqual(g.play(P(0, 0)).captures, [P(0, 1), P(1, 0), P(1, 1)]);
  t.deepEqual(g.captures, { b: 0, w: 3 });
});

test('upstream rules allow suicide exactly as GoBoard does', (t) => {
  const g = gameFrom(['. . .', 'O O .', 'X . O'].map((r) => r), { rules: 'upstream', side: 3 });
  // Black B1 would have no liberty and capture nothing: under upstream the B1+A1 group disappears.
  t.is(g.toPlay, 'b');
  t.is(g.whyIllegal(P(0, 1)), null);
  t.deepEqual(g.play(P(0, 1)).captures, [P(0, 0), P(0, 1)]);
  t.deepEqual(g.captures, { b: 0, w: 2 });
  const std = gameFrom(['. . .', 'O O .', 'X . O'], { side: 3 });
  t.is(std.whyIllegal(P(0, 1)), 'suicide');
});

test('upstream rules match GoBoard on many random move sequences (captures, suicides, board)', (t) => {
  const rng = new SeededRng(7);
  let suicides = 0;
  let captures = 0;
  for (let run = 0; run < 150; run++) {
    const side = run % 3 === 0 ? 5 : 9;
    const g = new GoGame({ rules: 'upstream', side });
    const ref = new GoBoard(side);
    for (const p of randomSequence(rng, side, 3 * side * side)) {
      const colour = g.toPlay;
      if (ref.get(p.row, p.col) !== null) {
        t.is(g.whyIllegal(p), 'occupied');
        continue;
      }
      const want = ref.play(p.row, p.col, colour).captures;
      const got = g.play(p).captures;
      t.deepEqual(got, want);
      if (want.some((q) => q.row === p.row && q.col === p.col)) suicides++;
      captures += want.length;
    }
    t.deepEqual(g.board().stones(), ref.stones());
  }
  t.true(suicides > 50, `suicides ${suicides}`);
  t.true(captures > 1000, `captures ${captures}`);
});

test('standard rules agree with GoBoard on every legal move of random sequences', (t) => {
  const rng = new SeededRng(8);
  for (let run = 0; run < 60; run++) {
    const g = new GoGame();
    const ref = new GoBoard();
    for (const p of randomSequence(rng, 9, 200)) {
      const why = g.whyIllegal(p);
      if (why === 'occupied') t.not(ref.get(p.row, p.col), null);
      if (why !== null) continue;
      t.deepEqual(g.play(p).captures, ref.play(p.row, p.col, g.moves.length % 2 === 1 ? 'b' : 'w').captures);
    }
    t.deepEqual(g.board().stones(), ref.stones());
    t.is(g.legalMoves().length, Array.from({ length: 81 }, (_, i) => P(Math.floor(i / 9), i % 9)).filter((q) => g.isLegal(q)).length);
  }
});

// Three kos in the open: a = the left point, b = the right point of each. "O at a" is open for
// Black to take (at b), "X at b" is open for White (at a).
function koShape(r: number, c: number): { x: Point[]; o: Point[]; a: Point; b: Point } {
  return { x: [P(r + 1, c + 1), P(r, c), P(r - 1, c + 1)], o: [P(r + 1, c + 2), P(r, c + 3), P(r - 1, c + 2)], a: P(r, c + 1), b: P(r, c + 2) };
}

test('simple ko and positional superko (a triple-ko cycle) are rejected', (t) => {
  const k1 = koShape(2, 0);
  const k2 = koShape(2, 5);
  const k3 = koShape(6, 0);
  const black = [...k1.x, ...k2.x, ...k3.x, k2.b, P(8, 8)];
  const white = [...k1.o, ...k2.o, ...k3.o, k1.a, k3.a];
  const setup: Point[] = black.flatMap((b, i) => [b, white[i]!]);
  const g = GoGame.fromMoves(setup);
  t.is(g.toPlay, 'b');
  const start = g.key();
  // Simple ko: B takes at k1, W may not retake at once.
  t.deepEqual(g.play(k1.b).captures, [k1.a]);
  t.is(g.whyIllegal(k1.a), 'superko');
  t.throws(() => g.play(k1.a), { message: /W B3 .*superko/ });
  // W takes k2, B takes k3, W retakes k1, B retakes k2: all new positions.
  t.deepEqual(g.play(k2.a).captures, [k2.b]);
  t.deepEqual(g.play(k3.b).captures, [k3.a]);
  t.deepEqual(g.play(k1.a).captures, [k1.b]);
  t.deepEqual(g.play(k2.b).captures, [k2.a]);
  // W retaking k3 would recreate the start position: not a simple ko, but a repetition.
  t.is(g.whyIllegal(k3.a), 'superko');
  t.not(g.key(), start);
  // Under upstream rules (no ko) both are allowed and the cycle comes back.
  const u = GoGame.fromMoves([...setup, k1.b, k2.a, k3.b, k1.a, k2.b, k3.a], { rules: 'upstream' });
  t.is(u.key(), start);
  const v = GoGame.fromMoves([...setup, k1.b], { rules: 'upstream' });
  t.deepEqual(v.play(k1.a).captures, [k1.b]);
});

test('undo restores the position, captures, passes, superko history and turn exactly', (t) => {
  const rng = new SeededRng(3);
  const g = new GoGame();
  const states: { key: string; caps: Record<string, number>; passes: number; toPlay: string; legal: number }[] = [];
  const snap = () => ({ key: g.key(), caps: g.captures, passes: g.passes, toPlay: g.toPlay, legal: g.legalMoves().length });
  for (let i = 0; i < 160 && !g.isOver(); i++) {
    states.push(snap());
    const moves = g.legalMoves();
    g.play(moves.length === 0 || (rng.next() < 0.05 && g.passes === 0) ? null : moves[rng.int(moves.length)]!);
  }
  t.true(g.captures.b + g.captures.w > 10);
  while (states.length) {
    g.undo();
    t.deepEqual(snap(), states.pop());
    if (states.length % 16 === 0) t.deepEqual(g.legalMoves(), GoGame.fromMoves(g.moves).legalMoves());
  }
  t.is(g.moves.length, 0);
  t.throws(() => g.undo(), { message: /GoGame\.undo: no move/ });
  // The superko history too: after undoing a ko capture, the retake is legal again.
  const k = koShape(4, 2);
  const ko = GoGame.fromMoves([k.x[0]!, k.o[0]!, k.x[1]!, k.o[1]!, k.x[2]!, k.o[2]!, P(8, 8), k.a]);
  ko.play(k.b);
  t.is(ko.whyIllegal(k.a), 'superko');
  ko.undo();
  ko.play(P(0, 0));
  ko.play(P(0, 8));
  ko.play(k.b);
  t.is(ko.whyIllegal(k.a), 'superko');
  ko.undo();
  t.deepEqual(ko.legalMoves(), GoGame.fromMoves(ko.moves).legalMoves());
});

test('area scoring: stones plus single-colour regions, komi to White', (t) => {
  t.deepEqual(new GoGame().score(), { black: 0, white: 7.5, winner: 'w', margin: 7.5 });
  const one = GoGame.fromMoves([P(4, 4)]);
  t.deepEqual(one.score(), { black: 81, white: 7.5, winner: 'b', margin: 73.5 });
  const split = gameFrom([
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
    '. . . X O . . . .',
  ], { komi: 6.5 });
  t.deepEqual(split.score(), { black: 36, white: 45 + 6.5, winner: 'w', margin: 15.5 });
  t.is(split.result(), 'W+15.5');
  // A neutral point (dame) between the walls, a white stone inside Black's area (counted as is).
  const dame = gameFrom([
    '. . . X . O . . .',
    '. . . X . O . . .',
    '. . . X . O . . .',
    '. . . X . O . . .',
    '. O . X . O . . .',
    '. . . X . O . . .',
    '. . . X . O . . .',
    '. . . X . O . . .',
    '. . . X . O . . .',
  ], { komi: 0 });
  t.deepEqual(dame.score(), { black: 9, white: 9 + 27 + 1, winner: 'w', margin: 28 });
  const tie = gameFrom(['X . O', 'X . O', 'X . O'], { side: 3, komi: 0 });
  t.deepEqual(tie.score(), { black: 3, white: 3, winner: 'w', margin: 0 });
  t.is(tie.result(), '0');
});

test('two passes end the game; resignation ends it too', (t) => {
  const g = GoGame.fromMoves([P(4, 4), null]);
  t.false(g.isOver());
  t.is(g.passes, 1);
  g.play(P(3, 3));
  t.is(g.passes, 0);
  g.play(null);
  g.play(null);
  t.true(g.isOver());
  t.is(g.passes, 2);
  t.false(g.isLegal(null));
  t.deepEqual(g.legalMoves(), []);
  t.is(g.whyIllegal(P(0, 0)), 'game over');
  t.throws(() => g.play(null), { message: /game over/ });
  g.undo();
  t.false(g.isOver());
  t.deepEqual(g.moves, [P(4, 4), null, P(3, 3), null]);
  g.resign('w');
  t.true(g.isOver());
  t.is(g.result(), 'B+R');
  g.undo();
  t.false(g.isOver());
  t.is(g.moves.length, 4);
  t.throws(() => new GoGame({ rules: 'japanese' as never }), { message: /opts\.rules/ });
});

test('board() is a GoBoard of the position', (t) => {
  const g = GoGame.fromMoves([P(4, 4), P(4, 5), null, P(0, 0)]);
  const b = g.board();
  t.true(b instanceof GoBoard);
  t.deepEqual(b.stones(), [{ colour: 'w', row: 0, col: 0 }, { colour: 'b', row: 4, col: 4 }, { colour: 'w', row: 4, col: 5 }]);
  t.is(g.get(4, 5), 'w');
  t.throws(() => g.get(9, 0), { message: /GoGame\.get: row 9, col 0/ });
});
