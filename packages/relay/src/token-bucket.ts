/** A token bucket: `burst` tokens, refilled at `perSecond`. Runtime-neutral (used by server and client). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Takes `amount` tokens while the bucket is not empty, going into debt if it holds fewer: a cost that
   * is only known by size (a snapshot's bytes) is paid in full once, and the next one waits until the
   * debt is repaid. False (nothing taken) while the bucket is empty or in debt.
   */
  spend(amount: number): boolean {
    this.refill();
    if (this.tokens <= 0) return false;
    this.tokens -= amount;
    return true;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
