/**
 * How a file recorder writes a frame the flight recorder already holds without copying it again: the
 * flight recorder lends the frame's bytes (header then data, in its shared memory) and keeps them as they
 * are until the loan is given back. Both tap the same relay; the lender must be tapped first, so it holds a
 * frame by the time the file recorder's tap sees it.
 */
import type { TopicInfo } from '@webmon/protocol';

export interface FrameLoan {
  /** The whole webmon.v1 frame (header then data), a view of a `SharedArrayBuffer`. */
  readonly bytes: Uint8Array;
  /** Gives the frame back (its memory may be used again); a second call does nothing. */
  release(): void;
}

export interface FrameLender {
  /** The frame `seq` of `info` if it is the newest held for that topic (lent until `release`), else `undefined`. */
  lendFrame(info: TopicInfo, seq: number): FrameLoan | undefined;
}
