/** Bad input to a kernel, raised before anything is dispatched: names the kernel and the argument. */
export class KernelArgError extends Error {
  constructor(
    readonly kernel: string,
    readonly arg: string,
    /** The message without its "kernel: arg: " prefix (for re-raising under another kernel's name). */
    readonly detail: string,
  ) {
    super(`${kernel}: ${arg}: ${detail}`);
    this.name = 'KernelArgError';
  }
}

/** A WGSL compile or pipeline validation error, with the kernel id that produced it. */
export class KernelCompileError extends Error {
  constructor(
    readonly kernel: string,
    detail: string,
  ) {
    super(`${kernel}: WGSL compile/validation failed: ${detail}`);
    this.name = 'KernelCompileError';
  }
}

/** The GPU device was lost or reported an uncaptured error; the context cannot continue. */
export class DeviceError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'DeviceError';
  }
}

/** No WebGPU adapter: the message says how to install one. */
export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'NoAdapterError';
  }
}
