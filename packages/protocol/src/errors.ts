import type { z } from 'zod';

/**
 * Codes of errors thrown locally while parsing or encoding. Stable: part of the public API, all listed
 * in the README. Values carry the package prefix `PROTOCOL_` (as `ws` prefixes `WS_ERR_`) so a code
 * names its package wherever it is logged; the keys are the short names.
 * (Codes sent to a peer inside an `error` envelope are `WireErrorCode`, in `browser.ts`: not prefixed.)
 */
export const ProtocolErrorCode = {
  /** Text that is not JSON. */
  INVALID_JSON: 'PROTOCOL_INVALID_JSON',
  /** Well-formed data that does not match the schema (wrong type, missing field, NaN, oversized array…). */
  INVALID_MESSAGE: 'PROTOCOL_INVALID_MESSAGE',
  /** A binary frame shorter than its header says. */
  FRAME_TRUNCATED: 'PROTOCOL_FRAME_TRUNCATED',
  /** A binary frame that does not start with the webmon magic, or whose header is not valid. */
  FRAME_MALFORMED: 'PROTOCOL_FRAME_MALFORMED',
  /** A binary frame of a version this package does not know. */
  FRAME_UNSUPPORTED_VERSION: 'PROTOCOL_FRAME_UNSUPPORTED_VERSION',
  /** A binary frame above the configured size limits. */
  FRAME_TOO_LARGE: 'PROTOCOL_FRAME_TOO_LARGE',
  /** Data that cannot be encoded (e.g. an array whose length does not match its shape). */
  UNENCODABLE: 'PROTOCOL_UNENCODABLE',
} as const;

export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** One schema problem, flattened so it can be logged or sent without zod. */
export interface ProtocolIssue {
  path: (string | number)[];
  message: string;
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly issues: ProtocolIssue[];

  constructor(code: ProtocolErrorCode, message: string, options?: { issues?: ProtocolIssue[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options?.issues ?? [];
  }

  /** Wraps a zod failure; `what` names the thing that failed (e.g. `client message`). */
  static fromZod(what: string, error: z.ZodError): ProtocolError {
    const issues = error.issues.map((issue) => ({
      path: issue.path.filter((key): key is string | number => typeof key !== 'symbol'),
      message: issue.message,
    }));
    return new ProtocolError(ProtocolErrorCode.INVALID_MESSAGE, describe(what, issues[0]), { issues });
  }

  /**
   * Wraps the problem a hand-written check found (`fast-check.ts`: the first one, where zod would list
   * them all), in the same words as `fromZod`.
   */
  static fromIssue(code: ProtocolErrorCode, what: string, issue: ProtocolIssue): ProtocolError {
    return new ProtocolError(code, describe(what, issue), { issues: [issue] });
  }
}

function describe(what: string, first: ProtocolIssue | undefined): string {
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  return `invalid ${what}${where}: ${first?.message ?? 'schema mismatch'}`;
}

export function isProtocolError(value: unknown): value is ProtocolError {
  return value instanceof ProtocolError;
}
