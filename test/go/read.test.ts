import test from 'ava';
import { GoBoard } from '../../src/go/board.js';
import { SeededRng } from '../../src/graph/rng.js';
import { boardPoints, gridImage, readBoard, readMove, renderGrid } from '../../src/go/read.js';
import { battleView, renderBoard } from '../../src/go/render.js';
import { randomPosition } from '../../src/train/go-data.js';

test('renderGrid equals gridImage of the 256 render byte for byte (every cell shows its own point only)', (t) => {
  const rng = new SeededRng(11);
  for (let i = 0; i < 12; i++) {
    const b = randomPosition(rng, rng.int(85));
    for (const pp of [1, 2, 3, 4]) {
      const a = renderGrid(b, pp);
      const ref = gridImage(renderBoard(b), pp);
      t.is(a.width, 10 * pp);
      t.true(a.data.every((v, k) => v === ref.data[k]), `position ${i}, ${pp} px per point`);
    }
  }
});

test('readBoard recovers every point of renders at 256 (battle view), 20x20 and 40x40', (t) => {
  const rng = new SeededRng(12);
  for (let i = 0; i < 20; i++) {
    const b = randomPosition(rng, rng.int(90));
    const truth = boardPoints(b);
    for (const img of [battleView(renderBoard(b)), renderGrid(b, 2), renderGrid(b, 4)]) {
      const r = readBoard(img);
      t.deepEqual(r.points, truth);
      t.true(Math.min(...r.confidence) > 0.9, `min confidence ${Math.min(...r.confidence)}`);
    }
  }
});

test('readMove: one new stone, a capture, a pass, and what it refuses to guess', (t) => {
  const before = new GoBoard();
  before.play(4, 4, 'w');
  before.play(3, 4, 'b');
  before.play(5, 4, 'b');
  before.play(4, 3, 'b');
  // Black F5 captures E5: the new stone plus the removed white one.
  const after = before.copy();
  after.play(4, 5, 'b');
  const m = readMove(before, 'b', renderGrid(after, 2));
  t.true(m.ok && m.gtp === 'F5' && m.removed.length === 1, JSON.stringify(m));
  // Unchanged board: a pass.
  const p = readMove(before, 'b', renderGrid(before, 2));
  t.true(p.ok && p.move === null && p.gtp === 'pass');
  // Two new black stones: an error, no guess.
  const two = before.copy();
  two.play(0, 0, 'b');
  two.play(8, 8, 'b');
  const e = readMove(before, 'b', renderGrid(two, 2));
  t.false(e.ok);
  t.regex(e.ok ? '' : e.error, /several stones changed: 2 new black stones \(A1 J9\)/);
  // The opponent's colour appears.
  const wrong = before.copy();
  wrong.play(0, 0, 'w');
  t.regex((readMove(before, 'b', renderGrid(wrong, 2)) as { error: string }).error, /several stones changed: A1 \(the opponent's colour appeared\)/);
  // An opponent stone redrawn in the mover's colour is not a move.
  const flipped = new GoBoard();
  flipped.play(4, 4, 'b');
  flipped.play(3, 4, 'b');
  flipped.play(5, 4, 'b');
  flipped.play(4, 3, 'b');
  t.regex((readMove(before, 'b', renderGrid(flipped, 2)) as { error: string }).error, /E5 \(white became black\)/);
  // Stones vanish with no move.
  const gone = new GoBoard();
  t.regex((readMove(before, 'b', renderGrid(gone, 2)) as { error: string }).error, /no new stone, but 4 stone\(s\) vanished/);
});

test('readMove under noise: a noisy generated image still reads as the one new stone', (t) => {
  const rng = new SeededRng(13);
  const before = randomPosition(rng, 30);
  const after = before.copy();
  const empty = boardPoints(before).findIndex((p) => p === null);
  after.play(Math.floor(empty / 9), empty % 9, 'w');
  const img = renderGrid(after, 2);
  for (let k = 0; k < img.data.length; k++) img.data[k] = Math.max(0, Math.min(255, img.data[k]! + Math.round((rng.next() - 0.5) * 60)));
  const m = readMove(before, 'w', img);
  t.true(m.ok && m.move?.row === Math.floor(empty / 9) && m.move.col === empty % 9, JSON.stringify(m));
});

test('readBoard rejects images that are not boards', (t) => {
  t.throws(() => readBoard({ width: 33, height: 33, channels: 3, data: new Uint8Array(33 * 33 * 3) }), { message: /neither the 256 render nor a grid image/ });
  t.throws(() => gridImage({ width: 20, height: 20, channels: 3, data: new Uint8Array(1200) }, 2), { message: /expected a 256x256 RGB render/ });
});
