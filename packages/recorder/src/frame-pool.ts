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
    const list = this.free.get(data.byteLength);
    let copy = list?.pop();
    if (copy === undefined) {
      copy = new Uint8Array(data.byteLength);
      this.allocated += 1;
    } else {
      this.freeBytes -= copy.byteLength;
      this.reused += 1;
    }
    copy.set(data);
    return copy;
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
