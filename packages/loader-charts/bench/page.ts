/**
 * Benchmark page (bundled by bench/run.ts): the loader page's three charts fed a 60 Hz frame_time
 * stream plus chunk loads, updated three ways, in the same browser:
 * - `streaming`: this package with its defaults (a changeset per chart per update, sliding window signals,
 *   at most one update per animation frame, frames skipped after an update over the 3 ms budget);
 * - `streaming-every-frame`: the same with `frameBudgetMs: Infinity` (an update every frame);
 * - `batch`: the original page: messages batched every 100 ms, each batch one changeset per chart
 *   (insert + predicate removal of old points) and a view run;
 * - `reembed`: rebuild the three charts with vega-embed every frame from the window's points.
 * - `worker` (canvas only): the package's worker mode (`createLoaderCharts(el, { worker })`): Vega in a Web
 *   Worker drawing into OffscreenCanvases; the main thread only checks and posts messages. Checks at the end
 *   that each canvas holds exactly the pixels Vega draws on the main thread for the same messages.
 * `idle` runs only the input driver, to show what the harness itself costs.
 */
import type { FrameTime, LoadChunk } from '@webmon/napari';
import embed from 'vega-embed';
import type { Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { chunkSizeSpec, createHeadlessLoaderCharts, createLoaderCharts, frameTimeSpec, loadTimeSpec } from '../src/index.js';
import type { Renderer } from '../src/index.js';

export type Approach = 'streaming' | 'streaming-every-frame' | 'batch' | 'reembed' | 'worker' | 'idle';

/** The charts' worker (src/worker/charts-worker.ts bundled with its document shim, as tsup builds it), set by bench/run.ts. */
declare const __LC_WORKER__: string;

export interface BenchConfig {
  approach: Approach;
  renderer: Renderer;
  seconds: number;
  loadsPerSecond: number;
  windowMs: number;
}

export interface BenchResult {
  frames: number;
  updates: number;
  /** Main-thread ms of each update (JS: changesets, dataflow, render calls). */
  updateMs: number[];
  elapsedMs: number;
  /** `worker` only: per chart, how many bytes of its canvas differ from Vega's main-thread drawing of the same rows. */
  pixelCheck?: string[];
}

const EPOCH_S = 1_700_000_000;

type FrameMessage = FrameTime;
type LoadMessage = LoadChunk;

/** The synthetic napari: per animation frame one frame_time 1/60 s later, and loads at the given rate. */
class Source {
  frame = 0;
  #loadDebt = 0;
  constructor(readonly loadsPerSecond: number) {}
  next(): (FrameMessage | LoadMessage)[] {
    const time = EPOCH_S + this.frame / 60;
    const out: (FrameMessage | LoadMessage)[] = [{ time, delta_ms: 16.7 + 4 * Math.sin(this.frame / 20) + (this.frame % 97 === 0 ? 30 : 0) }];
    this.#loadDebt += this.loadsPerSecond / 60;
    while (this.#loadDebt >= 1) {
      this.#loadDebt -= 1;
      out.push({ time, num_bytes: 65_536 * (1 + (this.frame % 4)), load_ms: 2 + (this.frame % 13) / 2 });
    }
    this.frame += 1;
    return out;
  }
}

/** Lets bench/run.ts read Chromium's main-thread metrics exactly around the measured frames. */
async function mark(phase: 'start' | 'end'): Promise<void> {
  const binding = (window as unknown as { benchMark?: (phase: string) => Promise<void> }).benchMark;
  if (binding) await binding(phase);
}

const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));

function container(): HTMLElement {
  const app = document.getElementById('app') as HTMLElement;
  app.replaceChildren();
  const element = document.createElement('div');
  app.append(element);
  return element;
}

async function runStreaming(config: BenchConfig, source: Source): Promise<BenchResult> {
  const updateMs: number[] = [];
  let measuring = false;
  const charts = createLoaderCharts(container(), {
    renderer: config.renderer,
    windowMs: config.windowMs,
    worker: false, // Vega on the page's main thread: the case the worker is measured against
    ...(config.approach === 'streaming-every-frame' ? { frameBudgetMs: Infinity } : {}),
    onUpdate: (info) => {
      if (measuring) updateMs.push(info.durationMs);
    },
  });
  await charts.ready;
  // Fill the window first: measure the steady state, with a full window to slide.
  const prefill = Math.ceil((config.windowMs / 1000) * 60);
  for (let i = 0; i < prefill; i += 1) charts.push(source.next());
  for (let i = 0; i < 30; i += 1) {
    charts.push(source.next());
    await nextFrame();
  }
  await mark('start');
  measuring = true;
  const started = performance.now();
  let frames = 0;
  while (performance.now() - started < config.seconds * 1000) {
    charts.push(source.next());
    await nextFrame();
    frames += 1;
  }
  measuring = false;
  const elapsedMs = performance.now() - started;
  await mark('end');
  charts.dispose();
  return { frames, updates: updateMs.length, updateMs, elapsedMs };
}

interface Row {
  t: number;
  [field: string]: number;
}

async function embedThree(element: HTMLElement, renderer: Renderer, values?: { frames: Row[]; loads: Row[] }): Promise<Result[]> {
  const specs: [TopLevelSpec, 'frames' | 'loads'][] = [
    [frameTimeSpec, 'frames'],
    [loadTimeSpec, 'loads'],
    [chunkSizeSpec, 'loads'],
  ];
  return Promise.all(
    specs.map(([spec, kind]) => {
      const host = document.createElement('div');
      element.append(host);
      const withData = values ? ({ ...spec, data: { values: values[kind] } } as TopLevelSpec) : structuredClone(spec);
      return embed(host, withData, { renderer, actions: false, tooltip: false, defaultStyle: false });
    }),
  );
}

function toRows(messages: (FrameMessage | LoadMessage)[], frames: Row[], loads: Row[]): void {
  for (const message of messages) {
    if ('delta_ms' in message) {
      const frame = message as FrameMessage;
      frames.push({ t: frame.time * 1000, delta_ms: frame.delta_ms });
    } else {
      const load = message as LoadMessage;
      loads.push({ t: load.time * 1000, load_ms: load.load_ms, num_bytes: load.num_bytes });
    }
  }
}

/** The original page: poll every 100 ms, one changeset per chart per batch, old points removed by predicate. */
async function runBatch(config: BenchConfig, source: Source): Promise<BenchResult> {
  const element = container();
  const results = await embedThree(element, config.renderer);
  const views = results.map((result) => result.view);
  let queue: (FrameMessage | LoadMessage)[] = [];
  let newest = -Infinity;
  const applyBatch = async (): Promise<number> => {
    const started = performance.now();
    const frames: Row[] = [];
    const loads: Row[] = [];
    toRows(queue, frames, loads);
    queue = [];
    for (const row of [...frames, ...loads]) newest = Math.max(newest, row.t);
    const cutoff = newest - config.windowMs;
    const stale = (row: Row): boolean => row.t < cutoff;
    const rowsFor = [frames, loads, loads.map((row) => ({ ...row }))];
    views.forEach((view, index) => {
      view.change('points', view.changeset().insert(rowsFor[index]).remove(stale));
      view.signal('window_start', cutoff).signal('window_end', newest);
    });
    await Promise.all(views.map((view) => view.runAsync()));
    return performance.now() - started;
  };
  const prefill = Math.ceil((config.windowMs / 1000) * 60);
  for (let i = 0; i < prefill; i += 1) queue.push(...source.next());
  await applyBatch();
  const updateMs: number[] = [];
  let measuring = false;
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      const duration = await applyBatch();
      if (measuring) updateMs.push(duration);
    });
  }, 100);
  for (let i = 0; i < 30; i += 1) {
    queue.push(...source.next());
    await nextFrame();
  }
  await mark('start');
  measuring = true;
  const started = performance.now();
  let frames = 0;
  while (performance.now() - started < config.seconds * 1000) {
    queue.push(...source.next());
    await nextFrame();
    frames += 1;
  }
  measuring = false;
  const elapsedMs = performance.now() - started;
  await mark('end');
  clearInterval(timer);
  await running;
  for (const result of results) result.finalize();
  return { frames, updates: updateMs.length, updateMs, elapsedMs };
}

/** Re-embedding: every frame, finalize the three views and embed them again with the window's points. */
async function runReembed(config: BenchConfig, source: Source): Promise<BenchResult> {
  const element = container();
  const frames: Row[] = [];
  const loads: Row[] = [];
  const prefill = Math.ceil((config.windowMs / 1000) * 60);
  for (let i = 0; i < prefill; i += 1) toRows(source.next(), frames, loads);
  let results: Result[] = [];
  const rebuild = async (): Promise<number> => {
    const started = performance.now();
    const newest = frames.at(-1)?.t ?? 0;
    const cutoff = newest - config.windowMs;
    while ((frames[0]?.t ?? Infinity) < cutoff) frames.shift();
    while ((loads[0]?.t ?? Infinity) < cutoff) loads.shift();
    for (const result of results) result.finalize();
    element.replaceChildren();
    results = await embedThree(element, config.renderer, { frames: frames.map((row) => ({ ...row })), loads: loads.map((row) => ({ ...row })) });
    for (const result of results) result.view.signal('window_start', cutoff).signal('window_end', newest);
    await Promise.all(results.map((result) => result.view.runAsync()));
    return performance.now() - started;
  };
  for (let i = 0; i < 5; i += 1) {
    toRows(source.next(), frames, loads);
    await rebuild();
    await nextFrame();
  }
  const updateMs: number[] = [];
  await mark('start');
  const started = performance.now();
  let frameCount = 0;
  while (performance.now() - started < config.seconds * 1000) {
    toRows(source.next(), frames, loads);
    updateMs.push(await rebuild());
    await nextFrame();
    frameCount += 1;
  }
  const elapsedMs = performance.now() - started;
  await mark('end');
  for (const result of results) result.finalize();
  return { frames: frameCount, updates: updateMs.length, updateMs, elapsedMs };
}

/**
 * The package's worker mode (`createLoaderCharts(el, { worker })`), fed like the every-frame case: one push
 * per animation frame. `updateMs` is the worker's time per update (its script; reported through `onUpdate`).
 */
async function runWorker(config: BenchConfig, source: Source): Promise<BenchResult> {
  const url = URL.createObjectURL(new Blob([__LC_WORKER__], { type: 'text/javascript' }));
  const workerMs: number[] = [];
  let measuring = false;
  let failure: unknown;
  const charts = createLoaderCharts(container(), {
    windowMs: config.windowMs,
    worker: url,
    onUpdate: (info) => {
      if (measuring) workerMs.push(info.durationMs);
    },
    onError: (error) => (failure ??= error),
  });
  await charts.ready;
  if (charts.mode !== 'worker') throw new Error(`the charts did not start in the worker: ${String(failure)}`);
  // Everything pushed, kept to draw the same window on the main thread at the end (an array push per frame).
  const pushed: (FrameMessage | LoadMessage)[] = [];
  const push = (messages: (FrameMessage | LoadMessage)[]): void => {
    charts.push(messages);
    for (const message of messages) pushed.push(message);
  };
  for (let i = 0; i < Math.ceil((config.windowMs / 1000) * 60); i += 1) push(source.next());
  for (let i = 0; i < 30; i += 1) {
    push(source.next());
    await nextFrame();
  }
  await mark('start');
  measuring = true;
  const started = performance.now();
  let frames = 0;
  while (performance.now() - started < config.seconds * 1000) {
    push(source.next());
    await nextFrame();
    frames += 1;
  }
  const elapsedMs = performance.now() - started;
  await mark('end');
  measuring = false;
  if (failure) throw failure;

  // The same messages drawn by Vega on this thread: the pixels must be equal.
  await charts.flush();
  const theirs = await charts.toImageData();
  const here = createLoaderCharts(container(), { windowMs: config.windowMs, worker: false, schedule: 'manual' });
  await here.ready;
  here.push(pushed);
  await here.flush();
  const ours = await here.toImageData();
  const pixelCheck: string[] = [];
  for (const name of ['frameTime', 'loadTime', 'chunkSize'] as const) {
    const [a, b] = [ours[name], theirs[name]];
    let differing = a.width === b.width && a.height === b.height ? 0 : Infinity;
    let inked = 0;
    for (let k = 0; differing !== Infinity && k < a.data.length; k += 1) {
      if (a.data[k] !== b.data[k]) differing += 1;
      if ((k & 3) !== 3 && (b.data[k] as number) < 200) inked += 1;
    }
    pixelCheck.push(`${name} ${b.width}×${b.height}: ${differing} bytes differ (${inked} inked channels)`);
  }
  here.dispose();
  charts.dispose();
  URL.revokeObjectURL(url);
  return { frames, updates: workerMs.length, updateMs: workerMs, elapsedMs, pixelCheck };
}

async function runIdle(config: BenchConfig, source: Source): Promise<BenchResult> {
  container();
  for (let i = 0; i < 30; i += 1) await nextFrame();
  await mark('start');
  const started = performance.now();
  let frames = 0;
  while (performance.now() - started < config.seconds * 1000) {
    source.next();
    await nextFrame();
    frames += 1;
  }
  const elapsedMs = performance.now() - started;
  await mark('end');
  return { frames, updates: 0, updateMs: [], elapsedMs };
}

async function run(config: BenchConfig): Promise<BenchResult> {
  const source = new Source(config.loadsPerSecond);
  switch (config.approach) {
    case 'streaming':
    case 'streaming-every-frame':
      return runStreaming(config, source);
    case 'batch':
      return runBatch(config, source);
    case 'reembed':
      return runReembed(config, source);
    case 'worker':
      return runWorker(config, source);
    case 'idle':
      return runIdle(config, source);
  }
}

declare global {
  interface Window {
    bench: { run: typeof run };
  }
}

window.bench = { run };
