/**
 * Training checkpoints as safetensors: every parameter (`param/<key>`), the optimizer's moment
 * buffers (`exp_avg/<key>`, `exp_avg_sq/<key>` or `momentum/<key>`), and in the metadata the step,
 * the data-order RNG state and the optimizer's hyperparameters. All f32 bytes as they are on the
 * GPU, so a resumed run continues bit-identically (the kernels are deterministic).
 */
import type { Tensor } from '../../kernels/index.js';
import type { Module } from '../graph/module.js';
import { type SafetensorsFile, type TensorRecord, serializeSafetensors } from '../io/safetensors.js';
import type { Optimizer } from './optim.js';

export interface CheckpointState {
  /** Optimizer steps completed. */
  step: number;
  /** The data-order RNG's state after that step. */
  rng: number;
  /** Anything else worth keeping (losses so far, config): JSON-serializable. */
  extra?: Record<string, unknown>;
}

/** Serializes model parameters, optimizer state and the loop state. */
export async function saveCheckpoint(model: Module, opt: Optimizer, s: CheckpointState): Promise<Uint8Array> {
  const tensors: Record<string, TensorRecord> = {};
  const put = async (name: string, t: Tensor) => {
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: (await t.read()) as Float32Array };
  };
  for (const p of model.namedParams()) if (p.tensor) await put(`param/${p.key}`, p.tensor);
  for (const [name, t] of opt.state()) await put(name, t);
  return serializeSafetensors(tensors, {
    format: 'videoworld-train-v1',
    step: String(s.step),
    rng: String(s.rng >>> 0),
    optimizer: JSON.stringify(opt.config()),
    extra: JSON.stringify(s.extra ?? {}),
  });
}

/**
 * Restores a checkpoint written by saveCheckpoint into an already built and loaded model and a
 * freshly constructed optimizer of the same kind; every tensor must be present with its shape.
 */
export function restoreCheckpoint(file: SafetensorsFile, model: Module, opt: Optimizer): CheckpointState {
  if (file.metadata.format !== 'videoworld-train-v1') throw new Error(`${file.source}: not a training checkpoint (metadata format ${JSON.stringify(file.metadata.format)})`);
  const saved = JSON.parse(file.metadata.optimizer ?? '{}') as Record<string, unknown>;
  if (saved.optimizer !== opt.config().optimizer) throw new Error(`${file.source}: written by ${String(saved.optimizer)}, resuming with ${String(opt.config().optimizer)}`);
  const write = (name: string, t: Tensor) => {
    if (!file.has(name)) throw new Error(`${file.source}: missing ${name}`);
    const e = file.entry(name);
    if (e.shape.join(',') !== t.shape.join(',')) throw new Error(`${file.source}: ${name} has shape [${e.shape.join(',')}], the model [${t.shape.join(',')}]`);
    t.write(file.f32(name));
  };
  for (const p of model.namedParams()) if (p.tensor) write(`param/${p.key}`, p.tensor);
  for (const [name, t] of opt.state()) write(name, t);
  const step = Number(file.metadata.step);
  opt.stepCount = step;
  return { step, rng: Number(file.metadata.rng) >>> 0, extra: JSON.parse(file.metadata.extra ?? '{}') as Record<string, unknown> };
}
