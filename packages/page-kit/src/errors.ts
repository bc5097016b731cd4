export const PageErrorCode = {
  /** `definePage` got a definition with a bad field. */
  INVALID_PAGE: 'INVALID_PAGE',
  /** A package.json `webmon` field (the page manifest) has a bad field. */
  INVALID_MANIFEST: 'INVALID_MANIFEST',
  /** A loaded module defines another page than its manifest says. */
  MANIFEST_MISMATCH: 'MANIFEST_MISMATCH',
  /** The manifest a server embedded in a page is malformed (`readHostManifest`). */
  INVALID_HOST_MANIFEST: 'INVALID_HOST_MANIFEST',
  /** A loaded module has no `page` export. */
  NOT_A_PAGE_MODULE: 'NOT_A_PAGE_MODULE',
  /** The page was defined with another version of this contract. */
  CONTRACT_MISMATCH: 'CONTRACT_MISMATCH',
  /** `subscribe` was called with a topic the page did not declare. */
  UNDECLARED_TOPIC: 'UNDECLARED_TOPIC',
} as const;
export type PageErrorCode = (typeof PageErrorCode)[keyof typeof PageErrorCode];

export class PageError extends Error {
  override readonly name = 'PageError';
  constructor(
    readonly code: PageErrorCode,
    message: string,
    /** The bad field, when one field is to blame (`INVALID_MANIFEST`: e.g. `webmon.topics`). */
    readonly field?: string,
  ) {
    super(message);
  }
}
