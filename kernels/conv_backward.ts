/**
 * conv_backward: gradients of conv2d / causalConv3d (kernels/conv2d.ts, kernels/conv3d_causal.ts) for an incoming
 * gradient g = dL/dy, without the bias/activation/residual epilogue (the caller handles SiLU and
 * residuals; dL/dbias is just the sum of g):
 *
 *   dx[b,ci,ti,iy,ix] = sum_{co,a,dy,dx} w[co,ci,a,dy,dx] g[b,co,ti+(KT-1)-a,oy,ox]   (oy*sh = iy+pt-dy, ox*sw = ix+pl-dx)
 *   dw[co,ci,a,dy,dx] = sum_{b,t,oy,ox} g[b,co,t,oy,ox] x[b,ci,t+a-(KT-1),oy*sh-pt+dy,ox*sw-pl+dx]
 *   db[co]            = sum_{b,t,oy,ox} g[b,co,t,oy,ox]
 *
 * Layouts as the forward: x [B,Cin,T,H,W] (2-D: [B,Cin,H,W]), plain weight [Cout,Cin,KT,KH,KW]
 * (2-D: [Cout,Cin,KH,KW]), g [B,Cout,T,HO,WO]; dx, dw, db have the shapes of x, weight, [Cout].
 * Padding (causal frames, spatial zeros per side) is a constant: its gradient is dropped.
 * dx (wgsl/conv_backward_input.wgsl): a gather per input element over the taps whose output
 * exists, grouped by stride phase so a workgroup visits only its phase's taps; weights repacked
 * per call into [Cin blocks][Cout][taps][RC] for lane-uniform vec4 loads; up to 16 channels x 8
 * positions per invocation.
 * dw: one GEMM, dW^T [Cin*taps, Cout] = cols^T @ g^T over K = B*T*HO*WO output positions, cols
 * the im2col matrix (wgsl/conv_backward_cols.wgsl, [K, Cin*taps]) built in chunks of whole frames of at
 * most 32 MiB, each chunk's product added to the last as matmul's residual; then transposed into
 * the weight's layout. On a clip shorter than the kernel the time taps that only read causal zero
 * frames get no column (zero gradient): on a 2-frame clip a 7-tap conv_in does 2 taps' work.
 * The GEMM is matmul's packed kernel (the subgroup one where the adapter has it): 2-3x the
 * direct reduction this replaced on lavapipe (figures: bench/README.md). db: reduceSum (reduce.ts)
 * of g over batch and positions. Every summation order is fixed by the shape alone, so results
 * are the same bits on every run.
 * Speed against the forward: bench/README.md, Design measurements: conv_backward.
 * Numerics: f32 FMA accumulation. Tolerance vs convBackwardRef (inputs O(1)): atol = K * 2^-22 +
 * 1e-6 per tensor, K its reduction length (dx: Cout*KT*KH*KW, dw and db: B*T*HO*WO): a random walk
 * of K roundings of partial sums of size ~sqrt(K), with a 4x margin (as convTolerance). Goldens:
 * 1e-4 * max|ref| per tensor.
 */
import { expectTensor, sameContext } from './core/check.js';
import { KernelArgError } from './core/errors.js';
import type { Tensor } from './core/tensor.js';
import { type ConvGeometry, causalConv3dGeometry, conv2dGeometry } from './core/conv_geometry.js';
import type { Conv2dOptions } from './conv2d.js';
import type { CausalConv3dOptions } from './conv3d_causal.js';
import { knobs } from './core/knobs.js';
import { reduceSum } from './reduce.js';
import { packBlocks, packedBlocksSize, paddedRows } from './pack.js';
import { matmul } from './matmul.js';
import { pad, permute, slice } from './layout.js';
import { conv_backward_cols as colsShader, conv_backward_input as inputShader } from './wgsl.gen.js';

export interface ConvBackwardFlags {
  /** Compute dx (default true); false returns dx: null (first layer, frozen input). */
  input?: boolean;
  /** Compute db (default true); false returns db: null (a conv without bias). */
  bias?: boolean;
}
export interface Conv2dBackwardOptions extends ConvBackwardFlags {
  stride?: Conv2dOptions['stride'];
  padding?: Conv2dOptions['padding'];
}
export interface CausalConv3dBackwardOptions extends ConvBackwardFlags {
  stride?: CausalConv3dOptions['stride'];
}
export interface ConvGrads {
  dx: Tensor<'f32'> | null;
  dw: Tensor<'f32'>;
  db: Tensor<'f32'> | null;
}

const MAX_BLOCK = 16;
const BLOCK_WG = 32;
const BLOCK_N = 8;
const COLS_WG = 64;
/** Default bytes of one chunk of the columns matrix (knobs.convColsBytes overrides). */
const COLS_BYTES = 32 * 2 ** 20;

/** A register block: WG lanes, `m` channels (multiple of 4) x `n` positions per lane. */
interface Block {
  wg: number;
  m: number;
  n: number;
}
/**
 * dX's tile: up to 16 channels x 8 positions per lane, the positions spread evenly over the
 * workgroups (288: 2 x 32 lanes x 5, not 2 x 32 x 8 with 44% idle); small problems get one 8-lane SIMD row per
 * workgroup. On lavapipe wider blocks than 16 x 8 stop paying (16 x 12 is much slower), so 8
 * stays the cap (figures: bench/README.md, Design measurements: conv_backward).
 */
function block(channels: number, items: number): Block {
  const m = Math.min(MAX_BLOCK, Math.ceil(channels / 4) * 4);
  if (items < BLOCK_WG * BLOCK_N) return { wg: 8, m, n: Math.min(BLOCK_N, Math.ceil(items / 8)) };
  const workgroups = Math.ceil(items / (BLOCK_WG * BLOCK_N));
  return { wg: BLOCK_WG, m, n: Math.ceil(items / (BLOCK_WG * workgroups)) };
}

/**
 * dW's columns matrix: the first time tap with a column (a0), the column count and row length
 * ldc (rounded up to 4), and how many frames (b, t), each HO*WO rows, one chunk holds; depends
 * on the shape (and the convColsBytes knob) only.
 */
export function weightColumns(g: ConvGeometry, chunkBytes = knobs().convColsBytes ?? COLS_BYTES): { a0: number; ncol: number; ldc: number; frames: number; chunkFrames: number } {
  const a0 = Math.max(0, g.kt - g.t);
  const ncol = g.cin * (g.kt - a0) * g.kh * g.kw;
  const ldc = paddedRows(ncol);
  const frames = g.b * g.t;
  // conv_backward_cols divides a chunk's row index in f32, exact below 2^20.
  const maxRows = Math.min(Math.floor(chunkBytes / (4 * ldc)), 2 ** 20 - 1);
  return { a0, ncol, ldc, frames, chunkFrames: Math.max(1, Math.min(frames, Math.floor(maxRows / (g.ho * g.wo)))) };
}

/** Re-raises the forward's geometry errors under the backward kernel's name. */
function geometry(kernel: string, f: () => ConvGeometry): ConvGeometry {
  try {
    return f();
  } catch (e) {
    if (e instanceof KernelArgError) throw new KernelArgError(kernel, e.arg, e.detail);
    throw e;
  }
}

/**
 * Gradients of conv2d(x, weight, { stride, padding }) for the incoming gradient g [B,Cout,HO,WO].
 * @example
 * const { dx, dw, db } = conv2dBackward(x, w, gy, { stride: 2, padding: [0, 1, 0, 1] });
 */
export function conv2dBackward(x: Tensor, weight: Tensor, g: Tensor, o: Conv2dBackwardOptions = {}): ConvGrads {
  const k = 'conv2dBackward';
  expectTensor(k, 'x', x, { dtype: 'f32', rank: 4 });
  expectTensor(k, 'weight', weight, { dtype: 'f32', rank: 4 });
  expectTensor(k, 'g', g, { dtype: 'f32', rank: 4 });
  const geom = geometry(k, () => conv2dGeometry(x.shape, weight.shape, o.stride, o.padding));
  expectTensor(k, 'g', g, { shape: [geom.b, geom.cout, geom.ho, geom.wo] });
  return convBackward(k, x, weight, g, geom, o);
}

/**
 * Gradients of causalConv3d(x, weight, { stride }) for the incoming gradient g [B,Cout,T,HO,WO]
 * (whole clips; the causal zero frames get no gradient).
 * @example
 * const { dx, dw, db } = causalConv3dBackward(x, w, gy);
 * const { dw: dwIn } = causalConv3dBackward(video, wIn, gy, { input: false });   // conv_in
 */
export function causalConv3dBackward(x: Tensor, weight: Tensor, g: Tensor, o: CausalConv3dBackwardOptions = {}): ConvGrads {
  const k = 'causalConv3dBackward';
  expectTensor(k, 'x', x, { dtype: 'f32', rank: 5 });
  expectTensor(k, 'weight', weight, { dtype: 'f32', rank: 5 });
  expectTensor(k, 'g', g, { dtype: 'f32', rank: 5 });
  const geom = geometry(k, () => causalConv3dGeometry(x.shape, weight.shape, o.stride));
  expectTensor(k, 'g', g, { shape: [geom.b, geom.cout, geom.t, geom.ho, geom.wo] });
  return convBackward(k, x, weight, g, geom, o);
}

function convBackward(k: string, x: Tensor, weight: Tensor, g: Tensor, geom: ConvGeometry, o: ConvBackwardFlags): ConvGrads {
  for (const f of ['input', 'bias'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'boolean') throw new KernelArgError(k, f, `expected a boolean, got ${typeof o[f]}`);
  }
  if (weight.shape.some((d) => d < 1)) throw new KernelArgError(k, 'weight', `shape [${weight.shape.join(',')}] has an empty dimension`);
  sameContext(k, { x, weight, g });
  const ctx = x.ctx;
  const wantDx = o.input ?? true;
  const wantDb = o.bias ?? true;
  const maxWg = ctx.limits.maxComputeWorkgroupsPerDimension;
  const kvol = geom.kt * geom.kh * geom.kw;
  const cols = weightColumns(geom);
  // One Params for all three shaders (wgsl/lib/conv_backward_params.wgsl); f0 per chunk.
  const params = {
    b: geom.b, cin: geom.cin, cout: geom.cout, t: geom.t, h: geom.h, w: geom.w, ho: geom.ho, wo: geom.wo,
    kt: geom.kt, kh: geom.kh, kw: geom.kw, sh: geom.sh, sw: geom.sw, pt: geom.pt, pl: geom.pl,
    a0: cols.a0, f0: 0, frames: 0, ldc: cols.ldc,
  };

  // A tile's positions run over every clip's positions of one stride phase.
  const phasePositions = geom.b * Math.ceil(geom.h / geom.sh) * Math.ceil(geom.w / geom.sw);
  const xb = block(geom.cin, phasePositions);
  const xGrid = [Math.ceil(geom.cin / xb.m), Math.ceil(phasePositions / (xb.wg * xb.n)), geom.t * geom.sh * geom.sw] as const;
  const howo = geom.ho * geom.wo;
  const colsGrid = (frames: number) => [Math.ceil((frames * howo) / COLS_WG), cols.ncol / (geom.kh * geom.kw), 1] as const;
  // conv_backward_cols divides in f32, exact below 2^20.
  if (Math.max(howo, cols.ncol, cols.frames) >= 2 ** 20) throw new KernelArgError(k, 'x', `${geom.ho}x${geom.wo} outputs, ${cols.ncol} weight columns and ${cols.frames} frames must each be below 2^20`);
  for (const grid of wantDx ? [xGrid, colsGrid(cols.chunkFrames)] : [colsGrid(cols.chunkFrames)]) {
    if (grid.some((n) => n > maxWg)) throw new KernelArgError(k, 'x', `grid [${grid.join(',')}] exceeds ${maxWg} workgroups per dimension`);
  }

  // An empty batch or clip: nothing to gather or reduce, every gradient is zero.
  const empty = x.size === 0 || g.size === 0;
  const alloc = (shape: readonly number[], name: string) => (empty ? ctx.zeros(shape, 'f32', `${k}.${name}`) : ctx.tensor(shape, 'f32', `${k}.${name}`));
  const dx = wantDx ? alloc(x.shape, 'dx') : null;
  const dw = alloc(weight.shape, 'dw');
  const db = wantDb ? alloc([geom.cout], 'db') : null;
  if (empty) return { dx, dw, db };

  if (dx) {
    // Per output channel, blocks of RC input channels: [Cout][ceil(Cin/RC)][kvol][RC].
    const blocks = { batch: geom.cout, n: geom.cin, k: kvol, r: xb.m, trans: true };
    const packed = ctx.tensor([packedBlocksSize(blocks)], 'f32', `${k}.packedWeight`);
    packBlocks(ctx, weight, packed, blocks);
    ctx.dispatch(inputShader, { overrides: { WG: xb.wg, RC: xb.m, RP: xb.n }, bindings: { g, w: packed, out: dx }, params, workgroups: xGrid });
    packed.dispose();
  }

  // g^T [K, Cout]: the GEMM's B, shared by every chunk of rows.
  const gt = permute(g.reshape([geom.b, geom.cout, geom.t * howo]), [0, 2, 1]).reshape([cols.frames * howo, geom.cout]);
  let dwt: Tensor<'f32'> | null = null;
  for (let f0 = 0; f0 < cols.frames; f0 += cols.chunkFrames) {
    const frames = Math.min(cols.chunkFrames, cols.frames - f0);
    const a = ctx.tensor([frames * howo, cols.ldc], 'f32', `${k}.cols`);
    ctx.dispatch(colsShader, { overrides: { WG: COLS_WG, KH: geom.kh, KW: geom.kw }, bindings: { x, out: a }, params: { ...params, f0, frames }, workgroups: colsGrid(frames) });
    const b = frames === cols.frames ? gt : slice(gt, 0, f0 * howo, (f0 + frames) * howo);
    const next = matmul(a, b, { transA: true, residual: dwt ?? undefined });
    for (const t of [a, b === gt ? null : b, dwt]) t?.dispose();
    dwt = next;
  }
  gt.dispose();
  // dW^T [ldc, Cout] -> dw [Cout, Cin, KT, KH, KW], the taps before a0 zero.
  const rows = cols.ldc === cols.ncol ? dwt! : slice(dwt!, 0, 0, cols.ncol);
  const khw = geom.kh * geom.kw;
  const view = [geom.cout, geom.cin, geom.kt - cols.a0, khw];
  if (cols.a0 === 0) permute(rows, [1, 0], dw.reshape([geom.cout, cols.ncol]));
  else {
    const p = permute(rows, [1, 0]);
    pad(p.reshape(view), [[0, 0], [0, 0], [cols.a0, 0], [0, 0]], 0, dw.reshape([geom.cout, geom.cin, geom.kt, khw]));
    p.dispose();
  }
  if (rows !== dwt) rows.dispose();
  dwt!.dispose();
  if (db) reduceSum(g, [geom.b, geom.cout, geom.t * geom.ho * geom.wo], db);
  return { dx, dw, db };
}

/**
 * CPU reference in doubles for either geometry (2-D: t = kt = 1), written as the transpose of
 * convRef's loop (a scatter from each output gradient), independent of the kernels' gathers.
 */
export function convBackwardRef(x: ArrayLike<number>, w: ArrayLike<number>, g: ArrayLike<number>, geom: ConvGeometry): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { b: B, cin, cout, t: T, h: H, w: W, kt, kh, kw, ho, wo } = geom;
  const kvol = kt * kh * kw;
  const dx = new Float64Array(B * cin * T * H * W);
  const dw = new Float64Array(cout * cin * kvol);
  const db = new Float64Array(cout);
  let n = 0;
  for (let b = 0; b < B; b++)
    for (let co = 0; co < cout; co++)
      for (let t = 0; t < T; t++)
        for (let oy = 0; oy < ho; oy++)
          for (let ox = 0; ox < wo; ox++, n++) {
            const gv = g[n]!;
            db[co]! += gv;
            for (let ci = 0; ci < cin; ci++)
              for (let a = 0; a < kt; a++) {
                const ti = t + a - (kt - 1);
                if (ti < 0) continue;
                for (let dy = 0; dy < kh; dy++) {
                  const iy = oy * geom.sh - geom.pt + dy;
                  if (iy < 0 || iy >= H) continue;
                  for (let ddx = 0; ddx < kw; ddx++) {
                    const ix = ox * geom.sw - geom.pl + ddx;
                    if (ix < 0 || ix >= W) continue;
                    const xi = (((b * cin + ci) * T + ti) * H + iy) * W + ix;
                    const wi = (co * cin + ci) * kvol + (a * kh + dy) * kw + ddx;
                    dx[xi]! += w[wi]! * gv;
                    dw[wi]! += x[xi]! * gv;
                  }
                }
              }
          }
  return { dx, dw, db };
}

/** Comparison tolerances against convBackwardRef per gradient (see the header). */
export function convBackwardTolerance(geom: ConvGeometry): Record<'dx' | 'dw' | 'db', { atol: number; rtol: number }> {
  const tol = (k: number) => ({ atol: k * 2 ** -22 + 1e-6, rtol: 0 });
  const positions = geom.b * geom.t * geom.ho * geom.wo;
  return { dx: tol(geom.cout * geom.kt * geom.kh * geom.kw), dw: tol(positions), db: tol(positions) };
}
