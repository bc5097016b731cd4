/** Frame time over the window. Values are `null` when there are no frames. */
export interface FrameTimeSummary {
  /** Frames in the window. */
  count: number;
  /** Mean `delta_ms`. */
  meanMs: number | null;
  /** 95th percentile of `delta_ms` (nearest rank). */
  p95Ms: number | null;
  /** Frames per second implied by the mean: `1000 / meanMs`. */
  fps: number | null;
}

/** Chunk loads over the window. Rates are per second of the span they were measured over. */
export interface LoadSummary {
  /** Loads in the window. */
  count: number;
  loadsPerSecond: number;
  bytesPerSecond: number;
  /** Megabytes (10^6 bytes) per second. */
  megabytesPerSecond: number;
  /** Mean `load_ms`, `null` when there are no loads. */
  meanLoadMs: number | null;
}

/**
 * Nearest-rank percentile (`p` in 0..100) of values sorted ascending: the smallest value with at least
 * p % of the values at or below it. No interpolation, so the result is always a value that occurred.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[Math.min(rank, n) - 1] as number;
}

export function summarizeFrameTimes(deltasMs: ArrayLike<number>): FrameTimeSummary {
  const count = deltasMs.length;
  if (count === 0) return { count: 0, meanMs: null, p95Ms: null, fps: null };
  // A typed-array copy sorts numerically without a comparator and leaves the caller's values alone.
  const sorted = Float64Array.from(deltasMs).sort();
  let sum = 0;
  for (let i = 0; i < count; i += 1) sum += sorted[i] as number;
  const meanMs = sum / count;
  return { count, meanMs, p95Ms: percentileOfSorted(sorted, 95), fps: meanMs > 0 ? 1000 / meanMs : null };
}

/**
 * `spanMs` is the time the loads were collected over (see `rateSpanMs`): dividing by the full window
 * length during the first seconds would under-report the rate.
 */
export function summarizeLoads(totals: { count: number; bytes: number; loadMs: number }, spanMs: number): LoadSummary {
  const { count, bytes, loadMs } = totals;
  const seconds = spanMs / 1000;
  const bytesPerSecond = seconds > 0 ? bytes / seconds : 0;
  return {
    count,
    loadsPerSecond: seconds > 0 ? count / seconds : 0,
    bytesPerSecond,
    megabytesPerSecond: bytesPerSecond / 1e6,
    meanLoadMs: count > 0 ? loadMs / count : null,
  };
}

/**
 * The span rates are computed over: the time watched so far (window end − first point ever seen),
 * at least one second (so a single burst does not read as a huge rate) and at most the window length.
 */
export function rateSpanMs(options: { windowMs: number; end: number; firstSeen: number }): number {
  const watched = options.end - options.firstSeen;
  if (!Number.isFinite(watched)) return options.windowMs > 1000 ? 1000 : options.windowMs;
  return Math.min(options.windowMs, Math.max(1000, watched));
}
