/**
 * Codes of the errors this package throws. Stable: part of the public API, all listed in the README. Values
 * carry the package prefix `LOADER_CHARTS_` (as `ws` uses `WS_ERR_`); keys are the short names.
 */
export const LoaderChartsErrorCode = {
  /** An option out of range (window length ≤ 0, point cap < 1, unknown renderer…), or `schedule: 'frame'` where there is no `requestAnimationFrame`. */
  INVALID_OPTIONS: 'LOADER_CHARTS_INVALID_OPTIONS',
  /** A row pushed to a streaming chart whose time field is not a finite number. */
  INVALID_POINT: 'LOADER_CHARTS_INVALID_POINT',
  /** A value pushed to the loader charts that is neither a `frame_time` nor a `load_chunk` message. */
  INVALID_MESSAGE: 'LOADER_CHARTS_INVALID_MESSAGE',
  /** The Vega-Lite spec does not compile. */
  INVALID_SPEC: 'LOADER_CHARTS_INVALID_SPEC',
  /** The spec has no data source of the configured name (the stream would have nowhere to go). */
  UNKNOWN_DATA_SOURCE: 'LOADER_CHARTS_UNKNOWN_DATA_SOURCE',
  /** The element is not a DOM element (use `createHeadlessChart` where there is no DOM). */
  INVALID_ELEMENT: 'LOADER_CHARTS_INVALID_ELEMENT',
  /** vega-embed failed to build the view. */
  EMBED_FAILED: 'LOADER_CHARTS_EMBED_FAILED',
  /** `toSVG()` on a chart that was disposed. */
  DISPOSED: 'LOADER_CHARTS_DISPOSED',
  /** The charts' worker could not start or failed (the charts fall back to the main thread when it fails at start). */
  WORKER_FAILED: 'LOADER_CHARTS_WORKER_FAILED',
} as const;

export type LoaderChartsErrorCode = (typeof LoaderChartsErrorCode)[keyof typeof LoaderChartsErrorCode];

export class LoaderChartsError extends Error {
  override name = 'LoaderChartsError';
  readonly code: LoaderChartsErrorCode;

  constructor(code: LoaderChartsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isLoaderChartsError(value: unknown): value is LoaderChartsError {
  return value instanceof LoaderChartsError;
}

/** Throws `INVALID_OPTIONS` unless `value` is a number > 0: finite (an integer when asked) unless `Infinity` is allowed. */
export function checkPositive(name: string, value: number, integer = false, allowInfinity = false): number {
  const ok =
    typeof value === 'number' &&
    value > 0 &&
    (Number.isFinite(value) ? !integer || Number.isInteger(value) : allowInfinity && value === Infinity);
  if (!ok) {
    const kind = integer ? 'integer' : allowInfinity ? 'number (or Infinity)' : 'finite number';
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `${name} must be a ${kind} > 0, got ${String(value)}`);
  }
  return value;
}
