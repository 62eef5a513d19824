// conv_winograd: Winograd F(2x2, 3x3), F(4x4, 3x3) and F(6x6, 3x3) against the direct conv (kernel id
// conv3d_causal, winograd off) on the tokenizer's 128-channel 3x3 convs, f16 weights as the apps
// run them: where WINOGRAD_MIN_TILES comes from. GFLOP/s are the direct conv's FLOPs over the
// time (effective); roofline: the FMA ceiling rows of the same run.
import { type BenchCase } from './harness.js';
import { convCase } from './conv3d_causal.bench.js';

export const cases: BenchCase[] = [32, 64, 128, 256].flatMap((n) =>
  ([false, 2, 4, 6] as const).map((winograd) => convCase({ shape: `x[1,128,${n},${n}] w[128,128,3,3] 2d`, x: [1, 128, n, n], w: [128, 128, 3, 3], twoD: true, prepack: true, dtype: 'f16', winograd, quick: n === 128 })),
);
