/**
 * Backward conformance against ../shared/golden/grad (`kind: "backward"` files): builds the module
 * the file names in training mode, loads its stored weights, runs the forward on a Tape with the
 * float inputs watched, backpropagates the stored incoming gradient G (L = sum(out * G)) and
 * compares every input and parameter gradient with the float64 reference (`ref64/...`):
 * max |ours - ref64| <= 1e-4 * max |ref64| per tensor (the README's bound, ~200x the f32-vs-f64
 * gap). The AdamW file runs two optimizer steps instead and compares the state to 1e-6.
 * `videoworld verify <grad file>` and the test suite both come here through verifyGolden.
 */
import { type GpuContext, type Tensor, ropeTable } from '../kernels/index.js';
import { adamwStep } from '../kernels/optimizer.js';
import { Tape } from './graph/autograd.js';
import type { Module } from './graph/module.js';
import { crossEntropy, fsqCodes, linear, permuteOp, reshape } from './graph/ops.js';
import type { SafetensorsFile } from './io/safetensors.js';
import { DecoderLayer } from './models/videoworld/internlm.js';
import { AdaGN, LdmResidual } from './models/videoworld/ldm.js';
import { CausalConv3d } from './models/videoworld/layers.js';
import { VQDownsample, VQResidual, VQUpsample } from './models/videoworld/tokenizer.js';
import { goldenWeights, internlmConfig, type VerifyResult } from './verify.js';

/** The README's bound for gradients, relative to the largest reference magnitude of each tensor. */
export const GRAD_TOLERANCE = 1e-4;
/** AdamW state after two steps (the bound). */
export const ADAMW_TOLERANCE = 1e-6;

type Ctor = Record<string, unknown>;
interface GradCase {
  /** Forward output, the root of the backward pass. */
  out: Tensor;
  /** Watched inputs by golden name (without `in/`). */
  inputs: Record<string, Tensor>;
  module?: Module;
  /** Extra state to release. */
  dispose?: () => void;
}
type GradRunner = (ctx: GpuContext, g: SafetensorsFile, c: Ctor, tape: Tape) => Promise<GradCase>;

const n = (v: unknown): number => Number(v);
const input = (ctx: GpuContext, g: SafetensorsFile, name: string) => ctx.fromArray(g.f32(name), g.entry(name).shape, 'f32', name);

async function trained<M extends Module>(ctx: GpuContext, g: SafetensorsFile, m: M, tape: Tape): Promise<M> {
  m.train();
  await m.load(ctx, goldenWeights(g));
  tape.watchParams(m);
  return m;
}

function watched(ctx: GpuContext, g: SafetensorsFile, tape: Tape, ...names: string[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of names) {
    out[name] = input(ctx, g, `in/${name}`);
    tape.watch(out[name]);
  }
  return out;
}

const GRAD_RUNNERS: Record<string, GradRunner> = {
  async CausalConv3d(ctx, g, c, tape) {
    const w = g.entry('conv.weight').shape;
    const stride = (c.stride as number[] | undefined) ?? [1, 1, 1];
    const m = await trained(ctx, g, new CausalConv3d('', w[1]!, w[0]!, w[2]!, stride[1] === 2 ? [1, 2, 2] : [1, 1, 1]), tape);
    const inputs = watched(ctx, g, tape, 'x');
    return { out: tape.run(() => m.forward(inputs.x!)), inputs, module: m };
  },
  async Residual(ctx, g, c, tape) {
    const m = await trained(ctx, g, new VQResidual('', n(c.in_channels), n(c.out_channels)), tape);
    const inputs = watched(ctx, g, tape, 'x');
    return { out: tape.run(() => m.forward(inputs.x!)), inputs, module: m };
  },
  async ResidualLA(ctx, g, c, tape) {
    const m = await trained(ctx, g, new LdmResidual('', n(c.in_channels), n(c.out_channels), n(c.frame_num)), tape);
    const inputs = watched(ctx, g, tape, 'x');
    return { out: tape.run(() => m.forward(inputs.x!)), inputs, module: m };
  },
  async Downsample(ctx, g, c, tape) {
    const m = await trained(ctx, g, new VQDownsample('', n(c.num_channels)), tape);
    const inputs = watched(ctx, g, tape, 'x');
    return { out: tape.run(() => m.forward(inputs.x!)), inputs, module: m };
  },
  async Upsample(ctx, g, c, tape) {
    const m = await trained(ctx, g, new VQUpsample('', n(c.num_channels)), tape);
    const inputs = watched(ctx, g, tape, 'x');
    return { out: tape.run(() => m.forward(inputs.x!)), inputs, module: m };
  },
  async AdaGroupNorm(ctx, g, c, tape) {
    const m = await trained(ctx, g, new AdaGN('', n(c.embedding_dim), n(c.out_dim)), tape);
    const inputs = watched(ctx, g, tape, 'x', 'cond');
    return { out: tape.run(() => m.forward(inputs.x!, inputs.cond!)), inputs, module: m };
  },
  async InternLMDecoderLayer(ctx, g, c, tape) {
    const cfg = internlmConfig(c);
    const m = await trained(ctx, g, new DecoderLayer('', cfg), tape);
    const [B, L, H] = g.entry('in/hidden_states').shape as [number, number, number];
    const table = ropeTable(ctx, H / cfg.numHeads, cfg.maxPositions, g.f32('self_attn.rotary_emb.inv_freq'));
    const positions = ctx.fromArray(g.i32('in/position_ids'), [B, L], 'i32');
    const inputs = watched(ctx, g, tape, 'hidden_states');
    const out = tape.run(() => m.forward(reshape(inputs.hidden_states!, [B * L, H]), { B, L, positions }, table));
    return { out, inputs, module: m, dispose: () => (table.cos.dispose(), table.sin.dispose(), positions.dispose()) };
  },
  async FSQ(ctx, g, c, tape) {
    const levels = c.levels as number[];
    const inputs = watched(ctx, g, tape, 'z');
    const z = inputs.z!;
    if (!g.has('project_in.weight')) return { out: tape.run(() => fsqCodes(z, levels, false).codes), inputs };
    // falcon FSQ on an NCHW map: channels last, project_in, quantize, project_out, channels first.
    const p: Record<string, Tensor> = {};
    for (const k of ['project_in.weight', 'project_in.bias', 'project_out.weight', 'project_out.bias']) {
      p[k] = input(ctx, g, k);
      tape.watch(p[k]);
    }
    const [B, D, h, w] = z.shape as [number, number, number, number];
    const out = tape.run(() => {
      const tokens = reshape(permuteOp(reshape(z, [B, D, h * w]), [0, 2, 1]), [B * h * w, D]);
      const { codes } = fsqCodes(linear(tokens, p['project_in.weight']!, p['project_in.bias']), levels, false);
      const y = linear(codes, p['project_out.weight']!, p['project_out.bias']);
      return reshape(permuteOp(reshape(y, [B, h * w, D]), [0, 2, 1]), [B, D, h, w]);
    });
    return { out, inputs: { ...inputs, ...Object.fromEntries(Object.entries(p).map(([k, v]) => [`param:${k}`, v])) } };
  },
  async cross_entropy(ctx, g, _c, tape) {
    const inputs = watched(ctx, g, tape, 'logits');
    return { out: tape.run(() => crossEntropy(inputs.logits!, g.i32('in/targets'), { ignoreIndex: -100 })), inputs };
  },
};

function runnerFor(g: SafetensorsFile): GradRunner {
  const module = g.metadata.module ?? '';
  if (/cross_entropy/.test(module)) return GRAD_RUNNERS.cross_entropy!;
  const cls = module.split('::').pop()!.split(' ')[0]!;
  const r = GRAD_RUNNERS[cls];
  if (!r) throw new Error(`verify: no backward runner for module '${module}' (case ${g.metadata.case}); known: ${Object.keys(GRAD_RUNNERS).join(', ')}`);
  return r;
}

/** max |a - ref| and max |ref| (NaN anywhere counts as Infinity). */
function errors(actual: ArrayLike<number>, ref: ArrayLike<number>): { abs: number; scale: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(actual[i]! - ref[i]!);
    abs = Number.isNaN(e) ? Infinity : Math.max(abs, e);
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return { abs, scale };
}

function summarize(caseId: string, tolerance: number, rows: { name: string; actual: ArrayLike<number>; ref: ArrayLike<number> }[], t0: number): VerifyResult {
  const res: VerifyResult = { case: caseId, max_abs_err: 0, max_rel_err: 0, indices_equal: null, near_tie_mismatches: 0, tolerance, dtype: 'f32', pass: rows.length > 0, outputs: [], seconds: 0 };
  for (const r of rows) {
    if (r.actual.length !== r.ref.length) throw new Error(`verify ${caseId}: ${r.name} has ${r.actual.length} values, the golden ${r.ref.length}`);
    const { abs, scale } = errors(r.actual, r.ref);
    const rel = abs / Math.max(scale, 1e-30);
    res.max_abs_err = Math.max(res.max_abs_err, abs);
    res.max_rel_err = Math.max(res.max_rel_err, rel);
    if (!(abs <= tolerance * Math.max(scale, 1e-30))) res.pass = false;
    res.outputs.push({ name: r.name, max_abs_err: abs, max_rel_err: rel });
  }
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

/** The float64 reference of a stored tensor when the file has one, else the float32 run's value. */
const ref = (g: SafetensorsFile, name: string) => (g.has(`ref64/${name}`) ? g.f32(`ref64/${name}`) : g.f32(name));

async function verifyAdamW(ctx: GpuContext, g: SafetensorsFile, t0: number, tolerance: number): Promise<VerifyResult> {
  const c = JSON.parse(g.metadata.ctor ?? '{}') as { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  const shape = g.entry('in/param').shape;
  const p = input(ctx, g, 'in/param');
  const m = ctx.zeros(shape);
  const v = ctx.zeros(shape);
  const rows: { name: string; actual: ArrayLike<number>; ref: ArrayLike<number> }[] = [];
  for (const step of [1, 2]) {
    const grad = input(ctx, g, `in/grad.step${step}`);
    adamwStep(p, grad, m, v, { lr: c.lr, beta1: c.betas[0], beta2: c.betas[1], eps: c.eps, weightDecay: c.weight_decay, step });
    grad.dispose();
    rows.push({ name: `param.step${step}`, actual: await p.read(), ref: ref(g, `out/param.step${step}`) });
    rows.push({ name: `exp_avg.step${step}`, actual: await m.read(), ref: ref(g, `out/exp_avg.step${step}`) });
    rows.push({ name: `exp_avg_sq.step${step}`, actual: await v.read(), ref: ref(g, `out/exp_avg_sq.step${step}`) });
  }
  for (const t of [p, m, v]) t.dispose();
  return summarize(g.metadata.case ?? g.source, tolerance, rows, t0);
}

/**
 * Runs one backward golden file; never throws for a mismatch (see `pass`). `tolerance` is relative
 * to each tensor's max |ref| (default GRAD_TOLERANCE, or ADAMW_TOLERANCE for the optimizer file).
 */
export async function verifyGradGolden(ctx: GpuContext, g: SafetensorsFile, opts: { tolerance?: number } = {}): Promise<VerifyResult> {
  const t0 = performance.now();
  const caseId = g.metadata.case ?? g.source;
  if (/AdamW/.test(g.metadata.module ?? '')) return verifyAdamW(ctx, g, t0, opts.tolerance ?? ADAMW_TOLERANCE);
  const ctor = g.metadata.ctor ? (JSON.parse(g.metadata.ctor) as Ctor) : {};
  const tape = new Tape(ctx);
  const c = await runnerFor(g)(ctx, g, ctor, tape);
  const G = input(ctx, g, 'grad_out');
  const grads = tape.backward(c.out, G);
  const rows: { name: string; actual: ArrayLike<number>; ref: ArrayLike<number> }[] = [];
  const wanted = JSON.parse(g.metadata.grad_inputs ?? '[]') as string[];
  for (const name of wanted) {
    const t = c.inputs[name.slice('grad_in.'.length)];
    const gt = t && grads.get(t);
    if (!gt) throw new Error(`verify ${caseId}: no gradient reached ${name}`);
    rows.push({ name, actual: await gt.read(), ref: ref(g, name) });
  }
  const params = new Map<string, Tensor>();
  for (const p of c.module?.namedParams() ?? []) if (p.tensor) params.set(p.key, p.tensor);
  for (const [k, v] of Object.entries(c.inputs)) if (k.startsWith('param:')) params.set(k.slice(6), v);
  for (const name of JSON.parse(g.metadata.grad_params ?? '[]') as string[]) {
    const t = params.get(name.slice('grad_param.'.length));
    const gt = t && grads.get(t);
    if (!gt) throw new Error(`verify ${caseId}: no gradient reached ${name}`);
    rows.push({ name, actual: await gt.read(), ref: ref(g, name) });
  }
  for (const gt of grads.values()) gt.dispose();
  for (const t of [G, c.out, ...Object.values(c.inputs)]) t.dispose();
  c.module?.dispose();
  c.dispose?.();
  return summarize(caseId, opts.tolerance ?? GRAD_TOLERANCE, rows, t0);
}
