/**
 * Who still reads a published frame's buffer, so that the producer can have it back (`publishFrame`'s
 * `release`).
 *
 * Why: a producer that hands the relay a new 4 MiB buffer per frame (the shm ring reader, 60 times a
 * second) makes 240 MB/s of new external memory, and external memory is what starts V8's full garbage
 * collections: measured (`@webmon/recorder`'s bench:record-cpu), 5.6 ms of CPU per 1024² float32 frame
 * against 1.1 ms with buffers handed back, and pauses that every small topic waits behind. Reusing a
 * buffer is only safe once nothing reads it any more, and the relay knows who does: its topic's newest
 * value and replay window, a page's parked value, the stream queue, the bulk lane, a write the socket has
 * not finished, a view being computed (or queued to be) from it, a tap that kept it.
 *
 * Each of those takes a hold (`holdEntry`) and lets it go (`letGo`) when it is done; the last one out
 * calls the producer's `release`. A hold never let go (a path that ends without its `letGo`, a write
 * whose callback never comes) only means the buffer is not handed back and the garbage collector frees it
 * as before: a missing `letGo` costs memory reuse, a missing hold costs correctness — so every new place
 * that keeps an entry past the call that gave it must take a hold.
 */
/**
 * What may carry a hold: a relay entry (`entries.ts`; only frames published with `release` have one).
 * `kind` is there so that a JSON entry, which has no `hold`, still matches the type.
 */
export interface Held {
  readonly kind: string;
  readonly hold?: FrameHold;
}

export class FrameHold {
  /** The publisher's own hold, let go when `publishFrame` returns. */
  private holders = 1;
  private released = false;

  constructor(private readonly release: () => void) {}

  take(): void {
    this.holders += 1;
  }

  letGo(): void {
    this.holders -= 1;
    if (this.holders > 0 || this.released) return;
    this.released = true;
    this.release();
  }
}

/** Takes a hold on `entry`'s buffer (a no-op for JSON values and frames published without `release`). */
export function holdEntry(entry: Held | undefined): void {
  entry?.hold?.take();
}

/** Lets go of a hold taken with `holdEntry`. */
export function letGo(entry: Held | undefined): void {
  entry?.hold?.letGo();
}

/** A write's callback that also lets go of the frame it wrote (the frame's buffer is free once the kernel has it). */
export function lettingGo(entry: Held, callback: () => void): () => void {
  if (entry.hold === undefined) return callback;
  const hold = entry.hold;
  hold.take();
  return () => {
    callback();
    hold.letGo();
  };
}

/** A map of entries that holds each value it stores and lets go of it when it is replaced or removed. */
export class HeldEntries<K, V extends Held> {
  private readonly map = new Map<K, V>();

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, entry: V): void {
    const previous = this.map.get(key);
    if (previous === entry) return;
    holdEntry(entry);
    this.map.set(key, entry);
    letGo(previous);
  }

  delete(key: K): void {
    const previous = this.map.get(key);
    if (previous === undefined) return;
    this.map.delete(key);
    letGo(previous);
  }

  clear(): void {
    const entries = [...this.map.values()];
    this.map.clear();
    for (const entry of entries) letGo(entry);
  }

  /** Insertion order; deleting the current key while iterating is allowed (as with a `Map`). */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map[Symbol.iterator]();
  }
}
