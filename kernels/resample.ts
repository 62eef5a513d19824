/**
 * resample: nearest-neighbour 2x upsampling and 2x2 depth-to-space (wgsl/resample.wgsl), for NCHW
 * images and NCDHW videos (the spatial dims are the last two).
 *   upsampleNearest2x: out[.., y, x] = x[.., y/2, x/2]                       [.., C, (T,) H, W] -> [.., C, (T,) 2H, 2W]
 *   depthToSpace2x:    out[b, c, (t,) 2h+p1, 2w+p2] = x[b, 4c+2*p1+p2, (t,) h, w]   [B, 4C, ..] -> [B, C, .., 2H, 2W]
 * (MAGVIT-v2 SpatialUpsample2x's rearrange 'b t (c p1 p2) h w -> b t c (h p1) (w p2)'.)
 * Pure data movement. Tolerance: exact.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { resample as shader } from './wgsl.gen.js';

const WG = 256;
export type ResampleMode = 'nearest2x' | 'depthToSpace2x';

function resample(kernel: string, mode: ResampleMode, x: Tensor, out?: Tensor): Tensor<'f32'> {
  expectTensor(kernel, 'x', x, { dtype: 'f32', rank: [4, 5] });
  sameContext(kernel, { x, out });
  const shape = resampleShape(kernel, mode, x.shape);
  const dst = outTensor(kernel, x, shape, 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError(kernel, 'out', 'aliases x');
  const t = x.shape.length === 5 ? x.shape[2]! : 1;
  const [h, w] = x.shape.slice(-2) as [number, number];
  x.ctx.dispatch(shader, {
    overrides: { WG, MODE: mode === 'nearest2x' ? 0 : 1 },
    bindings: { x, out: dst },
    params: { n: dst.size, c: shape[1]!, t, h, w },
    workgroups: foldGrid(Math.ceil(dst.size / (4 * WG)), x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/** Output shape of either mode; throws a KernelArgError when depth-to-space gets C % 4 != 0. */
export function resampleShape(kernel: string, mode: ResampleMode, s: readonly number[]): number[] {
  const out = [...s];
  if (mode === 'depthToSpace2x') {
    if (s[1]! % 4 !== 0) throw new KernelArgError(kernel, 'x', `channels ${s[1]} in [${s.join(',')}] must be a multiple of 4`);
    out[1] = s[1]! / 4;
  }
  out[s.length - 2] = 2 * s[s.length - 2]!;
  out[s.length - 1] = 2 * s[s.length - 1]!;
  return out;
}

/**
 * Nearest 2x upsampling of the last two dims of an NCHW or NCDHW tensor.
 * @example const up = upsampleNearest2x(x);   // [1,32,3,5] -> [1,32,6,10]
 */
export const upsampleNearest2x = (x: Tensor, out?: Tensor) => resample('upsampleNearest2x', 'nearest2x', x, out);

/**
 * 2x2 depth-to-space: channel 4c+2*p1+p2 becomes pixel (2h+p1, 2w+p2) of channel c.
 * @example const y = depthToSpace2x(causalConv3d(x, w, { bias, activation: 'silu' }));   // [2,32,5,4,3] -> [2,8,5,8,6]
 */
export const depthToSpace2x = (x: Tensor, out?: Tensor) => resample('depthToSpace2x', 'depthToSpace2x', x, out);

/** CPU reference for both modes. */
export function resampleRef(mode: ResampleMode, x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const os = resampleShape('resample', mode, shape);
  const [h, w] = shape.slice(-2) as [number, number];
  const t = shape.length === 5 ? shape[2]! : 1;
  const c = os[1]!;
  const out = new Float64Array(os.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) {
    const ox = i % (2 * w);
    const oy = Math.floor(i / (2 * w)) % (2 * h);
    const plane = Math.floor(i / (4 * h * w));
    const ti = plane % t;
    const nc = Math.floor(plane / t);
    const ci = mode === 'nearest2x' ? nc : Math.floor(nc / c) * 4 * c + 4 * (nc % c) + 2 * (oy % 2) + (ox % 2);
    out[i] = x[((ci * t + ti) * h + (oy >> 1)) * w + (ox >> 1)]!;
  }
  return out;
}
