/**
 * The flight recorder's memory: its budget's bytes, allocated once (in segments of at most 1 GiB, each
 * made when first needed) and handed out as pieces, big ones from the low end and small ones from the
 * high end.
 *
 * Why memory allocated once: with a buffer per frame (reused by size) and JSON text on the heap, a
 * 10-minute run with a 30 Hz image stream grew webmon's RSS to 130 % of the 256 MiB budget above a webmon
 * without a flight recorder, while the recorder's own count stayed at 100 %: malloc fragmented by 4 MiB
 * blocks freed and taken again, and values waiting for V8's garbage collector. Memory allocated once
 * cannot creep.
 *
 * Why two ends: frames live seconds and leave oldest first, so at the low end, first fit, they go round
 * like a ring. The recorder packs small values (JSON text) into slabs of a topic each (`flight-recorder.ts`)
 * that live minutes; taken first fit too, each slab would sit in the hole a frame left and spoil it for
 * the next frame. Taken from the high end they stay out of the frames' way until the two meet.
 *
 * Why by hand: `@thi.ng/malloc` (the allocator over one ArrayBuffer on npm) takes pieces from the low end
 * only, and its `free` walks the list of pieces in use. Here the free pieces are two sorted arrays of
 * numbers, searched by bisection when freeing. Pieces are 8-byte aligned (lengths rounded up to 8) so a
 * typed array may view a frame in place.
 */
export const ARENA_SEGMENT_BYTES = 2 ** 30;
const ALIGN = 8;

export class FrameArena {
  /** Bytes the arena hands out: the size asked for, in whole 8-byte units. */
  readonly size: number;
  private readonly segments: (Uint8Array | undefined)[];
  /** Free pieces, sorted by start, merged with their neighbours except across a segment's end. */
  private starts: number[] = [];
  private ends: number[] = [];
  private freeTotal: number;
  /** How far up pieces from the low end have reached, and how far down those from the high end. */
  private bottomMark = 0;
  private topMark: number;
  /** Where pieces from the low end must end by. */
  private readonly lowLimit: number;

  /**
   * @param topReserve bytes at the high end that only pieces taken from the high end may use: room for
   *   small values that frames (pinned by a save, say) cannot take
   */
  constructor(
    size: number,
    private readonly segmentBytes = ARENA_SEGMENT_BYTES,
    topReserve = 0,
  ) {
    if (segmentBytes % ALIGN !== 0) throw new RangeError(`segments must be whole ${ALIGN}-byte units`);
    this.size = Math.floor(size / ALIGN) * ALIGN;
    const count = Math.ceil(this.size / segmentBytes);
    this.segments = new Array<Uint8Array | undefined>(count).fill(undefined);
    for (let index = 0; index < count; index++) {
      this.starts.push(index * segmentBytes);
      this.ends.push(Math.min(this.size, (index + 1) * segmentBytes));
    }
    this.freeTotal = this.size;
    this.topMark = this.size;
    this.lowLimit = this.size - Math.min(this.size, Math.ceil(topReserve / ALIGN) * ALIGN);
  }


  /**
   * `length` bytes (a view), from the lowest free piece long enough, or with `fromTop` the highest; or
   * `undefined` when no free piece is that long.
   */
  allocate(length: number, fromTop = false): Uint8Array | undefined {
    const need = Math.ceil(Math.max(1, length) / ALIGN) * ALIGN;
    const count = this.starts.length;
    for (let step = 0; step < count; step++) {
      const index = fromTop ? count - 1 - step : step;
      const start = this.starts[index] as number;
      const end = fromTop ? (this.ends[index] as number) : Math.min(this.ends[index] as number, this.lowLimit);
      if (end - start < need) continue;
      let at: number;
      if (start + need === this.ends[index]) {
        at = start;
        this.starts.splice(index, 1);
        this.ends.splice(index, 1);
      } else if (fromTop) {
        at = end - need;
        this.ends[index] = at;
      } else {
        at = start;
        this.starts[index] = start + need;
      }
      this.freeTotal -= need;
      if (fromTop) this.topMark = Math.min(this.topMark, at);
      else this.bottomMark = Math.max(this.bottomMark, at + need);
      return this.view(at, length);
    }
    return undefined;
  }

  /** Gives back a view `allocate` returned; nothing may read it afterwards. */
  free(view: Uint8Array): void {
    const segment = this.segments.findIndex((bytes) => bytes !== undefined && bytes.buffer === view.buffer);
    if (segment < 0) throw new RangeError('not a piece of this arena');
    const segmentStart = segment * this.segmentBytes;
    const start = segmentStart + view.byteOffset;
    const end = start + Math.ceil(Math.max(1, view.byteLength) / ALIGN) * ALIGN;
    // The first free piece at or after this one.
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.starts[middle] as number) < start) low = middle + 1;
      else high = middle;
    }
    const before = low - 1;
    if ((before >= 0 && (this.ends[before] as number) > start) || (low < this.starts.length && (this.starts[low] as number) < end)) {
      throw new RangeError('this piece is free already');
    }
    const joinsBefore = before >= 0 && this.ends[before] === start && start !== segmentStart;
    const joinsAfter = low < this.starts.length && this.starts[low] === end && end !== segmentStart + this.segmentBytes;
    if (joinsBefore && joinsAfter) {
      this.ends[before] = this.ends[low] as number;
      this.starts.splice(low, 1);
      this.ends.splice(low, 1);
    } else if (joinsBefore) {
      this.ends[before] = end;
    } else if (joinsAfter) {
      this.starts[low] = start;
    } else {
      this.starts.splice(low, 0, start);
      this.ends.splice(low, 0, end);
    }
    this.freeTotal += end - start;
  }

  /** Bytes free, in any number of pieces. */
  get freeBytes(): number {
    return this.freeTotal;
  }

  /** Free pieces (1 per segment when nothing is held between the two ends' pieces). */
  get fragments(): number {
    return this.starts.length;
  }

  /** Bytes of the arena that may have been touched: as far as each end's pieces have reached. */
  get touchedBytes(): number {
    return Math.min(this.size, this.bottomMark + this.size - this.topMark);
  }

  private view(start: number, length: number): Uint8Array {
    const segment = Math.floor(start / this.segmentBytes);
    const segmentStart = segment * this.segmentBytes;
    let bytes = this.segments[segment];
    if (bytes === undefined) {
      bytes = new Uint8Array(Math.min(this.size, segmentStart + this.segmentBytes) - segmentStart);
      this.segments[segment] = bytes;
    }
    return bytes.subarray(start - segmentStart, start - segmentStart + length);
  }
}
