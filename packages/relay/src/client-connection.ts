/** The relay client's connection types, shared by the client and its bulk worker's messages. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

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
