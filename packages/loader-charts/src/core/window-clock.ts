/**
 * What decides where the window ends.
 * - `data`: the newest point time seen (default). The window moves only when data arrives, so a paused
 *   or slow producer freezes the chart instead of scrolling it empty, and the chart is right even when the
 *   producer's clock (napari's `time.time()`) differs from the browser's.
 * - `live`: the wall clock (`now()`), so the chart keeps scrolling while no data arrives. Needs the
 *   producer's clock to agree with `now()`: pass a corrected `now` when it does not.
 */
export type ClockMode = 'data' | 'live';

export interface WindowClockOptions {
  /** @default 'data' */
  mode?: ClockMode;
  /** Wall clock in ms since the epoch, used in `live` mode. @default Date.now */
  now?: () => number;
}

/**
 * The end of the sliding window in ms since the epoch. One clock may be shared by several charts so
 * they show the same time span (the loader page's charts do).
 */
export class WindowClock {
  readonly mode: ClockMode;
  readonly #now: () => number;
  #newest = -Infinity;
  #oldest = Infinity;

  constructor(options: WindowClockOptions = {}) {
    this.mode = options.mode ?? 'data';
    this.#now = options.now ?? Date.now;
  }

  /** Records that a point of time `timeMs` arrived. */
  observe(timeMs: number): void {
    if (timeMs > this.#newest) this.#newest = timeMs;
    if (timeMs < this.#oldest) this.#oldest = timeMs;
  }

  /** The window end: `-Infinity` in `data` mode before any point arrived. */
  end(): number {
    return this.mode === 'live' ? this.#now() : this.#newest;
  }

  /** The oldest point time ever observed (`Infinity` before any): how long we have been watching. */
  get firstSeen(): number {
    return this.#oldest;
  }
}
