/**
 * copy: dst = src, 16 bytes per invocation (wgsl/copy.wgsl).
 * The memory roofline of every benchmark: one read + one write per element.
 * Tolerance: exact.
 */
import { expectTensor, outTensor, sameContext } from './core/check.js';
import { foldGrid } from './core/context.js';
import type { Tensor } from './core/tensor.js';
import { copy as shader } from './wgsl.gen.js';

const WG = 256;

/** Copies `src` into `out` (allocated if omitted); any dtype, same shape. */
export function copy<T extends Tensor>(src: T, out?: Tensor): T {
  expectTensor('copy', 'src', src);
  sameContext('copy', { src, out });
  const dst = outTensor('copy', src, src.shape, src.dtype, out);
  // Tensors larger than one storage binding are copied in binding-sized chunks.
  const { maxStorageBufferBindingSize: maxBind, minStorageBufferOffsetAlignment: align } = src.ctx.limits;
  const chunk = Math.floor(maxBind / (16 * WG)) * 16 * WG;
  const bytes = Math.ceil(src.byteLength / 16) * 16;
  for (let off = 0; off < bytes || off === 0; off += chunk) {
    const len = Math.min(chunk, bytes - off);
    if (off % align) throw new Error(`copy: chunk offset ${off} not aligned to ${align}`);
    const n4 = len / 16;
    src.ctx.dispatch(shader, {
      overrides: { WG },
      bindings: { src: { buffer: src.buffer, offset: off, size: Math.max(16, len) }, dst: { buffer: dst.buffer, offset: off, size: Math.max(16, len) } },
      params: { n4 },
      workgroups: foldGrid(Math.ceil(n4 / WG), src.ctx.limits.maxComputeWorkgroupsPerDimension),
    });
    if (len <= 0) break;
  }
  return dst as T;
}

/** CPU reference. */
export function copyRef(src: ArrayLike<number>): Float64Array {
  return Float64Array.from(src);
}
