/**
 * A fixed-capacity ring of (time, value) points in two `Float64Array`s, oldest first. Memory is decided once:
 * 16 bytes a point × capacity, whatever is pushed. When the ring is full a push overwrites the oldest point
 * (the series then keeps a shorter stretch of time than the window: the chart sizes rings so this only
 * happens above the rate it was told to expect).
 *
 * Times are non-decreasing (the caller checks), so `lowerBound` is a binary search. Values may be any
 * double, NaN and ±Infinity included (the decimation draws them as gaps).
 */
export class TimeRing {
  readonly capacity: number;
  /** Physical storage; logical index i lives at `(start + i) % capacity`. Read with `segments`. */
  readonly times: Float64Array;
  readonly values: Float64Array;
  private start = 0;
  private size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends a point; returns true when the oldest point was overwritten to make room. */
  push(time: number, value: number): boolean {
    const cap = this.capacity;
    let at = this.start + this.size;
    if (at >= cap) at -= cap;
    this.times[at] = time;
    this.values[at] = value;
    if (this.size < cap) {
      this.size += 1;
      return false;
    }
    this.start = this.start + 1 === cap ? 0 : this.start + 1;
    return true;
  }

  /** Drops every point older than `time` from the front; returns how many. */
  dropBefore(time: number): number {
    const n = this.lowerBound(time);
    if (n > 0) {
      this.start = (this.start + n) % this.capacity;
      this.size -= n;
    }
    return n;
  }

  clear(): void {
    this.start = 0;
    this.size = 0;
  }

  timeAt(i: number): number {
    return this.times[this.physical(i)] as number;
  }

  valueAt(i: number): number {
    return this.values[this.physical(i)] as number;
  }

  /** Time of the newest point, or -Infinity when empty. */
  get lastTime(): number {
    return this.size === 0 ? -Infinity : this.timeAt(this.size - 1);
  }

  /** Time of the oldest point, or +Infinity when empty. */
  get firstTime(): number {
    return this.size === 0 ? Infinity : this.timeAt(0);
  }

  /** Logical index of the first point with time ≥ `time` (`length` when there is none). */
  lowerBound(time: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Calls `fn` with the physical index ranges [from, to) that hold logical points [i0, i1): one range, or two
   * when they wrap. Lets hot loops run over plain typed arrays with no modulo per point.
   */
  segments(i0: number, i1: number, fn: (from: number, to: number) => void): void {
    if (i1 <= i0) return;
    const p0 = this.physical(i0);
    const count = i1 - i0;
    const first = Math.min(count, this.capacity - p0);
    fn(p0, p0 + first);
    if (first < count) fn(0, count - first);
  }

  private physical(i: number): number {
    const p = this.start + i;
    return p >= this.capacity ? p - this.capacity : p;
  }
}
