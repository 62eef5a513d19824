import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PngError, type RasterImage, decodePng, encodePng, toRgb } from '../../src/go/png.js';
import { crc32 } from '../../src/io/zip.js';
import { Rng } from '../helpers/rng.js';
import { GO_GOLDEN, type RenderJson, goFile, goJson, goRgb, sha256 } from './golden-go.js';

test('decodes every golden render to the RGB bytes whose sha256 render.json records', (t) => {
  const meta = goJson<RenderJson>('render/render.json');
  t.is(meta.images.length, 30);
  for (const im of meta.images) {
    const img = decodePng(goFile(`render/${im.file}`));
    t.deepEqual([img.width, img.height, img.channels], [256, 256, 3], im.file);
    t.is(sha256(img.data), im.sha256_rgb, im.file);
  }
});

test('decodes every extract/img_<sha>.png (incl. noisy multi-IDAT ones) to bytes matching its name', (t) => {
  const files = readdirSync(join(GO_GOLDEN, 'extract')).filter((f) => /^img_[0-9a-f]{12}\.png$/.test(f));
  t.true(files.length > 50, `${files.length} images`);
  for (const f of files) t.is(sha256(goRgb(`extract/${f}`).data).slice(0, 12), f.slice(4, 16), f);
});

test('RGBA empty_board.png (with tEXt/pHYs chunks) drops alpha to the RGB render of no stones', (t) => {
  const rgba = decodePng(goFile('render/empty_board.png'));
  t.is(rgba.channels, 4);
  for (let i = 3; i < rgba.data.length; i += 4) if (rgba.data[i] !== 255) return t.fail(`alpha ${rgba.data[i]} at ${i}`);
  t.deepEqual(toRgb(rgba).data, goRgb('render/empty.png').data);
});

test('8-bit grey masks decode to 0/255', (t) => {
  const m = decodePng(goFile('extract/mask_000.png'));
  t.deepEqual([m.width, m.height, m.channels], [256, 256, 1]);
  t.true(m.data.every((v) => v === 0 || v === 255));
  t.true(m.data.some((v) => v === 255));
  const rgb = toRgb(m);
  t.is(rgb.data[3 * 1000 + 2], m.data[1000]);
});

test('encode -> decode round-trips every filter and channel count on awkward sizes', (t) => {
  const rng = new Rng(7);
  for (const channels of [1, 2, 3, 4] as const) {
    for (const [w, h] of [[1, 1], [7, 3], [33, 17], [2, 40]] as const) {
      const data = new Uint8Array(w * h * channels);
      // Smooth ramps plus noise: exercises every predictor's wrap-around (mod 256) paths.
      for (let i = 0; i < data.length; i++) data[i] = (i * 37 + Math.floor(rng.next() * 256)) & 0xff;
      const img: RasterImage = { width: w, height: h, channels, data };
      for (const filter of [0, 1, 2, 3, 4] as const) {
        const back = decodePng(encodePng(img, { filter }));
        t.deepEqual(back, img, `${w}x${h}x${channels} filter ${filter}`);
      }
    }
  }
});

function pngWith(ihdrPatch: Partial<Record<number, number>>): Uint8Array {
  const png = encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) });
  for (const [k, v] of Object.entries(ihdrPatch)) png[16 + Number(k)] = v!;
  const crc = crc32(png.subarray(12, 29)) >>> 0;
  new DataView(png.buffer).setUint32(29, crc);
  return png;
}

test('unsupported and broken PNGs raise named PngErrors', (t) => {
  const kind = (bytes: Uint8Array) => t.throws(() => decodePng(bytes), { instanceOf: PngError })!.kind;
  t.is(kind(new Uint8Array([1, 2, 3])), 'not-png');
  t.is(kind(goFile('render/render.json')), 'not-png');
  t.is(kind(pngWith({ 8: 16 })), 'unsupported'); // 16-bit
  t.is(kind(pngWith({ 9: 3 })), 'unsupported'); // palette
  t.is(kind(pngWith({ 8: 4, 9: 0 })), 'unsupported'); // 4-bit grey
  t.is(kind(pngWith({ 12: 1 })), 'unsupported'); // Adam7
  t.is(kind(pngWith({ 10: 1 })), 'corrupt'); // compression method
  const good = goFile('render/stamp_black.png');
  const flipped = Uint8Array.from(good);
  flipped[50] = flipped[50]! ^ 1; // inside IDAT: CRC mismatch
  t.regex(t.throws(() => decodePng(flipped), { instanceOf: PngError })!.message, /CRC mismatch in chunk IDAT/);
  t.is(kind(good.subarray(0, good.length - 20)), 'corrupt'); // truncated
  // An unknown critical chunk could change the pixels: refuse it.
  const withChunk = (type: string) => {
    const body = new Uint8Array(12 + 1);
    for (let i = 0; i < 4; i++) body[4 + i] = type.charCodeAt(i);
    new DataView(body.buffer).setUint32(0, 1);
    new DataView(body.buffer).setUint32(9, crc32(body.subarray(4, 9)) >>> 0);
    return new Uint8Array([...good.subarray(0, 33), ...body, ...good.subarray(33)]);
  };
  t.is(kind(withChunk('XBAD')), 'unsupported');
  t.deepEqual(decodePng(withChunk('xtra')), decodePng(good)); // ancillary: skipped
});

test('encodePng validates its input', (t) => {
  t.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) }), { instanceOf: RangeError });
  t.throws(() => encodePng({ width: 0, height: 2, channels: 3, data: new Uint8Array(0) }), { instanceOf: RangeError });
});
