import type { TopLevelSpec } from 'vega-lite';

/** Name of the data source the streaming chart feeds (`{ data: { name: 'points' } }`). */
export const STREAM_DATA_NAME = 'points';
/** Signals (Vega-Lite params) the streaming chart sets to the window bounds, in ms since the epoch. */
export const WINDOW_START_SIGNAL = 'window_start';
export const WINDOW_END_SIGNAL = 'window_end';
/** Field holding each row's time in ms since the epoch. */
export const TIME_FIELD = 't';

/**
 * The pieces that make a Vega-Lite spec stream: the named data source, the two window params and an
 * x encoding whose scale domain follows them. Spread them into your own spec to stream it with
 * `createStreamingChart`. Each call returns fresh objects, so restyling one chart never touches another.
 * `format.parse: null` stops Vega-Lite from adding a `toDate` formula that would overwrite `t` in every row.
 */
export const slidingTimeWindow = {
  data: () => ({ name: STREAM_DATA_NAME, format: { parse: null } }),
  params: () => [
    { name: WINDOW_START_SIGNAL, value: 0 },
    { name: WINDOW_END_SIGNAL, value: 10_000 },
  ],
  /**
   * `labels: false` keeps the grid but drops the time labels: charts stacked over one time span need them
   * once, and the labels are the dearest part of a frame (a sliding axis re-ticks, re-formats and
   * re-measures them every frame: ~40 % of a chart's dataflow time).
   */
  x: ({ labels = true }: { labels?: boolean } = {}) => ({
    field: TIME_FIELD,
    type: 'temporal' as const,
    scale: { domain: [{ expr: WINDOW_START_SIGNAL }, { expr: WINDOW_END_SIGNAL }] },
    // labelFlush: a label whose tick is within 30 px of either end (about half a label's width) is aligned
    // to end there instead of centred on it, so time labels never stick out of the plot. Otherwise the chart
    // with time labels is wider than the others whenever a tick sits near the end, and, as Vega lays a view
    // out once, a label sliding out later would be cut off at the canvas edge. No ticks either: one at the
    // right end would stick out by half its stroke (the grid marks the times anyway).
    axis: labels
      ? { format: '%H:%M:%S', labelOverlap: true, labelFlush: 30, ticks: false, tickCount: 5, title: null }
      : { labels: false, ticks: false, tickCount: 5, title: null },
  }),
};

function common() {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420,
    height: 110,
    data: slidingTimeWindow.data(),
    params: slidingTimeWindow.params(),
    // aria: false — Vega-Lite otherwise gives every point an ARIA description built with format() and
    // timeFormat(), which parse their specifier on each call: half the cost of a frame, since every
    // point is re-encoded each time the window slides.
    // A fixed y-axis extent: Vega sizes the view ("autosize: pad") when it is first laid out and not on
    // later updates, so labels that grow (5 → 100 ms) would be clipped; fixed, the layout never changes.
    config: {
      aria: false,
      view: { stroke: '#ddd' },
      axis: { labelFontSize: 10, titleFontSize: 11 },
      axisY: { minExtent: 40, maxExtent: 40 },
    },
  };
}

/**
 * Frame time: `delta_ms` of napari's `frame_time` messages, a line over the window. Rows: `{t, delta_ms}`.
 * No time labels (the loader page stacks it above the chunk size chart, which has them): for a chart on
 * its own, set `encoding.x` to `slidingTimeWindow.x()`.
 */
export const frameTimeSpec: TopLevelSpec = {
  ...common(),
  title: { text: 'Frame time', anchor: 'start', fontSize: 12 },
  // clip: nothing drawn outside the plot while points slide out of the window.
  mark: { type: 'line', clip: true, strokeWidth: 1.25, color: '#4c78a8', interpolate: 'linear' },
  encoding: {
    x: slidingTimeWindow.x({ labels: false }),
    y: { field: 'delta_ms', type: 'quantitative', title: 'ms', scale: { zero: true, nice: true } },
  },
};

/** Chunk load time: `load_ms` of `load_chunk` messages, one dot per chunk. Rows: `{t, load_ms, num_bytes}`. No time labels, as above. */
export const loadTimeSpec: TopLevelSpec = {
  ...common(),
  title: { text: 'Chunk load time', anchor: 'start', fontSize: 12 },
  mark: { type: 'point', clip: true, filled: true, size: 14, opacity: 0.7, color: '#f58518' },
  encoding: {
    x: slidingTimeWindow.x({ labels: false }),
    y: { field: 'load_ms', type: 'quantitative', title: 'ms', scale: { zero: true, nice: true } },
  },
};

/** Chunk size: `num_bytes` of `load_chunk` messages, one dot per chunk. Rows: `{t, load_ms, num_bytes}`. */
export const chunkSizeSpec: TopLevelSpec = {
  ...common(),
  title: { text: 'Chunk size', anchor: 'start', fontSize: 12 },
  mark: { type: 'point', clip: true, filled: true, size: 14, opacity: 0.7, color: '#54a24b' },
  encoding: {
    x: slidingTimeWindow.x(),
    y: { field: 'num_bytes', type: 'quantitative', title: 'bytes', axis: { format: '~s' }, scale: { zero: true, nice: true } },
  },
};
