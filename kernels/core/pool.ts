import { BufferUsage } from './constants.js';

/** Rounds a request up to its bucket: powers of two up to 1 MiB, then steps of 1/8 of a power of two. */
export function bucketSize(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes));
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  const step = 2 ** Math.ceil(Math.log2(b)) / 8;
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  /** Bytes held by live tensors (bucket sizes). */
  inUse: number;
  /** Bytes of free buffers kept for reuse. */
  free: number;
  /** Highest inUse + pending seen since creation or resetPeak(). */
  peak: number;
  /** createBuffer calls made by the pool so far. */
  created: number;
}

/**
 * Size-bucketed pool of storage buffers. Released buffers wait in `pending` until the next submit:
 * a buffer still referenced by recorded but unsubmitted commands must not be handed to a
 * `queue.writeBuffer`, which would run before those commands.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private stats: PoolStats = { inUse: 0, free: 0, peak: 0, created: 0 };

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, label?: string): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) this.stats.free -= size;
    else {
      buf = this.device.createBuffer({
        label,
        size,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      });
      this.stats.created++;
    }
    this.stats.inUse += size;
    this.stats.peak = Math.max(this.stats.peak, this.stats.inUse + this.pendingBytes());
    return buf;
  }

  release(buf: GPUBuffer): void {
    this.stats.inUse -= buf.size;
    this.pending.push(buf);
  }

  /** Called after each queue submit: pending buffers become reusable. */
  afterSubmit(): void {
    for (const buf of this.pending) {
      const list = this.free.get(buf.size) ?? [];
      list.push(buf);
      this.free.set(buf.size, list);
      this.stats.free += buf.size;
    }
    this.pending = [];
  }

  private pendingBytes(): number {
    let n = 0;
    for (const b of this.pending) n += b.size;
    return n;
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }

  resetPeak(): void {
    this.stats.peak = this.stats.inUse;
  }

  /** Destroys the free buffers (not the pending ones, which may still be in flight). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.stats.free = 0;
  }

  destroy(): void {
    this.trim();
    for (const b of this.pending) b.destroy();
    this.pending = [];
  }
}
