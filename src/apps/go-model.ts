/**
 * Loading a Go model for the examples and the CLI: which preset, which weights, and a label that
 * says which weights were used (the project's trained micro model, a user's checkpoint, or stand-in
 * weights whose boards are noise).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GpuContext, WeightDtype } from '../../kernels/index.js';
import { GO_PIPELINES } from './go-pipelines.js';
import { safetensorsSource } from '../graph/weights.js';
import { type PresetName, PRESETS, MICRO_WEIGHTS_FORMAT, microLayout } from '../models/videoworld/presets.js';
import { VideoWorldGo, randomWeights } from '../models/videoworld/videoworld.js';
import { openWeightFiles, readSafetensorsFile, readSafetensorsHeaderFile, warmPipelinesWithChild } from '../node.js';

/** The trained micro model shipped in the package (weights/go-micro.safetensors). */
export function shippedWeights(name = 'go-micro'): string {
  const candidates = [`../../weights/${name}.safetensors`, `../../../weights/${name}.safetensors`].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export interface GoModelOptions {
  /** Default: 'micro' (the shipped weights), or what a micro weights file says it is. */
  preset?: string;
  /** Checkpoint files: a micro safetensors file, or upstream's go_fsq.pth / go_battle.pth (or converted). */
  weights?: string[];
  /**
   * Storage of the packed weights (Module.weightDtype): 'f16' (default: half the memory, f32 math;
   * `videoworld verify --dtype f16` passes every golden) or 'f32'.
   */
  dtype?: WeightDtype;
  onProgress?: (done: number, total: number) => void;
  /** Compile the pipelines a move uses while the weights load (GO_PIPELINES; default true). */
  warm?: boolean;
}

/**
 * Compiles the pipelines a move of `preset` with `dtype` weights uses (the recorded GO_PIPELINES
 * manifest) while the caller goes on, e.g. loading weights, instead of at the first move's
 * dispatches; on lavapipe a child process compiles half of them (warmPipelinesWithChild).
 * Resolves when every one is ready, with how many were compiled.
 */
export async function warmGoPipelines(ctx: GpuContext, preset: string, dtype: WeightDtype): Promise<number> {
  return (await warmPipelinesWithChild(ctx, GO_PIPELINES[`${preset}-${dtype}`] ?? [])).warmed;
}

export interface LoadedGoModel {
  model: VideoWorldGo;
  /** Says which weights are in use, for the user's output. */
  weightsLabel: string;
  /** False for stand-in weights: the generated boards are noise. */
  trained: boolean;
  notes: string[];
}

export async function loadGoModel(ctx: GpuContext, o: GoModelOptions = {}): Promise<LoadedGoModel> {
  const files = o.weights?.filter(Boolean) ?? [];
  const dtype = o.dtype ?? 'f16';
  const stored = `; weights stored as ${dtype}`;
  let presetName = o.preset;
  if (presetName !== undefined && !(presetName in PRESETS)) throw new Error(`unknown preset '${presetName}' (one of ${Object.keys(PRESETS).join(', ')})`);
  if (!files.length && (presetName ?? 'micro') === 'micro') {
    const shipped = shippedWeights();
    if (!existsSync(shipped)) throw new Error(`the micro model's weights are missing (${shipped}): run \`npm run train:go-micro\`, or pass --preset tiny|go for stand-in weights`);
    files.push(shipped);
  }
  // A micro weights file carries its layout (with or without latent-action tokens) in its header,
  // read alone first: a go checkpoint is 1.5 GB, streamed below.
  if (files.length === 1 && files[0]!.endsWith('.safetensors')) {
    const { metadata } = await readSafetensorsHeaderFile(files[0]!);
    if (metadata.format === 'videoworld-micro-v1') {
      throw new Error(`${files[0]} holds micro weights of format ${metadata.format}; this version reads ${MICRO_WEIGHTS_FORMAT} (its tokenizer encodes patch by patch): retrain with \`npm run train:go-micro\``);
    }
    if (metadata.format === MICRO_WEIGHTS_FORMAT) {
      const st = await readSafetensorsFile(files[0]!);
      if (presetName && presetName !== 'micro') throw new Error(`${files[0]} holds the micro model, not preset '${presetName}'`);
      const preset = PRESETS.micro;
      // Action ids are LDM codes: ranking them (actionRank) needs the levels the file was trained with.
      // Files from before the levels were recorded used [8, 5, 5].
      const levels = st.metadata.ldm_levels ?? '[8,5,5]';
      if (st.metadata.layout !== 'no-ldm' && levels !== JSON.stringify(preset.ldm.levels)) {
        throw new Error(`${files[0]} was trained on LDM codes of levels ${levels}; this version's micro LDM has ${JSON.stringify(preset.ldm.levels)}: retrain with \`npm run train:go-micro -- --ldm\``);
      }
      const layout = microLayout(st.metadata);
      const model = new VideoWorldGo(preset, preset.transformer, layout).withWeightDtype(dtype);
      await Promise.all([(o.warm ?? true) && warmGoPipelines(ctx, preset.name, dtype), model.load(ctx, safetensorsSource(st), { onProgress: o.onProgress })]);
      const shipped = files[0] === shippedWeights() ? 'shipped, ' : '';
      return { model, weightsLabel: `micro model trained in-project (${shipped}${st.metadata.layout === 'no-ldm' ? 'without latent actions, ' : ''}${files[0]}${stored})`, trained: true, notes: [] };
    }
  }
  const preset = PRESETS[(presetName ?? 'go') as PresetName];
  if (!files.length) {
    const model = new VideoWorldGo(preset).withWeightDtype(dtype);
    await Promise.all([(o.warm ?? true) && warmGoPipelines(ctx, preset.name, dtype), model.load(ctx, randomWeights(model), { onProgress: o.onProgress })]);
    return { model, weightsLabel: `stand-in weights (hinit-v1, preset ${preset.name}${stored}): the generated boards are noise`, trained: false, notes: [] };
  }
  const opened = await openWeightFiles(files);
  try {
    let transformer = preset.transformer;
    const inferred = opened.transformer;
    if (inferred?.numHeads) {
      transformer = { ...transformer, numLayers: inferred.numLayers, hiddenSize: inferred.hiddenSize, intermediateSize: inferred.intermediateSize, vocabSize: inferred.vocabSize, numHeads: inferred.numHeads, bias: inferred.qkvBias };
    }
    const model = new VideoWorldGo(preset, transformer).withWeightDtype(dtype);
    await Promise.all([(o.warm ?? true) && warmGoPipelines(ctx, preset.name, dtype), model.load(ctx, opened.source, { onProgress: o.onProgress })]);
    return { model, weightsLabel: `${files.join(', ')} (preset ${preset.name}${stored})`, trained: true, notes: opened.notes };
  } finally {
    await opened.close();
  }
}
