import test from 'ava';
import type { Tensor } from '../../kernels/index.js';
import { Tape, noGrad } from '../../src/graph/autograd.js';
import { QFormerSep } from '../../src/models/videoworld/ldm.js';
import { goldenWeights } from '../../src/verify.js';
import { loadGolden } from '../helpers/golden.js';
import { centralDifference } from '../helpers/fd.js';
import { gpu } from '../helpers/gpu.js';
import { Rng } from '../helpers/rng.js';

// The LDM query-former has no PyTorch backward golden, so its tape gradients (attention, LayerNorm,
// ReLU MLP, slices, concat, the `q + q` step) are checked against central differences of the GPU
// forward in f32 on the golden's small weights: h = 1e-2, loss L = sum(out * G). f32 forward noise
// (~1e-6 of |L| ~ 10) over 2h gives ~5e-4; the O(h^2) curvature term is smaller. A wrong or missing
// gradient path is O(1) off.
test('QFormerSep gradients on the tape match central differences of the forward (every parameter tensor, the inputs)', async (t) => {
  const ctx = await gpu();
  const g = await loadGolden('ldm_qformer_sep_small');
  const m = new QFormerSep('', 64, 2, 2).train();
  await m.load(ctx, goldenWeights(g));
  const input = (name: string) => ctx.fromArray(g.f32(name), g.entry(name).shape, 'f32', name);
  const inputs = { emb: input('in/emb_t3'), pe: input('in/pe_t3'), queries: input('in/queries') };
  const rng = Rng.fromString(t.title);
  const G = rng.array(2 * 2 * 64);
  const Gt = ctx.fromArray(G, [2, 2, 64]);
  const tape = new Tape(ctx).watchParams(m).watch(...Object.values(inputs));
  const out = tape.run(() => m.forward(inputs.emb, inputs.pe, inputs.queries));
  const grads = tape.backward(out, Gt);
  const loss = async () => {
    const y = await noGrad(ctx, () => ctx.scope(() => m.forward(inputs.emb, inputs.pe, inputs.queries))).read();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * G[i]!;
    return s;
  };
  const targets: [string, Tensor][] = [...m.parameters().map((p) => [p.key, p.t] as [string, Tensor]), ...Object.entries(inputs)];
  let checked = 0;
  for (const [name, x] of targets) {
    const gx = await grads.get(x)!.read();
    const scale = Math.max(...gx.map(Math.abs));
    for (let s = 0; s < 2; s++) {
      const i = rng.int(0, gx.length - 1);
      const fd = await centralDifference(x, i, 1e-2, loss);
      t.true(Math.abs(fd - gx[i]!) <= 2e-2 * scale + 2e-3, `${name}[${i}]: tape ${gx[i]}, central difference ${fd} (max |grad| ${scale})`);
      checked++;
    }
  }
  t.log(`${checked} entries of ${targets.length} tensors checked`);
  for (const v of grads.values()) v.dispose();
  m.dispose();
});
