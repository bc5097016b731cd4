/**
 * The points of one series inside a sliding time window, oldest first, bounded twice: by time (points
 * older than the cutoff leave) and by count (a burst can never grow it past `maxPoints`). Pure data
 * structure, no Vega: the streaming chart turns what leaves into Vega changesets.
 *
 * Stored as two parallel arrays plus a head index, so evicting from the front is O(1) per point and
 * the arrays are compacted only now and then (amortised O(1)), without a per-point wrapper object.
 */
export class TimeWindow<T> {
  #times: number[] = [];
  #items: T[] = [];
  #head = 0;
  #maxPoints: number;

  constructor(maxPoints: number) {
    this.#maxPoints = maxPoints;
  }

  get size(): number {
    return this.#times.length - this.#head;
  }

  get maxPoints(): number {
    return this.#maxPoints;
  }

  /** Time of the oldest point, or `undefined` when empty. */
  get oldestTime(): number | undefined {
    return this.size > 0 ? this.#times[this.#head] : undefined;
  }

  /** Time of the newest point, or `undefined` when empty. */
  get newestTime(): number | undefined {
    return this.size > 0 ? this.#times[this.#times.length - 1] : undefined;
  }

  /**
   * Adds a point, keeping time order. Points normally arrive in order (an O(1) append); a late one is
   * placed by binary search (napari's loads finish on worker threads, so they may be slightly out of order).
   * Points pushed out by the count cap are appended to `evicted`.
   */
  insert(time: number, item: T, evicted: T[]): void {
    const times = this.#times;
    const last = times.length > this.#head ? (times[times.length - 1] as number) : -Infinity;
    if (time >= last) {
      times.push(time);
      this.#items.push(item);
    } else {
      const at = this.#upperBound(time);
      times.splice(at, 0, time);
      this.#items.splice(at, 0, item);
    }
    if (this.size > this.#maxPoints) this.#evictOldest(this.size - this.#maxPoints, evicted);
  }

  /** Removes every point with `time < cutoff` (a point exactly at the cutoff stays) into `evicted`. */
  evictBefore(cutoff: number, evicted: T[]): void {
    const times = this.#times;
    let head = this.#head;
    while (head < times.length && (times[head] as number) < cutoff) {
      evicted.push(this.#items[head] as T);
      head += 1;
    }
    this.#advanceHead(head);
  }

  /** Changes the count cap; points beyond a smaller cap leave into `evicted`, oldest first. */
  setMaxPoints(maxPoints: number, evicted: T[]): void {
    this.#maxPoints = maxPoints;
    if (this.size > maxPoints) this.#evictOldest(this.size - maxPoints, evicted);
  }

  /** Removes every point into `evicted`. */
  clear(evicted: T[]): void {
    this.#evictOldest(this.size, evicted);
  }

  /** The points, oldest first (a copy). */
  items(): T[] {
    return this.#items.slice(this.#head);
  }

  /** The times, oldest first (a copy). */
  times(): number[] {
    return this.#times.slice(this.#head);
  }

  /** Calls `visit` for each point, oldest first, without copying. */
  forEach(visit: (item: T, time: number) => void): void {
    const times = this.#times;
    const items = this.#items;
    for (let i = this.#head; i < times.length; i += 1) visit(items[i] as T, times[i] as number);
  }

  #evictOldest(count: number, evicted: T[]): void {
    const end = this.#head + count;
    for (let i = this.#head; i < end; i += 1) evicted.push(this.#items[i] as T);
    this.#advanceHead(end);
  }

  #advanceHead(head: number): void {
    const items = this.#items;
    // Drop references as they leave, so evicted rows can be collected before the next compaction.
    for (let i = this.#head; i < head; i += 1) (items as unknown[])[i] = undefined;
    this.#head = head;
    const length = this.#times.length;
    if (head === length) {
      this.#times.length = 0;
      items.length = 0;
      this.#head = 0;
    } else if (head >= 1024 && head * 2 >= length) {
      // Compact once the dead prefix is at least half the array: each point is moved O(1) times overall.
      this.#times.splice(0, head);
      items.splice(0, head);
      this.#head = 0;
    }
  }

  /** First index (≥ head) whose time is > `time`, so equal times keep arrival order. */
  #upperBound(time: number): number {
    const times = this.#times;
    let low = this.#head;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((times[mid] as number) <= time) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
