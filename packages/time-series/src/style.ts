/**
 * The few CSS rules uPlot's DOM needs to lay out (its canvas under an overlay that takes the pointer, the
 * cursor lines, the legend), scoped to the chart's root class. Written here, not imported from uPlot's CSS
 * file, so the widget works without a CSS loader in the host's bundler; the `<style>` lives inside the chart's
 * own root and leaves with it on `destroy()`.
 */
export const ROOT_CLASS = 'webmon-time-series';

export const CHART_CSS = `
.${ROOT_CLASS} { position: relative; font: 12px system-ui, sans-serif; color: #222; }
.${ROOT_CLASS} .uplot { line-height: 1.5; }
.${ROOT_CLASS} .u-title { text-align: center; font-size: 14px; font-weight: 600; }
.${ROOT_CLASS} .u-wrap { position: relative; user-select: none; }
.${ROOT_CLASS} .u-over, .${ROOT_CLASS} .u-under { position: absolute; }
.${ROOT_CLASS} .u-over { cursor: grab; touch-action: none; }
.${ROOT_CLASS} .u-over.webmon-time-series-dragging { cursor: grabbing; }
.${ROOT_CLASS} .uplot canvas { display: block; position: relative; width: 100%; height: 100%; }
.${ROOT_CLASS} .u-axis { position: absolute; }
.${ROOT_CLASS} .u-legend { margin: 0 auto; text-align: center; font-size: 12px; }
.${ROOT_CLASS} .u-legend th { font-weight: 600; }
.${ROOT_CLASS} .u-legend th > * { display: inline-block; vertical-align: middle; }
.${ROOT_CLASS} .u-legend .u-marker { width: 1em; height: 1em; margin-right: 4px; background-clip: padding-box !important; }
.${ROOT_CLASS} .u-legend.u-inline { display: block; }
.${ROOT_CLASS} .u-legend.u-inline tr { display: inline-block; margin-right: 12px; }
.${ROOT_CLASS} .u-legend.u-inline td::before { content: ': '; }
.${ROOT_CLASS} .u-legend .u-off > * { opacity: 0.35; }
.${ROOT_CLASS} .u-select { position: absolute; pointer-events: none; background: rgba(0, 0, 0, 0.07); }
.${ROOT_CLASS} .u-cursor-x, .${ROOT_CLASS} .u-cursor-y { position: absolute; left: 0; top: 0; pointer-events: none; will-change: transform; }
.${ROOT_CLASS} .u-hz .u-cursor-x { height: 100%; border-right: 1px dashed #789; }
.${ROOT_CLASS} .u-hz .u-cursor-y { width: 100%; border-bottom: 1px dashed #789; }
.${ROOT_CLASS} .u-cursor-pt { position: absolute; top: 0; left: 0; border-radius: 50%; border: 0 solid; pointer-events: none; will-change: transform; background-clip: padding-box !important; }
.${ROOT_CLASS} .u-axis.u-off, .${ROOT_CLASS} .u-select.u-off, .${ROOT_CLASS} .u-cursor-x.u-off, .${ROOT_CLASS} .u-cursor-y.u-off, .${ROOT_CLASS} .u-cursor-pt.u-off { display: none; }
`;

/** Line colours given to series in order when `addSeries` names none (distinct on white, colour-blind aware). */
export const SERIES_COLORS: readonly string[] = [
  '#1f6fd1',
  '#e4572e',
  '#2a9d3a',
  '#8e44ad',
  '#d4a017',
  '#17a2b8',
  '#c2185b',
  '#5d6d7e',
  '#7cb342',
  '#a0522d',
];
