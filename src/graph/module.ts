/**
 * Graph layer: modules with named parameters under their upstream state_dict keys. A module
 * declares each parameter's shape when it is built, so a config/weight mismatch is reported with
 * the module path (`ldm.encoder.layers.3.conv.weight: shape [96,...], expected [128,...]`) before
 * anything runs.
 */
import { type GpuContext, type Tensor, type WeightDtype, WEIGHT_DTYPES, isWeightDtype } from '../../kernels/index.js';
import type { WeightSource } from './weights.js';

/**
 * Free pool memory load() keeps between modules: the staging buffers of the next layers' uploads
 * (same shapes, same buckets) are reused instead of recreated (first writes into new memory are
 * slow on CPU adapters), while the loading peak stays near the packed model's size.
 */
const LOAD_KEEP_BYTES = 96 * 2 ** 20;

export class GraphError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'GraphError';
  }
}

/** One parameter (or buffer) of a Module: its state_dict key, shape, GPU tensor once loaded, and gradient. */
export class Param {
  tensor: Tensor<'f32'> | null = null;
  /** Accumulated gradient (autograd's accumulateGrads); the optimizer reads and clears it. */
  grad: Tensor<'f32'> | null = null;
  constructor(
    readonly key: string,
    readonly shape: readonly number[],
    /** False for buffers that are state_dict entries but not parameters (RoPE inv_freq). */
    readonly trainable = true,
  ) {}

  /** The uploaded weight; throws naming the key when load() has not run. */
  get t(): Tensor<'f32'> {
    if (!this.tensor) throw new GraphError(this.key, 'weights not loaded (call load() first)');
    return this.tensor;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export interface LoadReport {
  loaded: number;
  /** Keys in the source that no module declared (ignored). */
  unexpected: string[];
  bytes: number;
}

/**
 * A node of the model graph: parameters under upstream's state_dict keys and child modules.
 * `load()` uploads every parameter from a WeightSource (safetensors, .pth, random init).
 */
export class Module {
  readonly params = new Map<string, Param>();
  readonly children = new Map<string, Module>();

  /** `path` is the full upstream key prefix of this module ('' for the root). */
  constructor(readonly path: string) {}

  protected key(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  /**
   * Training mode: layers keep their weights as plain tensors (the leaves autograd and the
   * optimizer update) instead of packing them for the inference kernels. Set it before load().
   */
  training = false;

  /** Switches this module and every descendant to training (or back to inference) mode. */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  /**
   * Storage of the weights the inference kernels pack (nn.Linear layers and the output projection,
   * PackedMatmulWeight; convolutions, PackedConvWeight) and of the transformer's embedding table
   * (F16Table): 'f16' halves their GPU memory and a decode step's weight reads; the math stays
   * f32. Set it before load(); training keeps plain f32 weights.
   */
  weightDtype: WeightDtype = 'f32';

  /** Sets weightDtype for this module and every descendant. */
  withWeightDtype(dtype: WeightDtype): this {
    if (!isWeightDtype(dtype)) throw new GraphError(this.path || '<root>', `weight dtype '${String(dtype)}' (${WEIGHT_DTYPES.join(' | ')})`);
    for (const m of this.modules()) m.weightDtype = dtype;
    return this;
  }

  /** Declares a parameter named like upstream, with its expected shape. */
  protected param(name: string, shape: readonly number[], trainable = true): Param {
    for (const d of shape) if (!Number.isInteger(d) || d <= 0) throw new GraphError(this.key(name), `invalid parameter shape [${shape.join(',')}]`);
    const p = new Param(this.key(name), shape, trainable);
    this.params.set(name, p);
    return p;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Throws a GraphError naming this module when `cond` is false. */
  protected require(cond: boolean, detail: string): void {
    if (!cond) throw new GraphError(this.path || '<root>', detail);
  }

  /** Every parameter below this module, by full key. */
  *namedParams(): Generator<Param> {
    for (const p of this.params.values()) yield p;
    for (const c of this.children.values()) yield* c.namedParams();
  }

  /** The trainable parameters (what an optimizer updates). */
  parameters(): Param[] {
    return [...this.namedParams()].filter((p) => p.trainable);
  }

  paramCount(): number {
    let n = 0;
    for (const p of this.namedParams()) n += p.size;
    return n;
  }

  /**
   * Checks every declared key exists in `src` with the declared shape (all problems listed at
   * once, with shapes), then uploads. Unknown source keys are returned, not fatal.
   */
  async load(ctx: GpuContext, src: WeightSource, opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<LoadReport> {
    const params = [...this.namedParams()];
    const problems: string[] = [];
    for (const p of params) {
      const s = src.shape(p.key);
      if (!s) problems.push(`missing ${p.key} [${p.shape.join(',')}]`);
      else if (s.length !== p.shape.length || s.some((d, i) => d !== p.shape[i])) problems.push(`${p.key}: shape [${s.join(',')}], expected [${p.shape.join(',')}]`);
    }
    if (problems.length) throw new GraphError(this.path || '<root>', `weights do not match the model (${problems.length} problems):\n  ${problems.join('\n  ')}`);
    const declared = new Set(params.map((p) => p.key));
    const unexpected = src.keys().filter((k) => !declared.has(k));
    let bytes = 0;
    let done = 0;
    // Children first, then the module's own parameters, then its afterLoad hook (hooks read their
    // own parameters only): a layer packs its weights and the plain copies go back to the system
    // before the next layer uploads, so loading peaks near the packed model, not at plain + packed;
    // up to LOAD_KEEP_BYTES of them stay pooled for the next layers' uploads of the same sizes.
    // One tensor at a time: a file-backed source never holds the whole checkpoint in memory.
    // Every tensor is decoded into one scratch array (uploads copy it): no fresh host memory per tensor.
    // f16 weights of an f16 checkpoint come as their bits (uploadHalves), read into the same memory.
    const scratch = new Float32Array(params.reduce((n, p) => Math.max(n, p.size), 0));
    const halfScratch = new Uint16Array(scratch.buffer);
    const visit = async (m: Module): Promise<void> => {
      for (const c of m.children.values()) await visit(c);
      for (const p of m.params.values()) {
        const halves = src.halves && m.takesHalves(p) ? await src.halves(p.key, halfScratch) : null;
        if (halves) m.uploadHalves(ctx, p, halves);
        else m.upload(ctx, p, await src.f32(p.key, scratch));
        bytes += p.size * 4;
        opts.onProgress?.(++done, params.length);
      }
      await m.afterLoad(ctx, src);
      ctx.submit();
      ctx.pool.trim(LOAD_KEEP_BYTES);
    };
    await visit(this);
    ctx.pool.trim();
    return { loaded: params.length, unexpected, bytes };
  }

  /** This module and every descendant, parents first. */
  *modules(): Generator<Module> {
    yield this;
    for (const c of this.children.values()) yield* c.modules();
  }

  /**
   * Puts one loaded parameter on the GPU as a plain f32 tensor. Inference layers override it to
   * build their packed weight from the host values (no plain copy on the GPU, chunk by chunk).
   */
  protected upload(ctx: GpuContext, p: Param, data: Float32Array): void {
    p.tensor?.dispose();
    p.tensor = ctx.fromArray(data, p.shape, 'f32', p.key);
  }

  /** Whether uploadHalves takes `p` (f16 inference weights packed from an f16 checkpoint's bits as stored). */
  protected takesHalves(_p: Param): boolean {
    return false;
  }

  /** Puts `p` on the GPU from its f16 bits [p.shape] (only called where takesHalves(p)). */
  protected uploadHalves(_ctx: GpuContext, p: Param, _halves: Uint16Array): void {
    throw new GraphError(p.key, 'this module takes no f16 bits');
  }

  /** Hook run after load() uploaded this module's parameters and its children's (derived tables, e.g. RoPE; packing). */
  protected async afterLoad(_ctx: GpuContext, _src: WeightSource): Promise<void> {}

  /** Releases every uploaded parameter (and whatever subclasses derived from them), recursively. */
  dispose(): void {
    for (const p of this.params.values()) {
      p.tensor?.dispose();
      p.tensor = null;
      p.grad?.dispose();
      p.grad = null;
    }
    for (const c of this.children.values()) c.dispose();
  }
}
