// conv2d: the image tokenizer's 2-D convs, run by the conv3d_causal shaders with T = KT = 1, so
// the rows carry kernel id conv3d_causal (the shader that ran) and a "2d" shape. Compute-bound,
// flops = 2 * Cout * Cin * KH*KW * B*HO*WO; roofline and tile notes in bench/conv3d_causal.bench.ts.
// Measured 2026-11-21, tokenizer 512 channels at 4x4 (load 2.9, min of 5): per-call packing
// 24.3 ms (3.1 GFLOP/s), PackedConvWeight 11.2 ms (6.7 GFLOP/s): the weights (9.4 MB) dominate.
import { type BenchCase } from './harness.js';
import { convCase } from './conv3d_causal.bench.js';

export const cases: BenchCase[] = [
  // The tokenizer's 3x3 at 256x256.
  convCase({ shape: 'x[1,128,256,256] w[128,128,3,3] 2d', x: [1, 128, 256, 256], w: [128, 128, 3, 3], twoD: true }),
  // The tokenizer's 512-channel convs at 4x4: weights (9.4 MB) outweigh the activations, so the
  // per-call repack shows; the model should pass PackedConvWeight.
  ...[false, true].map((prepack) => convCase({ shape: 'x[1,512,4,4] w[512,512,3,3] 2d', x: [1, 512, 4, 4], w: [512, 512, 3, 3], twoD: true, prepack, quick: true })),
  // f16 weight storage (--dtype f16): half the weight bytes, the same FMAs.
  convCase({ shape: 'x[1,512,4,4] w[512,512,3,3] 2d', x: [1, 512, 4, 4], w: [512, 512, 3, 3], twoD: true, prepack: true, dtype: 'f16', quick: true }),
  ...(['f32', 'f16'] as const).map((dtype) => convCase({ shape: 'x[1,128,64,64] w[128,128,3,3] 2d', x: [1, 128, 64, 64], w: [128, 128, 3, 3], twoD: true, prepack: true, dtype })),
];
