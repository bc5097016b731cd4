/**
 * Codes of every error page-kit throws. Stable: part of the public API, all listed in the README. Values
 * carry the package prefix `PAGE_` (as `ws` uses `WS_ERR_`); keys are the short names callers compare against.
 */
export const PageErrorCode = {
  /** `definePage` got a definition with a bad field. */
  INVALID_PAGE: 'PAGE_INVALID_DEFINITION',
  /** A package.json `webmon` field (the page manifest) has a bad field. */
  INVALID_MANIFEST: 'PAGE_INVALID_MANIFEST',
  /** A loaded module defines another page than its manifest says. */
  MANIFEST_MISMATCH: 'PAGE_MANIFEST_MISMATCH',
  /** The manifest a server embedded in a page is malformed (`readHostManifest`). */
  INVALID_HOST_MANIFEST: 'PAGE_INVALID_HOST_MANIFEST',
  /** A loaded module has no `page` export. */
  NOT_A_PAGE_MODULE: 'PAGE_MISSING_EXPORT',
  /** The page was defined with another version of this contract. */
  CONTRACT_MISMATCH: 'PAGE_CONTRACT_MISMATCH',
  /** `subscribe` was called with a topic the page did not declare. */
  UNDECLARED_TOPIC: 'PAGE_UNDECLARED_TOPIC',
} as const;
export type PageErrorCode = (typeof PageErrorCode)[keyof typeof PageErrorCode];

export class PageError extends Error {
  override readonly name = 'PageError';
  constructor(
    readonly code: PageErrorCode,
    message: string,
    /** The bad field, when one field is to blame (`PAGE_INVALID_MANIFEST`: e.g. `webmon.topics`). */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function isPageError(value: unknown): value is PageError {
  return value instanceof PageError;
}
