/**
 * Every error this package throws is a `ShmReaderError` (or a subclass) with a stable `code`.
 * Codes are part of the public API, all listed in the README: they never change meaning; new ones may be
 * added. Every value starts with the package prefix `SHM_READER_` (as `ws` uses `WS_ERR_`); the keys are
 * the short names callers compare against (`ShmReaderErrorCode.RING_WRITER_DEAD`).
 */
export const ShmReaderErrorCode = {
  // connection / transport
  CONNECTION_REFUSED: 'SHM_READER_CONNECTION_REFUSED',
  CONNECTION_TIMEOUT: 'SHM_READER_CONNECTION_TIMEOUT',
  CONNECTION_CLOSED: 'SHM_READER_CONNECTION_CLOSED',
  CALL_TIMEOUT: 'SHM_READER_CALL_TIMEOUT',
  AUTH_FAILED: 'SHM_READER_AUTH_FAILED',
  NOT_A_PYTHON_MANAGER: 'SHM_READER_NOT_A_PYTHON_MANAGER',
  FRAME_TOO_LARGE: 'SHM_READER_FRAME_TOO_LARGE',
  MALFORMED_FRAME: 'SHM_READER_MALFORMED_FRAME',
  // manager protocol
  MALFORMED_REPLY: 'SHM_READER_MALFORMED_REPLY',
  PYTHON_EXCEPTION: 'SHM_READER_PYTHON_EXCEPTION',
  QUEUE_EMPTY: 'SHM_READER_QUEUE_EMPTY',
  QUEUE_SHUT_DOWN: 'SHM_READER_QUEUE_SHUT_DOWN',
  REMOTE_ERROR: 'SHM_READER_REMOTE_ERROR',
  // pickle
  PICKLE_MALFORMED: 'SHM_READER_PICKLE_MALFORMED',
  PICKLE_UNSUPPORTED: 'SHM_READER_PICKLE_UNSUPPORTED',
  PICKLE_LIMIT: 'SHM_READER_PICKLE_LIMIT',
  PICKLE_UNENCODABLE: 'SHM_READER_PICKLE_UNENCODABLE',
  // shared memory (the package prefix already says "shared memory": no second SHM_ in the value)
  SHM_NOT_FOUND: 'SHM_READER_NOT_FOUND',
  SHM_UNSUPPORTED_PLATFORM: 'SHM_READER_UNSUPPORTED_PLATFORM',
  SHM_LAYOUT: 'SHM_READER_LAYOUT',
  SHM_TORN_READ: 'SHM_READER_TORN_READ',
  SHM_GONE: 'SHM_READER_GONE',
  SHM_BAD_NAME: 'SHM_READER_BAD_NAME',
  SHM_PERMISSION_DENIED: 'SHM_READER_PERMISSION_DENIED',
  SHM_OUT_OF_RANGE: 'SHM_READER_OUT_OF_RANGE',
  SHM_BAD_DTYPE: 'SHM_READER_BAD_DTYPE',
  SHM_READ_ONLY: 'SHM_READER_READ_ONLY',
  SHM_NATIVE_UNAVAILABLE: 'SHM_READER_NATIVE_UNAVAILABLE',
  // shared-memory ring (src/ring)
  RING_NOT_READY: 'SHM_READER_RING_NOT_READY',
  RING_BAD_HEADER: 'SHM_READER_RING_BAD_HEADER',
  RING_WRITER_DEAD: 'SHM_READER_RING_WRITER_DEAD',
  RING_RECREATED: 'SHM_READER_RING_RECREATED',
  // every part
  /** An option out of range or of the wrong type (pickle limits, pickle protocol). */
  INVALID_OPTIONS: 'SHM_READER_INVALID_OPTIONS',
  /**
   * A call on something this process closed: a manager client or connection, a shared-memory block or
   * list, a ring reader. (Closed by the *other* side is `CONNECTION_CLOSED` / `SHM_GONE` / `RING_WRITER_DEAD`.)
   */
  DISPOSED: 'SHM_READER_DISPOSED',
} as const;

export type ShmReaderErrorCode = (typeof ShmReaderErrorCode)[keyof typeof ShmReaderErrorCode];

export class ShmReaderError extends Error {
  override name = 'ShmReaderError';
  readonly code: ShmReaderErrorCode;

  constructor(code: ShmReaderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for every error this package throws (subclasses included: `PickleError`, `RingError`, …). */
export function isShmReaderError(value: unknown): value is ShmReaderError {
  return value instanceof ShmReaderError;
}
