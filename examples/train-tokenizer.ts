// Train an image tokenizer (FSQ VQ-GAN, the VideoWorld family) on rendered Go boards, on WebGPU:
// every forward kernel is recorded on an autograd tape, backpropagated through the WGSL backward
// kernels, and AdamW updates the fp32 weights on the GPU.
//
//   npm run example:train                                  # 16 boards at 16x16, until MSE < 1e-3
//   npx tsx examples/train-tokenizer.ts --boards 64 --steps 2000 --out /tmp/tok
//   npx tsx examples/train-tokenizer.ts --resume /tmp/tok/checkpoint.safetensors
//
// Writes <out>/checkpoint.safetensors (weights + AdamW state + step + data RNG: resumes
// bit-identically), <out>/loss.svg and <out>/recon.png (inputs above, reconstructions below).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { denormalizeImage, encodePng } from '../src/go/index.js';
import { noGrad } from '../src/graph/autograd.js';
import { mse } from '../src/graph/ops.js';
import { randomInitSource } from '../src/graph/weights.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { ImageTokenizer, SMALL_TOKENIZER } from '../src/models/videoworld/tokenizer.js';
import { createNodeContext } from '../src/node.js';
import { restoreCheckpoint } from '../src/train/checkpoint.js';
import { goBoardImages } from '../src/train/go-data.js';
import { lossCurveSvg, trainLoop } from '../src/train/loop.js';
import { AdamW, warmupCosine } from '../src/train/optim.js';

const { values } = parseArgs({
  options: {
    boards: { type: 'string', default: '16' },
    size: { type: 'string', default: '16' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '300' },
    lr: { type: 'string', default: '5e-3' },
    target: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: join(tmpdir(), 'videoworld-train') },
    resume: { type: 'string' },
  },
});
const [nBoards, size, batch, steps, seed] = ['boards', 'size', 'batch', 'steps', 'seed'].map((k) => Number(values[k as 'boards']));
const lr = Number(values.lr);
for (const [k, v] of Object.entries({ boards: nBoards, size, batch, steps, lr })) if (!(v! > 0)) throw new Error(`--${k} must be a number > 0, got ${values[k as 'boards']}`);


mkdirSync(values.out!, { recursive: true });
const ctx = await createNodeContext();
const { images } = goBoardImages(nBoards!, size!, seed!);
const per = 3 * size! * size!;
const tok = new ImageTokenizer(SMALL_TOKENIZER).train();
await tok.load(ctx, randomInitSource(tok.namedParams(), seed));
console.error(`tokenizer: ${tok.paramCount()} parameters, ${nBoards} boards ${size}x${size}, batch ${batch}, up to ${steps} steps`);
const opt = new AdamW(tok.parameters(), { lr, weightDecay: 0 });
const resume = values.resume ? restoreCheckpoint(parseSafetensors(new Uint8Array(readFileSync(values.resume)), values.resume), tok, opt) : undefined;
if (resume) console.error(`resumed at step ${resume.step}`);
const ckptPath = join(values.out!, 'checkpoint.safetensors');

const r = await trainLoop({
  ctx,
  model: tok,
  optimizer: opt,
  steps: steps!,
  seed,
  resume,
  batch: (_step, _micro, rng) => {
    const order = rng.permutation(nBoards!).slice(0, Math.min(batch!, nBoards!));
    const data = new Float32Array(order.length * per);
    order.forEach((b, i) => data.set(images.subarray(b * per, (b + 1) * per), i * per));
    return ctx.fromArray(data, [order.length, 3, size!, size!]);
  },
  loss: (x) => mse(tok.reconstruct(x).recon, x),
  schedule: warmupCosine({ lr, warmupSteps: 10, totalSteps: steps!, minLr: lr / 10 }),
  clip: 1,
  targetLoss: Number(values.target),
  logEvery: 10,
  checkpoint: { every: 50, save: (bytes) => writeFileSync(ckptPath, bytes) },
});

writeFileSync(join(values.out!, 'loss.svg'), lossCurveSvg(r.losses, `tokenizer reconstruction MSE (${nBoards} Go boards, ${size}x${size})`));
// A strip of up to 8 boards: inputs on top, reconstructions below.
const show = Math.min(8, nBoards!);
const x = ctx.fromArray(images.subarray(0, show * per), [show, 3, size!, size!]);
const recon = await noGrad(ctx, () => tok.reconstruct(x).recon).read();
// Nearest-neighbour zoom so a 16x16 board is visible at a glance.
const zoom = Math.max(1, Math.floor(128 / size!));
const [W, H] = [show * size! * zoom, 2 * size! * zoom];
const strip = new Uint8Array(W * H * 3);
for (const [row, src] of [images, recon].entries()) {
  for (let b = 0; b < show; b++) {
    const img = denormalizeImage(src.subarray(b * per, (b + 1) * per), size, size);
    for (let y = 0; y < size! * zoom; y++) {
      for (let x = 0; x < size! * zoom; x++) {
        const s = (Math.floor(y / zoom) * size! + Math.floor(x / zoom)) * 3;
        strip.set(img.data.subarray(s, s + 3), ((row * size! * zoom + y) * W + b * size! * zoom + x) * 3);
      }
    }
  }
}
writeFileSync(join(values.out!, 'recon.png'), encodePng({ width: W, height: H, channels: 3, data: strip }));
console.log(JSON.stringify({ steps: r.steps, final_mse: r.losses.at(-1), seconds: Number(r.seconds.toFixed(1)), stopped: r.stoppedAt, out: values.out }));
await ctx.destroy();
