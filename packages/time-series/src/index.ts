// @webmon/time-series — a live time-series chart for many fields at high rates (uPlot, min/max decimation).

// The chart
export { TimeSeriesChartDefaults, createTimeSeriesChart } from './chart.js';
export type { FrameInfo, SeriesOptions, TimeSeriesChart, TimeSeriesChartOptions, ViewRange, ViewState } from './chart.js';

// The core under the chart: the ring buffer, min/max per column, its drawn form, zoom and pan arithmetic
export { TimeRing } from './ring-buffer.js';
export { COLUMN_ENDS_IN_GAP, COLUMN_GAP, COLUMN_HAS, ColumnStats, SLOTS_PER_COLUMN, accumulate, decimateRing, writeSlots } from './decimate.js';
export { PixelColumns, drawColumns } from './column-path.js';
export type { ColumnSink, ToPixel } from './column-path.js';
export { clampView, panView, zoomView } from './view.js';

// Errors
export { TimeSeriesError, TimeSeriesErrorCode, isTimeSeriesError } from './errors.js';
