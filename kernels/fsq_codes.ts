/**
 * fsq_codes: FSQ indices -> normalised codes (upstream `indices_to_codes`), with an optional fused
 * project_out linear (wgsl/fsq_codes.wgsl).
 *
 *   digit_k = (idx div basis_k) mod L_k, code_k = (digit_k − hw_k)/hw_k, out = W·code + b
 *
 * Layouts: indices [...] -> [..., D] channel-last; channel-first (default for indices rank >= 3, as
 * upstream: `b ... d -> b d ...`) [B, ...spatial] -> [B, D, ...spatial]. D = weight rows with
 * project_out (weight [D, nl], bias [D]), else nl.
 * Out-of-range indices: host data (an Int32Array) is validated before upload and throws a
 * KernelArgError; GPU data cannot be checked before the dispatch, so such rows come out NaN and
 * are counted into `outOfRange` (a zeroed u32 [1] tensor) when the caller passes one.
 * The level list is compiled into the pipeline (overrides), so the digit div/mods are by constants.
 * Tolerance: codes exact ((digit − hw)/hw is one correctly rounded f32 division, as in torch and
 * the Math.fround reference); projected values within 1e-5 of torch (an nl-term f32 dot product
 * summed in a different order).
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { type GpuContext, foldGrid } from './core/context.js';
import { KernelArgError } from './core/errors.js';
import { Tensor } from './core/tensor.js';
import { type Linear, type LinearData, expectLinear, fsqPlan, fsqRowsPerInvocation } from './core/fsq_plan.js';
import { indexTensor, unusedBinding } from './core/bindings.js';
import { fsq_codes as shader } from './wgsl.gen.js';

const WG = 64;
const f32 = Math.fround;

export interface FsqIndicesToCodesOptions {
  levels: readonly number[];
  /** torch Linear(len(levels) -> dim): weight [dim, nl], bias [dim]. */
  projectOut?: Linear;
  /** Default: indices rank >= 3, as upstream. */
  channelFirst?: boolean;
  /** For host indices: the context to upload to (default: projectOut's) and their shape (default [n]). */
  ctx?: GpuContext;
  shape?: readonly number[];
  /** Zeroed u32 [1]: incremented once per out-of-range GPU index. */
  outOfRange?: Tensor;
  out?: Tensor;
}

/**
 * FSQ indices -> codes (projected when projectOut is given).
 * @example
 * const img = fsqIndicesToCodes(indices, { levels: [8, 8, 8, 5, 5, 5], projectOut: { weight, bias } }); // [1,4,4] -> [1,256,4,4]
 */
export function fsqIndicesToCodes(indices: Tensor | Int32Array, opts: FsqIndicesToCodesOptions): Tensor<'f32'> {
  const K = 'fsq_codes';
  const plan = fsqPlan(opts.levels, K);
  const nl = plan.levels.length;
  if (opts.projectOut) expectLinear(K, 'projectOut', opts.projectOut, null, nl);
  const ids = indexTensor(K, indices, plan.nCodes, opts.ctx ?? opts.projectOut?.weight.ctx, opts.shape);
  if (opts.outOfRange !== undefined) expectTensor(K, 'outOfRange', opts.outOfRange, { dtype: 'u32', shape: [1] });
  sameContext(K, { indices: ids, w: opts.projectOut?.weight, b: opts.projectOut?.bias, outOfRange: opts.outOfRange, out: opts.out });
  const D = opts.projectOut ? opts.projectOut.weight.shape[0]! : nl;
  const cf = opts.channelFirst ?? ids.shape.length >= 3;
  if (cf && ids.shape.length < 2) throw new KernelArgError(K, 'indices', `channel-first output needs indices of rank >= 2 [B, ...spatial], got [${ids.shape.join(',')}]`);
  const spatial = cf ? ids.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const outShape = cf ? [ids.shape[0]!, D, ...ids.shape.slice(1)] : [...ids.shape, D];
  const out = outTensor(K, ids, outShape, 'f32', opts.out, 'fsq.codes');
  const ctx = ids.ctx;
  const R = fsqRowsPerInvocation(ids.size, opts.projectOut !== undefined);
  const overrides: Record<string, number> = { WG, R, NL: nl };
  plan.levels.forEach((L, k) => (overrides[`L${k}`] = L));
  ctx.dispatch(shader, {
    overrides,
    bindings: {
      indices: ids,
      w: opts.projectOut?.weight ?? unusedBinding(ctx, 'fsq.w'),
      bias: opts.projectOut?.bias ?? unusedBinding(ctx, 'fsq.bias'),
      out,
      flag: opts.outOfRange ?? unusedBinding(ctx, 'fsq.flag'),
    },
    params: {
      rows: ids.size,
      dim: D,
      spatial,
      has_proj: opts.projectOut ? 1 : 0,
      has_bias: opts.projectOut?.bias ? 1 : 0,
      n_codes: plan.nCodes,
    },
    workgroups: foldGrid(Math.ceil(ids.size / (R * WG)), ctx.limits.maxComputeWorkgroupsPerDimension),
  });
  if (ids !== indices) ids.dispose();
  return out;
}

/**
 * CPU reference, channel-last: indices [n] -> [n, D] (D = dim with proj, else nl), in doubles;
 * out-of-range indices give NaN rows, as on the GPU.
 */
export function fsqIndicesToCodesRef(indices: ArrayLike<number>, levels: readonly number[], proj?: LinearData & { dim: number }): Float64Array {
  const plan = fsqPlan(levels);
  const nl = plan.levels.length;
  const D = proj ? proj.dim : nl;
  const out = new Float64Array(indices.length * D);
  const code = new Float64Array(nl);
  for (let r = 0; r < indices.length; r++) {
    const idx = indices[r]!;
    if (!(idx >= 0 && idx < plan.nCodes)) {
      out.fill(NaN, r * D, (r + 1) * D);
      continue;
    }
    for (let k = 0; k < nl; k++) code[k] = f32(((Math.floor(idx / plan.basis[k]!) % plan.levels[k]!) - plan.hw[k]!) / plan.hw[k]!);
    for (let j = 0; j < D; j++) {
      if (!proj) {
        out[r * D + j] = code[j]!;
        continue;
      }
      let acc = proj.bias ? proj.bias[j]! : 0;
      for (let k = 0; k < nl; k++) acc += proj.weight[j * nl + k]! * code[k]!;
      out[r * D + j] = acc;
    }
  }
  return out;
}
