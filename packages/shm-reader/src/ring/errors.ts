import { ShmReaderError, type ShmReaderErrorCode } from '../errors.js';

/** Why a writer is considered gone. */
export type WriterDeathReason = 'pid-gone' | 'heartbeat-stale' | 'unlinked';

/** Errors raised by the ring reader; `code` is one of the `RING_*` / `SHM_*` codes of `ShmReaderErrorCode`, or `DISPOSED`. */
export class RingError extends ShmReaderError {
  override name = 'RingError';
  /** For `RING_WRITER_DEAD`: what gave the writer away. */
  readonly reason: WriterDeathReason | undefined;

  constructor(code: ShmReaderErrorCode, message: string, options?: { cause?: unknown; reason?: WriterDeathReason }) {
    super(code, message, options);
    this.reason = options?.reason;
  }
}
