import { BufferUsage } from './constants.js';

/**
 * Rounds a request up to its bucket: powers of two up to 1 MiB, then steps of 1/8 of a power of two.
 * A bucket past `limit` (the device's maxBufferSize) would fail to allocate although the request
 * fits: such requests get their own size (rounded up to 4 bytes).
 */
export function bucketSize(bytes: number, limit = Infinity): number {
  const b = Math.max(256, Math.ceil(bytes));
  const step = b <= 1 << 20 ? 0 : 2 ** Math.ceil(Math.log2(b)) / 8;
  const bucket = step ? Math.ceil(b / step) * step : 2 ** Math.ceil(Math.log2(b));
  return bucket > limit && bytes <= limit ? Math.ceil(b / 4) * 4 : bucket;
}

export interface PoolStats {
  /** Bytes held by live tensors (bucket sizes). */
  inUse: number;
  /** Bytes released since the last submit (reusable for GPU-written outputs only). */
  pending: number;
  /** Bytes of free buffers kept for reuse. */
  free: number;
  /** Bytes of every buffer the pool owns: inUse + pending + free (the GPU memory it holds). */
  allocated: number;
  /** Highest `allocated` since creation or resetPeak(). */
  peak: number;
  /** createBuffer calls made by the pool so far. */
  created: number;
}

/**
 * Size-bucketed pool of storage buffers. A released buffer may still be referenced by recorded,
 * unsubmitted commands. Reusing it for a tensor the GPU writes is safe (dispatches run in
 * recording order), so such outputs take it at once; a `queue.writeBuffer` would run before those
 * commands, so host uploads (`hostWrite`) only take buffers released before the last submit.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pending = new Map<number, GPUBuffer[]>();
  private stats: PoolStats = { inUse: 0, pending: 0, free: 0, allocated: 0, peak: 0, created: 0 };

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, label?: string, opts: { hostWrite?: boolean } = {}): GPUBuffer {
    const size = bucketSize(bytes, Number(this.device.limits.maxBufferSize));
    let buf = this.free.get(size)?.pop();
    if (buf) this.stats.free -= size;
    else if (!opts.hostWrite && (buf = this.pending.get(size)?.pop())) this.stats.pending -= size;
    else {
      buf = this.device.createBuffer({
        label,
        size,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      });
      this.stats.created++;
      this.stats.allocated += size;
      this.stats.peak = Math.max(this.stats.peak, this.stats.allocated);
    }
    this.stats.inUse += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    this.stats.inUse -= buf.size;
    this.stats.pending += buf.size;
    const list = this.pending.get(buf.size) ?? [];
    list.push(buf);
    this.pending.set(buf.size, list);
  }

  /** Called after each queue submit: pending buffers become reusable by anyone. */
  afterSubmit(): void {
    for (const [size, bufs] of this.pending) {
      const list = this.free.get(size) ?? [];
      list.push(...bufs);
      this.free.set(size, list);
    }
    this.stats.free += this.stats.pending;
    this.stats.pending = 0;
    this.pending.clear();
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }

  resetPeak(): void {
    this.stats.peak = this.stats.allocated;
  }

  /**
   * Destroys free buffers, largest first, until at most `keepBytes` of them remain (default: all;
   * the pending ones may still be in flight). Keeping some saves recreating them: on a CPU adapter
   * the first write to a new buffer's memory costs page faults (bench/README.md: ~5 ms per MiB in
   * this VM, 50x a write into a reused buffer).
   */
  trim(keepBytes = 0): void {
    for (const size of [...this.free.keys()].sort((a, b) => b - a)) {
      const list = this.free.get(size)!;
      while (list.length && this.stats.free > keepBytes) {
        list.pop()!.destroy();
        this.stats.free -= size;
        this.stats.allocated -= size;
      }
      if (!list.length) this.free.delete(size);
    }
  }

  destroy(): void {
    this.trim();
    for (const list of this.pending.values()) for (const b of list) b.destroy();
    this.pending.clear();
    this.stats.allocated -= this.stats.pending;
    this.stats.pending = 0;
  }
}
