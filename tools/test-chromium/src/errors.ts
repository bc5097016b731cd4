/** Chromium is not where we looked: say which path and how to point elsewhere, instead of playwright's generic launch failure. */
export class ChromiumNotFoundError extends Error {
  readonly code = 'CHROMIUM_NOT_FOUND' as const;
  readonly executablePath: string;

  constructor(executablePath: string) {
    super(
      `Chromium not found at ${executablePath}: install Debian's chromium (apt-get install chromium) or set WEBMON_CHROMIUM to its path. ` +
        'The tests never download a browser.',
    );
    this.name = 'ChromiumNotFoundError';
    this.executablePath = executablePath;
  }
}

/** esbuild returned no file for the entry (it reports real syntax errors itself, by throwing). */
export class BundleError extends Error {
  readonly code = 'BUNDLE_EMPTY' as const;
  readonly entry: string;

  constructor(entry: string) {
    super(`esbuild produced no output for ${entry}`);
    this.name = 'BundleError';
    this.entry = entry;
  }
}

/** A quiet page's DevTools command failed, its script threw, or what it waited for did not come. */
export class QuietPageError extends Error {
  readonly code = 'QUIET_PAGE_FAILED' as const;

  constructor(message: string) {
    super(`quiet page: ${message}`);
    this.name = 'QuietPageError';
  }
}
