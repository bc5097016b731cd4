/**
 * At most one `requestAnimationFrame` outstanding, requested only when there is something to draw, and
 * cancelled by `cancel()`: never a global loop nobody can stop.
 */
export class FrameLoop {
  readonly #tick: (time: number) => void;
  #handle: number | undefined;

  constructor(tick: (time: number) => void) {
    if (typeof globalThis.requestAnimationFrame !== 'function') {
      throw new TypeError('requestAnimationFrame is not available: use schedule "manual" and call flush()');
    }
    this.#tick = tick;
  }

  get scheduled(): boolean {
    return this.#handle !== undefined;
  }

  request(): void {
    if (this.#handle !== undefined) return;
    this.#handle = requestAnimationFrame((time) => {
      this.#handle = undefined;
      this.#tick(time);
    });
  }

  cancel(): void {
    if (this.#handle === undefined) return;
    cancelAnimationFrame(this.#handle);
    this.#handle = undefined;
  }
}

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
