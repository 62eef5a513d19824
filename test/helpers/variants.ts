// Names the kernel variants a context ran, for the test output (issue #18). Browser-safe: used by
// the ava helper (test/helpers/gpu.ts) and by the in-page checks (test/browser/checks.ts).
import type { DispatchSpec, GpuContext, ShaderInfo } from '../../kernels/index.js';

export interface VariantLog {
  /** Shader ids dispatched since the last take(), sorted; "id x3" where 3 pipelines (override sets) ran. */
  take(): string;
}

/**
 * Records every dispatch's shader id and overrides. Every kernel records its work through
 * `ctx.dispatch`, so wrapping it on this one context sees the variants used, including pipelines
 * cached by an earlier test (the pipeline cache would list only what was created).
 */
export function recordVariants(ctx: GpuContext): VariantLog {
  const used = new Map<string, Set<string>>();
  const dispatch = ctx.dispatch.bind(ctx);
  ctx.dispatch = (shader: ShaderInfo, spec: DispatchSpec) => {
    let sets = used.get(shader.id);
    if (!sets) used.set(shader.id, (sets = new Set()));
    sets.add(JSON.stringify(spec.overrides ?? {}));
    dispatch(shader, spec);
  };
  return {
    take() {
      const names = [...used].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, sets]) => (sets.size > 1 ? `${id} x${sets.size}` : id));
      used.clear();
      return names.join(', ') || '(none)';
    },
  };
}

/** What the kernels picked their variants by: the tuning class and the subgroup sizes, e.g. "lavapipe, subgroups 8..8". */
export function variantTarget(ctx: GpuContext): string {
  const a = ctx.adapterFacts;
  return `${ctx.adapterClass}, ${ctx.features.has('subgroups') ? `subgroups ${a.subgroupMinSize}..${a.subgroupMaxSize}` : 'subgroups off'}`;
}
