/**
 * warmPipelines: compiles the pipelines a job will use before it needs them, e.g. while its
 * weights load (GpuContext.warmPipeline each: a zero-workgroup indirect dispatch over stand-in
 * buffers). CPU adapters (lavapipe) compile a shader at its first dispatch, up to ~2 s each for
 * the big ones, so a fresh process's first move otherwise waits for every compile in turn. The
 * specs are GpuContext.pipelineSpecs() of an earlier run of the job (a manifest); pipelines
 * already created, and shaders whose `enable` the device lacks, are skipped.
 */
import { KernelArgError } from './core/errors.js';
import type { GpuContext, PipelineSpec } from './core/context.js';
import type { ShaderInfo } from './core/shader-info.js';
import * as shaders from './wgsl.gen.js';

/** This library's shader `id`, or a named error. */
export function shaderById(id: string, what = 'shader'): ShaderInfo {
  const s = (shaders as Record<string, unknown>)[id];
  if (typeof s !== 'object' || s === null || !('code' in s)) throw new KernelArgError('warmPipelines', what, `'${id}' is not a shader of this library`);
  return s as ShaderInfo;
}

/**
 * Warms every spec (its shader and override names checked first, all of them before any
 * compile); returns how many pipelines were submitted for compiling.
 * @example
 * warmPipelines(ctx, manifest);   // then load weights: the compiles run meanwhile
 */
export function warmPipelines(ctx: GpuContext, specs: readonly PipelineSpec[]): number {
  const resolved = specs.map((s, i) => {
    const shader = shaderById(s.shader, `specs[${i}].shader`);
    const unknown = Object.keys(s.overrides).filter((k) => !shader.overrides.some((o) => o.name === k));
    if (unknown.length) throw new KernelArgError('warmPipelines', `specs[${i}].overrides`, `${s.shader} has no override ${unknown.join(', ')}`);
    return [shader, s.overrides] as const;
  });
  let n = 0;
  for (const [shader, overrides] of resolved) if (ctx.warmPipeline(shader, overrides)) n++;
  return n;
}
