// Random q, k, v for the attention tests (attention.test.ts, attention_decode.test.ts).
import type { GpuContext } from '../../kernels/index.js';
import type { Rng } from './rng.js';

export interface Case {
  B: number; NH: number; Lq: number; Lk: number; HD: number; causal?: boolean; scale?: number;
}

export function upload(ctx: GpuContext, c: Case, rng: Rng) {
  const qa = rng.array(c.B * c.NH * c.Lq * c.HD, -1.5, 1.5);
  const ka = rng.array(c.B * c.NH * c.Lk * c.HD, -1.5, 1.5);
  const va = rng.array(c.B * c.NH * c.Lk * c.HD);
  return {
    qa, ka, va,
    q: ctx.fromArray(qa, [c.B, c.NH, c.Lq, c.HD]),
    k: ctx.fromArray(ka, [c.B, c.NH, c.Lk, c.HD]),
    v: ctx.fromArray(va, [c.B, c.NH, c.Lk, c.HD]),
  };
}
