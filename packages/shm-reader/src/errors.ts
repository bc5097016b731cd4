/**
 * Every error this package throws is a `ShmReaderError` (or a subclass) with a stable `code`.
 * Codes are part of the public API: they never change meaning; new ones may be added.
 */
export const ShmReaderErrorCode = {
  // connection / transport
  CONNECTION_REFUSED: 'CONNECTION_REFUSED',
  CONNECTION_TIMEOUT: 'CONNECTION_TIMEOUT',
  CONNECTION_CLOSED: 'CONNECTION_CLOSED',
  CALL_TIMEOUT: 'CALL_TIMEOUT',
  AUTH_FAILED: 'AUTH_FAILED',
  NOT_A_PYTHON_MANAGER: 'NOT_A_PYTHON_MANAGER',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  MALFORMED_FRAME: 'MALFORMED_FRAME',
  // manager protocol
  MALFORMED_REPLY: 'MALFORMED_REPLY',
  PYTHON_EXCEPTION: 'PYTHON_EXCEPTION',
  QUEUE_EMPTY: 'QUEUE_EMPTY',
  QUEUE_SHUT_DOWN: 'QUEUE_SHUT_DOWN',
  REMOTE_ERROR: 'REMOTE_ERROR',
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  // pickle
  PICKLE_MALFORMED: 'PICKLE_MALFORMED',
  PICKLE_UNSUPPORTED: 'PICKLE_UNSUPPORTED',
  PICKLE_LIMIT: 'PICKLE_LIMIT',
  PICKLE_UNENCODABLE: 'PICKLE_UNENCODABLE',
  // shared memory
  SHM_NOT_FOUND: 'SHM_NOT_FOUND',
  SHM_UNSUPPORTED_PLATFORM: 'SHM_UNSUPPORTED_PLATFORM',
  SHM_LAYOUT: 'SHM_LAYOUT',
  SHM_TORN_READ: 'SHM_TORN_READ',
  SHM_GONE: 'SHM_GONE',
  // shared-memory ring (src/ring)
  RING_NOT_READY: 'RING_NOT_READY',
  RING_BAD_HEADER: 'RING_BAD_HEADER',
  RING_WRITER_DEAD: 'RING_WRITER_DEAD',
  RING_RECREATED: 'RING_RECREATED',
  RING_READER_CLOSED: 'RING_READER_CLOSED',
  SHM_BAD_NAME: 'SHM_BAD_NAME',
  SHM_PERMISSION_DENIED: 'SHM_PERMISSION_DENIED',
  SHM_OUT_OF_RANGE: 'SHM_OUT_OF_RANGE',
  SHM_BAD_DTYPE: 'SHM_BAD_DTYPE',
  SHM_CLOSED: 'SHM_CLOSED',
  SHM_READ_ONLY: 'SHM_READ_ONLY',
  SHM_NATIVE_UNAVAILABLE: 'SHM_NATIVE_UNAVAILABLE',

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
