/**
 * The messages between the page and the charts' worker (`charts-worker.js`). Both ends ship in this package
 * at the same version, so these are plain tagged unions, not a versioned wire format: the worker is ours, not
 * a peer (the page checks every loader message with `toLoaderSample` before it is posted).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { LoaderMessage } from '../core/messages.js';
import type { ClockMode } from '../core/window-clock.js';
import type { LoaderChartName, LoaderSummary } from '../loader-types.js';

/** The worker's half of the loader options: what can be cloned across (no functions, no DOM). */
export interface WorkerChartOptions {
  windowMs: number;
  maxPoints: number;
  clock: ClockMode;
  specs: Partial<Record<LoaderChartName, TopLevelSpec>>;
  /** `frame`: the worker updates once per animation frame of its own when there is new data; `manual`: on `flush` only. */
  schedule: 'frame' | 'manual';
  /** The page's `devicePixelRatio`: the worker draws at the resolution the page's own canvas would have. */
  pixelRatio: number;
}

export type ToWorker =
  | { type: 'init'; options: WorkerChartOptions; canvases: OffscreenCanvas[] }
  | { type: 'push'; messages: LoaderMessage[] }
  | { type: 'window'; windowMs: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'ask'; id: number; what: WorkerQuestion };

/** Questions the page can ask (each answered once, by `answer` with the same id). */
export type WorkerQuestion = 'flush' | 'svg' | 'pixels' | 'rows';

export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'drawn';
      /** The worker's time for the update (changesets, dataflow, canvas calls). */
      durationMs: number;
      chartsUpdated: number;
      summary: LoaderSummary;
      /** CSS size of each chart's canvas, when it changed (the page sizes its placeholder canvases). */
      sizes?: [width: number, height: number][];
    }
  | { type: 'answer'; id: number; value?: unknown; error?: string }
  | { type: 'error'; message: string };
