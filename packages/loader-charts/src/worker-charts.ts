/**
 * The loader charts with Vega in a Web Worker (`createLoaderCharts(el, { worker: true })`, the default where
 * the browser has module workers and OffscreenCanvas). The page keeps the DOM (three placeholder canvases
 * whose drawing is transferred to the worker, and the summary), checks each message and posts it; the worker
 * (`worker/charts-worker.ts`, shipped as `charts-worker.js`) runs the Vega views and draws. Measured in
 * `pnpm bench` (case `worker`): the main thread's part of a frame drops from ~6 ms to ~0.6 ms at 60 updates/s
 * with byte-identical pixels.
 *
 * If the worker cannot start (no such file where the page is served, a CSP without `worker-src`, a browser
 * without module workers), the charts fall back to the main thread before their first draw, with every
 * message pushed so far: `mode` then reads `'main'`.
 */
import { toLoaderSample } from './core/messages.js';
import type { LoaderMessage } from './core/messages.js';
import { rateSpanMs, summarizeFrameTimes, summarizeLoads } from './core/summary.js';
import { LoaderChartsError, LoaderChartsErrorCode, checkPositive } from './errors.js';
import type { LoaderChartName, LoaderCharts, LoaderChartsOptions, LoaderRows, LoaderSummary } from './loader-types.js';
import { LoaderChartsDefaults } from './loader-types.js';
import { buildLoaderDom } from './loader-dom.js';
import type { FromWorker, ToWorker, WorkerQuestion } from './worker/protocol.js';

const NAMES: readonly LoaderChartName[] = ['frameTime', 'loadTime', 'chunkSize'];

/** Whether this browser can run the charts in a worker: module workers and canvases transferable to them. */
export function canUseChartsWorker(): boolean {
  return (
    typeof Worker !== 'undefined' &&
    typeof OffscreenCanvas !== 'undefined' &&
    typeof HTMLCanvasElement !== 'undefined' &&
    'transferControlToOffscreen' in HTMLCanvasElement.prototype
  );
}

/**
 * Starts the worker. The default URL is written out as `new Worker(new URL('./charts-worker.js',
 * import.meta.url), …)` so that bundlers which follow that pattern (Vite, webpack, Parcel) emit the file;
 * otherwise it is the file beside this module (`dist/charts-worker.js`, copied next to a bundled page).
 */
function startWorker(url: string | URL | undefined): Worker {
  return url === undefined
    ? new Worker(new URL('./charts-worker.js', import.meta.url), { type: 'module' })
    : new Worker(url, { type: 'module' });
}

function emptySummary(windowMs: number): LoaderSummary {
  const windowEnd = -Infinity;
  return {
    windowMs,
    windowEnd,
    frameTime: summarizeFrameTimes([]),
    loads: summarizeLoads({ count: 0, bytes: 0, loadMs: 0 }, rateSpanMs({ windowMs, end: windowEnd, firstSeen: Infinity })),
  };
}

/**
 * The worker variant of `createLoaderCharts` (options already checked by it). `fallback` builds the
 * main-thread charts in `element` when the worker fails to start.
 */
export function createWorkerLoaderCharts(
  element: HTMLElement,
  options: LoaderChartsOptions,
  workerUrl: string | URL | undefined,
  fallback: () => LoaderCharts,
): LoaderCharts {
  const onError = options.onError ?? ((error: unknown) => console.error('[loader-charts]', error));
  const summaryIntervalMs = options.summaryIntervalMs ?? LoaderChartsDefaults.summaryIntervalMs;
  const schedule = options.schedule ?? LoaderChartsDefaults.schedule;
  const { root, column, renderSummary } = buildLoaderDom(element, options.summary ?? LoaderChartsDefaults.summary);
  const canvases = NAMES.map((name) => {
    const host = element.ownerDocument.createElement('div');
    host.className = `webmon-loader-charts__${name}`;
    const canvas = element.ownerDocument.createElement('canvas');
    // Sized in CSS px when the worker reports the chart's size (it draws at devicePixelRatio).
    canvas.style.cssText = 'display:block;width:0;height:0';
    host.append(canvas);
    column.append(host);
    return canvas;
  });

  let windowMs = options.windowMs ?? LoaderChartsDefaults.windowMs;
  let paused = false;
  let disposed = false;
  let summary: LoaderSummary | undefined;
  let lastSummaryAt = -Infinity;
  let summaryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the worker could not start: every call goes to the main-thread charts from then on. */
  let main: LoaderCharts | undefined;
  /** Messages pushed before the worker said `ready`: replayed into the main-thread charts on a fallback. */
  let beforeReady: LoaderMessage[] | undefined = [];
  /** Messages of this task, posted together (a replay of hundreds of messages is one postMessage). */
  let outbox: LoaderMessage[] = [];
  let nextId = 1;
  const answers = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();

  let worker: Worker | undefined;
  let settle!: (started: boolean) => void;
  /** Resolves true once the worker is ready, false once the charts fell back to the main thread. */
  const started = new Promise<boolean>((resolve) => (settle = resolve));

  const post = (message: ToWorker, transfer: Transferable[] = []): void => worker?.postMessage(message, transfer);

  const fail = (cause: unknown): void => {
    const error = new LoaderChartsError(LoaderChartsErrorCode.WORKER_FAILED, `the charts' worker failed: ${String(cause)}`, { cause });
    // Questions in flight get no answer from a failed worker.
    for (const { reject } of answers.values()) reject(error);
    answers.clear();
    if (beforeReady === undefined) {
      // After a good start the views live in the worker only: nothing to fall back to.
      onError(error);
      return;
    }
    worker?.terminate();
    worker = undefined;
    if (disposed) return;
    // Said once: the charts still work, on the main thread.
    onError(error);
    root.remove();
    main = fallback();
    if (paused) main.pause();
    main.windowMs = windowMs;
    const replay = beforeReady.concat(outbox);
    beforeReady = undefined;
    outbox = [];
    if (replay.length > 0) main.push(replay);
    settle(false);
  };

  const drawn = (message: Extract<FromWorker, { type: 'drawn' }>): void => {
    summary = message.summary;
    message.sizes?.forEach(([width, height], index) => {
      const canvas = canvases[index];
      if (canvas) canvas.style.cssText = `display:block;width:${width}px;height:${height}px`;
    });
    options.onUpdate?.({ durationMs: message.durationMs, chartsUpdated: message.chartsUpdated });
    const wait = lastSummaryAt + summaryIntervalMs - performance.now();
    if (wait <= 0) showSummary();
    else summaryTimer ??= setTimeout(showSummary, wait);
  };

  const showSummary = (): void => {
    summaryTimer = undefined;
    if (disposed || paused) return;
    lastSummaryAt = performance.now();
    renderSummary(() => summary ?? emptySummary(windowMs));
  };

  try {
    worker = startWorker(workerUrl);
    worker.onerror = (event) => {
      event.preventDefault();
      fail(event.message || 'the worker script did not load');
    };
    worker.onmessageerror = () => fail('a message from the worker could not be read');
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (disposed) return;
      switch (message.type) {
        case 'ready':
          beforeReady = undefined;
          settle(true);
          return;
        case 'drawn':
          drawn(message);
          return;
        case 'answer': {
          const waiting = answers.get(message.id);
          answers.delete(message.id);
          if (message.error === undefined) waiting?.resolve(message.value);
          else waiting?.reject(new LoaderChartsError(LoaderChartsErrorCode.WORKER_FAILED, message.error));
          return;
        }
        case 'error':
          fail(message.message);
          return;
      }
    };
    const offscreen = canvases.map((canvas) => canvas.transferControlToOffscreen());
    post(
      {
        type: 'init',
        canvases: offscreen,
        options: {
          windowMs,
          maxPoints: options.maxPoints ?? LoaderChartsDefaults.maxPoints,
          clock: options.clock ?? LoaderChartsDefaults.clock,
          specs: options.specs ?? {},
          schedule,
          pixelRatio: globalThis.devicePixelRatio || 1,
        },
      },
      offscreen,
    );
  } catch (error) {
    // A worker that cannot even be constructed (CSP, no module workers): the main thread from the start.
    fail(error);
  }

  /** Asks the worker once it started; after a fallback, the main-thread charts answer instead. */
  const ask = async <T>(what: WorkerQuestion, onMain: (charts: LoaderCharts) => Promise<T>): Promise<T> => {
    if (!main) sendOutbox();
    await started;
    if (main) return onMain(main);
    if (disposed || worker === undefined) throw new LoaderChartsError(LoaderChartsErrorCode.DISPOSED, 'the charts are disposed');
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      answers.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post({ type: 'ask', id, what });
    });
  };

  const sendOutbox = (): void => {
    if (outbox.length === 0 || main) return;
    const messages = outbox;
    outbox = [];
    beforeReady?.push(...messages);
    post({ type: 'push', messages });
  };

  const ready = started.then((inWorker) => (inWorker ? undefined : main?.ready));

  return {
    get ready() {
      return ready;
    },
    get mode() {
      return main ? main.mode : 'worker';
    },
    get charts() {
      return main?.charts;
    },
    get paused() {
      return main ? main.paused : paused;
    },
    get windowMs() {
      return main ? main.windowMs : windowMs;
    },
    set windowMs(ms: number) {
      if (main) {
        main.windowMs = ms;
        return;
      }
      windowMs = checkPositive('windowMs', ms);
      sendOutbox();
      post({ type: 'window', windowMs });
    },
    push(messages) {
      if (main) return main.push(messages);
      if (disposed) return 0;
      const list: readonly LoaderMessage[] = Array.isArray(messages) ? messages : [messages as LoaderMessage];
      // Checked here, so a bad message throws in the caller's stack and nothing of the batch is posted.
      const charted = list.filter((message) => toLoaderSample(message) !== null);
      if (charted.length === 0) return 0;
      if (outbox.length === 0) queueMicrotask(sendOutbox);
      for (const message of charted) outbox.push(message);
      return charted.length;
    },
    summary: () => (main ? main.summary() : (summary ?? emptySummary(windowMs))),
    async flush() {
      if (disposed && !main) return false;
      if ((main ? main.paused : paused) || disposed) return false;
      return ask('flush', (charts) => charts.flush()).catch((error: unknown) => {
        if (disposed) return false;
        throw error;
      });
    },
    pause() {
      if (main) return main.pause();
      paused = true;
      post({ type: 'pause' });
    },
    resume() {
      if (main) return main.resume();
      paused = false;
      post({ type: 'resume' });
    },
    toSVG: () => ask('svg', (charts) => charts.toSVG()),
    toImageData: () => ask('pixels', (charts) => charts.toImageData()),
    rows: () => ask('rows', (charts) => charts.rows()),
    dispose() {
      if (main) return main.dispose();
      if (disposed) return;
      disposed = true;
      worker?.terminate();
      worker = undefined;
      if (summaryTimer !== undefined) clearTimeout(summaryTimer);
      const error = new LoaderChartsError(LoaderChartsErrorCode.DISPOSED, 'the charts are disposed');
      for (const { reject } of answers.values()) reject(error);
      answers.clear();
      outbox = [];
      beforeReady = undefined;
      root.remove();
      settle(true);
    },
  };
}
