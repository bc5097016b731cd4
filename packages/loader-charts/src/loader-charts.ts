import type { TopLevelSpec } from 'vega-lite';
import { toLoaderSample } from './core/messages.js';
import type { LoaderMessage, LoaderSample } from './core/messages.js';
import { RateWindow } from './core/rate-window.js';
import { rateSpanMs, summarizeFrameTimes, summarizeLoads } from './core/summary.js';
import { WindowClock } from './core/window-clock.js';
import { LoaderChartsError, LoaderChartsErrorCode, checkPositive } from './errors.js';
import { FrameLoop } from './frame-loop.js';
import { buildLoaderDom } from './loader-dom.js';
import { LoaderChartsDefaults } from './loader-types.js';
import type {
  FrameTimeRow,
  HeadlessLoaderCharts,
  HeadlessLoaderChartsOptions,
  LoadChunkRow,
  LoaderChartName,
  LoaderCharts,
  LoaderChartsOptions,
  LoaderSummary,
} from './loader-types.js';
import { canUseChartsWorker, createWorkerLoaderCharts } from './worker-charts.js';
import { chunkSizeSpec, frameTimeSpec, loadTimeSpec } from './specs.js';
import { StreamController, checkRenderer, createHeadlessView, embedInto } from './streaming-chart.js';
import type { Renderer, Schedule } from './streaming-chart.js';

const CHART_NAMES: readonly LoaderChartName[] = ['frameTime', 'loadTime', 'chunkSize'];
const DEFAULT_SPECS: Record<LoaderChartName, TopLevelSpec> = { frameTime: frameTimeSpec, loadTime: loadTimeSpec, chunkSize: chunkSizeSpec };

/** The three charts sharing one clock, the rate buckets and the message dispatch: the part with no DOM. */
class LoaderModel {
  readonly clock: WindowClock;
  readonly rates = new RateWindow();
  readonly frameTime: StreamController<FrameTimeRow>;
  readonly loadTime: StreamController<LoadChunkRow>;
  readonly chunkSize: StreamController<LoadChunkRow>;

  constructor(
    options: HeadlessLoaderChartsOptions,
    makeChart: <Row extends object>(name: LoaderChartName, spec: TopLevelSpec, clock: WindowClock) => StreamController<Row>,
  ) {
    const mode = options.clock ?? LoaderChartsDefaults.clock;
    if (mode !== 'data' && mode !== 'live') {
      throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `clock must be "data" or "live", got ${String(mode)}`);
    }
    this.clock = new WindowClock(options.now === undefined ? { mode } : { mode, now: options.now });
    const spec = (name: LoaderChartName): TopLevelSpec => options.specs?.[name] ?? DEFAULT_SPECS[name];
    this.frameTime = makeChart<FrameTimeRow>('frameTime', spec('frameTime'), this.clock);
    this.loadTime = makeChart<LoadChunkRow>('loadTime', spec('loadTime'), this.clock);
    this.chunkSize = makeChart<LoadChunkRow>('chunkSize', spec('chunkSize'), this.clock);
  }

  get all(): StreamController<object>[] {
    return [this.frameTime, this.loadTime, this.chunkSize] as StreamController<object>[];
  }

  get windowMs(): number {
    return this.frameTime.buffer.windowMs;
  }

  set windowMs(ms: number) {
    checkPositive('windowMs', ms);
    for (const chart of this.all) chart.buffer.windowMs = ms;
    this.rates.evictBefore(this.frameTime.buffer.cutoff());
  }

  push(messages: LoaderMessage | readonly LoaderMessage[]): number {
    const list: readonly unknown[] = Array.isArray(messages) ? messages : [messages];
    // Normalise everything first: a malformed message in a batch adds nothing.
    const samples: LoaderSample[] = [];
    for (const message of list) {
      const sample = toLoaderSample(message);
      if (sample !== null) samples.push(sample);
    }
    for (const sample of samples) {
      if (sample.kind === 'frame_time') {
        this.frameTime.pushChecked(sample.timeMs, { t: sample.timeMs, delta_ms: sample.deltaMs });
      } else {
        // Separate row objects per view: Vega stamps its tuple id on the object it is given.
        this.loadTime.pushChecked(sample.timeMs, { t: sample.timeMs, load_ms: sample.loadMs, num_bytes: sample.numBytes });
        this.chunkSize.pushChecked(sample.timeMs, { t: sample.timeMs, load_ms: sample.loadMs, num_bytes: sample.numBytes });
        this.rates.add(sample.timeMs, sample.numBytes, sample.loadMs);
      }
    }
    if (samples.length > 0) this.rates.evictBefore(this.frameTime.buffer.cutoff());
    return samples.length;
  }

  summary(): LoaderSummary {
    const windowMs = this.windowMs;
    const end = this.clock.end();
    const deltas: number[] = [];
    this.frameTime.buffer.evict();
    this.frameTime.buffer.forEach((row) => deltas.push(row.delta_ms));
    const span = rateSpanMs({ windowMs, end, firstSeen: this.clock.firstSeen });
    return {
      windowMs,
      windowEnd: end,
      frameTime: summarizeFrameTimes(deltas),
      loads: summarizeLoads(this.rates.totals(end - windowMs), span),
    };
  }

  async flushAll(): Promise<number> {
    const updates = this.all.map((chart) => chart.flushIfDirty()).filter((update) => update !== undefined);
    const changed = await Promise.all(updates);
    return changed.filter(Boolean).length;
  }

  dispose(): void {
    for (const chart of this.all) chart.dispose();
    this.rates.clear();
  }
}

function chartOptions(options: HeadlessLoaderChartsOptions, clock: WindowClock) {
  return {
    windowMs: options.windowMs ?? LoaderChartsDefaults.windowMs,
    maxPoints: options.maxPoints ?? LoaderChartsDefaults.maxPoints,
    clock,
  };
}

/**
 * The loader page's three charts without a DOM, for Node (tests, exports) and workers: push messages,
 * `flush()`, then `toSVG()`.
 */
export function createHeadlessLoaderCharts(options: HeadlessLoaderChartsOptions = {}): HeadlessLoaderCharts {
  const model = new LoaderModel(
    options,
    <Row extends object>(_name: LoaderChartName, spec: TopLevelSpec, clock: WindowClock) =>
      new StreamController<Row>(chartOptions(options, clock), { view: createHeadlessView(spec) }, 'manual'),
  );
  return {
    charts: { frameTime: model.frameTime, loadTime: model.loadTime, chunkSize: model.chunkSize },
    get windowMs() {
      return model.windowMs;
    },
    set windowMs(ms: number) {
      model.windowMs = ms;
    },
    push: (messages) => model.push(messages),
    summary: () => model.summary(),
    flush: async () => (await model.flushAll()) > 0,
    async toSVG() {
      await model.flushAll();
      const [frameTime, loadTime, chunkSize] = await Promise.all(model.all.map((chart) => chart.toSVG()));
      return { frameTime: frameTime as string, loadTime: loadTime as string, chunkSize: chunkSize as string };
    },
    dispose: () => model.dispose(),
  };
}

/** Renders the three charts of a list of messages to SVG strings, headless (Node included). */
export async function renderLoaderChartsSVG(
  messages: readonly LoaderMessage[],
  options: HeadlessLoaderChartsOptions = {},
): Promise<Record<LoaderChartName, string>> {
  const charts = createHeadlessLoaderCharts(options);
  try {
    charts.push(messages);
    return await charts.toSVG();
  } finally {
    charts.dispose();
  }
}

/**
 * The loader page: frame time, chunk load time and chunk size over a sliding window, with a summary
 * (frame time mean and p95, implied fps, loads per second, MB/s) beside them. Inside `element` it adds one
 * `div.webmon-loader-charts`; `dispose()` removes it.
 */
export function createLoaderCharts(element: HTMLElement, options: LoaderChartsOptions = {}): LoaderCharts {
  if (typeof Element === 'undefined' || !(element instanceof Element)) {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_ELEMENT, 'element must be a DOM element (where there is no DOM, use createHeadlessLoaderCharts)');
  }
  const renderer = checkRenderer(options.renderer ?? LoaderChartsDefaults.renderer);
  const schedule = options.schedule ?? LoaderChartsDefaults.schedule;
  if (schedule !== 'frame' && schedule !== 'manual') {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `schedule must be "frame" or "manual", got ${String(schedule)}`);
  }
  checkPositive('windowMs', options.windowMs ?? LoaderChartsDefaults.windowMs);
  checkPositive('maxPoints', options.maxPoints ?? LoaderChartsDefaults.maxPoints, true);
  const summaryIntervalMs = checkPositive('summaryIntervalMs', options.summaryIntervalMs ?? LoaderChartsDefaults.summaryIntervalMs);
  const budgetMs = checkPositive('frameBudgetMs', options.frameBudgetMs ?? LoaderChartsDefaults.frameBudgetMs, false, true);
  const clock = options.clock ?? LoaderChartsDefaults.clock;
  if (clock !== 'data' && clock !== 'live') {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `clock must be "data" or "live", got ${String(clock)}`);
  }
  // What cannot cross to a worker: a function clock, vega-embed's options, the SVG renderer's DOM.
  const mainOnly = renderer !== 'canvas' || options.now !== undefined || options.embedOptions !== undefined;
  const worker = options.worker ?? (!mainOnly && canUseChartsWorker());
  if (typeof worker !== 'boolean' && typeof worker !== 'string' && !(typeof URL !== 'undefined' && worker instanceof URL)) {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, `worker must be a boolean, a string or a URL, got ${String(worker)}`);
  }
  if (worker !== false && mainOnly) {
    throw new LoaderChartsError(LoaderChartsErrorCode.INVALID_OPTIONS, "worker needs renderer 'canvas', no now() and no embedOptions (they cannot cross to a worker)");
  }
  if (worker !== false && canUseChartsWorker()) {
    return createWorkerLoaderCharts(element, options, worker === true ? undefined : worker, () => createMainLoaderCharts(element, options, renderer, schedule, summaryIntervalMs, budgetMs));
  }
  return createMainLoaderCharts(element, options, renderer, schedule, summaryIntervalMs, budgetMs);
}

/** The charts with Vega on the page's main thread (options already checked). */
function createMainLoaderCharts(
  element: HTMLElement,
  options: LoaderChartsOptions,
  renderer: Renderer,
  schedule: Schedule,
  summaryIntervalMs: number,
  budgetMs: number,
): LoaderCharts {
  const onError = options.onError ?? ((error: unknown) => console.error('[loader-charts]', error));

  const { root, column, renderSummary: showSummary } = buildLoaderDom(element, options.summary ?? LoaderChartsDefaults.summary);

  const readies: Promise<unknown>[] = [];
  let model: LoaderModel;
  try {
    model = new LoaderModel(options, <Row extends object>(name: LoaderChartName, spec: TopLevelSpec, clock: WindowClock) => {
      const source = embedInto(column, spec, renderer, options.embedOptions, `webmon-loader-charts__${name}`);
      // No onError here: a failed embed rejects `ready`, reported once through the loader's own `ready` below.
      const chart = new StreamController<Row>({ ...chartOptions(options, clock), onError: () => undefined }, source, 'manual');
      readies.push(chart.ready);
      return chart;
    });
  } catch (error) {
    root.remove();
    throw error;
  }

  let lastSummaryAt = -Infinity;
  // The summary text lags the data by at most summaryIntervalMs; this says a refresh is still owed.
  let summaryStale = true;

  // The charts are driven with schedule 'manual' and updated together from this one loop.
  const loop = new FrameLoop(schedule, budgetMs, {
    // Another frame while a chart has changes, the summary still owes a refresh, or a live clock scrolls.
    wanted: () => summaryStale || model.clock.mode === 'live' || model.all.some((chart) => chart.dirty),
    update,
    onError,
  });

  const renderSummary = (): void => showSummary(() => model.summary());

  /** One update of every chart that changed, and of the summary when it is owed; one per frame at most (see `FrameLoop`). */
  async function update(): Promise<boolean> {
    if (loop.disposed || loop.paused) return false;
    const started = performance.now();
    const chartsUpdated = await loop.track(model.flushAll());
    const now = performance.now();
    if ((summaryStale || model.clock.mode === 'live') && now - lastSummaryAt >= summaryIntervalMs) {
      lastSummaryAt = now;
      summaryStale = false;
      renderSummary();
    }
    const durationMs = performance.now() - started;
    loop.spent(durationMs);
    options.onUpdate?.({ durationMs, chartsUpdated });
    return chartsUpdated > 0;
  }

  const ready = Promise.all(readies).then(() => loop.request());
  ready.catch(onError);

  const pixelsOf = async (chart: StreamController<object>): Promise<ImageData> => {
    await chart.ready;
    const view = chart.view;
    if (view === undefined) throw new LoaderChartsError(LoaderChartsErrorCode.DISPOSED, 'the charts are disposed');
    const drawn = renderer === 'canvas' ? view.container()?.querySelector('canvas') : null;
    const canvas = drawn ?? ((await view.toCanvas(globalThis.devicePixelRatio || 1)) as unknown as HTMLCanvasElement);
    return canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  };

  return {
    ready: ready.then(() => undefined),
    mode: 'main',
    charts: { frameTime: model.frameTime, loadTime: model.loadTime, chunkSize: model.chunkSize },
    rows: async () => ({ frameTime: model.frameTime.rows(), loadTime: model.loadTime.rows(), chunkSize: model.chunkSize.rows() }),
    async toSVG() {
      const [frameTime, loadTime, chunkSize] = await Promise.all(model.all.map((chart) => chart.toSVG()));
      return { frameTime: frameTime as string, loadTime: loadTime as string, chunkSize: chunkSize as string };
    },
    async toImageData() {
      const [frameTime, loadTime, chunkSize] = await Promise.all(model.all.map(pixelsOf));
      return { frameTime: frameTime as ImageData, loadTime: loadTime as ImageData, chunkSize: chunkSize as ImageData };
    },
    get paused() {
      return loop.paused;
    },
    get windowMs() {
      return model.windowMs;
    },
    set windowMs(ms: number) {
      model.windowMs = ms;
      summaryStale = true;
      loop.request();
    },
    push(messages) {
      if (loop.disposed) return 0;
      const count = model.push(messages);
      if (count > 0) {
        summaryStale = true;
        loop.request();
      }
      return count;
    },
    summary: () => model.summary(),
    flush: () => update(),
    pause: () => loop.pause(),
    resume: () => loop.resume(),
    dispose() {
      if (loop.disposed) return;
      loop.dispose();
      model.dispose();
      root.remove();
    },
  };
}
