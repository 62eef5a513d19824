/**
 * Reverse-mode autograd over kernel calls. While a Tape is active on a context (`tape.run(fn)`),
 * the differentiable ops of `src/graph/ops.ts` record one node per kernel call whose inputs need a
 * gradient: its inputs and outputs (tensor identity is the graph edge), the activations its
 * backward needs (held with `Tensor.retain()`, so scopes and a model's own dispose() calls do not
 * free them) and a backward function. `backward(root, gradRoot)` walks the nodes in reverse, runs
 * each backward inside `ctx.scope` (its temporaries go back to the pool at once), adds gradients
 * of tensors used more than once, and frees each node's saved activations and output gradients as
 * soon as that node is done, so peak memory is the forward's activations plus one layer of
 * gradients. Gradients of watched leaves (parameters, inputs) are returned.
 *
 * Ops that run while no tape is active, or whose inputs need no gradient, record nothing and take
 * the fused inference kernels; `noGrad(ctx, fn)` turns recording off inside a tape.
 *
 * @example
 * const tape = new Tape(ctx).watchParams(model);
 * const loss = tape.run(() => ops.mse(model.forward(x), target));
 * const grads = tape.backward(loss);                 // Map: parameter tensor -> gradient
 */
import { type GpuContext, KernelArgError, type Tensor, add, copy } from '../../kernels/index.js';
import { GraphError, type Module, type Param } from './module.js';

export type Grad = Tensor<'f32'> | null;

/** What an op's backward gets: the gradient of each output (null: none reached it) and which inputs need one. */
export type BackwardFn = (gradOutputs: Grad[], needs: boolean[]) => Grad[];

interface Node {
  op: string;
  inputs: (Tensor | null)[];
  needs: boolean[];
  outputs: Tensor[];
  saved: Tensor[];
  backward: BackwardFn;
}

const ACTIVE = new WeakMap<GpuContext, Tape | null>();

/** The tape recording on `ctx`, if any. */
export function activeTape(ctx: GpuContext): Tape | null {
  return ACTIVE.get(ctx) ?? null;
}

/** Runs `fn` with recording off (evaluation inside a training step, optimizer-side math). */
export function noGrad<R>(ctx: GpuContext, fn: () => R): R {
  const prev = ACTIVE.get(ctx) ?? null;
  ACTIVE.set(ctx, null);
  try {
    return fn();
  } finally {
    ACTIVE.set(ctx, prev);
  }
}

/**
 * The autograd tape: differentiable ops record their backward functions while a tape is active
 * (trainLoop opens one per step); `backward` runs them in reverse and returns parameter gradients.
 */
export class Tape {
  private nodes: Node[] = [];
  private requires = new Set<Tensor>();
  private leaves = new Set<Tensor>();
  /** Nodes recorded (tests, logging). */
  recorded = 0;

  constructor(readonly ctx: GpuContext) {}

  /** Marks tensors (inputs, parameters) whose gradients backward() returns. */
  watch(...ts: Tensor[]): this {
    for (const t of ts) {
      this.requires.add(t);
      this.leaves.add(t);
    }
    return this;
  }

  /** Watches every loaded parameter of `m` (they must be plain tensors: call `m.train()` before load). */
  watchParams(m: Module): this {
    for (const p of m.namedParams()) if (p.trainable) this.watch(p.t);
    return this;
  }

  requiresGrad(t: Tensor | null | undefined): boolean {
    return !!t && this.requires.has(t);
  }

  /** Runs `fn` with this tape recording on its context. */
  run<R>(fn: () => R): R {
    const prev = ACTIVE.get(this.ctx) ?? null;
    ACTIVE.set(this.ctx, this);
    try {
      return fn();
    } finally {
      ACTIVE.set(this.ctx, prev);
    }
  }

  /**
   * Records one op (called by src/graph/ops.ts). Nothing is kept when no input needs a gradient.
   * `save` lists the tensors the backward reads (inputs or outputs); they stay alive until then.
   */
  record(op: string, inputs: readonly (Tensor | null | undefined)[], outputs: Tensor[], save: Tensor[], backward: BackwardFn): void {
    const ins = inputs.map((t) => t ?? null);
    const needs = ins.map((t) => this.requiresGrad(t));
    if (!needs.some(Boolean)) return;
    for (const o of outputs) this.requires.add(o);
    this.nodes.push({ op, inputs: ins, needs, outputs, saved: save.map((t) => t.retain()), backward });
    this.recorded++;
  }

  /**
   * Backpropagates from `root` with incoming gradient `grad` (default ones: a scalar loss) and
   * returns the gradients of the watched tensors. Consumes the tape: its saved activations are freed.
   */
  backward(root: Tensor, grad?: Tensor): Map<Tensor, Tensor<'f32'>> {
    const ctx = this.ctx;
    if (grad && (grad.size !== root.size || grad.dtype !== 'f32')) throw new KernelArgError('backward', 'grad', `shape [${grad.shape.join(',')}] ${grad.dtype}, expected f32 [${root.shape.join(',')}]`);
    if (!this.requires.has(root)) throw new GraphError('backward', 'the root does not depend on any watched tensor (was the forward run inside tape.run()?)');
    const grads = new Map<Tensor, Tensor<'f32'>>();
    // The tape owns every gradient it holds: the caller's `grad` is copied, never freed.
    grads.set(root, (grad ? copy(grad) : ctx.fromArray(new Float32Array(root.size).fill(1), root.shape)) as Tensor<'f32'>);
    const accumulate = (t: Tensor, g: Tensor<'f32'>) => {
      const prev = grads.get(t);
      if (!prev) {
        grads.set(t, g);
        return;
      }
      grads.set(t, add(prev, g));
      prev.dispose();
      g.dispose();
    };
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      const gOut = node.outputs.map((o) => grads.get(o) ?? null);
      if (gOut.some((g) => g)) {
        const gIn = ctx.scope(() => node.backward(gOut, node.needs));
        const pending: [Tensor, Tensor<'f32'>][] = [];
        const seen = new Set<GPUBuffer>();
        node.inputs.forEach((x, j) => {
          let g = gIn[j] ?? null;
          if (!x || !node.needs[j] || !g) return;
          if (g.size !== x.size) throw new GraphError(`backward ${node.op}`, `gradient of input ${j} has shape [${g.shape.join(',')}], the input [${x.shape.join(',')}]`);
          // One buffer per gradient: an op may hand the same gradient to two inputs (x + x).
          if (seen.has(g.buffer)) g = copy(g) as Tensor<'f32'>;
          seen.add(g.buffer);
          pending.push([x, g.reshape(x.shape) as Tensor<'f32'>]);
        });
        // Gradients nobody needs, and output gradients not passed through (as is or as a view).
        const dropUnless = (g: Tensor | null) => {
          if (g && !g.disposed && !seen.has(g.buffer)) g.dispose();
        };
        gIn.forEach(dropUnless);
        for (const [j, o] of node.outputs.entries()) {
          grads.delete(o);
          dropUnless(gOut[j] ?? null);
        }
        for (const [x, g] of pending) accumulate(x, g);
      }
      for (const s of node.saved) s.dispose();
    }
    this.nodes = [];
    const out = new Map<Tensor, Tensor<'f32'>>();
    for (const [t, g] of grads) {
      if (this.leaves.has(t)) out.set(t, g);
      else g.dispose();
    }
    this.requires = new Set(this.leaves);
    return out;
  }

  /** Frees what a forward recorded without a backward (an evaluation, an aborted step). */
  discard(): void {
    for (const n of this.nodes) for (const s of n.saved) s.dispose();
    this.nodes = [];
    this.requires = new Set(this.leaves);
  }

  /** Nodes recorded and not yet consumed. */
  get pending(): number {
    return this.nodes.length;
  }
}

/**
 * Adds the gradients of `params` from `grads` into `Param.grad` (gradient accumulation over
 * micro-batches); the tensors in `grads` are consumed.
 */
export function accumulateGrads(params: Iterable<Param>, grads: Map<Tensor, Tensor<'f32'>>): void {
  for (const p of params) {
    if (!p.tensor) continue;
    const g = grads.get(p.tensor);
    if (!g) continue;
    grads.delete(p.tensor);
    if (!p.grad) p.grad = g;
    else {
      const sum = add(p.grad, g);
      p.grad.dispose();
      g.dispose();
      p.grad = sum;
    }
  }
  for (const g of grads.values()) g.dispose();
  grads.clear();
}
