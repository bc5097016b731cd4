/**
 * Codes of the errors this package throws. Stable: part of the public API, all listed in the README. Values
 * carry the package prefix `TIME_SERIES_`; keys are the short names.
 */
export const TimeSeriesErrorCode = {
  /** An option out of range (window ≤ 0, a size that is not a positive integer, an unknown view…). */
  INVALID_OPTIONS: 'TIME_SERIES_INVALID_OPTIONS',
  /** The container is not a DOM element. */
  INVALID_ELEMENT: 'TIME_SERIES_INVALID_ELEMENT',
  /** `addSeries` with an id the chart already has. */
  DUPLICATE_SERIES: 'TIME_SERIES_DUPLICATE_SERIES',
  /** `push`, `pushMany` or `removeSeries` with an id the chart does not have. */
  UNKNOWN_SERIES: 'TIME_SERIES_UNKNOWN_SERIES',
  /** A time that is not a finite number, earlier than the series' last time, or `pushMany` arrays of different lengths. */
  INVALID_POINT: 'TIME_SERIES_INVALID_POINT',
  /** A call on a chart after `destroy()`. */
  DESTROYED: 'TIME_SERIES_DESTROYED',
} as const;

export type TimeSeriesErrorCode = (typeof TimeSeriesErrorCode)[keyof typeof TimeSeriesErrorCode];

export class TimeSeriesError extends Error {
  override name = 'TimeSeriesError';
  readonly code: TimeSeriesErrorCode;

  constructor(code: TimeSeriesErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isTimeSeriesError(value: unknown): value is TimeSeriesError {
  return value instanceof TimeSeriesError;
}

/** Throws `INVALID_OPTIONS` unless `value` is a finite number > 0 (an integer when asked). */
export function checkPositive(name: string, value: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_OPTIONS, `${name} must be a finite ${integer ? 'integer' : 'number'} > 0, got ${String(value)}`);
  }
  return value;
}
