/** Codes of errors `@webmon/napari` throws. Stable: part of the public API (listed in the README). */
export const NapariErrorCode = {
  /** `NAPARI_MON_CLIENT` (or the `clientConfig` option) is missing or not napari's base64 JSON. */
  BAD_CLIENT_CONFIG: 'NAPARI_BAD_CLIENT_CONFIG',
  /** An option is out of range or inconsistent (message says which). */
  INVALID_OPTIONS: 'NAPARI_INVALID_OPTIONS',
  /**
   * napari's manager accepted the connection and the handshake, then sent no reply within the connect
   * limit (a napari frozen mid-crash, or a program that is not napari's manager).
   */
  NOT_ANSWERING: 'NAPARI_NOT_ANSWERING',
  /** The bridge or client was closed. */
  DISPOSED: 'NAPARI_DISPOSED',
} as const;
export type NapariErrorCode = (typeof NapariErrorCode)[keyof typeof NapariErrorCode];

export class NapariError extends Error {
  override name = 'NapariError';
  readonly code: NapariErrorCode;

  constructor(code: NapariErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isNapariError(value: unknown): value is NapariError {
  return value instanceof NapariError;
}
