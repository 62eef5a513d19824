/**
 * Convolution geometry shared by the forward kernels (conv3d_causal, conv2d, conv_winograd) and
 * conv_backward: argument validation and output sizes, as plain numbers.
 */
import { KernelArgError } from './errors.js';

/** Everything the kernel needs besides the tensors. */
export interface ConvGeometry {
  b: number;
  cin: number;
  cout: number;
  t: number;
  h: number;
  w: number;
  kt: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  ho: number;
  wo: number;
}

/** Output size along one axis; throws when the padded input is smaller than the kernel. */
export function convOutSize(kernel: string, n: number, k: number, p0: number, p1: number, s: number): number {
  const o = Math.floor((n + p0 + p1 - k) / s) + 1;
  if (o < 1) throw new KernelArgError(kernel, 'x', `spatial size ${n} with padding ${p0}+${p1} is smaller than the kernel ${k}`);
  return o;
}

/** Validates causalConv3d arguments and returns the geometry (output [B,Cout,T,ho,wo]). */
export function causalConv3dGeometry(xShape: readonly number[], wShape: readonly number[], stride: readonly number[] = [1, 1, 1]): ConvGeometry {
  const k = 'causalConv3d';
  const [b = 0, cin = 0, t = 0, h = 0, w = 0] = xShape;
  const [cout = 0, wcin = 0, kt = 0, kh = 0, kw = 0] = wShape;
  if (wcin !== cin) throw new KernelArgError(k, 'weight', `shape [${wShape.join(',')}] has Cin ${wcin}, x [${xShape.join(',')}] has Cin ${cin}`);
  if (stride.length !== 3 || stride[0] !== 1 || !((stride[1] === 1 && stride[2] === 1) || (stride[1] === 2 && stride[2] === 2))) {
    throw new KernelArgError(k, 'stride', `[${stride.join(',')}] is not supported (use [1,1,1] or [1,2,2])`);
  }
  const sh = stride[1]!;
  const ph = kh >> 1;
  const pw = kw >> 1;
  return { b, cin, cout, t, h, w, kt, kh, kw, sh, sw: sh, pt: ph, pb: ph, pl: pw, pr: pw, ho: convOutSize(k, h, kh, ph, ph, sh), wo: convOutSize(k, w, kw, pw, pw, sh) };
}

/** Validates conv2d arguments and returns the geometry (T = KT = 1). */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], stride: number | readonly [number, number] = 1, padding?: number | readonly [number, number, number, number]): ConvGeometry {
  const k = 'conv2d';
  const [b = 0, cin = 0, h = 0, w = 0] = xShape;
  const [cout = 0, wcin = 0, kh = 0, kw = 0] = wShape;
  if (wcin !== cin) throw new KernelArgError(k, 'weight', `shape [${wShape.join(',')}] has Cin ${wcin}, x [${xShape.join(',')}] has Cin ${cin}`);
  const [sh, sw] = typeof stride === 'number' ? [stride, stride] : stride;
  for (const s of [sh, sw]) if (s !== 1 && s !== 2) throw new KernelArgError(k, 'stride', `${JSON.stringify(stride)} is not supported (strides 1 or 2)`);
  const [pt, pb, pl, pr] = padding === undefined ? [kh >> 1, kh >> 1, kw >> 1, kw >> 1] : typeof padding === 'number' ? [padding, padding, padding, padding] : padding;
  for (const p of [pt, pb, pl, pr]) {
    if (!Number.isInteger(p) || p! < 0 || p! >= Math.max(kh, kw)) throw new KernelArgError(k, 'padding', `${JSON.stringify(padding)}: each side must be an integer in 0..kernel-1`);
  }
  return { b, cin, cout, t: 1, h, w, kt: 1, kh, kw, sh: sh!, sw: sw!, pt: pt!, pb: pb!, pl: pl!, pr: pr!, ho: convOutSize(k, h, kh, pt!, pb!, sh!), wo: convOutSize(k, w, kw, pl!, pr!, sw!) };
}
