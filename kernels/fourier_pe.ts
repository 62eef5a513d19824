/**
 * fourier_pe: random-Fourier positional encoding of the LDM query-former (PositionEmbeddingRandom,
 * wgsl/fourier_pe.wgsl):
 *   c = 2 * ((j + 0.5) / W, (i + 0.5) / H) - 1,  p = 2 * pi * (c @ G),  out = cat(sin p, cos p)
 * Layouts: G [2, F] (positional_encoding_gaussian_matrix, F = 256), out [2F, H, W]
 * (channels 0..F-1 sin, F..2F-1 cos). One invocation per (k, i, j).
 * Numerics: |p| reaches 20-40. By default the phase is reduced in turns with error-free
 * products (see the shader); `rangeReduce: false` forms the f32 phase p = 2*pi*t as PyTorch
 * float32 does and reduces it by pi/2 (Cody-Waite). Either way sin/cos are the shader's own f32
 * polynomials on [-pi/4, pi/4] (abs error <= 6e-8), not WGSL's sin/cos (bounded only to 2^-11 on
 * [-pi, pi]; SwiftShader's err by up to 1.9e-4), so the accuracy does not depend on the adapter.
 * Tolerance: max abs error <= 1e-4 vs the golden (upstream float32) and ref64; with the reduction
 * also <= 1e-6 vs fourierPeRef, on any adapter. Measured on lavapipe (16x16 golden): reduced
 * 1.8e-7 vs ref64 and 2.0e-6 vs upstream float32 (upstream's own error); unreduced 2.2e-6 vs
 * ref64 (the f32 phase's). SwiftShader (test/browser, G ~ 8 N(0,1)): 2.8e-7, as on lavapipe.
 */
import { expectInt, expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import type { Tensor } from './core/tensor.js';
import { fourier_pe as shader } from './wgsl.gen.js';

const WG = 256;

export interface FourierPeOptions {
  /** Reduce the phase to [-pi, pi] in turns before sin/cos (default true). */
  rangeReduce?: boolean;
}

/** The [2F, H, W] encoding of an H x W grid from G [2, F]. */
export function fourierPe(g: Tensor, h: number, w: number, opts: FourierPeOptions = {}, out?: Tensor): Tensor<'f32'> {
  expectTensor('fourier_pe', 'g', g, { dtype: 'f32', shape: [2, null] });
  expectInt('fourier_pe', 'h', h, 1);
  expectInt('fourier_pe', 'w', w, 1);
  sameContext('fourier_pe', { g, out });
  const f = g.shape[1]!;
  const dst = outTensor('fourier_pe', g, [2 * f, h, w], 'f32', out);
  g.ctx.dispatch(shader, {
    overrides: { WG, RANGE_REDUCE: opts.rangeReduce === false ? 0 : 1 },
    bindings: { g, out: dst },
    params: { f, h, w, inv_h: Math.fround(1 / h), inv_w: Math.fround(1 / w) },
    workgroups: foldGrid(Math.ceil((f * h * w) / WG), g.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** CPU reference: grid coordinates rounded to f32 as the shader forms them, the phase and sin/cos in doubles. */
export function fourierPeRef(g: ArrayLike<number>, f: number, h: number, w: number): Float64Array {
  const out = new Float64Array(2 * f * h * w);
  for (let k = 0; k < f; k++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const cx = Math.fround(2 * Math.fround((j + 0.5) * Math.fround(1 / w)) - 1);
        const cy = Math.fround(2 * Math.fround((i + 0.5) * Math.fround(1 / h)) - 1);
        const p = 2 * Math.PI * (cx * g[k]! + cy * g[f + k]!);
        out[(k * h + i) * w + j] = Math.sin(p);
        out[((f + k) * h + i) * w + j] = Math.cos(p);
      }
    }
  }
  return out;
}
