/**
 * The flight recorder's memory for frames: the budget's bytes, allocated once (in segments of at most
 * 1 GiB, each made when first needed), handed out by `@thi.ng/malloc` (a first-fit allocator over one
 * `ArrayBuffer`, merging free neighbours).
 *
 * Why not a buffer per frame (reused by size when one leaves the window, as before): the process then
 * held more than the budget. Over a 10-minute run with a 30 Hz image stream webmon's RSS grew to 130 % of
 * the 256 MiB budget above a webmon without a flight recorder, while the recorder's own count stayed at
 * 100 %: malloc's arenas fragmented by 4 MiB blocks freed and taken again, and frames of other sizes (or
 * left while a save ran) waiting for V8's garbage collector. Memory allocated once cannot creep: what the
 * flight recorder costs is what its budget says.
 *
 * A flight recorder frees frames oldest first per topic, so for one stream of equal frames first fit is a
 * ring; with mixed sizes a hole too small is skipped (the caller evicts until one fits). The allocator
 * takes free holes (lowest first) before fresh memory, so a small load leaves most pages untouched (the
 * kernel maps them on first write). Segments exist because a typed array holds at most 4 GiB here and
 * the allocator's addresses are 32-bit.
 */
import { MemPool } from '@thi.ng/malloc';

export const ARENA_SEGMENT_BYTES = 2 ** 30;

interface Segment {
  pool: MemPool;
  /** Where the first piece started, and the end of the highest piece handed out: the pages touched. */
  first: number;
  highest: number;
}

export class FrameArena {
  private readonly segments: (Segment | undefined)[];

  constructor(
    readonly size: number,
    private readonly segmentBytes = ARENA_SEGMENT_BYTES,
  ) {
    this.segments = new Array<Segment | undefined>(Math.ceil(size / segmentBytes)).fill(undefined);
  }

  /** `length` bytes of the arena (a view, 8-byte aligned), or `undefined` when no free piece is that long. */
  allocate(length: number): Uint8Array | undefined {
    for (let index = 0; index < this.segments.length; index++) {
      const segment = this.segments[index] ?? this.open(index);
      const address = segment.pool.malloc(Math.max(1, length));
      if (address === 0) continue;
      segment.highest = Math.max(segment.highest, address + length);
      return new Uint8Array(segment.pool.buf, address, length);
    }
    return undefined;
  }

  /** Gives back a view `allocate` returned; nothing may read it afterwards. */
  free(view: Uint8Array): void {
    const segment = this.segments.find((candidate) => candidate !== undefined && candidate.pool.buf === view.buffer);
    if (segment === undefined || !segment.pool.free(view.byteOffset)) throw new RangeError('not a piece of this arena');
  }

  /** Bytes free, in any number of pieces (fresh memory included). */
  get freeBytes(): number {
    let free = 0;
    for (let index = 0; index < this.segments.length; index++) {
      const segment = this.segments[index];
      free += segment === undefined ? this.segmentSize(index) : segment.pool.stats().available;
    }
    return free;
  }

  /** Free pieces besides the fresh memory at each segment's end (0 when nothing was freed in between). */
  get fragments(): number {
    return this.segments.reduce((sum, segment) => sum + (segment?.pool.stats().free.count ?? 0), 0);
  }

  /** Bytes of the arena that have been handed out at some point (≤ `size`). */
  get touchedBytes(): number {
    return this.segments.reduce((sum, segment) => sum + (segment === undefined ? 0 : segment.highest - segment.first), 0);
  }

  private segmentSize(index: number): number {
    return Math.min(this.size, (index + 1) * this.segmentBytes) - index * this.segmentBytes;
  }

  private open(index: number): Segment {
    // The allocator's own state takes the first 32 bytes of the buffer.
    const pool = new MemPool({ size: this.segmentSize(index), align: 8 });
    const first = pool.stats().top;
    const segment = { pool, first, highest: first };
    this.segments[index] = segment;
    return segment;
  }
}
