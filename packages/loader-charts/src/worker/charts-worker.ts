/**
 * The charts' worker (shipped as `dist/charts-worker.js`, Vega bundled in): the three loader charts as
 * headless Vega views, drawn by Vega's own `CanvasRenderer` into the `OffscreenCanvas`es the page
 * transferred, so the page's main thread only posts messages. The page side is `worker-charts.ts`.
 *
 * Vega makes its canvases (the one it measures text with among them, at module load) with
 * `document.createElement('canvas')`; a worker has no `document`, so the build puts `DOCUMENT_SHIM` (see
 * `document-shim.ts`) before Vega's code as a banner. Text measured on an OffscreenCanvas is measured by the
 * same font code as on the page, which is why the pixels come out identical.
 */
import * as vega from 'vega';
import type { View } from 'vega';
import { createHeadlessLoaderCharts } from '../loader-charts.js';
import type { HeadlessLoaderCharts, LoaderChartName } from '../loader-types.js';
import type { FromWorker, ToWorker, WorkerChartOptions } from './protocol.js';

/** The part of vega-scenegraph's CanvasRenderer used here (vega exports it; its typings do not list it). */
interface CanvasRenderer {
  initialize(el: null, width: number, height: number, origin: [number, number], scaleFactor: number): CanvasRenderer;
  resize(width: number, height: number, origin: [number, number], scaleFactor: number): CanvasRenderer;
  background(color: unknown): CanvasRenderer;
  render(scene: unknown): CanvasRenderer;
  _canvas: OffscreenCanvas;
}
const { CanvasRenderer } = vega as unknown as { CanvasRenderer: new () => CanvasRenderer };
/** vega-view internals its own renderer is sized from (vega-view's view/size.js). */
type SizedView = View & { _viewWidth: number; _viewHeight: number; _origin: [number, number] };

interface Target {
  canvas: OffscreenCanvas;
  renderer: CanvasRenderer;
  size: string;
}

const NAMES: readonly LoaderChartName[] = ['frameTime', 'loadTime', 'chunkSize'];
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  requestAnimationFrame?: (callback: () => void) => number;
};
const post = (message: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

let charts: HeadlessLoaderCharts | undefined;
let options: WorkerChartOptions | undefined;
let targets: Target[] = [];
let paused = false;
let scheduled = false;
/** The update in progress: updates never overlap (a message arriving meanwhile is drawn by the next). */
let running: Promise<boolean> | undefined;

/** Sizes the renderer as vega-view sizes its own (padding and origin included), then draws the scene. */
function draw(view: SizedView, target: Target, pixelRatio: number): boolean {
  const padding = view.padding() as { left: number; right: number; top: number; bottom: number };
  const width = Math.max(0, view._viewWidth + padding.left + padding.right);
  const height = Math.max(0, view._viewHeight + padding.top + padding.bottom);
  const origin: [number, number] = [padding.left + view._origin[0], padding.top + view._origin[1]];
  const size = `${width}x${height}@${origin.join(',')}`;
  let resized = false;
  if (size !== target.size) {
    target.renderer.initialize(null, width, height, origin, pixelRatio);
    target.renderer._canvas = target.canvas;
    target.renderer.resize(width, height, origin, pixelRatio);
    target.renderer.background(view.background());
    target.size = size;
    resized = true;
  }
  target.renderer.render((view.scenegraph() as unknown as { root: unknown }).root);
  return resized;
}

function viewOf(name: LoaderChartName): SizedView {
  return charts!.charts[name].view as SizedView;
}

/** One update: every chart whose window changed is run and redrawn; the page hears `drawn`. */
async function update(): Promise<boolean> {
  if (!charts || !options || paused) return false;
  const started = performance.now();
  const changed = await Promise.all(NAMES.map((name) => charts!.charts[name].flush()));
  let resized = false;
  changed.forEach((didChange, index) => {
    const target = targets[index];
    if (didChange && target && draw(viewOf(NAMES[index] as LoaderChartName), target, options!.pixelRatio)) resized = true;
  });
  const chartsUpdated = changed.filter(Boolean).length;
  if (chartsUpdated === 0) return false;
  const message: FromWorker = { type: 'drawn', durationMs: performance.now() - started, chartsUpdated, summary: charts.summary() };
  if (resized) message.sizes = NAMES.map(sizeOf);
  post(message);
  return true;
}

function sizeOf(name: LoaderChartName): [number, number] {
  const view = viewOf(name);
  const padding = view.padding() as { left: number; right: number; top: number; bottom: number };
  return [view._viewWidth + padding.left + padding.right, view._viewHeight + padding.top + padding.bottom];
}

/** Serialises updates: waits for the one in progress, then runs another. */
function updateNow(): Promise<boolean> {
  const next = (running ?? Promise.resolve(false)).then(update, update);
  running = next;
  void next.finally(() => {
    if (running === next) running = undefined;
  });
  return next;
}

/** At most one update per frame of the worker's own (Chromium and Firefox give dedicated workers rAF). */
function schedule(): void {
  if (scheduled || paused || options?.schedule !== 'frame') return;
  scheduled = true;
  const run = (): void => {
    scheduled = false;
    updateNow().then(() => {
      // A live clock scrolls the window with no new data: keep drawing while it runs.
      if (options?.clock === 'live') schedule();
    }, report);
  };
  if (scope.requestAnimationFrame) scope.requestAnimationFrame(run);
  else setTimeout(run, 16);
}

function report(error: unknown): void {
  post({ type: 'error', message: String((error as Error)?.stack ?? error) });
}

async function answer(what: 'flush' | 'svg' | 'pixels' | 'rows'): Promise<{ value: unknown; transfer?: Transferable[] }> {
  if (!charts) throw new Error('the charts are not initialised');
  if (what === 'flush') return { value: paused ? false : await updateNow() };
  if (what === 'svg') return { value: await charts.toSVG() };
  if (what === 'rows') return { value: Object.fromEntries(NAMES.map((name) => [name, charts!.charts[name].rows()])) };
  const images = targets.map((target) => target.canvas.getContext('2d')!.getImageData(0, 0, target.canvas.width, target.canvas.height));
  return { value: Object.fromEntries(NAMES.map((name, index) => [name, images[index]])), transfer: images.map((image) => image.data.buffer) };
}

scope.onmessage = (event) => {
  const message = event.data;
  try {
    switch (message.type) {
      case 'init':
        options = message.options;
        charts = createHeadlessLoaderCharts({
          windowMs: options.windowMs,
          maxPoints: options.maxPoints,
          clock: options.clock,
          specs: options.specs,
        });
        targets = message.canvases.map((canvas) => ({ canvas, renderer: new CanvasRenderer(), size: '' }));
        post({ type: 'ready' });
        return;
      case 'push':
        if (charts && charts.push(message.messages) > 0) schedule();
        return;
      case 'window':
        if (charts) charts.windowMs = message.windowMs;
        schedule();
        return;
      case 'pause':
        paused = true;
        return;
      case 'resume':
        paused = false;
        schedule();
        return;
      case 'ask':
        answer(message.what).then(
          ({ value, transfer }) => post({ type: 'answer', id: message.id, value }, transfer),
          (error: unknown) => post({ type: 'answer', id: message.id, error: String(error) }),
        );
        return;
    }
  } catch (error) {
    report(error);
  }
};
