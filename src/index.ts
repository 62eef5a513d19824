/**
 * videoworld-webgpu: the graph layer and the VideoWorld model on top of the tensor core
 * (re-exported here). Browser-safe; Node helpers live in `videoworld-webgpu/node`.
 */
export * from '../kernels/index.js';
export { parseSafetensors, serializeSafetensors, SafetensorsFile, SafetensorsError, SAFETENSORS_DTYPES, MAX_HEADER_BYTES, halfToFloat, bf16ToFloat } from './io/safetensors.js';
export type { SafetensorsDType, TensorEntry, TensorRecord } from './io/safetensors.js';
export { hinit, hinitSeed, fnv1a32 } from './io/hinit.js';
