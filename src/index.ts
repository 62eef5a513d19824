/**
 * videoworld-webgpu: the graph layer and the VideoWorld model on top of the tensor core
 * (re-exported here). Browser-safe; Node helpers live in `videoworld-webgpu/node`.
 */
export * from '../kernels/index.js';
export { parseSafetensors, serializeSafetensors, SafetensorsFile, SafetensorsError, SAFETENSORS_DTYPES, MAX_HEADER_BYTES, halfToFloat, bf16ToFloat } from './io/safetensors.js';
export type { SafetensorsDType, TensorEntry, TensorRecord } from './io/safetensors.js';
export { hinit, hinitSeed, fnv1a32 } from './io/hinit.js';
export { parseSafetensorsHeader, safetensorsHeaderLength, safetensorsLayout } from './io/safetensors.js';
export type { TensorSpec, SafetensorsLayout } from './io/safetensors.js';
export { openPth, PthCheckpoint, PthTensor, PthStorage, PthOpaque, PthError, STORAGE_DTYPES, OPAQUE_GLOBALS, LEGACY_FORMAT_HINT } from './io/pth.js';
export type { PthOptions } from './io/pth.js';
export { unpickle, summarizePy, PyDict, PyTuple, DEFAULT_PICKLE_LIMITS } from './io/pickle.js';
export type { PickleLimits, PyCallable } from './io/pickle.js';
export { ZipArchive, memorySource, crc32 } from './io/zip.js';
export type { ByteSource, ZipEntry } from './io/zip.js';
