import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';

/** The subset of {@link ShmReaderErrorCode} a pickle operation can produce. */
export type PickleErrorCode =
  | typeof ShmReaderErrorCode.PICKLE_MALFORMED
  | typeof ShmReaderErrorCode.PICKLE_UNSUPPORTED
  | typeof ShmReaderErrorCode.PICKLE_LIMIT
  | typeof ShmReaderErrorCode.PICKLE_UNENCODABLE
  | typeof ShmReaderErrorCode.INVALID_OPTIONS;

/**
 * The only error `decodePickle` / `encodePickle` throw.
 * - `PICKLE_MALFORMED`: truncated or garbage input, unknown opcode, stack/mark misuse.
 * - `PICKLE_UNSUPPORTED`: a valid pickle using a feature that needs Python (out-of-band buffers,
 *   persistent ids, the extension registry, calling a non-global).
 * - `PICKLE_LIMIT`: a configured bound was exceeded (see `PickleDecodeOptions`).
 * - `PICKLE_UNENCODABLE`: `encodePickle` was given a value it cannot represent.
 * - `INVALID_OPTIONS`: a limit that is not a non-negative number, or an unknown pickle protocol.
 * `offset` is the byte position of the opcode being decoded when the error was detected (decoder only).
 */
export class PickleError extends ShmReaderError {
  override name = 'PickleError';
  declare readonly code: PickleErrorCode;
  readonly offset: number | undefined;

  constructor(code: PickleErrorCode, message: string, offset?: number, options?: { cause?: unknown }) {
    super(code, offset === undefined ? message : `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}
