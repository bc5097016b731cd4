import { LoaderChartsError, LoaderChartsErrorCode } from './errors.js';

/** At 60 Hz: even an update far over budget runs at least 10 times a second. */
const MAX_SKIPPED_FRAMES = 5;

/**
 * Keeps the average main-thread time per frame near a budget, like a token bucket: every frame earns one
 * budget of credit (never more than one frame's worth is saved up), an update spends what it cost, and a
 * frame that finds the credit used up is left to the rest of the page. Updates of 1.2 budgets run on five
 * frames of six; updates of 3 budgets on one of three; a fast machine updates every frame. `Infinity`
 * disables it.
 */
export class FrameBudget {
  readonly budgetMs: number;
  #credit = 0;
  #skipped = 0;

  constructor(budgetMs: number) {
    this.budgetMs = budgetMs;
  }

  /** Called once per frame that has something to draw: whether to leave this frame without an update. */
  skipFrame(): boolean {
    if (!Number.isFinite(this.budgetMs)) return false;
    this.#credit = Math.min(this.#credit + this.budgetMs, this.budgetMs);
    if (this.#credit > 0 || this.#skipped >= MAX_SKIPPED_FRAMES) {
      this.#skipped = 0;
      return false;
    }
    this.#skipped += 1;
    return true;
  }

  /** Records what an update cost. */
  spent(durationMs: number): void {
    if (!Number.isFinite(this.budgetMs)) return;
    // One very slow update (a GC pause, a first layout) costs at most MAX_SKIPPED_FRAMES frames.
    this.#credit = Math.max(this.#credit - durationMs, -this.budgetMs * MAX_SKIPPED_FRAMES);
  }
}

/** What a frame loop drives: one widget's view updates. */
export interface FrameLoopHooks {
  /** Whether a frame is wanted: something to draw, or a clock that scrolls the view without new data. */
  wanted(): boolean;
  /** Runs one update from an animation frame; `undefined` when there was nothing to do. */
  update(): Promise<unknown> | undefined;
  /** Errors of those updates: nobody awaits an update started by a frame. */
  onError(error: unknown): void;
}

/**
 * The one frame loop of the streaming chart and the loader charts: at most one `requestAnimationFrame`
 * outstanding, requested only while a frame is wanted (none when idle), at most one update per frame and
 * never two in flight, frames skipped to keep the `FrameBudget`. `pause()` and `dispose()` cancel the
 * pending frame: never a global loop nobody can stop. With schedule `manual` it requests no frames (the
 * host calls the widget's `flush()`) but still keeps the paused/disposed state and the update in flight.
 */
export class FrameLoop {
  readonly #hooks: FrameLoopHooks;
  readonly #budget: FrameBudget;
  readonly #frames: boolean;
  #handle: number | undefined;
  #running: Promise<unknown> | undefined;
  #paused = false;
  #disposed = false;

  constructor(schedule: 'frame' | 'manual', budgetMs: number, hooks: FrameLoopHooks) {
    this.#frames = schedule === 'frame';
    if (this.#frames && typeof globalThis.requestAnimationFrame !== 'function') {
      throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, 'requestAnimationFrame is not available: use schedule "manual" and call flush()');
    }
    this.#budget = new FrameBudget(budgetMs);
    this.#hooks = hooks;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** An update is in flight (see `track`). */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Asks for a frame if one is wanted; a frame already asked for is not asked for again. */
  request(): void {
    if (!this.#paused && !this.#disposed && this.#hooks.wanted()) this.#schedule();
  }

  /**
   * Marks `work` as the update in flight until it settles, whoever started it (a frame or the host's
   * `flush()`), so that a frame arriving meanwhile waits instead of starting a second one.
   */
  async track<T>(work: Promise<T>): Promise<T> {
    this.#running = work;
    try {
      return await work;
    } finally {
      if (this.#running === work) this.#running = undefined;
    }
  }

  /** Records what an update cost, so later frames are skipped when it overran the budget. */
  spent(durationMs: number): void {
    this.#budget.spent(durationMs);
  }

  pause(): void {
    this.#paused = true;
    this.#cancel();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.request();
  }

  dispose(): void {
    this.#disposed = true;
    this.#cancel();
  }

  #schedule(): void {
    if (!this.#frames || this.#handle !== undefined) return;
    this.#handle = requestAnimationFrame(() => {
      this.#handle = undefined;
      this.#tick();
    });
  }

  #cancel(): void {
    if (this.#handle === undefined) return;
    cancelAnimationFrame(this.#handle);
    this.#handle = undefined;
  }

  #tick(): void {
    if (this.#disposed || this.#paused) return;
    if (this.busy || this.#budget.skipFrame()) {
      // The previous update has not finished, or it overran the frame budget: leave this frame alone.
      this.#schedule();
      return;
    }
    const update = this.#hooks.update();
    // Another frame if data came in while this one ran, or the view still wants one (a live clock).
    if (update === undefined) this.request();
    else update.catch(this.#hooks.onError).then(() => this.request());
  }
}
