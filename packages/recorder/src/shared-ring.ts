/**
 * The frames on their way to a writer thread, in one `SharedArrayBuffer` both threads see: the event loop
 * copies a frame in and posts only where it is; the thread says how far it is done with the ring (a big
 * frame is written to the file from here, so that is once its write is done), and that space is used again.
 *
 * Why not a buffer per frame, transferred and sent back: every ArrayBuffer that arrives in a thread is new
 * external memory to its V8 heap, and external memory is what starts V8's full garbage collections. With
 * a 30 Hz image stream each frame crossed twice (in, then back for reuse), and V8's helper threads spent
 * more CPU marking than the recorder spent writing (`bench:record-cpu` with BENCH_THREADS=1 shows it by
 * thread). One ring, allocated once, crosses once.
 *
 * Space is reserved in order and read in order (the thread handles items as they come), so the reader's
 * position alone frees space: `released(end)` with the `end` of the last item read. A frame never wraps: at
 * the ring's end the rest is skipped and the frame starts at 0. A frame larger than half the ring, or one
 * that does not fit now, gets `undefined` and goes the old way (a buffer of its own).
 */
export interface RingSlot {
  /** Where the frame starts in the ring. */
  offset: number;
  /** The writer's position once it has read this frame: hand it back to `release`. */
  end: number;
}

export class SharedRing {
  readonly buffer: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  /** Bytes reserved and released since the start (never wrapped: a double counts exactly to 2^53). */
  private reserved = 0;
  private releasedUpTo = 0;

  constructor(size: number) {
    this.buffer = new SharedArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
  }

  /** Room for `length` bytes in one piece, or `undefined` when there is none now. */
  reserve(length: number): RingSlot | undefined {
    const size = this.bytes.byteLength;
    if (length > size / 2) return undefined;
    let offset = this.reserved % size;
    const skip = offset + length > size ? size - offset : 0;
    if (skip > 0) offset = 0;
    if (this.reserved + skip + length - this.releasedUpTo > size) return undefined;
    this.reserved += skip + length;
    return { offset, end: this.reserved };
  }

  /** The writer has read every frame up to `end` (a `RingSlot.end`). */
  release(end: number): void {
    if (end > this.releasedUpTo) this.releasedUpTo = end;
  }

  /** Bytes reserved and not yet released (skipped bytes included). */
  get used(): number {
    return this.reserved - this.releasedUpTo;
  }
}

/**
 * V8 copies into or out of a SharedArrayBuffer a word at a time only when source and target have the same
 * remainder modulo this; otherwise byte by byte, 7× slower (1.35 ms against 0.2 ms for 4 MiB, measured).
 */
export const SHARED_COPY_ALIGNMENT = 8;

/** The first offset from `offset` on with the same remainder as `like` modulo SHARED_COPY_ALIGNMENT. */
export function alignLike(offset: number, like: number): number {
  const a = SHARED_COPY_ALIGNMENT;
  return offset + ((((like - offset) % a) + a) % a);
}
