/** Sums of the loads in one time bucket. */
interface Bucket {
  index: number;
  count: number;
  bytes: number;
  loadMs: number;
}

export interface RateTotals {
  count: number;
  bytes: number;
  loadMs: number;
}

/**
 * Load counts and byte sums over the window, kept per time bucket so the rates stay exact in a burst that
 * the charts' point cap thins out (2,000 loads a second is 20,000 in a 10 s window; the chart keeps at most
 * `maxPoints` of them, the rates still count all). Memory is O(window / bucket), whatever the load rate.
 * The window edge is rounded to whole buckets (100 ms of 10 s by default: 1 %).
 */
export class RateWindow {
  readonly bucketMs: number;
  readonly #maxBuckets: number;
  /** Buckets by ascending index (late loads are rare and go through a short backwards scan). */
  #buckets: Bucket[] = [];

  constructor(options: { bucketMs?: number; maxBuckets?: number } = {}) {
    this.bucketMs = options.bucketMs ?? 100;
    this.#maxBuckets = options.maxBuckets ?? 1_000;
  }

  get bucketCount(): number {
    return this.#buckets.length;
  }

  add(timeMs: number, bytes: number, loadMs: number): void {
    const index = Math.floor(timeMs / this.bucketMs);
    const buckets = this.#buckets;
    let at = buckets.length;
    while (at > 0 && (buckets[at - 1] as Bucket).index > index) at -= 1;
    const previous = buckets[at - 1];
    if (previous !== undefined && previous.index === index) {
      previous.count += 1;
      previous.bytes += bytes;
      previous.loadMs += loadMs;
    } else {
      buckets.splice(at, 0, { index, count: 1, bytes, loadMs });
      // Bounded even if a producer sends times scattered over years (the clock never evicts those).
      if (buckets.length > this.#maxBuckets) buckets.splice(0, buckets.length - this.#maxBuckets);
    }
  }

  /** Drops buckets that end before `cutoffMs`. */
  evictBefore(cutoffMs: number): void {
    const first = Math.floor(cutoffMs / this.bucketMs);
    let drop = 0;
    while (drop < this.#buckets.length && (this.#buckets[drop] as Bucket).index < first) drop += 1;
    if (drop > 0) this.#buckets.splice(0, drop);
  }

  /** Sums of the buckets from `cutoffMs` on. */
  totals(cutoffMs: number): RateTotals {
    const first = Math.floor(cutoffMs / this.bucketMs);
    const totals = { count: 0, bytes: 0, loadMs: 0 };
    for (const bucket of this.#buckets) {
      if (bucket.index < first) continue;
      totals.count += bucket.count;
      totals.bytes += bucket.bytes;
      totals.loadMs += bucket.loadMs;
    }
    return totals;
  }

  clear(): void {
    this.#buckets = [];
  }
}
