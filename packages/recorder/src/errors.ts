/**
 * Codes of errors the recorder throws. Stable: part of the public API, all listed in the README, each
 * with the package prefix `RECORDER_`.
 */
export const RecorderErrorCode = {
  /** An option is out of range or inconsistent (the message says which). */
  INVALID_OPTIONS: 'RECORDER_INVALID_OPTIONS',
  /** The recording file could not be created or opened (its path, permissions, a full disk). */
  OPEN_FAILED: 'RECORDER_OPEN_FAILED',
  /** Writing the file failed after it was opened; recording stopped, what was written reads up to there. */
  WRITE_FAILED: 'RECORDER_WRITE_FAILED',
  /** The writer thread (compression and file writing, off the event loop) stopped unexpectedly. */
  WORKER_FAILED: 'RECORDER_WORKER_FAILED',
  /** The flight recorder is off (`maxBytes: 0`), so there is nothing to save. */
  DISABLED: 'RECORDER_DISABLED',
  /** A method was called after `close()`. */
  CLOSED: 'RECORDER_CLOSED',
} as const;
export type RecorderErrorCode = (typeof RecorderErrorCode)[keyof typeof RecorderErrorCode];

export class RecorderError extends Error {
  override name = 'RecorderError';
  readonly code: RecorderErrorCode;

  constructor(code: RecorderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isRecorderError(value: unknown): value is RecorderError {
  return value instanceof RecorderError;
}
