import test from 'ava';
import { GoBoard } from '../../src/go/board.js';
import { type RasterImage } from '../../src/go/png.js';
import {
  BOARD_IMAGE_SIZE,
  battleView,
  denormalizeImage,
  denormalizeValue,
  emptyBoardImage,
  intersectionPixel,
  normalizeImage,
  normalizeValue,
  renderBoard,
  renderMoves,
  stoneStamp,
} from '../../src/go/render.js';
import { type RenderJson, goJson, goRgb, sha256 } from './golden-go.js';

const meta = goJson<RenderJson>('render/render.json');

/** Byte equality without ava's structural diff (slow on 196k-element arrays). */
function sameImage(a: RasterImage, b: RasterImage): boolean {
  return a.width === b.width && a.height === b.height && a.channels === b.channels && a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
}

function maxAbsDiff(a: RasterImage, b: RasterImage): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.data.length };
}

test('embedded assets are the golden empty_board.png (RGB) and the two stamps', (t) => {
  t.true(sameImage(emptyBoardImage(), goRgb('render/empty_board.png')));
  t.true(sameImage(stoneStamp('b'), goRgb('render/stamp_black.png')));
  t.true(sameImage(stoneStamp('w'), goRgb('render/stamp_white.png')));
  // Copies: mutating one must not leak into later renders.
  emptyBoardImage().data.fill(0);
  t.true(sameImage(renderBoard([]), goRgb('render/empty.png')));
});

test('the stamps are the 29x29 windows of the E5 renders, which equal the empty board elsewhere', (t) => {
  const board = emptyBoardImage();
  const { x, y } = intersectionPixel(4, 4);
  t.deepEqual([x, y], [128, 128]);
  for (const colour of ['b', 'w'] as const) {
    const s = stoneStamp(colour);
    const e5 = goRgb(`render/single_${colour}_E5.png`);
    let inside = 0;
    let outside = 0;
    for (let py = 0; py < 256; py++) {
      for (let px = 0; px < 256; px++) {
        const sx = px - x + 14;
        const sy = py - y + 14;
        const inWindow = sx >= 0 && sx < 29 && sy >= 0 && sy < 29;
        const ref = inWindow ? s.data.subarray((sy * 29 + sx) * 3, (sy * 29 + sx) * 3 + 3) : board.data.subarray((py * 256 + px) * 3, (py * 256 + px) * 3 + 3);
        for (let c = 0; c < 3; c++) if (e5.data[(py * 256 + px) * 3 + c] !== ref[c]) inWindow ? inside++ : outside++;
      }
    }
    t.is(inside, 0, `${colour}: window differs from the stamp`);
    t.is(outside, 0, `${colour}: outside the window differs from the empty board`);
  }
});

test('stamp model: every golden render (30) is reproduced bit-exactly, plus its battle-loop view', (t) => {
  t.is(meta.images.length, 30);
  t.is(meta.stamp_model.renders_reproduced_exactly, '30/30');
  let worst = 0;
  for (const im of meta.images) {
    t.true(im.stamp_model_exact, im.name);
    const golden = goRgb(`render/${im.file}`);
    const mine = renderMoves(im.moves);
    t.deepEqual([mine.width, mine.height, mine.channels], [BOARD_IMAGE_SIZE, BOARD_IMAGE_SIZE, 3]);
    const { max, mean } = maxAbsDiff(mine, golden);
    worst = Math.max(worst, max);
    t.is(max, 0, `${im.name}: max |diff| ${max}, mean ${mean}`);
    t.is(sha256(mine.data), im.sha256_rgb, im.name);
    t.is(sha256(battleView(mine).data), im.sha256_denorm_rgb, `${im.name} de-normalised view`);
    t.true(sameImage(renderBoard(im.stones_on_board), mine), `${im.name}: board stones vs move replay`);
  }
  t.is(worst, 0);
});

test('renderBoard takes a GoBoard and rejects off-board stones and unknown colours', (t) => {
  const b = new GoBoard();
  b.play(0, 0, 'b');
  b.play(8, 8, 'w');
  t.true(sameImage(renderBoard(b), renderMoves([{ colour: 'b', row: 0, col: 0 }, { colour: 'w', row: 8, col: 8 }])));
  t.throws(() => renderBoard([{ colour: 'b', row: 9, col: 0 }]), { instanceOf: RangeError });
  t.throws(() => renderBoard([{ colour: 'x' as 'b', row: 1, col: 1 }]), { instanceOf: RangeError });
});

test('de-normalisation LUT of render.json: uint8(clamp((f32(p/127-1)+1)*127)) with truncation', (t) => {
  const lut = meta.battle_denorm_lut.lut;
  t.is(lut.length, 256);
  const changed: number[] = [];
  for (let p = 0; p < 256; p++) {
    t.is(denormalizeValue(normalizeValue(p)), lut[p]!, `p = ${p}`);
    if (lut[p] !== p) changed.push(p);
  }
  // README: 1-7, 18-23, 36-39, 52-55, 72-75, 104, 105, 144, 207-214, 255 each become p-1.
  t.is(changed.length, 7 + 6 + 4 + 4 + 4 + 2 + 1 + 8 + 1);
  t.true(changed.every((p) => lut[p] === p - 1));
});

test('normalisation values: p/127-1 clamped (later turns), 2p/255-1 in float32 (turn 0)', (t) => {
  t.is(normalizeValue(255), 1);
  t.is(normalizeValue(0), -1);
  t.is(normalizeValue(127), 0);
  t.is(normalizeValue(254), 1);
  t.is(normalizeValue(200), Math.fround(200 / 127 - 1));
  t.is(normalizeValue(255, 'first-turn'), 1);
  t.is(normalizeValue(0, 'first-turn'), -1);
  for (let p = 0; p < 256; p++) {
    const x = normalizeValue(p, 'first-turn');
    t.is(x, Math.fround(x));
    t.true(Math.abs(x - (2 * p) / 255 + 1) < 1.2e-7, `p = ${p}: ${x}`);
  }
  t.is(denormalizeValue(-3), 0);
  t.is(denormalizeValue(3), 255);
  t.is(denormalizeValue(1), 254);
  t.is(denormalizeValue(0.999), 253);
  t.is(denormalizeValue(Number.NaN), 0);
});

test('normalizeImage is NCHW [1,3,H,W] float32; denormalizeImage inverts the layout', (t) => {
  const img: RasterImage = { width: 2, height: 1, channels: 3, data: new Uint8Array([255, 0, 127, 10, 20, 30]) };
  const x = normalizeImage(img);
  t.deepEqual([...x], [1, normalizeValue(10), -1, normalizeValue(20), 0, normalizeValue(30)]);
  const back = denormalizeImage(x, 2, 1);
  const lut = meta.battle_denorm_lut.lut;
  t.deepEqual([...back.data], [255, 0, 127, 10, 20, 30].map((p) => lut[p]));
  t.throws(() => denormalizeImage(x, 3, 1), { instanceOf: RangeError });
  t.throws(() => normalizeImage({ width: 2, height: 1, channels: 4, data: new Uint8Array(8) }), { instanceOf: RangeError });
  const first = normalizeImage(emptyBoardImage(), 'first-turn');
  t.is(first.length, 3 * 256 * 256);
  t.is(first[0], 1); // orange R = 255
  t.is(first[256 * 256], Math.fround(Math.fround(Math.fround(165 / 255) - 0.5) * 2));
});
