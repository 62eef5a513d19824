/**
 * The two ceilings every row is measured against, measured in the same run on the same adapter:
 *   fma-scalar       register-only FMA peak: each invocation runs 16 independent scalar fma
 *                    chains (x = fma(x, m, a), m and a from the uniform so nothing folds), the
 *                    loop body unrolled 4x, and stores one sum; flops = 2 * chains * iterations *
 *                    invocations, memory traffic ~0. This is the `fraction_of_fma_peak` divisor.
 *   fma-scalar-loop  8 chains, one fma each per loop iteration: what a plain inner loop gets
 *                    (the loop counter and lavapipe's per-iteration mask update cost as much as
 *                    the fmas).
 *   fma-vec4         8 vec4 accumulators (32 lanes), unrolled 2x: register pressure of a vec4
 *                    register tile.
 *   copy-vec4   our copy kernel (16 bytes per invocation) over 64 MiB: the memory roofline.
 * The FMA shader is a bench-only probe, not a kernel: it is defined here, with its reflection
 * written by hand, and dispatched through the context like any kernel (so it is timestamped).
 */
import { copy } from '../kernels/index.js';
import type { ShaderInfo } from '../kernels/index.js';
import type { BenchCase } from './harness.js';

const WG = 64;
const WORKGROUPS = 64;
const M = 0.999;
const A = 0.001;

function fmaShader(id: string, vars: number, type: 'f32' | 'vec4<f32>', unroll: number): ShaderInfo {
  const names = Array.from({ length: vars }, (_, i) => `x${i}`);
  const init = names.map((n, i) => `  var ${n} = ${type}(f32(gid.x % 97u) * 1e-3 + ${i}.0 * 1e-4);`).join('\n');
  // Unrolled so the loop counter and lavapipe's per-iteration mask update are a small fraction.
  const body = Array.from({ length: unroll }, () => names.map((n) => `    ${n} = fma(${n}, ${type}(m), ${type}(a));`).join('\n')).join('\n');
  const sum = type === 'f32' ? names.join(' + ') : `dot(${names.join(' + ')}, vec4<f32>(1.0))`;
  const code = `// ${id}: register-only FMA peak probe (bench/ceiling.bench.ts).
override WG: u32 = 64;
struct Params {
  iters: u32,
  m: f32,
  a: f32,
}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = params.m;
  let a = params.a;
${init}
  for (var i = 0u; i < params.iters; i++) {
${body}
  }
  out[gid.x] = ${sum};
}
`;
  return {
    id,
    entry: 'main',
    code,
    bindings: [
      { name: 'out', binding: 0, kind: 'storage' },
      { name: 'params', binding: 1, kind: 'uniform' },
    ],
    overrides: [{ name: 'WG', type: 'u32' }],
    params: { fields: [{ name: 'iters', type: 'u32', offset: 0 }, { name: 'm', type: 'f32', offset: 4 }, { name: 'a', type: 'f32', offset: 8 }], size: 16 },
  };
}

/** x_n of x <- m x + a from x_0, in doubles: a / (1 - m) + (x_0 - a / (1 - m)) m^n. */
function chain(x0: number, n: number): number {
  const fix = A / (1 - M);
  return fix + (x0 - fix) * M ** n;
}

function fmaCase(impl: string, vars: number, type: 'f32' | 'vec4<f32>', unroll: number, loops: number): BenchCase {
  const iters = unroll * loops;
  const lanes = vars * (type === 'f32' ? 1 : 4);
  const n = WG * WORKGROUPS;
  const shader = fmaShader(`bench_${impl.replace('-', '_')}`, vars, type, unroll);
  return {
    kernel: 'ceiling',
    impl,
    role: 'ceiling',
    op: `${vars} ${type} accumulators x ${iters} fma (unrolled ${unroll}x), ${n} invocations`,
    shape: `${n}x${lanes}x${iters} fma`,
    flops: 2 * lanes * iters * n,
    quick: true,
    setup: async (ctx) => {
      const out = ctx.tensor([n]);
      const run = () => ctx.dispatch(shader, { overrides: { WG }, bindings: { out }, params: { iters: loops, m: M, a: A }, workgroups: [WORKGROUPS] });
      return {
        run,
        check: async () => {
          const y = await out.read();
          for (const i of [0, 1, 96, n - 1]) {
            let e = 0;
            for (let v = 0; v < vars; v++) e += (type === 'f32' ? 1 : 4) * chain(Math.fround((i % 97) * 1e-3 + v * 1e-4), iters);
            if (Math.abs(y[i]! - e) > 1e-3 * lanes) throw new Error(`${impl}: out[${i}] = ${y[i]}, expected ${e}`);
          }
        },
        dispose: () => out.dispose(),
      };
    },
  };
}

const COPY_N = 16 << 20;

export const cases: BenchCase[] = [
  fmaCase('fma-scalar', 16, 'f32', 4, 4096),
  fmaCase('fma-scalar-loop', 8, 'f32', 1, 16384),
  fmaCase('fma-vec4', 8, 'vec4<f32>', 2, 4096),
  {
    kernel: 'ceiling',
    impl: 'copy-vec4',
    role: 'ceiling',
    op: 'our copy kernel (vec4<u32> per invocation)',
    shape: `[${COPY_N}] f32`,
    bytes: 8 * COPY_N,
    quick: true,
    setup: async (ctx) => {
      const src = ctx.fromArray(new Float32Array(COPY_N).map((_, i) => i % 1000), [COPY_N]);
      const dst = ctx.tensor([COPY_N]);
      return {
        run: () => void copy(src, dst),
        check: async () => {
          const y = await dst.read();
          for (const i of [0, 999, 1000, COPY_N - 1]) if (y[i] !== i % 1000) throw new Error(`copy-vec4: dst[${i}] = ${y[i]}`);
        },
        dispose: () => (src.dispose(), dst.dispose()),
      };
    },
  },
];
