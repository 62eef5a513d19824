// GroupNorm family at the LDM decoder/encoder shapes. Memory-bound: bytes = read x + write y
// (8 per element); the statistics pass reads x once more, so the ideal is ~2/3 of the copy kernel.
// group_norm_stats alone: bytes = read x (4 per element).
import { type GpuContext, type Tensor, adaGroupNorm, adaGroupNormRef, groupNorm, groupNormFramewise, groupNormFramewiseRef, groupNormRef, groupNormStats } from '../kernels/index.js';
import { type KernelTuning } from '../kernels/internal.js';
import { compareClose } from '../test/helpers/close.js';
import type { BenchCase, BenchRun } from './harness.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const data = (n: number, seed: number) => new Float32Array(n).map((_, i) => (((i * 7919 + seed) % 4093) / 4093) * 4 - 1.5);

function normCase(kernel: string, label: string, shape: number[], quick: boolean, make: (ctx: GpuContext, x: Tensor, xv: Float32Array, out: Tensor) => { run: () => Tensor; ref: () => ArrayLike<number>; extra: Tensor[] }, bytesPerElem = 8, tune?: Partial<KernelTuning>): BenchCase {
  return {
    kernel,
    shape: `${label} [${shape}]`,
    bytes: bytesPerElem * numel(shape),
    quick,
    setup: async (ctx): Promise<BenchRun> => {
      const prev = tune && ctx.tune(tune);
      const xv = data(numel(shape), 1);
      const x = ctx.fromArray(xv, shape);
      // A preallocated out, so repeated runs between submits allocate only the small statistics.
      const out = ctx.tensor(shape);
      const m = make(ctx, x, xv, out);
      let y: Tensor | null = null;
      return {
        run: () => {
          if (y !== out) y?.dispose();
          y = m.run();
        },
        check: async () => {
          const r = compareClose(await y!.read(), m.ref(), { atol: 1e-5, rtol: 1e-5 });
          if (!r.ok) throw new Error(`${kernel} bench: ${r.report}`);
        },
        dispose: () => (y?.dispose(), out.dispose(), x.dispose(), m.extra.forEach((t) => t.dispose()), prev && ctx.tune(prev)),
      };
    },
  };
}

const big = [1, 128, 5, 128, 128];
// The micro tokenizer's patch encoder: 2x2 maps over a batch of 400 patches, 2 groups. Rows of 4
// elements: the tuning table's normLaneLen gives each to one invocation; the second case forces
// the workgroup-per-chunk layout it replaced.
const patches = [400, 32, 2, 2];
const patchGn = (ctx: GpuContext, x: Tensor, xv: Float32Array, out: Tensor) => {
  const w = data(32, 2);
  const b = data(32, 3);
  const [wt, bt] = [ctx.fromArray(w, [32]), ctx.fromArray(b, [32])];
  return { run: () => groupNorm(x, { groups: 2, weight: wt, bias: bt, silu: true }, out), ref: () => groupNormRef(xv, patches, { groups: 2, weight: w, bias: b, silu: true }), extra: [wt, bt] };
};
// The micro LDM encoder's first LA norm: 64 clips and their reference clips, 20x20 frames (rows of
// 400 elements); lavapipe's normLaneLen gives each to one invocation, the second case a workgroup.
const ldmMaps = [128, 32, 2, 20, 20];
const ldmLa = (ctx: GpuContext, x: Tensor, xv: Float32Array, out: Tensor) => {
  const w = data(64, 2);
  const b = data(64, 3);
  const [wt, bt] = [ctx.fromArray(w, [64]), ctx.fromArray(b, [64])];
  return { run: () => groupNormFramewise(x, { weight: wt, bias: bt, silu: true }, out), ref: () => groupNormFramewiseRef(xv, ldmMaps, { weight: w, bias: b, silu: true }), extra: [wt, bt] };
};
export const cases: BenchCase[] = [
  normCase('group_norm', 'GN2+SiLU small maps, lane per row', patches, true, patchGn),
  normCase('group_norm', 'GN2+SiLU small maps, workgroup per row', patches, true, patchGn, 8, { normLaneLen: 1 }),
  normCase('group_norm', 'LA norm+SiLU 20x20 maps, lane per row', ldmMaps, true, ldmLa, 8, { normLaneLen: 1024 }),
  normCase('group_norm', 'LA norm+SiLU 20x20 maps, workgroup per row', ldmMaps, true, ldmLa, 8, { normLaneLen: 1 }),
  normCase('group_norm', 'GN32+SiLU', big, true, (ctx, x, xv, out) => {
    const w = data(128, 2);
    const b = data(128, 3);
    const [wt, bt] = [ctx.fromArray(w, [128]), ctx.fromArray(b, [128])];
    return { run: () => groupNorm(x, { weight: wt, bias: bt, silu: true }, out), ref: () => groupNormRef(xv, big, { weight: w, bias: b, silu: true }), extra: [wt, bt] };
  }),
  normCase('group_norm', 'LA norm+SiLU', big, true, (ctx, x, xv, out) => {
    const w = data(5 * 128, 2);
    const b = data(5 * 128, 3);
    const [wt, bt] = [ctx.fromArray(w, [640]), ctx.fromArray(b, [640])];
    return { run: () => groupNormFramewise(x, { weight: wt, bias: bt, silu: true }, out), ref: () => groupNormFramewiseRef(xv, big, { weight: w, bias: b, silu: true }), extra: [wt, bt] };
  }),
  normCase('group_norm', 'AdaGN', [1, 512, 5, 32, 32], false, (ctx, x, xv, out) => {
    const s = data(512, 2).map((v) => v * 0.1);
    const h = data(512, 3);
    const [st, ht] = [ctx.fromArray(s, [1, 512]), ctx.fromArray(h, [1, 512])];
    return { run: () => adaGroupNorm(x, st, ht, {}, out), ref: () => adaGroupNormRef(xv, [1, 512, 5, 32, 32], s, h), extra: [st, ht] };
  }),
  normCase(
    'group_norm_stats',
    'GN32 stats',
    big,
    true,
    (_ctx, x, xv) => ({
      run: () => groupNormStats(x),
      ref: () => {
        const per = xv.length / 32;
        const out: number[] = [];
        for (let g = 0; g < 32; g++) {
          const v = xv.subarray(g * per, (g + 1) * per);
          const mean = v.reduce((a, c) => a + c, 0) / per;
          out.push(per, mean, v.reduce((a, c) => a + (c - mean) ** 2, 0));
        }
        return out;
      },
      extra: [],
    }),
    4,
  ),
];
