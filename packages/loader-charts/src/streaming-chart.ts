import { View, changeset, ingest, parse } from 'vega';
import type { Changeset, View as VegaView } from 'vega';
import type { EmbedOptions } from 'vega-embed';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { StreamBuffer } from './core/stream-buffer.js';
import { WindowClock } from './core/window-clock.js';
import type { ClockMode } from './core/window-clock.js';
import { LoaderChartsError, LoaderChartsErrorCode, checkPositive } from './errors.js';
import { FrameLoop } from './frame-loop.js';
import { STREAM_DATA_NAME, TIME_FIELD, WINDOW_END_SIGNAL, WINDOW_START_SIGNAL } from './specs.js';

export type Renderer = 'canvas' | 'svg';
/** `frame`: the chart requests an animation frame when it has something to draw. `manual`: the host calls `flush()`. */
export type Schedule = 'frame' | 'manual';

/**
 * Canvas, chosen by `pnpm bench` (see README "Performance"): with a 10 s window every frame moves every
 * point, and SVG pays for that in DOM attribute writes plus style/layout/paint of each element.
 */
export const DEFAULT_RENDERER: Renderer = 'canvas';

/**
 * The rows to add and the rows to remove, handed to Vega as they are. Vega's own changeset
 * (`view.changeset().insert(rows).remove(rows)`) first indexes every row the data source holds, on every
 * update, so as to drop inserts of rows it has and removals of rows it lacks: with a full window, a pass
 * over ~600 rows per chart per frame, for nothing, since `StreamBuffer.takeChanges` already hands over
 * exactly those. This speaks vega-dataflow's changeset protocol (View.change checks that `constructor` is
 * `changeset`, then calls `pulse(pulse, tuples)` to fill the pulse), as Vega's own does with no
 * modifications. Unlike Vega's, it never asks for `clean(true)`: a changeset that removes rows would
 * otherwise make Vega rebuild each mark's item map (a pass over every point) every frame once the window is
 * full; Vega cleans a map when its dead entries pass `cleanThreshold` instead, which `#attach` lowers.
 */
function exactChanges(insert: readonly object[], remove: readonly object[]): Changeset {
  return {
    constructor: changeset,
    pulse(pulse: { add: object[]; rem: object[] }) {
      // ingest stamps Vega's tuple id on the row object itself, so a removal is the very object inserted.
      for (const row of insert) pulse.add.push(ingest(row));
      for (const row of remove) pulse.rem.push(row);
      return pulse;
    },
  } as unknown as Changeset;
}

/**
 * Dead entries a Vega item map may hold before Vega rebuilds it (Vega's default is 10,000). A sliding
 * time axis retires about one tick a second, and with the default those exited axis items pile up for
 * hours (~0.1 MB a minute per chart) before the first clean: memory must stay flat. Rebuilding a map
 * once per 64 removals keeps the cost amortised O(map size / 64) per removed row.
 */
const VEGA_CLEAN_THRESHOLD = 64;

export const StreamingChartDefaults = {
  dataName: STREAM_DATA_NAME,
  timeField: TIME_FIELD,
  windowMs: 10_000,
  /** Per series: 60 Hz × 10 s is 600 points; the cap only bites in bursts (e.g. thousands of chunk loads a second). */
  maxPoints: 3_000,
  clock: 'data' as ClockMode,
  windowSignals: { start: WINDOW_START_SIGNAL, end: WINDOW_END_SIGNAL },
  renderer: DEFAULT_RENDERER,
  schedule: 'frame' as Schedule,
  /**
   * The goal is under 4 ms of main thread per frame. An update's measured time is its JavaScript (changesets,
   * dataflow, canvas calls); the browser's raster and paint come on top, about +40 % in `pnpm bench`,
   * so 3 ms of JavaScript is about the 4 ms goal. See `FrameBudget`.
   */
  frameBudgetMs: 3,
} as const;

/** Reported after each view update (for a performance HUD, logging or the benchmark). */
export interface UpdateInfo {
  /** Main-thread time of the update: changeset, signals, dataflow run and render. */
  durationMs: number;
  inserted: number;
  removed: number;
  /** Rows in the window afterwards. */
  size: number;
  /** Window end (ms since the epoch) shown. */
  windowEnd: number;
}

export interface HeadlessChartOptions {
  /** Data source of the spec the rows go to. @default 'points' */
  dataName?: string;
  /** Row field holding the time in ms since the epoch. @default 't' */
  timeField?: string;
  /** Window length in ms. @default 10000 */
  windowMs?: number;
  /** Most rows kept; the oldest leave first. @default 3000 */
  maxPoints?: number;
  /** What ends the window (see `ClockMode`), or a clock shared with other charts. @default 'data' */
  clock?: ClockMode | WindowClock;
  /** Wall clock for `live` mode, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Params set to the window bounds on each update, when the spec has them; `null` to never set them. @default { start: 'window_start', end: 'window_end' } */
  windowSignals?: { start: string; end: string } | null;
  /** Called after each view update. */
  onUpdate?: (info: UpdateInfo) => void;
  /** Errors of updates run from an animation frame (nobody awaits those). @default console.error */
  onError?: (error: unknown) => void;
}

export interface StreamingChartOptions extends HeadlessChartOptions {
  /** @default 'canvas' (measured, see README) */
  renderer?: Renderer;
  /** @default 'frame' */
  schedule?: Schedule;
  /**
   * With `schedule: 'frame'`: after an update that took longer than this, skip frames so the average
   * stays near it (at least 10 updates a second at 60 Hz). `Infinity` updates every frame. @default 3
   */
  frameBudgetMs?: number;
  /** Passed to vega-embed; ours: `{ actions: false, tooltip: false, defaultStyle: false }`, so nothing global is added to the page. */
  embedOptions?: EmbedOptions;
}

export interface StreamingChart<Row extends object = Record<string, unknown>> {
  /** Resolves when the view exists (rejects with `EMBED_FAILED` / `INVALID_SPEC` / `UNKNOWN_DATA_SOURCE`). Pushing before is fine. */
  readonly ready: Promise<void>;
  /** The Vega view, once ready. */
  readonly view: VegaView | undefined;
  readonly paused: boolean;
  readonly disposed: boolean;
  /** Rows in the window (shown or about to be). */
  readonly size: number;
  /** Window length in ms; setting it re-evicts and redraws. */
  windowMs: number;
  /** Adds rows. Throws `INVALID_POINT` (and adds none of them) if any row has no finite time. Ignored after `dispose()`. */
  push(rows: Row | readonly Row[]): void;
  /** Applies what changed since the last update in one changeset and one view run; false when nothing changed. A no-op while paused. */
  flush(): Promise<boolean>;
  /** Freezes the view; rows keep arriving (and leaving) in the bounded window, shown on `resume()`. */
  pause(): void;
  resume(): void;
  /** Rows in the window, oldest first. */
  rows(): Row[];
  /** The view as an SVG document (Vega's own renderer: works headless in Node too). */
  toSVG(): Promise<string>;
  /** Cancels the pending frame, finalises the view (removing its listeners and timers) and removes the chart's DOM. */
  dispose(): void;
}

interface ViewSource {
  view?: VegaView;
  pending?: Promise<{ view: VegaView; finalize: () => void }>;
  /** DOM we created and must remove on dispose. */
  host?: HTMLElement;
}

/** The streaming logic shared by the embedded and the headless chart (internal; the loader charts drive it too). */
export class StreamController<Row extends object> implements StreamingChart<Row> {
  readonly ready: Promise<void>;
  readonly buffer: StreamBuffer<Row>;
  readonly clock: WindowClock;
  readonly #dataName: string;
  readonly #timeField: string;
  readonly #signals: { start: string; end: string } | null;
  readonly #onUpdate: ((info: UpdateInfo) => void) | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #loop: FrameLoop;
  readonly #host: HTMLElement | undefined;
  #view: VegaView | undefined;
  #finalize: (() => void) | undefined;
  #viewHasSignals = false;
  #shownEnd = NaN;
  #laidOut = false;
  #shownWindowMs = NaN;

  constructor(options: StreamingChartOptions, source: ViewSource, schedule: Schedule) {
    const windowMs = checkPositive('windowMs', options.windowMs ?? StreamingChartDefaults.windowMs);
    const maxPoints = checkPositive('maxPoints', options.maxPoints ?? StreamingChartDefaults.maxPoints, true);
    this.clock = resolveClock(options.clock, options.now);
    this.buffer = new StreamBuffer<Row>({ windowMs, maxPoints, clock: this.clock });
    this.#dataName = options.dataName ?? StreamingChartDefaults.dataName;
    this.#timeField = options.timeField ?? StreamingChartDefaults.timeField;
    this.#signals = options.windowSignals === undefined ? StreamingChartDefaults.windowSignals : options.windowSignals;
    this.#onUpdate = options.onUpdate;
    this.#onError = options.onError ?? ((error) => console.error('[loader-charts]', error));
    this.#host = source.host;
    if (schedule !== 'frame' && schedule !== 'manual') {
      throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `schedule must be "frame" or "manual", got ${String(schedule)}`);
    }
    this.#loop = new FrameLoop(schedule, checkPositive('frameBudgetMs', options.frameBudgetMs ?? StreamingChartDefaults.frameBudgetMs, false, true), {
      // Live mode scrolls without data, so it keeps frames coming while running; data mode waits for data.
      wanted: () => this.#view !== undefined && (this.dirty || this.clock.mode === 'live'),
      update: () => (this.dirty ? this.flush() : undefined),
      onError: this.#onError,
    });

    if (source.view) {
      this.#attach(source.view, () => source.view?.finalize());
      this.ready = Promise.resolve();
    } else if (source.pending) {
      this.ready = source.pending.then(({ view, finalize }) => {
        if (this.#loop.disposed) {
          finalize();
          return;
        }
        this.#attach(view, finalize);
        this.#loop.request();
      });
      // Whoever awaits `ready` still sees the rejection; this only keeps it from being reported as unhandled.
      this.ready.catch((error: unknown) => this.#onError(error));
    } else {
      throw new TypeError('StreamController needs a view or a pending view');
    }
  }

  get view(): VegaView | undefined {
    return this.#view;
  }

  get paused(): boolean {
    return this.#loop.paused;
  }

  get disposed(): boolean {
    return this.#loop.disposed;
  }

  get size(): number {
    return this.buffer.size;
  }

  get windowMs(): number {
    return this.buffer.windowMs;
  }

  set windowMs(ms: number) {
    this.buffer.windowMs = checkPositive('windowMs', ms);
    this.#loop.request();
  }

  /** Whether an update would change the view. */
  get dirty(): boolean {
    if (this.buffer.dirty) return true;
    if (!this.#viewHasSignals) return false;
    const end = this.clock.end();
    return Number.isFinite(end) && (end !== this.#shownEnd || this.buffer.windowMs !== this.#shownWindowMs);
  }

  push(rows: Row | readonly Row[]): void {
    if (this.#loop.disposed) return;
    const field = this.#timeField;
    const list: readonly Row[] = Array.isArray(rows) ? (rows as readonly Row[]) : [rows as Row];
    // Check everything first so a bad row in a batch adds nothing rather than half the batch.
    for (const row of list) {
      const time = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[field] : undefined;
      if (typeof time !== 'number' || !Number.isFinite(time)) {
        throw new LoaderChartsError(
          LoaderChartsErrorCode.INVALID_POINT,
          `row.${field} must be a finite number (ms since the epoch), got ${time === undefined ? 'undefined' : JSON.stringify(time)}`,
        );
      }
    }
    for (const row of list) this.buffer.push((row as Record<string, number>)[field] as number, row);
    this.#loop.request();
  }

  /** Records a row whose time was already checked (the loader charts' fast path). */
  pushChecked(timeMs: number, row: Row): void {
    if (this.#loop.disposed) return;
    this.buffer.push(timeMs, row);
  }

  async flush(): Promise<boolean> {
    const view = this.#view;
    if (this.#loop.disposed || this.#loop.paused || view === undefined) return false;
    const started = performance.now();
    const { insert, remove } = this.buffer.takeChanges();
    const end = this.clock.end();
    const windowMs = this.buffer.windowMs;
    const moveWindow = this.#viewHasSignals && Number.isFinite(end) && (end !== this.#shownEnd || windowMs !== this.#shownWindowMs);
    if (insert.length === 0 && remove.length === 0 && !moveWindow) return false;
    // Removal by reference: no predicate run over every row of the data set (the original page did that).
    if (insert.length > 0 || remove.length > 0) view.change(this.#dataName, exactChanges(insert, remove));
    if (moveWindow && this.#signals) {
      view.signal(this.#signals.start, end - windowMs).signal(this.#signals.end, end);
      this.#shownEnd = end;
      this.#shownWindowMs = windowMs;
    }
    if (!this.#laidOut && insert.length > 0) {
      // Vega lays out "autosize: pad" views on the first run only; the first data changes the axes.
      view.resize();
      this.#laidOut = true;
    }
    await this.#loop.track(view.runAsync());
    const durationMs = performance.now() - started;
    this.#loop.spent(durationMs);
    this.#onUpdate?.({
      durationMs,
      inserted: insert.length,
      removed: remove.length,
      size: this.buffer.size,
      windowEnd: end,
    });
    return true;
  }

  pause(): void {
    this.#loop.pause();
  }

  resume(): void {
    this.#loop.resume();
  }

  rows(): Row[] {
    return this.buffer.rows();
  }

  async toSVG(): Promise<string> {
    await this.ready;
    const view = this.#view;
    if (view === undefined) throw new LoaderChartsError(LoaderChartsErrorCode.DISPOSED, 'the chart is disposed');
    return view.toSVG();
  }

  dispose(): void {
    if (this.#loop.disposed) return;
    this.#loop.dispose();
    this.#finalize?.();
    this.#finalize = undefined;
    this.#view = undefined;
    this.buffer.clear();
    this.buffer.takeChanges();
    this.#host?.remove();
  }

  /** Runs the pending update if any; returns the update (for a host loop shared by several charts). */
  flushIfDirty(): Promise<boolean> | undefined {
    if (this.#loop.busy || !this.dirty) return undefined;
    return this.flush();
  }

  #attach(view: VegaView, finalize: () => void): void {
    try {
      view.data(this.#dataName);
    } catch (cause) {
      finalize();
      throw new LoaderChartsError(
        LoaderChartsErrorCode.UNKNOWN_DATA_SOURCE,
        `the spec has no data source named "${this.#dataName}": add \`data: { name: "${this.#dataName}" }\``,
        { cause },
      );
    }
    // An instance field over Vega's prototype default (vega-dataflow `cleanThreshold`; not in vega-typings).
    (view as unknown as { cleanThreshold: number }).cleanThreshold = VEGA_CLEAN_THRESHOLD;
    this.#view = view;
    this.#finalize = finalize;
    this.#viewHasSignals = this.#signals !== null && hasSignal(view, this.#signals.start) && hasSignal(view, this.#signals.end);
  }
}

function hasSignal(view: VegaView, name: string): boolean {
  try {
    view.signal(name);
    return true;
  } catch {
    return false;
  }
}

export function resolveClock(clock: ClockMode | WindowClock | undefined, now: (() => number) | undefined): WindowClock {
  if (clock instanceof WindowClock) return clock;
  const mode = clock ?? StreamingChartDefaults.clock;
  if (mode !== 'data' && mode !== 'live') {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `clock must be "data", "live" or a WindowClock, got ${String(mode)}`);
  }
  return new WindowClock(now === undefined ? { mode } : { mode, now });
}

/** Compiles a Vega-Lite spec into a view with no renderer (Node, workers, exports). */
export function createHeadlessView(spec: TopLevelSpec): VegaView {
  let runtime;
  try {
    runtime = parse(compile(structuredClone(spec)).spec);
  } catch (cause) {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_SPEC, `the Vega-Lite spec does not compile: ${String(cause)}`, { cause });
  }
  return new View(runtime, { renderer: 'none' });
}

/**
 * A streaming chart without a DOM: a `vega.View` with no renderer, updated by `flush()`; `toSVG()` renders it
 * with Vega's own SVG string renderer. For Node (tests, exporting a chart) and workers.
 */
export function createHeadlessChart<Row extends object = Record<string, unknown>>(
  spec: TopLevelSpec,
  options: HeadlessChartOptions = {},
): StreamingChart<Row> {
  const view = createHeadlessView(spec);
  return new StreamController<Row>(options, { view }, 'manual');
}

function checkElement(element: unknown): asserts element is HTMLElement {
  if (typeof Element === 'undefined' || !(element instanceof Element)) {
    throw new LoaderChartsError(
      LoaderChartsErrorCode.INVALID_ELEMENT,
      'element must be a DOM element (where there is no DOM, use createHeadlessChart)',
    );
  }
}

export function checkRenderer(renderer: unknown): Renderer {
  if (renderer !== 'canvas' && renderer !== 'svg') {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `renderer must be "canvas" or "svg", got ${String(renderer)}`);
  }
  return renderer;
}

/** Embeds a spec into a new child of `element` (vega-embed loaded on first use, so Node code paths never load it). */
export function embedInto(
  element: HTMLElement,
  spec: TopLevelSpec,
  renderer: Renderer,
  embedOptions: EmbedOptions | undefined,
  className: string,
): { host: HTMLElement; pending: Promise<{ view: VegaView; finalize: () => void }> } {
  const host = element.ownerDocument.createElement('div');
  host.className = className;
  element.appendChild(host);
  const pending = import('vega-embed').then(
    async ({ default: embed }) => {
      try {
        const result = await embed(host, structuredClone(spec), {
          actions: false,
          tooltip: false,
          defaultStyle: false,
          ...embedOptions,
          renderer,
        });
        return { view: result.view, finalize: result.finalize };
      } catch (cause) {
        throw new LoaderChartsError(LoaderChartsErrorCode.EMBED_FAILED, `vega-embed failed: ${String(cause)}`, { cause });
      }
    },
  );
  return { host, pending };
}

/**
 * Streams rows into a Vega-Lite chart embedded in `element`: rows go to the spec's named data source as
 * Vega changesets, at most one view update per animation frame, rows older than the window (or beyond
 * `maxPoints`) removed. The spec is embedded once and never re-embedded.
 */
export function createStreamingChart<Row extends object = Record<string, unknown>>(
  element: HTMLElement,
  spec: TopLevelSpec,
  options: StreamingChartOptions = {},
): StreamingChart<Row> {
  checkElement(element);
  const renderer = checkRenderer(options.renderer ?? StreamingChartDefaults.renderer);
  const schedule = options.schedule ?? StreamingChartDefaults.schedule;
  // Options are checked before any DOM is created, so a bad option leaves the element untouched.
  checkPositive('windowMs', options.windowMs ?? StreamingChartDefaults.windowMs);
  checkPositive('maxPoints', options.maxPoints ?? StreamingChartDefaults.maxPoints, true);
  const source = embedInto(element, spec, renderer, options.embedOptions, 'webmon-streaming-chart');
  try {
    return new StreamController<Row>(options, source, schedule);
  } catch (error) {
    source.host.remove();
    source.pending.then(({ finalize }) => finalize(), () => undefined);
    throw error;
  }
}
