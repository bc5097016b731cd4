import { TimeWindow } from './time-window.js';
import type { WindowClock } from './window-clock.js';

/** What must change in the view to show the current window: rows to add and rows to take out. */
export interface WindowChanges<T> {
  insert: T[];
  remove: T[];
}

/**
 * The rows of a streaming chart and the difference between what the view shows and what it should show.
 * Rows are evicted when pushed as well as when changes are taken, so memory stays bounded even when no
 * frame ever renders (a background tab gets no animation frames, a paused chart takes no changes):
 * at most `maxPoints` rows in the window and at most `maxPoints` rows waiting to be removed from the view.
 */
export class StreamBuffer<T> {
  readonly #window: TimeWindow<T>;
  readonly #clock: WindowClock;
  #windowMs: number;
  /** Rows in the window the view does not show yet (insertion order = arrival order). */
  #pending = new Set<T>();
  /** Rows the view shows that have left the window. */
  #removals: T[] = [];
  /**
   * Rows the view shows. The changes handed over are exact against it, so the view can apply them as they
   * are (no insert of a row it already shows, no removal of one it does not, even when a caller pushes
   * one row object twice) instead of looking every row up first. At most `maxPoints` plus the removals.
   */
  #shown = new Set<T>();
  #evicted: T[] = [];

  constructor(options: { windowMs: number; maxPoints: number; clock: WindowClock }) {
    this.#windowMs = options.windowMs;
    this.#window = new TimeWindow<T>(options.maxPoints);
    this.#clock = options.clock;
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  set windowMs(ms: number) {
    this.#windowMs = ms;
    this.evict();
  }

  get maxPoints(): number {
    return this.#window.maxPoints;
  }

  set maxPoints(count: number) {
    this.#window.setMaxPoints(count, this.#evicted);
    this.#retireEvicted();
  }

  /** Rows in the window (shown or pending). */
  get size(): number {
    return this.#window.size;
  }

  /** Whether the view differs from the window. */
  get dirty(): boolean {
    return this.#pending.size > 0 || this.#removals.length > 0;
  }

  /** The start of the window (inclusive), ms since the epoch. */
  cutoff(): number {
    return this.#clock.end() - this.#windowMs;
  }

  /** Adds a row at `timeMs`; returns false when it is already older than the window (then it is dropped). */
  push(timeMs: number, row: T): boolean {
    this.#clock.observe(timeMs);
    const cutoff = this.cutoff();
    if (timeMs < cutoff) return false;
    this.#window.insert(timeMs, row, this.#evicted);
    this.#pending.add(row);
    this.#window.evictBefore(cutoff, this.#evicted);
    this.#retireEvicted();
    return true;
  }

  /** Evicts rows older than the window (the clock may have moved through another chart or the wall clock). */
  evict(): void {
    this.#window.evictBefore(this.cutoff(), this.#evicted);
    this.#retireEvicted();
  }

  /**
   * Evicts, then hands over (and forgets) what the view must change: rows it does not show yet, and rows
   * it shows that have left the window, each once.
   */
  takeChanges(): WindowChanges<T> {
    this.evict();
    const shown = this.#shown;
    const remove: T[] = [];
    for (const row of this.#removals) if (shown.delete(row)) remove.push(row);
    const insert: T[] = [];
    for (const row of this.#pending) {
      if (shown.has(row)) continue;
      shown.add(row);
      insert.push(row);
    }
    this.#pending.clear();
    this.#removals = [];
    return { insert, remove };
  }

  /** Empties the window; the shown rows become removals. */
  clear(): void {
    this.#window.clear(this.#evicted);
    this.#retireEvicted();
  }

  /** Rows in the window, oldest first. */
  rows(): T[] {
    return this.#window.items();
  }

  /** Calls `visit` for each row in the window, oldest first. */
  forEach(visit: (row: T, timeMs: number) => void): void {
    this.#window.forEach(visit);
  }

  #retireEvicted(): void {
    const evicted = this.#evicted;
    if (evicted.length === 0) return;
    // A row that leaves before it was ever shown is simply forgotten; only shown rows need a removal.
    for (const row of evicted) if (!this.#pending.delete(row)) this.#removals.push(row);
    evicted.length = 0;
  }
}
