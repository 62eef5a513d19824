import type { Tensor } from '../../kernels/index.js';

/**
 * (loss(x + h e_i) - loss(x - h e_i)) / 2h for one entry i of a GPU tensor (rewritten in place and
 * restored): checks tape gradients against the forward where no PyTorch golden exists.
 */
export async function centralDifference(x: Tensor, i: number, h: number, loss: () => Promise<number>): Promise<number> {
  const base = await x.read();
  const v = base[i]!;
  base[i] = v + h;
  x.write(base);
  const lp = await loss();
  base[i] = v - h;
  x.write(base);
  const lm = await loss();
  base[i] = v;
  x.write(base);
  return (lp - lm) / (2 * h);
}
