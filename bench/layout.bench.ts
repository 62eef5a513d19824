// layout ops: pure data movement, bytes = read input(s) + write output. Roofline: copy.
// Shapes from the LDM: the decoder's T-concat, the LA-norm permute (B,C,T,H,W) -> (B,T,C,H,W),
// a channels-last permute (4 x 4 register transposes), the causal time padding, a concat along
// C, and an unaligned slice (scalar path).
import { concat, pad, permute, permuteRef, slice } from '../kernels/index.js';
import type { GpuContext, Tensor } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

const V = [1, 128, 2, 128, 128] as const;
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const iota = (s: readonly number[]) => new Float32Array(numel(s)).map((_, i) => i % 4093);

interface Op {
  /** The shader variant planStridedCopy picks for this op (its choices are unit-tested). */
  kernel: 'layout' | 'layout_vec4' | 'layout_transpose';
  shape: string;
  elems: number;
  quick?: boolean;
  make: (ctx: GpuContext) => { inputs: Tensor[]; run: (out?: Tensor) => Tensor; check: (y: ArrayLike<number>) => void };
}

const at = (y: ArrayLike<number>, i: number, want: number) => {
  if (y[i] !== want) throw new Error(`layout bench: element ${i} is ${y[i]}, expected ${want}`);
};

const OPS: Op[] = [
  {
    kernel: 'layout_vec4',
    shape: 'concat T [1,512,4,16,16]+[1,512,1,16,16]',
    elems: 512 * 5 * 256,
    make: (ctx) => {
      const a = ctx.fromArray(iota([1, 512, 4, 16, 16]), [1, 512, 4, 16, 16]);
      const b = ctx.fromArray(iota([1, 512, 1, 16, 16]).map((v) => -v - 1), [1, 512, 1, 16, 16]);
      return { inputs: [a, b], run: (out) => concat([a, b], 2, out), check: (y) => (at(y, 1024, -1), at(y, 1280 + 5, 1024 + 5)) };
    },
  },
  {
    kernel: 'layout_vec4',
    shape: `concat C [${V}]x2`,
    elems: 2 * numel(V),
    quick: true,
    make: (ctx) => {
      const a = ctx.fromArray(iota(V), [...V]);
      return { inputs: [a], run: (out) => concat([a, a], 1, out), check: (y) => at(y, numel(V) + 7, 7) };
    },
  },
  {
    kernel: 'layout_vec4',
    shape: `permute [${V}] -> BTCHW`,
    elems: numel(V),
    quick: true,
    make: (ctx) => {
      const xv = iota(V);
      const a = ctx.fromArray(xv, [...V]);
      return { inputs: [a], run: (out) => permute(a, [0, 2, 1, 3, 4], out), check: (y) => {
        const ref = permuteRef(xv, V, [0, 2, 1, 3, 4]);
        for (let i = 0; i < y.length; i += 997) at(y, i, ref[i]!);
      } };
    },
  },
  {
    kernel: 'layout_transpose',
    shape: `permute [${V}] -> channels last`,
    elems: numel(V),
    quick: true,
    make: (ctx) => {
      const xv = iota(V);
      const a = ctx.fromArray(xv, [...V]);
      return { inputs: [a], run: (out) => permute(a, [0, 2, 3, 4, 1], out), check: (y) => {
        const ref = permuteRef(xv, V, [0, 2, 3, 4, 1]);
        for (let i = 0; i < y.length; i += 997) at(y, i, ref[i]!);
      } };
    },
  },
  {
    kernel: 'layout_vec4',
    shape: `pad T front 3 [${V}]`,
    elems: numel([1, 128, 5, 128, 128]),
    make: (ctx) => {
      const a = ctx.fromArray(iota(V), [...V]);
      return { inputs: [a], run: (out) => pad(a, [[0, 0], [0, 0], [3, 0], [0, 0], [0, 0]], 0, out), check: (y) => (at(y, 5, 0), at(y, 3 * 16384 + 5, 5)) };
    },
  },
  {
    kernel: 'layout',
    shape: `slice W [${V}] 1:127`,
    elems: numel([1, 128, 2, 128, 126]),
    make: (ctx) => {
      const a = ctx.fromArray(iota(V), [...V]);
      return { inputs: [a], run: (out) => slice(a, 4, 1, 127, out), check: (y) => (at(y, 0, 1), at(y, 126, 129)) };
    },
  },
];

export const cases: BenchCase[] = OPS.map((op) => ({
  kernel: op.kernel,
  shape: op.shape,
  bytes: 8 * op.elems,
  quick: op.quick ?? false,
  setup: async (ctx) => {
    const m = op.make(ctx);
    const out = m.run();
    return {
      run: () => void m.run(out),
      check: async () => m.check(await out.read()),
      dispose: () => (m.inputs.forEach((t) => t.dispose()), out.dispose()),
    };
  },
}));
