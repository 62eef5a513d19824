/**
 * videoworld-webgpu: the graph layer and the VideoWorld model on top of the tensor core
 * (re-exported here). Browser-safe; Node helpers live in `videoworld-webgpu/node`.
 *
 * @module videoworld-webgpu
 */
export * from '../kernels/index.js';
export { parseSafetensors, serializeSafetensors, SafetensorsFile, SafetensorsError, SAFETENSORS_DTYPES, MAX_HEADER_BYTES, halfToFloat, bf16ToFloat } from './io/safetensors.js';
export type { SafetensorsDType, TensorEntry, TensorRecord } from './io/safetensors.js';
export { hinit, hinitSeed, fnv1a32 } from './io/hinit.js';
export { parseSafetensorsHeader, safetensorsHeaderLength, safetensorsLayout } from './io/safetensors.js';
export type { TensorSpec, SafetensorsLayout } from './io/safetensors.js';
export { openPth, PthCheckpoint, PthTensor, PthStorage, PthOpaque, PthError, STORAGE_DTYPES, OPAQUE_GLOBALS, LEGACY_FORMAT_HINT } from './io/pth.js';
export type { PthOptions } from './io/pth.js';
export type { PyBuildable, UnpickleOptions } from './io/pickle.js';
export { unpickle, summarizePy, PyDict, PyTuple, DEFAULT_PICKLE_LIMITS } from './io/pickle.js';
export type { PickleLimits, PyCallable } from './io/pickle.js';
export { ZipArchive, memorySource, crc32 } from './io/zip.js';
export type { ByteSource, Crc32, ZipEntry } from './io/zip.js';
export { decodeF32, elementReader } from './io/safetensors.js';
export { Module, Param, GraphError } from './graph/module.js';
export type { LoadReport } from './graph/module.js';
export { safetensorsSource, hinitSource, randomInitSource } from './graph/weights.js';
export { Tape, activeTape, noGrad, accumulateGrads } from './graph/autograd.js';
export type { BackwardFn, Grad } from './graph/autograd.js';
export * as ops from './graph/ops.js';
export { SeededRng } from './graph/rng.js';
export { AdamW, SGD, gradNorm, clipScale, warmupCosine } from './train/optim.js';
export type { AdamWConfig, SgdConfig, Optimizer, ScheduleOptions } from './train/optim.js';
export { saveCheckpoint, restoreCheckpoint } from './train/checkpoint.js';
export type { CheckpointState } from './train/checkpoint.js';
export { trainLoop, lossCurveSvg } from './train/loop.js';
export type { TrainOptions, TrainResult } from './train/loop.js';
export { goBoardImages, downscaleImage, randomPosition } from './train/go-data.js';
export { verifyGradGolden, GRAD_TOLERANCE, ADAMW_TOLERANCE } from './verify-grad.js';
export type { WeightSource } from './graph/weights.js';
export { InternLM, DecoderLayer, RMSNorm, INTERNLM_DEFAULTS } from './models/videoworld/internlm.js';
export { Linear, Conv2d, CausalConv3d, GroupNorm } from './models/videoworld/layers.js';
export type { InternLMConfig, GenerateOptions, GenerateResult, ForwardOptions, StepInputs } from './models/videoworld/internlm.js';
export { ImageTokenizer, VQGAN, VQResidual, VQAttention, VQDownsample, VQUpsample, GO_TOKENIZER, TINY_TOKENIZER, SMALL_TOKENIZER } from './models/videoworld/tokenizer.js';
export type { TokenizerConfig, VQGANConfig, NormConfig, TokenizerEncoding } from './models/videoworld/tokenizer.js';
export { LatentDynamicsModel, LdmResidual, AdaGN, QFormer, QFormerSep, SpatialDown, SpatialUp, FramewiseNorm, QAttention, LayerNormP, GO_LDM, TINY_LDM, SMALL_LDM } from './models/videoworld/ldm.js';
export type { LdmConfig, LdmEncoding, LdmLayer } from './models/videoworld/ldm.js';
export { VideoWorldGo, randomWeights } from './models/videoworld/videoworld.js';
export type { MoveOptions, MoveResult } from './models/videoworld/videoworld.js';
export { PRESETS, GO_TOKENS, microLayout } from './models/videoworld/presets.js';
export type { VideoWorldPreset, GoTokenLayout, BoardImageMode } from './models/videoworld/presets.js';
export { WEIGHT_MAPS, mapKeys, detectWeightMap, checkKeys, formatKeyReport, resolveWeights, WeightMapError } from './models/videoworld/weight-map.js';
export type { WeightMap, KeyMapping, KeyReport, PrefixRule } from './models/videoworld/weight-map.js';
export { inferTransformerConfig } from './models/videoworld/infer-config.js';
export type { TransformerConfig } from './models/videoworld/infer-config.js';
export { verifyGolden, goldenWeights, toleranceFor } from './verify.js';
export type { VerifyResult } from './verify.js';
export * from './go/index.js';
