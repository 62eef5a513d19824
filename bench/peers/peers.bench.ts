/**
 * Our kernels against their peers at the standard shapes (and at smoke-test sizes for `--quick`):
 * matmul, conv3d_causal, attention and softmax, each run by
 *   ours          our WGSL kernel (kernels/<id>.ts)
 *   cpu-ref       our CPU reference (the same module's *Ref, doubles)
 *   ort-web       onnxruntime-web, WebGPU execution provider, CPU fallback disabled
 *   tfjs-webgpu   TF.js with @tensorflow/tfjs-backend-webgpu
 *   gpujs-webgpu  gpu.js in its 'webgpu' mode (matmul: the README kernel; it has no op library)
 *   gpujs         gpu.js in its default 'gpu' mode, reporting the backend it fell back to
 *   ort-node      native onnxruntime on the CPU (both cores): the ceiling of this machine
 * The peer libraries are a package of their own (bench/peers/package.json), installed by
 * `npm run bench:peers:install`, which bench/run.ts runs when a selected case needs them.
 * Peer rows carry our kernel id and the shape string of our kernel's own bench file, so the
 * harness links them to our row (the runner keeps the first case of each kernel/impl/shape, in
 * the order of the file names, so where bench/<id>.bench.ts sorts before peers.bench.ts and
 * already times ours at that shape, its row is the one compared).
 * Every implementation is checked against the CPU reference (computed once per shape) before it
 * is timed.
 */
import { compareClose } from '../../test/helpers/close.js';
import { Rng } from '../../test/helpers/rng.js';
import * as kernels from '../../kernels/index.js';
import * as internal from '../../kernels/internal.js';
import type { GpuContext, Tensor } from '../../kernels/index.js';
import { type BenchCase, type BenchRole, type BenchRun, Unavailable } from '../harness.js';
import { type OnnxGraph, encodeModel } from '../onnx.js';
import { type GpuJsKernel, gpuBuffer, gpuJs, ortNode, ortWeb, ortWebSessionOptions, readGpuBuffer, tfjs } from './peers.js';

type TfTensor = import('@tensorflow/tfjs').Tensor;
type Tf = typeof import('@tensorflow/tfjs');

interface Problem {
  kernel: string;
  shape: string;
  quick: boolean;
  flops?: number;
  bytes: number;
  /** Seeded inputs in our layouts. */
  inputs: Record<string, { data: Float32Array; shape: number[] }>;
  /** Our CPU reference on the inputs (the cpu-ref row times this). */
  compute: () => Float64Array;
  /** compute(), memoised: what every implementation is checked against. */
  reference: () => Float64Array;
  tol: { atol: number; rtol: number };
  /** Runs our kernel into `out` (throws Unavailable if the kernel is not exported yet). */
  ours: (t: Record<string, Tensor>, out: Tensor) => void;
  outShape: number[];
  onnx?: { graph: OnnxGraph; feeds: Record<string, { data: Float32Array; shape: number[] }>; toOurs: (y: Float32Array) => Float32Array; op: string };
  /** TF.js formulation; `compare` maps its output onto (part of) the reference. */
  tf?: { op: string; build: (tf: Tf) => { inputs: TfTensor[]; run: () => TfTensor; compare?: (y: Float32Array) => { actual: Float32Array; expected: Float64Array } } };
  gpujs?: string;
}

const K = { ...kernels, ...internal };

function memo<T>(f: () => T): () => T {
  let v: { x: T } | null = null;
  return () => (v ??= { x: f() }).x;
}

/** Our kernel function or reference, looked up at run time so a missing one is a row, not a crash. */
function fn<N extends keyof typeof K>(name: N): (typeof K)[N] {
  const f = (K as Record<string, unknown>)[name];
  if (typeof f !== 'function') throw new Unavailable(`kernels/index.ts (or internal.ts) does not export \`${name}\` yet`);
  return f as (typeof K)[N];
}

function check(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol: number; rtol: number }, shape?: number[]): void {
  const r = compareClose(actual, expected, { ...tol, name: what, shape });
  if (!r.ok) throw new Error(r.report);
}

/** [B, NH, S, HD] <-> [B, S, NH*HD] (the MultiHeadAttention layout). */
function headsToHidden(x: Float32Array, nh: number, s: number, hd: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let h = 0; h < nh; h++) for (let i = 0; i < s; i++) y.set(x.subarray((h * s + i) * hd, (h * s + i + 1) * hd), (i * nh + h) * hd);
  return y;
}
function hiddenToHeads(y: Float32Array, nh: number, s: number, hd: number): Float32Array {
  const x = new Float32Array(y.length);
  for (let h = 0; h < nh; h++) for (let i = 0; i < s; i++) x.set(y.subarray((i * nh + h) * hd, (i * nh + h + 1) * hd), (h * s + i) * hd);
  return x;
}

function matmulProblem(M: number, Kd: number, N: number, quick: boolean): Problem {
  const rng = new Rng(M * 7 + Kd * 13 + N);
  const a = rng.array(M * Kd);
  const b = rng.array(Kd * N);
  const compute = () => fn('matmulRef')(a, [M, Kd], b, [Kd, N]).data;
  return {
    kernel: 'matmul',
    shape: `[${M},${Kd}]x[${Kd},${N}]`,
    quick,
    flops: 2 * M * N * Kd,
    bytes: 4 * (M * Kd + Kd * N + M * N),
    inputs: { a: { data: a, shape: [M, Kd] }, b: { data: b, shape: [Kd, N] } },
    compute,
    reference: memo(compute),
    tol: { atol: 3e-5 * Math.sqrt(Kd), rtol: 1e-5 },
    ours: (t, out) => void fn('matmul')(t.a!, t.b!, { out }),
    outShape: [M, N],
    onnx: {
      op: 'MatMul',
      graph: { nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', shape: [M, Kd] }, { name: 'b', shape: [Kd, N] }], outputs: [{ name: 'y', shape: [M, N] }] },
      feeds: { a: { data: a, shape: [M, Kd] }, b: { data: b, shape: [Kd, N] } },
      toOurs: (y) => y,
    },
    tf: {
      op: 'tf.matMul',
      build: (tf) => {
        const ta = tf.tensor2d(a, [M, Kd]);
        const tb = tf.tensor2d(b, [Kd, N]);
        return { inputs: [ta, tb], run: () => tf.matMul(ta, tb) };
      },
    },
    gpujs: 'matmul',
  };
}

function conv3dProblem(C: number, T: number, H: number, W: number, Co: number, quick: boolean): Problem {
  const rng = new Rng(C * 31 + T * 7 + H + Co);
  const xShape = [1, C, T, H, W];
  const wShape = [Co, C, 3, 3, 3];
  const x = rng.array(C * T * H * W);
  const w = rng.array(Co * C * 27, -0.1, 0.1);
  const g = fn('causalConv3dGeometry')(xShape, wShape);
  const compute = () => fn('convRef')(x, w, g);
  const reference = memo(compute);
  const outShape = [1, Co, T, H, W];
  return {
    kernel: 'conv3d_causal',
    shape: `x[1,${C},${T},${H},${W}] w[${Co},${C},3,3,3]`,
    quick,
    flops: 2 * Co * C * 27 * T * H * W,
    bytes: 4 * (x.length + w.length + Co * T * H * W),
    inputs: { x: { data: x, shape: xShape }, w: { data: w, shape: wShape } },
    compute,
    reference,
    // Peers sum the K = Cin*27 products in other orders than our kernel, hence 4x its tolerance.
    tol: { atol: 4 * fn('convTolerance')(g).atol, rtol: 1e-5 },
    ours: (t, out) => void fn('causalConv3d')(t.x!, t.w!, { out }),
    outShape,
    onnx: {
      op: 'Conv pads=[2,1,1,0,1,1] (causal in time)',
      graph: {
        nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3, 3], pads: [2, 1, 1, 0, 1, 1] } }],
        inputs: [{ name: 'x', shape: xShape }],
        initializers: [{ name: 'w', shape: wShape, data: w }],
        outputs: [{ name: 'y', shape: outShape }],
      },
      feeds: { x: { data: x, shape: xShape } },
      toOurs: (y) => y,
    },
    tf: {
      // tf.conv3d pads 'same' (one frame on each side in time) and has no causal padding, so its
      // output frame t equals our frame t + 1 for t < T - 1: those frames are compared.
      op: "tf.conv3d NDHWC pad 'same'",
      build: (tf) => {
        const input = tf.tidy(() => tf.tensor5d(x, [1, C, T, H, W]).transpose([0, 2, 3, 4, 1])) as import('@tensorflow/tfjs').Tensor5D;
        const filter = tf.tidy(() => tf.tensor5d(w, [Co, C, 3, 3, 3]).transpose([2, 3, 4, 1, 0])) as import('@tensorflow/tfjs').Tensor5D;
        return {
          inputs: [input, filter],
          run: () => tf.conv3d(input, filter, [1, 1, 1], 'same'),
          compare: (y) => {
            const ref = reference();
            const n = Co * (T - 1) * H * W;
            const actual = new Float32Array(n);
            const expected = new Float64Array(n);
            let i = 0;
            for (let co = 0; co < Co; co++)
              for (let t = 0; t < T - 1; t++)
                for (let q = 0; q < H * W; q++, i++) {
                  actual[i] = y[(t * H * W + q) * Co + co]!;
                  expected[i] = ref[(co * T + t + 1) * H * W + q]!;
                }
            return { actual, expected };
          },
        };
      },
    },
  };
}

function attentionProblem(S: number, NH: number, HD: number, quick: boolean): Problem {
  const rng = new Rng(S * 3 + NH * 5 + HD);
  const shape = [1, NH, S, HD];
  const q = rng.array(NH * S * HD);
  const k = rng.array(NH * S * HD);
  const v = rng.array(NH * S * HD);
  const compute = () => fn('attentionRef')(q, k, v, { B: 1, NH, Lq: S, Lk: S, HD });
  const hidden = [1, S, NH * HD];
  return {
    kernel: 'attention',
    shape: `S=${S} ${NH}x${HD} non-causal, scratch 0 B`,
    quick,
    flops: 4 * NH * S * S * HD,
    bytes: 4 * 4 * NH * S * HD,
    inputs: { q: { data: q, shape }, k: { data: k, shape }, v: { data: v, shape } },
    compute,
    reference: memo(compute),
    tol: { atol: 1e-4, rtol: 1e-4 },
    ours: (t, out) => void fn('attention')(t.q!, t.k!, t.v!, { out }),
    outShape: shape,
    onnx: {
      op: 'com.microsoft.MultiHeadAttention',
      graph: {
        nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['y'], attrs: { num_heads: NH } }],
        inputs: [{ name: 'q', shape: hidden }, { name: 'k', shape: hidden }, { name: 'v', shape: hidden }],
        outputs: [{ name: 'y', shape: hidden }],
      },
      feeds: { q: { data: headsToHidden(q, NH, S, HD), shape: hidden }, k: { data: headsToHidden(k, NH, S, HD), shape: hidden }, v: { data: headsToHidden(v, NH, S, HD), shape: hidden } },
      toOurs: (y) => hiddenToHeads(y, NH, S, HD),
    },
    tf: {
      op: 'matMul+softmax+matMul (TF.js has no fused attention)',
      build: (tf) => {
        const [tq, tk, tv] = [q, k, v].map((d) => tf.tensor4d(d, [1, NH, S, HD])) as [TfTensor, TfTensor, TfTensor];
        const scale = tf.scalar(1 / Math.sqrt(HD));
        return { inputs: [tq, tk, tv, scale], run: () => tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv)) };
      },
    },
  };
}

function softmaxProblem(R: number, D: number, quick: boolean): Problem {
  const x = new Rng(R + D).array(R * D, -4, 4);
  const compute = () => fn('softmaxRef')(x, D);
  return {
    kernel: 'softmax',
    shape: `[${R},${D}]`,
    quick,
    bytes: 8 * R * D,
    inputs: { x: { data: x, shape: [R, D] } },
    compute,
    reference: memo(compute),
    tol: { atol: 1e-6, rtol: 1e-4 },
    ours: (t, out) => void fn('softmax')(t.x!, {}, out),
    outShape: [R, D],
    onnx: {
      op: 'Softmax axis=-1',
      graph: { nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }], inputs: [{ name: 'x', shape: [R, D] }], outputs: [{ name: 'y', shape: [R, D] }], opset: 13 },
      feeds: { x: { data: x, shape: [R, D] } },
      toOurs: (y) => y,
    },
    tf: {
      op: 'tf.softmax',
      build: (tf) => {
        const tx = tf.tensor2d(x, [R, D]);
        return { inputs: [tx], run: () => tf.softmax(tx) };
      },
    },
  };
}

const numelOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function ours(p: Problem): (ctx: GpuContext) => Promise<BenchRun> {
  return async (ctx) => {
    const t: Record<string, Tensor> = {};
    for (const [name, x] of Object.entries(p.inputs)) t[name] = ctx.fromArray(x.data, x.shape);
    const out = ctx.tensor(p.outShape);
    const dispose = () => {
      for (const x of Object.values(t)) x.dispose();
      out.dispose();
    };
    try {
      p.ours(t, out);
    } catch (e) {
      dispose();
      throw e;
    }
    return {
      run: () => p.ours(t, out),
      check: async () => check(`${p.kernel} ours`, await out.read(), p.reference(), p.tol, p.outShape),
      dispose,
    };
  };
}

function cpuRef(p: Problem): (ctx: GpuContext) => Promise<BenchRun> {
  return async () => ({ run: () => void p.compute() });
}

function ortWebCase(p: Problem): (ctx: GpuContext) => Promise<BenchRun> {
  return async () => {
    if (!p.onnx) throw new Unavailable('no ONNX graph for this kernel');
    const { ort, device, adapter } = await ortWeb();
    const model = encodeModel(p.onnx.graph);
    let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
    try {
      session = await ort.InferenceSession.create(model, ortWebSessionOptions(device));
    } catch (e) {
      throw new Unavailable(`session creation failed with CPU fallback disabled: ${(e as Error).message.split('\n')[0]}`);
    }
    const buffers: GPUBuffer[] = [];
    const feeds: Record<string, import('onnxruntime-web').Tensor> = {};
    for (const [name, x] of Object.entries(p.onnx.feeds)) {
      const buffer = gpuBuffer(device, x.data);
      buffers.push(buffer);
      feeds[name] = ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: x.shape });
    }
    const yShape = p.onnx.graph.outputs[0]!.shape;
    const yBuffer = gpuBuffer(device, numelOf(yShape));
    buffers.push(yBuffer);
    const fetches = { y: ort.Tensor.fromGpuBuffer(yBuffer, { dataType: 'float32', dims: yShape }) };
    const onnx = p.onnx;
    return {
      run: async () => void (await session.run(feeds, fetches)),
      sync: () => device.queue.onSubmittedWorkDone(),
      check: async () => check(`${p.kernel} ort-web`, onnx.toOurs(await readGpuBuffer(device, yBuffer, numelOf(yShape))), p.reference(), p.tol, p.outShape),
      dispose: () => {
        void session.release();
        for (const b of buffers) b.destroy();
      },
      adapter,
    };
  };
}

function ortNodeCase(p: Problem): (ctx: GpuContext) => Promise<BenchRun> {
  return async () => {
    if (!p.onnx) throw new Unavailable('no ONNX graph for this kernel');
    const ort = await ortNode();
    const session = await ort.InferenceSession.create(encodeModel(p.onnx.graph), { executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1 });
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [name, x] of Object.entries(p.onnx.feeds)) feeds[name] = new ort.Tensor('float32', x.data, x.shape);
    let y: Float32Array | null = null;
    const onnx = p.onnx;
    return {
      run: async () => {
        y = (await session.run(feeds)).y!.data as Float32Array;
      },
      check: async () => check(`${p.kernel} ort-node`, onnx.toOurs(y!), p.reference(), p.tol, p.outShape),
      dispose: () => void session.release(),
      adapter: 'CPU (onnxruntime-node, CPU execution provider, 2 threads)',
    };
  };
}

function tfCase(p: Problem): (ctx: GpuContext) => Promise<BenchRun> {
  return async () => {
    if (!p.tf) throw new Unavailable('no TF.js formulation');
    const { tf, backend, adapter } = await tfjs();
    const b = p.tf.build(tf);
    let last: TfTensor | null = null;
    const flush = async () => {
      const be = backend as unknown as { commandEncoder: GPUCommandEncoder | null; endComputePassEncoder(): void; submitQueue(): void };
      if (be.commandEncoder) {
        be.endComputePassEncoder();
        be.submitQueue();
      }
      await backend.device.queue.onSubmittedWorkDone();
    };
    return {
      run: () => {
        last?.dispose();
        last = b.run();
      },
      sync: flush,
      check: async () => {
        const y = (await last!.data()) as Float32Array;
        const { actual, expected } = b.compare?.(y) ?? { actual: y, expected: p.reference() };
        check(`${p.kernel} tfjs`, actual, expected, p.tol);
      },
      kernelMs: async () => {
        const ms: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t = await tf.time(() => tf.dispose(b.run()));
          if (typeof t.kernelMs !== 'number') return null;
          ms.push(t.kernelMs);
        }
        return ms.sort((x, y) => x - y)[1]!;
      },
      dispose: () => {
        last?.dispose();
        tf.dispose(b.inputs);
      },
      adapter,
    };
  };
}

/** gpu.js's README matrix multiply: one output element per thread, inputs as 2-D arrays. */
function gpuJsCase(p: Problem, mode: 'webgpu' | 'gpu'): (ctx: GpuContext) => Promise<BenchRun> {
  return async () => {
    if (p.gpujs !== 'matmul') throw new Unavailable(`gpu.js has no ${p.kernel} op (no op library; only hand-written per-element kernels)`);
    const g = await gpuJs(mode);
    const [M, Kd] = p.inputs.a!.shape as [number, number];
    const N = p.inputs.b!.shape[1]!;
    const rows = (d: Float32Array, r: number, c: number) => Array.from({ length: r }, (_, i) => d.subarray(i * c, (i + 1) * c));
    const A = rows(p.inputs.a!.data, M, Kd);
    const B = rows(p.inputs.b!.data, Kd, N);
    const kernel: GpuJsKernel = g
      .createKernel(function (this: { thread: { x: number; y: number }; constants: { K: number } }, a: number[][], b: number[][]) {
        let s = 0;
        for (let i = 0; i < this.constants.K; i++) s += a[this.thread.y]![i]! * b[i]![this.thread.x]!;
        return s;
      } as never)
      .setOutput([N, M])
      .setConstants({ K: Kd });
    // The first call compiles, and shows which backend the kernel actually got.
    let y = await kernel(A, B);
    const ran = (kernel as unknown as { kernel?: { constructor: { mode?: string; name: string } } }).kernel?.constructor ?? kernel.constructor;
    const backend = g.mode === 'webgpu' || ran.name === 'WebGPUKernel' ? 'webgpu' : ran.name === 'WebAssemblyKernel' ? 'webasm' : ran.name;
    if (mode === 'webgpu' && backend !== 'webgpu') throw new Unavailable(`gpu.js mode 'webgpu' ran as ${ran.name}`);
    return {
      run: async () => {
        y = await kernel(A, B);
      },
      check: async () => {
        const out = new Float32Array(M * N);
        (y as Float32Array[]).forEach((r, i) => out.set(r, i * N));
        check(`${p.kernel} gpu.js`, out, p.reference(), p.tol, p.outShape);
      },
      dispose: () => void g.destroy(),
      note:
        mode === 'webgpu'
          ? 'gpu.js mode webgpu; each call uploads A, B and reads C back (its kernel API)'
          : `gpu.js mode 'gpu' ran on ${backend}${backend === 'webasm' ? " (no headless 'gl' package / X server: WebAssembly fallback)" : ''}`,
      adapter: mode === 'webgpu' ? 'navigator.gpu (shared Dawn instance)' : `CPU (${backend})`,
    };
  };
}

/**
 * The weight gradient of causal conv3d (our causalConv3dBackward also computes dx, as TF.js's
 * gradient does): TF.js runs the two kernels tf.grad of tf.conv3d runs, Conv3DBackpropInputV2 and
 * Conv3DBackpropFilterV2, on the causally pre-padded input with 'valid' padding, so both compute
 * the same dx and dw; dw is compared. flops = dx + dw = 2 x the forward's.
 */
function conv3dGradProblem(C: number, T: number, H: number, W: number, Co: number, quick: boolean): Problem {
  const rng = new Rng(C * 37 + T * 5 + H + Co);
  const xShape = [1, C, T, H, W];
  const wShape = [Co, C, 3, 3, 3];
  const x = rng.array(C * T * H * W);
  const w = rng.array(Co * C * 27, -0.1, 0.1);
  const gy = rng.array(Co * T * H * W);
  const geom = fn('causalConv3dGeometry')(xShape, wShape);
  const compute = () => fn('convBackwardRef')(x, w, gy, geom).dw;
  const reference = memo(compute);
  const [Tp, Hp, Wp] = [T + 2, H + 2, W + 2];
  return {
    kernel: 'conv_backward',
    shape: `causal3d dx+dw x[1,${C},${T},${H},${W}] w[${Co},${C},3,3,3]`,
    quick,
    flops: 2 * 2 * Co * C * 27 * T * H * W,
    bytes: 4 * (2 * x.length + 2 * w.length + gy.length),
    inputs: { x: { data: x, shape: xShape }, w: { data: w, shape: wShape }, g: { data: gy, shape: [1, Co, T, H, W] } },
    compute,
    reference,
    tol: { atol: 4 * fn('convBackwardTolerance')(geom).dw.atol, rtol: 1e-5 },
    ours: (t, out) => {
      const r = fn('causalConv3dBackward')(t.x!, t.w!, t.g!, { bias: false });
      fn('copy')(r.dw, out);
      r.dx?.dispose();
      r.dw.dispose();
    },
    outShape: wShape,
    tf: {
      op: 'tf.grad(conv3d): Conv3DBackpropInputV2 + Conv3DBackpropFilterV2, NDHWC, causally pre-padded, valid',
      build: (tf) => {
        const xp = new Float32Array(Tp * Hp * Wp * C);
        for (let c = 0; c < C; c++)
          for (let t = 0; t < T; t++)
            for (let y = 0; y < H; y++) for (let q = 0; q < W; q++) xp[(((t + 2) * Hp + y + 1) * Wp + q + 1) * C + c] = x[((c * T + t) * H + y) * W + q]!;
        const input = tf.tensor5d(xp, [1, Tp, Hp, Wp, C]);
        const filter = tf.tidy(() => tf.tensor5d(w, [Co, C, 3, 3, 3]).transpose([2, 3, 4, 1, 0])) as import('@tensorflow/tfjs').Tensor5D;
        const dy = tf.tidy(() => tf.tensor5d(gy, [1, Co, T, H, W]).transpose([0, 2, 3, 4, 1]));
        const attrs = { strides: [1, 1, 1], pad: 'valid', dilations: [1, 1, 1] };
        return {
          inputs: [input, filter, dy],
          run: () => {
            const dx = tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter }, { ...attrs, inputShape: [1, Tp, Hp, Wp, C] } as never) as TfTensor;
            dx.dispose();
            return tf.engine().runKernel('Conv3DBackpropFilterV2', { x: input, dy }, { ...attrs, filterShape: [3, 3, 3, C, Co] } as never) as TfTensor;
          },
          compare: (y) => {
            // TF.js filter layout [KT,KH,KW,Cin,Cout] -> ours [Cout,Cin,KT,KH,KW].
            const actual = new Float32Array(y.length);
            for (let co = 0; co < Co; co++) for (let ci = 0; ci < C; ci++) for (let k = 0; k < 27; k++) actual[(co * C + ci) * 27 + k] = y[(k * C + ci) * Co + co]!;
            return { actual, expected: reference() };
          },
        };
      },
    },
  };
}

/** dA and dB of A[M,K] @ B[K,N] (tf.grad of tf.matMul runs these two matMuls); dB is compared. */
function matmulGradProblem(M: number, Kd: number, N: number, quick: boolean): Problem {
  const rng = new Rng(M * 11 + Kd * 3 + N);
  const a = rng.array(M * Kd);
  const b = rng.array(Kd * N);
  const gy = rng.array(M * N);
  const compute = () => fn('matmulBackwardRef')(a, [M, Kd], b, [Kd, N], gy).db;
  return {
    kernel: 'matmul_backward',
    shape: `dA+dB [${M},${Kd}]x[${Kd},${N}]`,
    quick,
    flops: 4 * M * N * Kd,
    bytes: 4 * 2 * (a.length + b.length + gy.length),
    inputs: { a: { data: a, shape: [M, Kd] }, b: { data: b, shape: [Kd, N] }, g: { data: gy, shape: [M, N] } },
    compute,
    reference: memo(compute),
    tol: { atol: 4e-5 * Math.sqrt(M), rtol: 1e-5 },
    ours: (t, out) => {
      const r = fn('matmulBackward')(t.a!, t.b!, t.g!);
      fn('copy')(r.db, out);
      r.da.dispose();
      r.db.dispose();
    },
    outShape: [Kd, N],
    tf: {
      op: 'tf.grad(matMul): matMul(dy, b^T) + matMul(a^T, dy)',
      build: (tf) => {
        const A = tf.tensor2d(a, [M, Kd]);
        const B = tf.tensor2d(b, [Kd, N]);
        const G = tf.tensor2d(gy, [M, N]);
        return {
          inputs: [A, B, G],
          run: () => {
            tf.matMul(G, B, false, true).dispose();
            return tf.matMul(A, G, true, false);
          },
        };
      },
    },
  };
}

const problems: Problem[] = [
  matmulProblem(128, 128, 128, true),
  conv3dProblem(8, 3, 8, 8, 8, true),
  attentionProblem(64, 2, 64, true),
  softmaxProblem(64, 1024, true),
  conv3dGradProblem(8, 3, 8, 8, 8, true),
  matmulGradProblem(128, 128, 128, true),
  matmulProblem(512, 512, 512, false),
  matmulProblem(1024, 1024, 1024, false),
  conv3dProblem(128, 5, 32, 32, 128, false),
  attentionProblem(1024, 8, 64, false),
  softmaxProblem(8192, 1024, false),
  conv3dGradProblem(128, 5, 32, 32, 128, false),
  matmulGradProblem(1024, 1024, 1024, false),
];

// needsPeers: the implementation loads a library from bench/peers/node_modules.
const impls: { impl: string; role: BenchRole; gpu: boolean; make: (p: Problem) => (ctx: GpuContext) => Promise<BenchRun>; op: (p: Problem) => string | undefined; minSamples?: number; needsPeers?: boolean }[] = [
  { impl: 'ours', role: 'ours', gpu: true, make: ours, op: () => undefined },
  { impl: 'ort-web', role: 'webgpu-peer', gpu: true, make: ortWebCase, op: (p) => p.onnx?.op, needsPeers: true },
  { impl: 'tfjs-webgpu', role: 'webgpu-peer', gpu: true, make: tfCase, op: (p) => p.tf?.op, needsPeers: true },
  { impl: 'gpujs-webgpu', role: 'webgpu-peer', gpu: false, make: (p) => gpuJsCase(p, 'webgpu'), op: (p) => (p.gpujs ? 'createKernel (README matmul)' : undefined), needsPeers: true },
  { impl: 'gpujs', role: 'cpu-peer', gpu: false, make: (p) => gpuJsCase(p, 'gpu'), op: (p) => (p.gpujs ? 'createKernel (README matmul)' : undefined), minSamples: 3, needsPeers: true },
  { impl: 'ort-node', role: 'native-cpu', gpu: false, make: ortNodeCase, op: (p) => p.onnx?.op, needsPeers: true },
  { impl: 'cpu-ref', role: 'cpu-peer', gpu: false, make: cpuRef, op: () => 'our CPU reference (doubles)', minSamples: 3 },
];

export const cases: BenchCase[] = problems.flatMap((p) =>
  impls.map((i) => ({
    kernel: p.kernel,
    impl: i.impl,
    role: i.role,
    op: i.op(p),
    shape: p.shape,
    flops: p.flops,
    bytes: p.bytes,
    quick: p.quick,
    gpu: i.gpu,
    minSamples: i.minSamples,
    needsPeers: i.needsPeers,
    setup: i.make(p),
  })),
);
