import test from 'ava';
import { BoardError, GoBoard } from '../../src/go/board.js';
import { type ContourPoint, type LocateResult, bandThreshold, contourArea, contourMoments, diffGray, findExternalContours, locateNewStone, morph2x2 } from '../../src/go/extract.js';
import { type RasterImage, decodePng } from '../../src/go/png.js';
import { battleView, renderBoard } from '../../src/go/render.js';
import { type ExtractPair, goFile, goJson, goRgb } from './golden-go.js';

const pairs = goJson<{ pairs: ExtractPair[] }>('extract/extract.json').pairs;

function upstreamView(r: LocateResult): ExtractPair['result'] | { ok: false; exception: string } {
  if (r.ok) return { ok: true, grid_x: r.gridX, grid_y: r.gridY };
  return { ok: false, exception: r.error === 'no-contour' ? 'ValueError' : r.error === 'zero-area' ? 'ZeroDivisionError' : 'IndexError' };
}

function boardBefore(p: ExtractPair): GoBoard {
  const b = new GoBoard();
  for (const s of p.board_before) b.play(s.row, s.col, s.colour);
  return b;
}

test('all 112 golden pairs: same point / error, stage counts, masks, contours, moments as upstream', (t) => {
  t.is(pairs.length, 112);
  const errors: Record<string, number> = {};
  for (const p of pairs) {
    const r = locateNewStone(goRgb(`extract/${p.before}`), goRgb(`extract/${p.after}`), { debug: true });
    const g = p.debug;
    const d = r.debug!;
    const tag = `pair ${p.id} (${p.category}: ${p.description})`;
    const want = p.result.ok ? p.result : { ok: false, exception: p.result.exception };
    t.deepEqual(upstreamView(r), want, tag);
    if (!r.ok) {
      errors[r.error] = (errors[r.error] ?? 0) + 1;
      t.is(r.message, (p.result as { message: string }).message, tag);
    }
    t.deepEqual([d.grayNonzeroAfterBand, d.threshCount, d.erodeCount, d.dilationCount, d.contours.length], [g.gray_nonzero_after_band, g.thresh_count, g.erode_count, g.dilation_count, g.n_contours], `${tag}: stage counts`);
    const thresh = decodePng(goFile(`extract/${g.thresh_png}`)).data;
    const mask = decodePng(goFile(`extract/${g.dilation_png}`)).data;
    t.true(thresh.every((v, i) => v === d.thresh.data[i]), `${tag}: thresh mask`);
    t.true(mask.every((v, i) => v === d.dilation.data[i]), `${tag}: dilated mask`);
    t.deepEqual(d.contourAreas, g.contour_areas, `${tag}: contour areas in findContours order`);
    t.deepEqual(d.contours.map((c) => c[0]), g.contour_first_points_xy, `${tag}: first points`);
    t.is(d.chosenIndex, g.chosen_index ?? null, `${tag}: chosen contour`);
    if (d.chosenIndex !== null) {
      t.deepEqual(d.contours[d.chosenIndex], g.chosen_contour_xy, `${tag}: chosen contour points`);
      // Bitwise equal doubles: the truncation of m10/m00 depends on the last bit.
      t.deepEqual(d.moments, { m00: g.m00, m10: g.m10, m01: g.m01 }, `${tag}: moments`);
      t.deepEqual(r.ok ? [r.cx, r.cy] : null, [g.cx, g.cy], `${tag}: centroid`);
    }
  }
  t.deepEqual(errors, { 'no-contour': 7 });
});

test("battle loop on the golden pairs: move name, board acceptance and captures as upstream's", (t) => {
  let accepted = 0;
  let rejected = 0;
  for (const p of pairs) {
    const r = locateNewStone(goRgb(`extract/${p.before}`), goRgb(`extract/${p.after}`));
    const tag = `pair ${p.id} (${p.description})`;
    if (!r.ok) {
      t.false(p.battle.accepted, tag);
      continue;
    }
    t.deepEqual([r.row, r.col, r.gtp], [p.battle.row, p.battle.col, p.battle.gtp], tag);
    const board = boardBefore(p);
    try {
      const { captures } = board.play(r.row, r.col, 'b');
      t.true(p.battle.accepted, tag);
      t.deepEqual(captures.map(({ row, col }) => [row, col]), p.battle.captures_if_played, tag);
      accepted++;
    } catch (e) {
      t.true(e instanceof BoardError && e.kind === 'occupied', tag);
      t.false(p.battle.accepted, tag);
      rejected++;
    }
  }
  // README: 105 return a point, 96 accepted by the board, 9 rejected.
  t.deepEqual([accepted, rejected], [96, 9]);
});

test('end to end on our own renders: before = battleView(render(board_before)), after = render(+ new moves)', (t) => {
  let endToEnd = 0;
  for (const p of pairs) {
    const board = boardBefore(p);
    const raw = renderBoard(board);
    const before = p.before_kind === 'denorm_render' ? battleView(raw) : raw;
    const golden = goRgb(`extract/${p.before}`).data;
    t.true(before.data.every((v, i) => v === golden[i]), `pair ${p.id}: before image`);
    // Perturbed, colour-flipped and erased-stone "after" images are not renders of a position.
    if (p.perturbation.kind !== 'none' || p.category === 'colour_flip' || p.category === 'occupied') continue;
    for (const m of p.new_moves) board.play(m.row, m.col, m.colour);
    const r = locateNewStone(before, renderBoard(board));
    t.deepEqual(upstreamView(r), p.result.ok ? p.result : { ok: false, exception: p.result.exception }, `pair ${p.id}`);
    endToEnd++;
  }
  t.is(endToEnd, 68);
});

function maskOf(rows: string[]): { width: number; height: number; data: Uint8Array } {
  const height = rows.length;
  const width = rows[0]!.length;
  const data = new Uint8Array(width * height);
  rows.forEach((r, y) => [...r].forEach((ch, x) => (data[y * width + x] = ch === '#' ? 255 : 0)));
  return { width, height, data };
}

test('findContours details: single pixel, simple square, hole children skipped, reverse discovery order', (t) => {
  const c = findExternalContours(
    maskOf([
      '#......',
      '.......',
      '..###..',
      '..###..',
      '..###..',
      '.......',
      '......#',
    ]),
  );
  const expected: ContourPoint[][] = [[[6, 6]], [[2, 2], [2, 4], [4, 4], [4, 2]], [[0, 0]]];
  t.deepEqual(c, expected);
  t.deepEqual(c.map(contourArea), [0, 4, 0]);
  t.deepEqual(contourMoments(c[0]!), { m00: 0, m10: 0, m01: 0 });
  const m = contourMoments(c[1]!);
  t.deepEqual([m.m00, m.m10 / m.m00, m.m01 / m.m00], [4, 3, 3]);
  // A component inside another's hole is not an external contour; one beside it is.
  const ring = findExternalContours(
    maskOf([
      '#######..',
      '#.....#..',
      '#.###.#.#',
      '#.#.#.#..',
      '#.###.#..',
      '#.....#..',
      '#######..',
    ]),
  );
  t.is(ring.length, 2);
  t.deepEqual(ring.map((r) => r[0]), [[8, 2], [0, 0]]);
  t.is(contourArea(ring[1]!), 36);
  // An image-border blob: the frame findContours adds keeps the coordinates in range.
  t.deepEqual(findExternalContours(maskOf(['##', '##'])), [[[0, 0], [0, 1], [1, 1], [1, 0]]]);
});

test("morphology anchors: erode then dilate twice shifts a blob by +1.5 px, clean stone at 128 gives cx 129", (t) => {
  const m = maskOf(['....', '.##.', '.##.', '....']);
  t.deepEqual([...morph2x2(m, 'erode').data], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0]);
  t.deepEqual([...morph2x2(m, 'dilate').data].map((v) => (v ? 1 : 0)), [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1]);
  // Two dilations == one 3x3 window at anchor (2,2).
  const big = maskOf(['#.....', '......', '...#..', '......']);
  const twice = morph2x2(big, 'dilate', 2);
  const rows = [...Array(4).keys()].map((y) => [...twice.data.subarray(y * 6, y * 6 + 6)].map((v) => (v ? '#' : '.')).join(''));
  t.deepEqual(rows, ['###...', '###...', '######', '...###']);
  const b = new GoBoard();
  const before = battleView(renderBoard(b));
  b.play(4, 4, 'b');
  const r = locateNewStone(before, renderBoard(b));
  t.like(r, { ok: true, cx: 129, cy: 129, gtp: 'E5', row: 4, col: 4 });
});

test('gray formula: fixed-point BGR2GRAY on RGB data, band filter, and the colour-flip blind spot', (t) => {
  const px = (r: number, g: number, b: number): RasterImage => ({ width: 1, height: 1, channels: 3, data: new Uint8Array([r, g, b]) });
  const zero = px(0, 0, 0);
  t.is(diffGray(zero, px(255, 0, 0)).data[0], 29); // R weighted 0.114
  t.is(diffGray(zero, px(0, 0, 255)).data[0], 76); // B weighted 0.299
  t.is(diffGray(zero, px(255, 165, 0)).data[0], (3735 * 255 + 19235 * 165 + 16384) >> 15);
  t.is(diffGray(px(255, 165, 0), px(0, 0, 0)).data[0], 126); // black stone on orange
  t.deepEqual([...bandThreshold({ width: 5, height: 1, data: new Uint8Array([89, 90, 220, 221, 255]) }).data], [0, 255, 255, 0, 0]);
  const b = new GoBoard();
  b.play(4, 4, 'b');
  const w = new GoBoard();
  w.play(4, 4, 'w');
  t.like(locateNewStone(battleView(renderBoard(b)), renderBoard(w)), { ok: false, error: 'no-contour' });
});

test('off-board result for images larger than the board, and size checks', (t) => {
  const S = 320;
  const img0: RasterImage = { width: S, height: S, channels: 3, data: new Uint8Array(S * S * 3) };
  const img1: RasterImage = { width: S, height: S, channels: 3, data: new Uint8Array(S * S * 3) };
  for (let y = 120; y < 140; y++) for (let x = 290; x < 310; x++) img1.data[(y * S + x) * 3 + 1] = 200; // gray 117
  const r = locateNewStone(img0, img1);
  t.like(r, { ok: false, error: 'off-board', gridX: 10 });
  t.throws(() => locateNewStone(img0, { ...img1, width: 256, height: 400 }), { instanceOf: RangeError });
  t.throws(() => locateNewStone(img0, { width: S, height: S, channels: 4, data: new Uint8Array(S * S * 4) }), { instanceOf: RangeError });
});
