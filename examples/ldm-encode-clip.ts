// The Latent Dynamics Model on one move: a clip of two boards (before, after) -> its latent action
// code (one FSQ index) -> the clip decoded back from that code and the first frame's features.
//
//   npx tsx examples/ldm-encode-clip.ts                        # preset tiny, stand-in weights (decoded frames are noise)
//   npx tsx examples/ldm-encode-clip.ts --preset micro         # weights/go-micro-ldm.safetensors when it exists
//   npx tsx examples/ldm-encode-clip.ts --moves "D6 E5 C3" --next G7
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { replayMoveList } from '../src/apps/go-commands.js';
import { shippedWeights } from '../src/apps/go-model.js';
import { safetensorsSource } from '../src/graph/weights.js';
import { denormalizeImage, encodePng, normalizeImage } from '../src/go/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { boardImage, resizeImage } from '../src/models/videoworld/go-player.js';
import { LatentDynamicsModel } from '../src/models/videoworld/ldm.js';
import { PRESETS, type PresetName } from '../src/models/videoworld/presets.js';
import { randomWeights } from '../src/models/videoworld/videoworld.js';
import { createNodeContext } from '../src/node.js';

const { values: o } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tiny' },
    moves: { type: 'string', default: 'D6 E5' },
    next: { type: 'string', default: 'C3' },
    out: { type: 'string', default: join(tmpdir(), 'videoworld-ldm') },
  },
});
if (!(o.preset! in PRESETS)) throw new Error(`--preset ${o.preset}: one of ${Object.keys(PRESETS).join(', ')}`);
const preset = PRESETS[o.preset as PresetName];
const S = preset.imageSize;

// The clip [1, 3, 2, S, S]: both boards as the model sees them (tiny: 32 px resized renders,
// micro: 20 px grid images), values in [-1, 1], frames interleaved per channel.
const boards = [replayMoveList(o.moves!, 'standard'), replayMoveList(`${o.moves} ${o.next}`, 'standard')].map((g) => boardImage(preset, g.board()));
const clip = new Float32Array(3 * 2 * S * S);
boards.forEach((img, t) => normalizeImage(img).forEach((v, i) => (clip[Math.floor(i / (S * S)) * 2 * S * S + t * S * S + (i % (S * S))] = v)));

const ctx = await createNodeContext();
try {
  const ldm = new LatentDynamicsModel(preset.ldm);
  const file = shippedWeights('go-micro-ldm');
  const trained = o.preset === 'micro' && existsSync(file);
  await ldm.load(ctx, trained ? safetensorsSource(parseSafetensors(new Uint8Array(readFileSync(file)))) : randomWeights(ldm));
  console.log(`LDM ${preset.name}: ${(ldm.paramCount() / 1e6).toFixed(2)} M params, ${trained ? file : 'stand-in weights (hinit-v1): the code means nothing, the decoded frames are noise'}`);

  let t0 = performance.now();
  const enc = ldm.encode(ctx.fromArray(clip, [1, 3, 2, S, S]));
  const code = (await enc.indices.read())[0];
  console.log(`encode: latent action code ${code} of ${preset.ldm.levels.reduce((a, b) => a * b, 1)} (FSQ levels ${preset.ldm.levels.join(',')}), ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  const decoded = ldm.decode(enc.codes, enc.preEncodeOut);
  const [, , T, H, W] = decoded.shape as number[];
  const x = await decoded.read();
  console.log(`decode: clip [1, 3, ${T}, ${H}, ${W}], ${(performance.now() - t0).toFixed(0)} ms`);
  for (const t of [enc.indices, enc.codes, enc.features, enc.preEncodeOut, decoded]) t.dispose();

  mkdirSync(o.out!, { recursive: true });
  const big = (img: ReturnType<typeof boardImage>) => resizeImage(img, img.width * Math.ceil(160 / img.width));
  boards.forEach((img, t) => writeFileSync(join(o.out!, `input-${t}.png`), encodePng(big(img))));
  for (let t = 0; t < T!; t++) {
    // Frame t of channel-major [3, T, H, W] -> [3, H, W].
    const frame = new Float32Array(3 * H! * W!);
    for (let c = 0; c < 3; c++) frame.set(x.subarray((c * T! + t) * H! * W!, (c * T! + t + 1) * H! * W!), c * H! * W!);
    writeFileSync(join(o.out!, `decoded-${t}.png`), encodePng(big(denormalizeImage(frame, W, H))));
  }
  console.log(`PNGs (upscaled to >= 160 px): ${o.out}/input-{0,1}.png, decoded-{0..${T! - 1}}.png`);
} finally {
  await ctx.destroy();
}
