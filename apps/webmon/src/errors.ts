/** Errors the webmon command reports to its user. Each has a stable `WEBMON_` code and an exit status. */
export const WebmonErrorCode = {
  /** A command-line argument or option value is wrong. */
  BAD_ARGUMENT: 'WEBMON_BAD_ARGUMENT',
  /** The config file is missing, not JSON, or has a bad field. */
  BAD_CONFIG: 'WEBMON_BAD_CONFIG',
  /** `--port` is taken by another program. */
  PORT_IN_USE: 'WEBMON_PORT_IN_USE',
  /** The HTTP server could not listen for another reason (permission, bad host). */
  LISTEN_FAILED: 'WEBMON_LISTEN_FAILED',
  /** No Python to run the simulator with. */
  NO_PYTHON: 'WEBMON_NO_PYTHON',
  /** The Python found is older than 3.8. */
  PYTHON_TOO_OLD: 'WEBMON_PYTHON_TOO_OLD',
  /** A page package named in the config or with `--page` cannot be found. */
  PAGE_NOT_FOUND: 'WEBMON_PAGE_NOT_FOUND',
  /** A page package was found but is not a valid webmon page. */
  BAD_PAGE: 'WEBMON_BAD_PAGE',
  /** Two pages have the same id. */
  DUPLICATE_PAGE: 'WEBMON_DUPLICATE_PAGE',
  /** The first connection to napari failed (without `--stay`). */
  NAPARI_UNREACHABLE: 'WEBMON_NAPARI_UNREACHABLE',
  /** `webmon run` could not start the program (not found, not executable). */
  RUN_FAILED: 'WEBMON_RUN_FAILED',
  /** The `--record` / `webmon record` file cannot be created (missing folder, permissions). */
  RECORD_FAILED: 'WEBMON_RECORD_FAILED',
  /** `webmon replay`: the file cannot be replayed (missing, not MCAP, from a newer webmon, damaged beyond skipping). */
  REPLAY_FAILED: 'WEBMON_REPLAY_FAILED',
} as const;
export type WebmonErrorCode = (typeof WebmonErrorCode)[keyof typeof WebmonErrorCode];

/** The exit status of a usage error (as getopt tools do); every other error exits with 1. */
export const USAGE_STATUS = 2;

const EXIT_STATUS: Record<keyof typeof WebmonErrorCode, number> = {
  BAD_ARGUMENT: USAGE_STATUS,
  BAD_CONFIG: USAGE_STATUS,
  PORT_IN_USE: 1,
  LISTEN_FAILED: 1,
  NO_PYTHON: 1,
  PYTHON_TOO_OLD: 1,
  PAGE_NOT_FOUND: 1,
  BAD_PAGE: 1,
  DUPLICATE_PAGE: 1,
  NAPARI_UNREACHABLE: 1,
  // As shells do for a command that cannot run.
  RUN_FAILED: 127,
  RECORD_FAILED: 1,
  REPLAY_FAILED: 1,
};

export class WebmonError extends Error {
  override readonly name = 'WebmonError';
  readonly exitStatus: number;
  constructor(
    readonly code: WebmonErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitStatus = EXIT_STATUS[code.slice('WEBMON_'.length) as keyof typeof WebmonErrorCode];
  }
}

export function isWebmonError(value: unknown): value is WebmonError {
  return value instanceof WebmonError;
}
