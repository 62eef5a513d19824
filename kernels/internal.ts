/**
 * videoworld-webgpu/kernels/internal: the per-call knobs (withKnobs), tile choosers, binding-chunk planners and
 * test tolerances behind the kernels. For benchmarks, tests and people writing kernels on this
 * core; not needed to call the kernels, and not held to the main entry's stability.
 */
export { withKnobs, knobs } from './core/knobs.js';
export type { Knobs, ConvTile, PackedTile } from './core/knobs.js';
export { adapterClass, tuningFor, TUNING_TABLE } from './core/tuning.js';
export type { AdapterClass, AdapterFacts, KernelTuning } from './core/tuning.js';
export { DTYPES } from './core/tensor.js';
export { bucketSize } from './core/pool.js';
export { tableChunks } from './core/bindings.js';
export { broadcastPlan } from './binary.js';
export { convTolerance, CONV_SG_RM, convTile } from './conv3d_causal.js';
export { flashKernel, flashTiles, rowsVariant } from './attention.js';
export { decodeScratchBytes, DECODE_CHUNK } from './attention_decode.js';
export { fsqPlan } from './core/fsq_plan.js';
export type { FsqPlan } from './core/fsq_plan.js';
export { chooseMatmulTiles, choosePackedTile, chunkRows, PACK_PER_CALL_MIN_M } from './matmul.js';
export type { MatmulTiles } from './matmul.js';
export { vqNearTies, vqTieTolerance } from './vq_lookup.js';
export type { VqNearTie } from './vq_lookup.js';
export { sampleScoresRef, gumbelRef, pcg4dX } from './sampling.js';
export { convBackwardTolerance, weightColumns } from './conv_backward.js';
export { embeddingCsr } from './embedding_backward.js';
export type { EmbeddingCsr } from './embedding_backward.js';
export { attentionBackwardTiles, attentionBackwardKernel } from './attention_backward.js';
