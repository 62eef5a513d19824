/**
 * The browser demo (examples/browser/index.html): adapter info, a kernel microbenchmark against the
 * CPU references, and one move of the Go model drawn on canvases. Build and serve:
 *   npm run example:browser      # http://127.0.0.1:8080/
 */
import {
  type GpuContext, type Tensor, attention, attentionRef, causalConv3d, causalConv3dGeometry, convRef, createContext, matmul, matmulRef, rmsNorm,
  rowNormRef, softmax, softmaxRef,
} from '../../kernels/index.js';
import { type RasterImage, GoGame, parseGtp, renderBoard } from '../../src/go/index.js';
import { parseSafetensors } from '../../src/io/safetensors.js';
import { safetensorsSource } from '../../src/graph/weights.js';
import { modelMove } from '../../src/models/videoworld/go-player.js';
import { PRESETS, microLayout } from '../../src/models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../../src/models/videoworld/videoworld.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string) => ($('status').textContent = s);

interface BenchCase {
  kernel: string;
  shape: string;
  flops: number;
  /** Uploads inputs; returns the GPU call and the float64 reference. */
  setup: (ctx: GpuContext, rand: (n: number) => Float32Array) => { run: () => Tensor; ref: () => ArrayLike<number> };
}

const CASES: BenchCase[] = [
  ...[256, 512].map((n): BenchCase => ({
    kernel: 'matmul', shape: `[${n},${n}]x[${n},${n}]`, flops: 2 * n ** 3, setup: (ctx, rand) => {
      const [a, b] = [rand(n * n), rand(n * n)];
      const [at, bt] = [ctx.fromArray(a, [n, n]), ctx.fromArray(b, [n, n])];
      return { run: () => matmul(at, bt), ref: () => matmulRef(a, [n, n], b, [n, n]).data };
    },
  })),
  {
    kernel: 'softmax', shape: '[64,4096]', flops: 5 * 64 * 4096, setup: (ctx, rand) => {
      const x = rand(64 * 4096);
      const xt = ctx.fromArray(x, [64, 4096]);
      return { run: () => softmax(xt), ref: () => softmaxRef(x, 4096) };
    },
  },
  {
    kernel: 'rmsNorm', shape: '[4096,1024]', flops: 4 * 4096 * 1024, setup: (ctx, rand) => {
      const [x, w] = [rand(4096 * 1024), rand(1024)];
      const [xt, wt] = [ctx.fromArray(x, [4096, 1024]), ctx.fromArray(w, [1024])];
      return { run: () => rmsNorm(xt, { weight: wt }), ref: () => rowNormRef('rms', x, 1024, { weight: w }) };
    },
  },
  {
    kernel: 'attention (causal)', shape: 'B1 NH8 L256 HD64', flops: 2 * 2 * 8 * 256 * 256 * 64 / 2, setup: (ctx, rand) => {
      const sh = { B: 1, NH: 8, Lq: 256, Lk: 256, HD: 64 };
      const [q, k, v] = [rand(8 * 256 * 64), rand(8 * 256 * 64), rand(8 * 256 * 64)];
      const [qt, kt, vt] = [q, k, v].map((a) => ctx.fromArray(a, [1, 8, 256, 64])) as [Tensor, Tensor, Tensor];
      return { run: () => attention(qt, kt, vt, { causal: true }), ref: () => attentionRef(q, k, v, sh, { causal: true }) };
    },
  },
  {
    kernel: 'causalConv3d', shape: 'x [1,32,4,32,32] w [32,32,3,3,3]', flops: 2 * 32 * 32 * 27 * 4 * 32 * 32, setup: (ctx, rand) => {
      const [xs, ws] = [[1, 32, 4, 32, 32], [32, 32, 3, 3, 3]];
      const [x, w] = [rand(32 * 4 * 32 * 32), rand(32 * 32 * 27)];
      const [xt, wt] = [ctx.fromArray(x, xs), ctx.fromArray(w, ws)];
      return { run: () => causalConv3d(xt, wt), ref: () => convRef(x, w, causalConv3dGeometry(xs, ws)) };
    },
  },
];

/** Deterministic inputs in [-1, 1) (an LCG; the values only need to be the same on every run). */
function randomArrays(seed: number) {
  let s = seed >>> 0;
  return (n: number) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1);
}

const nextFrame = () => new Promise((r) => setTimeout(r, 0));

async function bench(ctx: GpuContext): Promise<void> {
  const body = $('bench').querySelector('tbody')!;
  for (const c of CASES) {
    const tr = body.insertRow();
    tr.innerHTML = `<td>${c.kernel}</td><td>${c.shape}</td><td colspan=4>running...</td>`;
    await nextFrame();
    const { run, ref } = c.setup(ctx, randomArrays(1));
    await run().read(); // pipelines compile here, not in the timed runs
    const times: number[] = [];
    let y: Float32Array = new Float32Array();
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const out = run();
      await ctx.sync();
      times.push(performance.now() - t0);
      if (i === 4) y = (await out.read()) as Float32Array;
      out.dispose();
    }
    const gpuMs = times.sort((a, b) => a - b)[2]!;
    const t0 = performance.now();
    const r = ref();
    const cpuMs = performance.now() - t0;
    let err = 0;
    for (let i = 0; i < r.length; i++) err = Math.max(err, Math.abs(y[i]! - r[i]!));
    tr.innerHTML = `<td>${c.kernel}</td><td>${c.shape}</td><td>${gpuMs.toFixed(2)}</td><td>${(c.flops / gpuMs / 1e6).toFixed(2)}</td><td>${cpuMs.toFixed(1)}</td><td class="${err < 1e-3 ? '' : 'bad'}">${err.toExponential(2)}</td>`;
  }
}

/** Draws an RGB image scaled to the canvas (nearest neighbour). */
function draw(canvas: HTMLCanvasElement, img: RasterImage): void {
  const rgba = new ImageData(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) {
    rgba.data.set(img.data.subarray(i * 3, i * 3 + 3), i * 4);
    rgba.data[i * 4 + 3] = 255;
  }
  const src = document.createElement('canvas');
  [src.width, src.height] = [img.width, img.height];
  src.getContext('2d')!.putImageData(rgba, 0, 0);
  const g = canvas.getContext('2d')!;
  g.imageSmoothingEnabled = false;
  g.drawImage(src, 0, 0, canvas.width, canvas.height);
}

/** The micro model trained in this project when the server has its weights, else `tiny` with stand-in weights. */
async function loadModel(ctx: GpuContext): Promise<{ model: VideoWorldGo; label: string }> {
  const onProgress = (done: number, total: number) => status(`loading weights: ${done}/${total} tensors`);
  const res = await fetch('weights/go-micro.safetensors');
  if (res.ok) {
    status('downloading weights/go-micro.safetensors...');
    const st = parseSafetensors(new Uint8Array(await res.arrayBuffer()), 'go-micro.safetensors');
    const preset = PRESETS.micro;
    // The file says whether it was trained with latent-action tokens (src/apps/go-model.ts).
    const layout = microLayout(st.metadata);
    const model = new VideoWorldGo(preset, preset.transformer, layout);
    await model.load(ctx, safetensorsSource(st), { onProgress });
    return { model, label: `the micro model trained in this project (weights/go-micro.safetensors${st.metadata.layout === 'no-ldm' ? ', without latent actions' : ''})` };
  }
  const model = new VideoWorldGo(PRESETS.tiny);
  await model.load(ctx, randomWeights(model), { onProgress });
  return { model, label: 'weights/go-micro.safetensors is not on the server: the tiny preset with stand-in weights (its boards are noise, so is its move)' };
}

async function playOne(ctx: GpuContext, model: VideoWorldGo): Promise<void> {
  const game = new GoGame();
  for (const name of $<HTMLInputElement>('moves').value.split(/[\s,]+/).filter(Boolean)) {
    const pass = name.toLowerCase() === 'pass';
    const p = pass ? null : parseGtp(name);
    if (!pass && !p) throw new Error(`unknown point '${name}' (A1..J9 without I, or pass)`);
    const why = p && game.whyIllegal(p);
    if (why) throw new Error(`${name}: ${why}`);
    game.play(p);
  }
  draw($('before'), renderBoard(game.board()));
  const t0 = performance.now();
  let tokens = 0;
  const r = await modelMove(ctx, model, game, {
    tries: 3,
    seed: 1,
    onToken: (_id, step, attempt) => {
      tokens++;
      if (step % 4 === 0) status(`try ${attempt + 1}: token ${step + 1} (${((1000 * tokens) / (performance.now() - t0)).toFixed(1)} tokens/s)`);
    },
    onTry: (t) => {
      status(`try ${t.attempt + 1}: ${t.move ?? 'no move'} (${(t.ms / 1000).toFixed(1)} s)`);
    },
  });
  draw($('after'), r.generated);
  const side = game.toPlay === 'b' ? 'Black' : 'White';
  const short = (why: string) => (why.length > 100 ? `${why.slice(0, 100)}...` : why);
  status(r.ok ? `${side} plays ${r.gtp} (try ${r.tries}, ${r.seconds.toFixed(1)} s; ${r.stagesMs.tokensPerSecond.toFixed(1)} tokens/s)` : `no legal move in ${r.tries} tries (${r.seconds.toFixed(1)} s): ${r.reasons.map(short).join('; ')}`);
}

async function main(): Promise<void> {
  const ctx = await createContext();
  const info = (ctx.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  $('adapter').textContent = [
    `adapter: ${ctx.adapterInfo}`,
    `subgroup size: ${info?.subgroupMinSize ?? '?'}..${info?.subgroupMaxSize ?? '?'} (subgroup kernels ${ctx.hasSubgroups(8) ? 'on' : 'off: they need >= 8'})`,
    ...ctx.describe().slice(1),
  ].join('\n');
  await bench(ctx);
  const { model, label } = await loadModel(ctx);
  $('weights').textContent = `weights: ${label}`;
  const button = $<HTMLButtonElement>('play');
  const play = async () => {
    button.disabled = true;
    try {
      await playOne(ctx, model);
    } catch (e) {
      status(`error: ${(e as Error).message}`);
    }
    button.disabled = false;
  };
  button.onclick = play;
  await play();
}

main().catch((e) => {
  status(`error: ${(e as Error).message}`);
  $('adapter').textContent = String((e as Error).message);
});
