/**
 * Buffers for the flight recorder's copies of frames, reused by size.
 *
 * Why: holding the producers' own buffers keeps hundreds of 4 MiB allocations alive past the young
 * generation, so each new frame of the producer needs fresh memory and each evicted one waits for a full
 * garbage collection to be freed (in a synthetic test of that pattern, `--trace-gc` counted ~10× the full
 * collections of dropping the frames). Copying each frame once (≈ 0.15 ms for 4 MiB) into a buffer that
 * comes back here when the frame leaves the window lets the producer's buffer die young, and an image
 * stream of constant size reuses the same few buffers. Whether that lowers webmon's CPU under a real image
 * stream is for `bench:recording` to say (against a build without it: `BENCH_WEBMON_CLI`).
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
