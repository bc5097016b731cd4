// @webmon/loader-charts — streaming Vega-Lite charts of napari's frame time and chunk loads.

// The loader page
export { createHeadlessLoaderCharts, createLoaderCharts, renderLoaderChartsSVG } from './loader-charts.js';
export { LoaderChartsDefaults } from './loader-types.js';
export { canUseChartsWorker } from './worker-charts.js';
export type {
  FrameTimeRow,
  LoaderChartHandles,
  LoaderRows,
  HeadlessLoaderCharts,
  HeadlessLoaderChartsOptions,
  LoadChunkRow,
  LoaderChartName,
  LoaderCharts,
  LoaderChartsOptions,
  LoaderSummary,
  LoaderUpdateInfo,
} from './loader-types.js';

// Any Vega-Lite chart, streamed
export { DEFAULT_RENDERER, StreamingChartDefaults, createHeadlessChart, createStreamingChart } from './streaming-chart.js';
export type { HeadlessChartOptions, Renderer, Schedule, StreamingChart, StreamingChartOptions, UpdateInfo } from './streaming-chart.js';

// Vega-Lite specs (plain objects: restyle or reuse them)
export {
  STREAM_DATA_NAME,
  TIME_FIELD,
  WINDOW_END_SIGNAL,
  WINDOW_START_SIGNAL,
  chunkSizeSpec,
  frameTimeSpec,
  loadTimeSpec,
  slidingTimeWindow,
} from './specs.js';

// Renderer-agnostic core (no Vega): windowing and statistics
export { TimeWindow } from './core/time-window.js';
export { StreamBuffer } from './core/stream-buffer.js';
export type { WindowChanges } from './core/stream-buffer.js';
export { WindowClock } from './core/window-clock.js';
export type { ClockMode, WindowClockOptions } from './core/window-clock.js';
export { RateWindow } from './core/rate-window.js';
export type { RateTotals } from './core/rate-window.js';
export { percentileOfSorted, rateSpanMs, summarizeFrameTimes, summarizeLoads } from './core/summary.js';
export type { FrameTimeSummary, LoadSummary } from './core/summary.js';
export { toLoaderSample } from './core/messages.js';
export type { LoaderMessage, LoaderSample } from './core/messages.js';

// Errors
export { LoaderChartsError, LoaderChartsErrorCode, isLoaderChartsError } from './errors.js';
