/**
 * Small parameterised layers shared by the VideoWorld modules. Parameter names are the upstream
 * state_dict names (nn.Conv2d weight/bias, nn.GroupNorm weight/bias, nn.Linear weight/bias).
 */
import { type GpuContext, PackedConvWeight, PackedMatmulWeight, type Tensor } from '../../../kernels/index.js';
import { GraphError, Module, type Param } from '../../graph/module.js';
import { type ConvOptions, type NormOptions, causalConv3dOp, conv2dOp, groupNormConv2dOp, groupNormOp, linear } from '../../graph/ops.js';

/**
 * A conv layer's weight [cout, cin, k x dims] and bias (under `prefix`), the weight in the kernel's
 * packed layout, packed once after loading; the unpacked upload is released so the weights are
 * held once. In training mode the plain weight stays (autograd's leaf; the kernel packs per call).
 */
abstract class PackedConv extends Module {
  readonly weight: Param;
  readonly bias: Param;
  private packed: PackedConvWeight | null = null;

  constructor(
    path: string,
    readonly cin: number,
    readonly cout: number,
    readonly k: number,
    dims: 2 | 3,
    prefix = '',
  ) {
    super(path);
    this.weight = this.param(`${prefix}weight`, [cout, cin, ...Array<number>(dims).fill(k)]);
    this.bias = this.param(`${prefix}bias`, [cout]);
  }

  protected override async afterLoad(_ctx: GpuContext): Promise<void> {
    this.packed?.dispose();
    this.packed = null;
    if (this.training) return;
    this.packed = PackedConvWeight.pack(this.weight.t, { dtype: this.weightDtype });
    this.weight.tensor?.dispose();
    this.weight.tensor = null;
  }

  protected get packedWeight(): PackedConvWeight | Tensor {
    if (this.packed) return this.packed;
    if (!this.weight.tensor) throw new GraphError(this.weight.key, 'weights not loaded (call load() first)');
    return this.weight.tensor;
  }

  override dispose(): void {
    super.dispose();
    this.packed?.dispose();
    this.packed = null;
  }
}

export class Conv2d extends PackedConv {
  constructor(path: string, cin: number, cout: number, k: number) {
    super(path, cin, cout, k, 2);
  }
  forward(x: Tensor, o: ConvOptions = {}): Tensor<'f32'> {
    this.require(x.shape[1] === this.cin, `Cin=${x.shape[1]}, expected ${this.cin}`);
    return conv2dOp(x, this.packedWeight, this.bias.t, o);
  }
  /** this(gn(x, silu)) in one kernel call where the conv can fuse the norm (groupNormConv2dOp). */
  forwardNormed(gn: GroupNorm, silu: boolean, x: Tensor, o: ConvOptions = {}): Tensor<'f32'> {
    this.require(gn.channels === this.cin, `norm over ${gn.channels} channels, expected ${this.cin}`);
    gn.checkInput(x);
    return groupNormConv2dOp(x, gn.options(silu), this.packedWeight, this.bias.t, o);
  }
}

/** CausalConv3d (magvit_v2.py): the nn.Conv3d lives under `.conv`. */
export class CausalConv3d extends PackedConv {
  constructor(
    path: string,
    cin: number,
    cout: number,
    k: number,
    readonly stride: readonly [1, 1, 1] | readonly [1, 2, 2] = [1, 1, 1],
  ) {
    super(path, cin, cout, k, 3, 'conv.');
  }
  forward(x: Tensor, o: { activation?: 'silu'; residual?: Tensor } = {}): Tensor<'f32'> {
    this.require(x.shape[1] === this.cin, `Cin=${x.shape[1]}, expected ${this.cin}`);
    return causalConv3dOp(x, this.packedWeight, this.bias.t, { ...o, stride: this.stride });
  }
}

export class GroupNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;
  constructor(
    path: string,
    readonly channels: number,
    readonly groups = 32,
    readonly eps = 1e-6,
  ) {
    super(path);
    this.require(channels % groups === 0, `GroupNorm(${groups}, ${channels}): channels must divide into groups`);
    this.weight = this.param('weight', [channels]);
    this.bias = this.param('bias', [channels]);
  }
  forward(x: Tensor, silu = false): Tensor<'f32'> {
    this.checkInput(x);
    return groupNormOp(x, this.options(silu));
  }
  checkInput(x: Tensor): void {
    this.require(x.shape[1] === this.channels, `C=${x.shape[1]}, expected ${this.channels}`);
  }
  options(silu: boolean): NormOptions & { weight: Tensor; bias: Tensor } {
    return { groups: this.groups, eps: this.eps, weight: this.weight.t, bias: this.bias.t, silu };
  }
}

/**
 * nn.Linear. Its weight is packed while loading (PackedMatmulWeight: matmul_packed's blocked
 * layout, 1.4-1.8x the plain-weight kernels) and the plain copy released, unless `pack` is false
 * for layers whose weight other kernels read directly (the FSQ projections) or the module trains.
 */
export class Linear extends Module {
  readonly weight: Param;
  readonly bias: Param | null;
  private packed: PackedMatmulWeight | null = null;
  constructor(
    path: string,
    inF: number,
    outF: number,
    bias = true,
    private readonly pack = true,
  ) {
    super(path);
    this.weight = this.param('weight', [outF, inF]);
    this.bias = bias ? this.param('bias', [outF]) : null;
  }

  protected override upload(ctx: GpuContext, p: Param, data: Float32Array): void {
    if (p === this.weight) {
      this.packed?.dispose();
      this.packed = null;
    }
    if (p !== this.weight || !this.pack || this.training) return super.upload(ctx, p, data);
    p.tensor?.dispose();
    p.tensor = null;
    this.packed = PackedMatmulWeight.linearFromHost(ctx, data, p.shape as [number, number], { dtype: this.weightDtype });
  }

  protected override takesHalves(p: Param): boolean {
    return p === this.weight && this.pack && !this.training && this.weightDtype === 'f16' && p.shape[1]! % 2 === 0;
  }

  protected override uploadHalves(ctx: GpuContext, p: Param, halves: Uint16Array): void {
    this.packed?.dispose();
    p.tensor?.dispose();
    p.tensor = null;
    this.packed = PackedMatmulWeight.linearFromHalves(ctx, halves, p.shape as [number, number]);
  }

  forward(x: Tensor, o: { activation?: 'silu' | 'relu'; residual?: Tensor } = {}): Tensor<'f32'> {
    return linear(x, this.kernelWeight, this.bias?.t, o);
  }

  /** The weight the kernels read: packed (possibly a view into a fuse()d weight) or plain. */
  get kernelWeight(): Tensor | PackedMatmulWeight {
    return this.packed ?? this.weight.t;
  }

  /**
   * Packs `linears`' loaded weights side by side (PackedMatmulWeight.concat) and gives each a view
   * of its columns: each runs as before, and the returned whole runs them all as one product.
   * Returns null, changing nothing, when a weight is not packed or the parts do not concatenate.
   */
  static fuse(linears: readonly Linear[]): PackedMatmulWeight | null {
    const parts = linears.map((l) => l.packed);
    if (!parts.every((p): p is PackedMatmulWeight => p !== null) || PackedMatmulWeight.concatProblem(parts)) return null;
    const { whole, views } = PackedMatmulWeight.concat(parts);
    linears.forEach((l, i) => (l.packed = views[i]!));
    return whole;
  }

  override dispose(): void {
    super.dispose();
    this.packed?.dispose();
    this.packed = null;
  }
}
