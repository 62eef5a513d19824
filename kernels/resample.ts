/**
 * resample: nearest-neighbour 2x upsampling and 2x2 depth-to-space (wgsl/resample.wgsl), for NCHW
 * images and NCDHW videos (the spatial dims are the last two).
 *   upsampleNearest2x: out[.., y, x] = x[.., y/2, x/2]                       [.., C, (T,) H, W] -> [.., C, (T,) 2H, 2W]
 *   depthToSpace2x:    out[b, c, (t,) 2h+p1, 2w+p2] = x[b, 4c+2*p1+p2, (t,) h, w]   [B, 4C, ..] -> [B, C, .., 2H, 2W]
 * (MAGVIT-v2 SpatialUpsample2x's rearrange 'b t (c p1 p2) h w -> b t c (h p1) (w p2)'.)
 * Backwards, from the gradient g of the full-resolution output to that of the input:
 *   upsampleNearest2xBackward: dx[.., y, x] = ((g[.., 2y, 2x] + g[.., 2y, 2x+1]) + g[.., 2y+1, 2x]) + g[.., 2y+1, 2x+1]
 *   depthToSpace2xBackward:    dx[b, 4c+2*p1+p2, (t,) h, w] = g[b, c, (t,) 2h+p1, 2w+p2]   (the inverse permutation)
 * Tolerance: exact (data movement), except the nearest backward's 2x2 sum: three float32
 * additions in a fixed order (torch's row-major accumulation), |err| <= 3 * 2^-24 * sum|g| of the
 * block vs the float64 reference.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { type Tensor, numel } from './core/tensor.js';
import { resample as shader, resample_nearest4 as nearest4Shader } from './wgsl.gen.js';

const WG = 256;
export type ResampleMode = 'nearest2x' | 'depthToSpace2x';

function resample(kernel: string, mode: ResampleMode, x: Tensor, out?: Tensor): Tensor<'f32'> {
  expectTensor(kernel, 'x', x, { dtype: 'f32', rank: [4, 5] });
  sameContext(kernel, { x, out });
  const shape = resampleShape(kernel, mode, x.shape);
  const dst = outTensor(kernel, x, shape, 'f32', out);
  if (dst.buffer === x.buffer) throw new KernelArgError(kernel, 'out', 'aliases x');
  launch(mode === 'nearest2x' ? 0 : 1, x, dst, shape);
  return dst;
}

function resampleBackward(kernel: string, mode: ResampleMode, g: Tensor, out?: Tensor): Tensor<'f32'> {
  expectTensor(kernel, 'g', g, { dtype: 'f32', rank: [4, 5] });
  sameContext(kernel, { g, out });
  const s = g.shape;
  const [h2, w2] = s.slice(-2) as [number, number];
  if (h2 % 2 !== 0 || w2 % 2 !== 0) throw new KernelArgError(kernel, 'g', `spatial dims ${h2}x${w2} of [${s.join(',')}] must be even (a 2x-upsampled gradient)`);
  const shape = [...s];
  if (mode === 'depthToSpace2x') shape[1] = 4 * s[1]!;
  shape[s.length - 2] = h2 / 2;
  shape[s.length - 1] = w2 / 2;
  const dst = outTensor(kernel, g, shape, 'f32', out);
  if (dst.buffer === g.buffer) throw new KernelArgError(kernel, 'out', 'aliases g');
  launch(mode === 'nearest2x' ? 2 : 3, g, dst, s);
  return dst;
}

/** One dispatch of wgsl/resample.wgsl; `full` is the full-resolution [B, c, (T,) 2H, 2W] shape. */
function launch(mode: number, x: Tensor, out: Tensor, full: readonly number[]): void {
  const r = full.length;
  const n = numel(full);
  const w = full[r - 1]! / 2;
  if (mode === 0 && w % 4 === 0) {
    // Whole vec4s of source rows (wgsl/resample_nearest4.wgsl).
    x.ctx.dispatch(nearest4Shader, {
      overrides: { WG },
      bindings: { x, out },
      params: { n, h: full[r - 2]! / 2, w },
      workgroups: foldGrid(Math.ceil(n / (16 * WG)), x.ctx.limits.maxComputeWorkgroupsPerDimension),
    });
    return;
  }
  x.ctx.dispatch(shader, {
    overrides: { WG, MODE: mode },
    bindings: { x, out },
    params: { n, c: full[1]!, t: r === 5 ? full[2]! : 1, h: full[r - 2]! / 2, w: full[r - 1]! / 2 },
    workgroups: foldGrid(Math.ceil(n / (4 * WG)), x.ctx.limits.maxComputeWorkgroupsPerDimension),
  });
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

/**
 * Gradient of upsampleNearest2x: each 2x2 block of g summed in a fixed order.
 * @example const dx = upsampleNearest2xBackward(dy);   // [1,32,6,10] -> [1,32,3,5]
 */
export const upsampleNearest2xBackward = (g: Tensor, out?: Tensor) => resampleBackward('upsampleNearest2xBackward', 'nearest2x', g, out);

/**
 * Gradient of depthToSpace2x (space-to-depth, its inverse permutation).
 * @example const dx = depthToSpace2xBackward(dy);   // [2,8,5,8,6] -> [2,32,5,4,3]
 */
export const depthToSpace2xBackward = (g: Tensor, out?: Tensor) => resampleBackward('depthToSpace2xBackward', 'depthToSpace2x', g, out);

/** For each full-resolution output element of `mode` on an input of `shape`, its source element. */
function sourceIndex(mode: ResampleMode, shape: readonly number[]): Int32Array {
  const os = resampleShape('resample', mode, shape);
  const [h, w] = shape.slice(-2) as [number, number];
  const t = shape.length === 5 ? shape[2]! : 1;
  const c = os[1]!;
  const src = new Int32Array(os.reduce((a, b) => a * b, 1));
  for (let i = 0; i < src.length; i++) {
    const ox = i % (2 * w);
    const oy = Math.floor(i / (2 * w)) % (2 * h);
    const plane = Math.floor(i / (4 * h * w));
    const ti = plane % t;
    const nc = Math.floor(plane / t);
    const ci = mode === 'nearest2x' ? nc : Math.floor(nc / c) * 4 * c + 4 * (nc % c) + 2 * (oy % 2) + (ox % 2);
    src[i] = ((ci * t + ti) * h + (oy >> 1)) * w + (ox >> 1);
  }
  return src;
}

/** CPU reference for both modes. */
export function resampleRef(mode: ResampleMode, x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  return Float64Array.from(sourceIndex(mode, shape), (s) => x[s]!);
}

/** CPU reference of both backwards: g (the forward output's shape) -> dx of shape xShape (float64 sums). */
export function resampleBackwardRef(mode: ResampleMode, g: ArrayLike<number>, xShape: readonly number[]): Float64Array {
  const src = sourceIndex(mode, xShape);
  const dx = new Float64Array(xShape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < src.length; i++) dx[src[i]!]! += g[i]!;
  return dx;
}
