/**
 * videoworld-webgpu/kernels: the tensor core (context, tensors, pool, pipelines) and one module
 * per kernel family. Browser-safe: no Node built-ins.
 *
 * @example
 * const ctx = await createContext();              // navigator.gpu, or pass { device }
 * const a = ctx.fromArray([1, 2, 3], [3]);
 * const b = ctx.fromArray([10, 20, 30], [3]);
 * console.log(await add(a, b).read());            // Float32Array [11, 22, 33]
 *
 * @module videoworld-webgpu/kernels
 */
export { createContext, foldGrid, GpuContext } from './core/context.js';
export type { Binding, ContextLimits, ContextOptions, DispatchSpec, OptionalFeature, PipelineSpec } from './core/context.js';
export { warmPipelines } from './pipelines.js';
export { DeviceError, KernelArgError, KernelCompileError, NoAdapterError } from './core/errors.js';
export { Tensor, numel } from './core/tensor.js';
export type { DType, Storage, TypedArrayOf } from './core/tensor.js';
export { expectTensor, outTensor, sameContext, expectInt } from './core/check.js';
export type { ParamField, ShaderBinding, ShaderInfo } from './core/shader-info.js';
export type { TensorExpectation } from './core/check.js';
export type { AdapterClass, AdapterFacts, KernelTuning } from './core/tuning.js';
export { BufferPool } from './core/pool.js';
export type { PoolStats } from './core/pool.js';
export { erfRef } from './core/ref_math.js';
export { copy, copyRef } from './copy.js';
export { add, sub, mul, div, binary, binaryRef, BINARY_OPS } from './binary.js';
export type { BinaryOp } from './binary.js';
export { softmax, softmaxRef } from './softmax.js';
export type { SoftmaxOptions } from './softmax.js';
export { meanPool, meanPoolRef } from './mean_pool.js';
export { unary, unaryRef, silu, relu, gelu, scale, clamp, UNARY_OPS } from './unary.js';
export type { UnaryOp, UnaryArgs } from './unary.js';
export { causalConv3d, CausalConv3dStream, convRef, PackedConvWeight } from './conv3d_causal.js';
export type { CausalConv3dOptions, ConvActivation, ConvEpilogue, ConvWeight, ConvRefOptions } from './conv3d_causal.js';
export { conv2d } from './conv2d.js';
export { causalConv3dGeometry, conv2dGeometry } from './core/conv_geometry.js';
export type { ConvGeometry } from './core/conv_geometry.js';
export type { Conv2dOptions, ConvInputNorm } from './conv2d.js';
export { upsampleNearest2x, depthToSpace2x, resampleRef, resampleShape } from './resample.js';
export type { ResampleMode } from './resample.js';
export { attention, attentionFlash, attentionRef, KVCache } from './attention.js';
export type { KVCacheShape } from './attention.js';
export { attentionShape, F32_MIN } from './core/attention_shape.js';
export type { AttentionOptions, AttentionRefOptions, AttentionRefShape, AttentionShape } from './core/attention_shape.js';
export { attentionDecode } from './attention_decode.js';
export { rope, ropeQkv, ropeRef, ropeQkvRef, ropeTable, ropeTableData, ropeInvFreq } from './rope.js';
export type { RopeTable, RopeQkvOptions } from './rope.js';
export { groupNorm, groupNormFramewise, adaGroupNorm, groupNormStats, groupNormRef, groupNormFramewiseRef, adaGroupNormRef, groupNormRefGeom } from './group_norm.js';
export type { GroupNormOptions, GroupNormRefArgs } from './group_norm.js';
export type { GroupNormGeometry } from './core/group_chunk.js';
export { fsqQuantize, fsqCodesToIndices, fsqQuantizeRef, fsqCodesToIndicesRef } from './fsq_round.js';
export { fsqBound, roundHalfEven } from './core/fsq_plan.js';
export type { FsqQuantizeOptions, FsqCodesToIndicesOptions } from './fsq_round.js';
export type { Linear as FsqLinear, LinearData } from './core/fsq_plan.js';
export { fsqIndicesToCodes, fsqIndicesToCodesRef } from './fsq_codes.js';
export type { FsqIndicesToCodesOptions } from './fsq_codes.js';
export { layerNorm, rmsNorm, rowNormRef } from './row_norm.js';
export type { RowNormOptions } from './row_norm.js';
export { matmul, linear, linearSwiGLU, matmulRef, MATMUL_ACTIVATIONS, PackedMatmulWeight } from './matmul.js';
export type { MatmulActivation, MatmulOptions } from './matmul.js';
export { WEIGHT_DTYPES, isWeightDtype, type WeightDtype } from './core/tensor.js';
export { F16Table, gatherRows, gatherRowsRef } from './gather_rows.js';
export type { GatherRowsOptions } from './gather_rows.js';
export { vqNearest, vqNearestRef } from './vq_lookup.js';
export type { VqNearestOptions } from './vq_lookup.js';
export { concat, slice, pad, permute, writeSlice, concatRef, sliceRef, padRef, permuteRef, writeSliceRef } from './layout.js';
export { fourierPe, fourierPeRef } from './fourier_pe.js';
export type { FourierPeOptions } from './fourier_pe.js';
export { argmax, sample, sampleTokens, argmaxRef, sampleRef } from './sampling.js';
export type { SampleOptions } from './sampling.js';
export { reduceSum, reduceSumRef, sumSquares, sumSquaresRef } from './reduce.js';
export { linearBackward, matmulBackward, linearBackwardRef, matmulBackwardRef } from './matmul_backward.js';
export { unaryBackward, unaryBackwardRef, siluMulBackward, siluMulBackwardRef, UNARY_BACKWARD_OPS } from './unary_backward.js';
export type { UnaryBackwardOp } from './unary_backward.js';
export { softmaxBackward, softmaxBackwardRef } from './softmax_backward.js';
export type { SoftmaxBackwardOptions } from './softmax_backward.js';
export { softmaxCrossEntropy, softmaxCrossEntropyRef } from './cross_entropy.js';
export type { SoftmaxCrossEntropyOptions, SoftmaxCrossEntropyResult } from './cross_entropy.js';
export { adamwStep, sgdStep, adamwStepRef, sgdStepRef } from './optimizer.js';
export type { AdamWOptions, SgdOptions } from './optimizer.js';
export { conv2dBackward, causalConv3dBackward, convBackwardRef } from './conv_backward.js';
export type { Conv2dBackwardOptions, CausalConv3dBackwardOptions, ConvBackwardFlags, ConvGrads } from './conv_backward.js';
export { fsqBackward, fsqBackwardRef } from './fsq_backward.js';
export type { FsqBackwardOptions } from './fsq_backward.js';
export { upsampleNearest2xBackward, depthToSpace2xBackward, resampleBackwardRef } from './resample.js';
export { embeddingBackward, embeddingBackwardRef } from './embedding_backward.js';
export type { EmbeddingBackwardOptions } from './embedding_backward.js';
export { attentionBackward, attentionBackwardRef } from './attention_backward.js';
export type { AttentionBackwardOptions, AttentionBackwardRefShape, AttentionGrads } from './attention_backward.js';
export { ropeBackward, ropeBackwardRef } from './rope.js';
export { groupNormBackward, adaGroupNormBackward, rmsNormBackward, groupNormBackwardRef, adaGroupNormBackwardRef, rmsNormBackwardRef } from './norm_backward.js';
export type { GroupNormBackwardOptions, AdaGroupNormBackwardOptions, GroupNormGrads, AdaGroupNormGrads, RmsNormGrads } from './norm_backward.js';
export { layerNormBackward, layerNormBackwardRef } from './norm_backward.js';
export type { LayerNormGrads } from './norm_backward.js';
