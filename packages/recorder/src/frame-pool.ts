/**
 * Buffers reused by size: the writer thread's frames that did not fit its shared ring (`shared-ring.ts`)
 * come back from the thread once written, and the next frame of that size is copied into one.
 *
 * Why: a fresh 4 MiB buffer plus the copy costs ≈ 2.6 ms here when zeroed, ≈ 0.6 ms unzeroed, and a
 * reused one ≈ 0.2 ms (memory already mapped). (The flight recorder used this pool too; it now holds its
 * frames in memory allocated once, `frame-arena.ts`.)
 */
export class FramePool {
  private readonly free = new Map<number, Uint8Array[]>();
  private freeBytes = 0;
  /** Frames copied into a reused buffer / into a new one. */
  reused = 0;
  allocated = 0;

  /**
   * @param maxFreeBytes most bytes kept free for reuse (beyond them a returned buffer is left to the GC)
   * @param perSize most free buffers of one size
   */
  constructor(
    private readonly maxFreeBytes: number,
    private readonly perSize = 2,
  ) {}

  /** A copy of `data` in a buffer of the pool's own. */
  copy(data: Uint8Array): Uint8Array {
    const copy = this.take(data.byteLength);
    copy.set(data);
    return copy;
  }

  /**
   * A buffer of `byteLength` bytes, whole (its own `ArrayBuffer`, so it may be transferred to a thread),
   * with whatever it held before: the caller writes every byte. A new one is not zero-filled either
   * (`Buffer.allocUnsafeSlow`): zeroing 4 MiB that is overwritten at once cost more than the copy itself
   * (a fresh zeroed 4 MiB buffer plus the copy ≈ 2.6 ms here, unzeroed ≈ 0.6 ms, a reused one ≈ 0.2 ms).
   */
  take(byteLength: number): Uint8Array {
    const buffer = this.free.get(byteLength)?.pop();
    if (buffer === undefined) {
      this.allocated += 1;
      return Buffer.allocUnsafeSlow(byteLength);
    }
    this.freeBytes -= buffer.byteLength;
    this.reused += 1;
    return buffer;
  }

  /** A copy made by `copy` that nothing reads any more. */
  release(buffer: Uint8Array): void {
    if (buffer.byteLength === 0 || this.freeBytes + buffer.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(buffer.byteLength);
    if (list === undefined) {
      list = [];
      this.free.set(buffer.byteLength, list);
    }
    if (list.length >= this.perSize) return;
    list.push(buffer);
    this.freeBytes += buffer.byteLength;
  }

  get bytesFree(): number {
    return this.freeBytes;
  }

  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}
