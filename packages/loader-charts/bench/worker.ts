/**
 * The `worker` case of the bench (a prototype, not a feature of the package): the three loader charts run
 * in a Web Worker — headless Vega views (`createHeadlessLoaderCharts`) whose scenegraphs Vega's own
 * `CanvasRenderer` draws into `OffscreenCanvas`es transferred from the page's canvases. The page's main
 * thread only posts the messages. bench/run.ts prepends a line that gives Vega a `document.createElement`
 * making OffscreenCanvases (Vega makes its canvases, the one it measures text with among them, that way).
 *
 * Messages in: `{type: 'init', windowMs, canvases}`, `{type: 'push', messages}` (update and draw),
 * `{type: 'snapshot'}`. Out: `ready`, `done` (with the update's ms), `snapshot` (each canvas's pixels and
 * the rows and window they show), `error`.
 */
import * as vega from 'vega';
import type { View } from 'vega';
import { createHeadlessLoaderCharts } from '../src/index.js';
import type { HeadlessLoaderCharts, LoaderMessage } from '../src/index.js';

/** The part of vega-scenegraph's CanvasRenderer used here (vega exports it; its typings do not list it). */
interface Renderer {
  initialize(el: null, width: number, height: number, origin: [number, number], scaleFactor: number): Renderer;
  resize(width: number, height: number, origin: [number, number]): Renderer;
  background(color: unknown): Renderer;
  render(scene: unknown): Renderer;
  _canvas: OffscreenCanvas;
}
const { CanvasRenderer } = vega as unknown as { CanvasRenderer: new () => Renderer };
/** vega-view internals its own renderer is sized from (vega-view's view/size.js). */
type SizedView = View & { _viewWidth: number; _viewHeight: number; _origin: [number, number] };

interface Target {
  canvas: OffscreenCanvas;
  renderer: Renderer;
  size: string;
}

const post = (message: unknown, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(message, transfer);
let charts: HeadlessLoaderCharts | undefined;
let targets: Target[] = [];

function views(loader: HeadlessLoaderCharts): SizedView[] {
  const { frameTime, loadTime, chunkSize } = loader.charts;
  return [frameTime.view, loadTime.view, chunkSize.view] as SizedView[];
}

/** Sizes the renderer as vega-view sizes its own (padding and origin included), then draws the scene. */
function draw(view: SizedView, target: Target): void {
  const padding = view.padding() as { left: number; right: number; top: number; bottom: number };
  const width = Math.max(0, view._viewWidth + padding.left + padding.right);
  const height = Math.max(0, view._viewHeight + padding.top + padding.bottom);
  const origin: [number, number] = [padding.left + view._origin[0], padding.top + view._origin[1]];
  const size = `${width}x${height}@${origin.join(',')}`;
  if (size !== target.size) {
    target.renderer.initialize(null, width, height, origin, 1);
    target.renderer._canvas = target.canvas;
    target.renderer.resize(width, height, origin);
    target.renderer.background(view.background());
    target.size = size;
  }
  target.renderer.render((view.scenegraph() as unknown as { root: unknown }).root);
}

async function handle(message: { type: string; windowMs?: number; canvases?: OffscreenCanvas[]; messages?: LoaderMessage[] }): Promise<void> {
  if (message.type === 'init') {
    charts = createHeadlessLoaderCharts({ windowMs: message.windowMs ?? 10_000 });
    targets = (message.canvases ?? []).map((canvas) => ({ canvas, renderer: new CanvasRenderer(), size: '' }));
    post({ type: 'ready' });
    return;
  }
  if (!charts) throw new Error('not initialised');
  if (message.type === 'push') {
    const started = performance.now();
    charts.push(message.messages ?? []);
    await charts.flush();
    views(charts).forEach((view, index) => draw(view, targets[index] as Target));
    post({ type: 'done', ms: performance.now() - started });
    return;
  }
  if (message.type === 'snapshot') {
    const images = targets.map((target) => target.canvas.getContext('2d')!.getImageData(0, 0, target.canvas.width, target.canvas.height));
    const { frameTime, loadTime, chunkSize } = charts.charts;
    post({ type: 'snapshot', images, rows: { frameTime: frameTime.rows(), loadTime: loadTime.rows(), chunkSize: chunkSize.rows() } });
  }
}

self.onmessage = (event: MessageEvent) => {
  handle(event.data).catch((error: unknown) => post({ type: 'error', message: String((error as Error)?.stack ?? error) }));
};
