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
  /** The flight recorder is off (`maxBytes: 0`), so there is nothing to save. */
  DISABLED: 'RECORDER_DISABLED',
  /** A method was called after `close()`. */
  CLOSED: 'RECORDER_CLOSED',
  /** The file is not an MCAP file (it does not start with the MCAP magic). */
  NOT_MCAP: 'RECORDER_NOT_MCAP',
  /** The recording was made by a newer webmon whose file format this reader does not know. */
  NEWER_FORMAT: 'RECORDER_NEWER_FORMAT',
  /** An MCAP file this reader cannot replay (no chunks, so no index: e.g. written unchunked by another tool). */
  UNSUPPORTED_FILE: 'RECORDER_UNSUPPORTED_FILE',
  /** The file is damaged beyond what can be skipped (its header, or every chunk). */
  CORRUPT_FILE: 'RECORDER_CORRUPT_FILE',
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
