/** Frame rate and latency of the frames a page receives, without the DOM (unit-tested). */

export interface FrameStatsSnapshot {
  /** Frames per second over the window. */
  fps: number;
  /** Bytes per second of frame data over the window. */
  bytesPerSecond: number;
  /** Age of frames when received (page clock − writer clock), ms: median and 99th percentile over the window. */
  latencyP50: number;
  latencyP99: number;
  /** Frames seen since the page opened. */
  total: number;
}

/**
 * Keeps the frames of the last `windowMs` (arrival time, bytes, latency). Times are in ms on one clock
 * (the page uses `performance.timeOrigin + performance.now()`, the wall clock the writer stamps with).
 */
export class FrameStats {
  private readonly arrivals: number[] = [];
  private readonly bytes: number[] = [];
  private readonly latencies: number[] = [];
  total = 0;

  constructor(private readonly windowMs = 2_000) {}

  add(now: number, byteLength: number, latencyMs: number): void {
    this.arrivals.push(now);
    this.bytes.push(byteLength);
    this.latencies.push(latencyMs);
    this.total++;
    this.trim(now);
  }

  snapshot(now: number): FrameStatsSnapshot {
    this.trim(now);
    const count = this.arrivals.length;
    // Rate over the span actually covered, once there are two frames; the window before that.
    const first = this.arrivals[0];
    const span = count >= 2 && first !== undefined ? Math.max(now - first, 1) : this.windowMs;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    let bytes = 0;
    for (const size of this.bytes) bytes += size;
    return {
      fps: count >= 2 ? ((count - 1) * 1000) / span : 0,
      bytesPerSecond: count >= 2 ? (bytes * 1000) / span : 0,
      latencyP50: percentile(sorted, 50),
      latencyP99: percentile(sorted, 99),
      total: this.total,
    };
  }

  private trim(now: number): void {
    let drop = 0;
    while (drop < this.arrivals.length && now - this.arrivals[drop]! > this.windowMs) drop++;
    if (drop > 0) {
      this.arrivals.splice(0, drop);
      this.bytes.splice(0, drop);
      this.latencies.splice(0, drop);
    }
  }
}

/** Nearest-rank percentile of sorted values; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
}
