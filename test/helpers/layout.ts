import { permuteRef } from '../../kernels/layout.js';

/** [B, C, S] -> [B, S, C] (channel-first maps to token-major rows), as f32. */
export function toChannelLast(x: ArrayLike<number>, B: number, C: number, S: number): Float32Array {
  return Float32Array.from(permuteRef(x, [B, C, S], [0, 2, 1]));
}
