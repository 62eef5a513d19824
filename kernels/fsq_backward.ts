/**
 * fsq_backward: the straight-through gradient of FSQ's normalised codes w.r.t. u, the value fed to
 * tanh (z, or project_in(z)) (wgsl/fsq_backward.wgsl). Upstream's round_ste(b) = b + (round(b) − b)
 * .detach() has identity backward everywhere (ties and saturated values included), so per channel
 * k with level L:
 *
 *   y = tanh(u + shift),   du = g · half_l / (L div 2) · (1 − y²)
 *
 * half_l and shift are the forward's float32 constants (fsqPlan); 1 − y² is computed from the
 * float32 tanh output y, as torch's float32 autograd does, so du is exactly 0 once y rounds to ±1
 * (|u + shift| >~ 9). The gradients of project_in / project_out are ordinary Linear backwards.
 *
 * Layouts (u, g and du share one): channel-last [..., nl], or channel-first [B, nl, ...spatial]
 * (default for rank >= 4, as fsqQuantize).
 * Tolerance vs fsqBackwardRef (float32 tanh, float64 rest): |err| <= 2e-6 · max|g|. WGSL tanh on
 * lavapipe is a few ulp off the correctly rounded float32 y, and 1 − y² moves by 2|y|·|Δy|; near
 * the saturation point that is up to ~1.2e-7 absolute per ulp, scaled by half_l / (L div 2) <= 1.
 */
import { expectTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { type Tensor, numel } from './core/tensor.js';
import { fsqPlan } from './core/fsq_plan.js';
import { fsq_backward as shader } from './wgsl.gen.js';

const WG = 256;
const f32 = Math.fround;

export interface FsqBackwardOptions {
  levels: readonly number[];
  /** Channels in dim 1 (NCHW / NCDHW). Default: rank >= 4, as fsqQuantize. */
  channelFirst?: boolean;
}

/**
 * dL/du from dL/dcodes through FSQ's straight-through estimator.
 * @example
 * const du = fsqBackward(u, gCodes, { levels: [8, 8, 8, 5, 5, 5] });   // u, gCodes, du: [2, 16, 6]
 */
export function fsqBackward(u: Tensor, g: Tensor, o: FsqBackwardOptions): Tensor<'f32'> {
  const K = 'fsq_backward';
  const plan = fsqPlan(o.levels, K);
  const nl = plan.levels.length;
  expectTensor(K, 'u', u, { dtype: 'f32' });
  const cf = o.channelFirst ?? u.shape.length >= 4;
  const chanDim = cf ? 1 : u.shape.length - 1;
  if (u.shape.length < (cf ? 3 : 2)) {
    throw new KernelArgError(K, 'u', `${cf ? 'channel-first input needs rank >= 3 [B, nl, ...spatial]' : 'channel-last input needs rank >= 2 [..., nl]'}, got [${u.shape.join(',')}]`);
  }
  if (u.shape[chanDim] !== nl) throw new KernelArgError(K, 'u', `channel dim ${chanDim} is ${u.shape[chanDim]}, expected len(levels) = ${nl} (shape [${u.shape.join(',')}])`);
  expectTensor(K, 'g', g, { dtype: 'f32', shape: u.shape });
  sameContext(K, { u, g });
  const ctx = u.ctx;
  const du = ctx.tensor(u.shape, 'f32', 'fsq_backward.du');
  const overrides: Record<string, number> = { WG, NL: nl };
  plan.levels.forEach((L, k) => {
    overrides[`L${k}`] = L;
    overrides[`H${k}`] = plan.halfL[k]!;
    overrides[`SH${k}`] = plan.shift[k]!;
  });
  ctx.dispatch(shader, {
    overrides,
    bindings: { u, g, du },
    params: { n: u.size, spatial: cf ? numel(u.shape.slice(2)) : 1 },
    workgroups: foldGrid(Math.ceil(u.size / (4 * WG)), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  return du;
}

/**
 * CPU reference on channel-last rows u, g [rows, nl] -> du [rows, nl]: y = tanh(u + shift) rounded
 * to float32 (torch's float32 forward value), everything else in float64.
 */
export function fsqBackwardRef(u: ArrayLike<number>, g: ArrayLike<number>, rows: number, levels: readonly number[]): Float64Array {
  const plan = fsqPlan(levels, 'fsq_backward');
  const nl = plan.levels.length;
  const du = new Float64Array(rows * nl);
  for (let i = 0; i < rows * nl; i++) {
    const k = i % nl;
    const y = f32(Math.tanh(f32(u[i]! + plan.shift[k]!)));
    du[i] = ((g[i]! * plan.halfL[k]!) / plan.hw[k]!) * (1 - y * y);
  }
  return du;
}
