/** The relay client's connection types and backoff defaults, shared by the client, its option check and its bulk worker's messages. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The backoff used where `BackoffOptions` leaves a value out (also what the client's option check compares with). */
export const BACKOFF_DEFAULTS = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5 } as const;

export interface BackoffOptions {
  /** First delay. @default 250 */
  initialMs?: number;
  /** Ceiling. @default 10000 */
  maxMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Fraction of each delay that is random (0 = none, 1 = full jitter). @default 0.5 */
  jitter?: number;
}
