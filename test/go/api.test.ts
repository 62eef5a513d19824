import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from '../../src/index.js';

const goDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'go');

test('src/go is browser-safe: no Node built-ins, no process', (t) => {
  const files = readdirSync(goDir).filter((f) => f.endsWith('.ts'));
  t.true(files.length >= 6);
  for (const f of files) {
    const src = readFileSync(join(goDir, f), 'utf8');
    t.notRegex(src, /from ['"](node:|fs|path|os|url|child_process|crypto|zlib)['"/]/, `${f} imports a Node built-in`);
    t.notRegex(src, /\b(process|Buffer)\./, `${f} touches process/Buffer`);
  }
});

test('one battle turn through the package API: render, normalise, "generate", de-normalise, locate, play', (t) => {
  const board = new api.GoBoard();
  board.play(5, 3, 'b'); // turn 0: upstream plays D6 whatever the model drew
  const e5 = api.parseGtp('E5')!;
  board.play(e5.row, e5.col, 'w'); // the human's move
  const input = api.normalizeImage(api.renderBoard(board));
  t.is(input.length, 3 * 256 * 256);
  // A perfect generator: the next position (black C3) through the model's float output path.
  const next = board.copy();
  next.play(2, 2, 'b');
  const out = api.normalizeImage(api.renderBoard(next));
  const move = api.locateNewStone(api.battleView(api.renderBoard(board)), api.denormalizeImage(out));
  t.like(move, { ok: true, gtp: 'C3', row: 2, col: 2 });
  if (!move.ok) return;
  t.deepEqual(board.play(move.row, move.col, 'b'), { koPoint: null, captures: [] });
  t.deepEqual(api.renderBoard(board).data, api.renderBoard(next).data);
  // Drawing the same position again finds nothing new: upstream's ValueError -> retry.
  t.like(api.locateNewStone(api.battleView(api.renderBoard(board)), api.renderBoard(board)), { ok: false, error: 'no-contour' });
});
