/**
 * Receive times in nanoseconds since the epoch, monotonic within the process. `Date.now()` has only ms
 * (messages at 60 Hz from several topics share one), and a float of ns since 1970 loses ~256 ns: the wall
 * clock at start-up in µs plus the monotonic clock since then, as a bigint.
 */
const originUs = BigInt(Math.round(performance.timeOrigin * 1000));

export function nowNs(): bigint {
  return originUs * 1000n + BigInt(Math.round(performance.now() * 1e6));
}

/** Milliseconds since the epoch (a relay or frame time stamp) → ns. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}
