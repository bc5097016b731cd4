/** The loader charts' option, row, summary and handle types and their defaults, apart from the code, so that loader-charts.ts, worker-charts.ts, loader-dom.ts and worker/protocol.ts do not import each other. */
import type { EmbedOptions } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import type { LoaderMessage } from './core/messages.js';
import type { FrameTimeSummary, LoadSummary } from './core/summary.js';
import type { ClockMode } from './core/window-clock.js';
import { StreamingChartDefaults } from './streaming-chart.js';
import type { Renderer, Schedule, StreamingChart } from './streaming-chart.js';

/** A row of the frame time chart. `t` is ms since the epoch. */
export interface FrameTimeRow {
  t: number;
  delta_ms: number;
}

/** A row of the chunk load time and chunk size charts. `t` is ms since the epoch. */
export interface LoadChunkRow {
  t: number;
  load_ms: number;
  num_bytes: number;
}

export type LoaderChartName = 'frameTime' | 'loadTime' | 'chunkSize';

export interface LoaderSummary {
  windowMs: number;
  /** Window end, ms since the epoch (`-Infinity` before any data in `data` mode). */
  windowEnd: number;
  frameTime: FrameTimeSummary;
  loads: LoadSummary;
}

export interface HeadlessLoaderChartsOptions {
  /** Window length in ms. @default 10000 */
  windowMs?: number;
  /** Most points per chart; rates in the summary still count every load. @default 3000 */
  maxPoints?: number;
  /**
   * What ends the window. `data` (default): the newest message `time` seen, of either kind, so the three
   * charts always show the same span and freeze when napari stops sending. `live`: `now()`.
   * @default 'data'
   */
  clock?: ClockMode;
  /** Wall clock for `live` mode, ms since the epoch (pass a corrected clock when napari runs elsewhere). @default Date.now */
  now?: () => number;
  /** Replace any of the three Vega-Lite specs (keep `data: { name: 'points' }` and the window params). */
  specs?: Partial<Record<LoaderChartName, TopLevelSpec>>;
}

export interface LoaderUpdateInfo {
  /** Main-thread time of the frame's update of all charts (changesets, runs, renders, summary). */
  durationMs: number;
  /** Charts whose view changed in this frame. */
  chartsUpdated: number;
}

export interface LoaderChartsOptions extends HeadlessLoaderChartsOptions {
  /** @default 'canvas' (measured, see README) */
  renderer?: Renderer;
  /** `frame`: one animation frame per update when there is new data. `manual`: call `flush()` from your loop. @default 'frame' */
  schedule?: Schedule;
  /**
   * After an update of the charts whose JavaScript took longer than this, skip frames so the average
   * stays near it (at least 10 updates a second at 60 Hz); raster and paint add about 40 %, so 3 ms keeps a
   * frame near 4 ms of main thread. `Infinity`: every frame. @default 3
   */
  frameBudgetMs?: number;
  /** Show the summary beside the charts. @default true */
  summary?: boolean;
  /** How often the summary text is refreshed (text changing 60 times a second cannot be read). @default 250 */
  summaryIntervalMs?: number;
  /** Passed to vega-embed for each chart. */
  embedOptions?: EmbedOptions;
  /** Called after each frame's update. */
  onUpdate?: (info: LoaderUpdateInfo) => void;
  /**
   * Run Vega in a Web Worker that draws into the page's canvases (`OffscreenCanvas`): the page's main thread
   * only checks and posts messages. `true` loads `charts-worker.js` from beside this module; a URL or string
   * loads it from there. If the worker fails to start, the charts fall back to the main thread (`mode`).
   * Needs `renderer: 'canvas'`, no custom `now` and no `embedOptions` (they cannot cross to a worker);
   * `frameBudgetMs` does not apply (the worker updates once per frame of its own).
   * @default true where the browser has module workers and OffscreenCanvas and those options allow it
   */
  worker?: boolean | string | URL;
  /** Errors of updates run from an animation frame. @default console.error */
  onError?: (error: unknown) => void;
}

/** The rows each chart shows (`t` in ms since the epoch). */
export interface LoaderRows {
  frameTime: FrameTimeRow[];
  loadTime: LoadChunkRow[];
  chunkSize: LoadChunkRow[];
}

interface LoaderChartsBase {
  /** Adds `frame_time` / `load_chunk` messages (see `LoaderMessage`); returns how many were charted. Throws `INVALID_MESSAGE` and adds none if any is malformed; `unknown` napari events are skipped. */
  push(messages: LoaderMessage | readonly LoaderMessage[]): number;
  /** Window length in ms; setting it re-evicts and redraws. */
  windowMs: number;
  /** Frame time and load statistics over the current window. */
  summary(): LoaderSummary;
  /** Updates every chart that changed (one changeset and one run each). */
  flush(): Promise<boolean>;
  /** Finalises the Vega views, cancels the pending frame and removes the DOM and listeners it added. */
  dispose(): void;
}

/** The three charts of the main thread (each a `StreamingChart` handle: view, rows, toSVG…). */
export interface LoaderChartHandles {
  readonly frameTime: StreamingChart<FrameTimeRow>;
  readonly loadTime: StreamingChart<LoadChunkRow>;
  readonly chunkSize: StreamingChart<LoadChunkRow>;
}

export interface LoaderCharts extends LoaderChartsBase {
  /** Resolves when the charts can draw (the worker started, or the views are embedded). */
  readonly ready: Promise<void>;
  /** Where Vega runs: `worker` (the page holds no Vega view) or `main`. */
  readonly mode: 'worker' | 'main';
  /** The Vega-backed chart handles, in `main` mode only (in `worker` mode the views live in the worker). */
  readonly charts: LoaderChartHandles | undefined;
  /** The rows each chart shows (in `worker` mode, asked of the worker after the messages pushed so far). */
  rows(): Promise<LoaderRows>;
  /** The three charts as SVG documents (Vega's SVG renderer, in whichever thread the views are). */
  toSVG(): Promise<Record<LoaderChartName, string>>;
  /** The pixels of each chart's canvas as drawn (canvas renderer), or of Vega's `toCanvas()` (SVG renderer). */
  toImageData(): Promise<Record<LoaderChartName, ImageData>>;
  readonly paused: boolean;
  /** Freezes charts and summary; messages keep arriving into the bounded window and show on `resume()`. */
  pause(): void;
  resume(): void;
}

export interface HeadlessLoaderCharts extends LoaderChartsBase {
  readonly charts: LoaderChartHandles;
  /** The three charts as SVG documents (Vega's SVG string renderer; no DOM needed). */
  toSVG(): Promise<Record<LoaderChartName, string>>;
}

export const LoaderChartsDefaults = {
  windowMs: StreamingChartDefaults.windowMs,
  maxPoints: StreamingChartDefaults.maxPoints,
  clock: 'data' as ClockMode,
  renderer: StreamingChartDefaults.renderer,
  schedule: 'frame' as Schedule,
  summary: true,
  summaryIntervalMs: 250,
  frameBudgetMs: StreamingChartDefaults.frameBudgetMs,
} as const;
