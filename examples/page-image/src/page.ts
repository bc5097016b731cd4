/**
 * The image page: the newest frame of the binary topic `napari.image` (a 2-D array a napari plugin or
 * the simulator publishes through a shared-memory ring), drawn with a colour map and contrast limits,
 * with its frame rate, throughput and age (writer clock → this page) beside it.
 *
 * Frames arrive as the relay's decoded binary frames; the page keeps only the newest and draws it on
 * the next animation frame, so a slow tab shows fresh data rather than a backlog. Each frame is
 * acknowledged once drawn (`info.defer()`), not when it arrives: the relay then sends the next frame only
 * when this one is on screen, so the frames in flight are never older than one draw (and a hidden tab,
 * whose animation frames stop, stops receiving).
 */
import { definePage } from '@webmon/page-kit';
import type { DecodedFrame } from '@webmon/protocol';
import { COLORMAP_NAMES, autoContrast, colormapFromMeta, contrastFromMeta, imageSize, isColormapName, type ColormapName, type ContrastLimits } from './colormap.js';
import { createCanvasRenderer, createWebGl2Renderer, type ImageRenderer } from './renderers.js';
import { FrameStats, formatRate } from './stats.js';

const TOPIC = 'napari.image';
const READOUT_MS = 250;
type ContrastMode = 'metadata' | 'auto' | 'manual';

/** A frame as the host delivers it on a binary topic; anything else is ignored (and counted). */
function asFrame(payload: unknown): DecodedFrame | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const frame = payload as Partial<DecodedFrame>;
  return Array.isArray(frame.shape) && ArrayBuffer.isView(frame.data) && typeof frame.time === 'number' ? (frame as DecodedFrame) : undefined;
}

/** float32 as it came; other numeric dtypes converted (the texture format is R32F). */
function asFloat32(data: DecodedFrame['data']): Float32Array | undefined {
  if (data instanceof Float32Array) return data;
  if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) return undefined;
  return Float32Array.from(data as ArrayLike<number>);
}

export const page = definePage({
  id: 'image',
  title: 'Image',
  description: 'A live image from Python through shared memory: WebGL2, colour map, contrast limits, frame rate and latency.',
  topics: [TOPIC] as const,
  mount(element, context) {
    const root = document.createElement('section');
    root.dataset['role'] = 'image-page';
    root.style.cssText = 'padding:1rem 1.5rem;display:grid;gap:0.75rem;align-content:start;font-variant-numeric:tabular-nums;';
    root.innerHTML = `
      <style>
        .image-bar { display:flex; flex-wrap:wrap; gap:0.5rem 1.25rem; align-items:center; }
        .image-bar label { display:flex; gap:0.4rem; align-items:center; color:#9aa0a6; }
        .image-bar input[type=number] { width:6rem; }
        .image-readout { display:flex; flex-wrap:wrap; gap:0.25rem 1.25rem; color:#c8ccd1; }
        .image-readout b { color:#fff; font-weight:600; }
        .image-canvas { width:min(100%, 80vh); aspect-ratio:1; image-rendering:pixelated; background:#111; border:1px solid #2c3036; }
        .image-wait { color:#9aa0a6; }
      </style>
      <div class="image-bar">
        <label>colour map <select data-role="colormap">${COLORMAP_NAMES.map((name) => `<option value="${name}">${name}</option>`).join('')}</select></label>
        <label>contrast <select data-role="contrast">
          <option value="metadata">from the producer</option><option value="auto">auto (0.5–99.5 %)</option><option value="manual">manual</option>
        </select></label>
        <label>low <input type="number" step="any" data-role="low" value="0"></label>
        <label>high <input type="number" step="any" data-role="high" value="1"></label>
      </div>
      <div class="image-readout" data-role="readout">
        <span>frame rate <b data-role="fps">–</b></span>
        <span>throughput <b data-role="rate">–</b></span>
        <span>age p50 / p99 <b data-role="latency">–</b></span>
        <span>size <b data-role="size">–</b></span>
        <span>drawn with <b data-role="renderer">–</b></span>
      </div>
      <p class="image-wait" data-role="wait">Waiting for an image on <code>${TOPIC}</code>. A napari plugin publishes one with
        <code>webmon_ring.RingWriter</code> and names the ring in <code>napari_data['webmon_rings']</code>.</p>
      <canvas class="image-canvas" data-role="canvas" width="1" height="1"></canvas>`;
    element.replaceChildren(root);
    const find = <T extends HTMLElement>(role: string): T => {
      const found = root.querySelector<T>(`[data-role="${role}"]`);
      if (!found) throw new Error(`image page: template is missing ${role}`);
      return found;
    };
    const canvas = find<HTMLCanvasElement>('canvas');
    const colormapSelect = find<HTMLSelectElement>('colormap');
    const contrastSelect = find<HTMLSelectElement>('contrast');
    const lowInput = find<HTMLInputElement>('low');
    const highInput = find<HTMLInputElement>('high');
    const wait = find<HTMLElement>('wait');
    const readout = { fps: find('fps'), rate: find('rate'), latency: find('latency'), size: find('size'), renderer: find('renderer') };

    const renderer: ImageRenderer = createWebGl2Renderer(canvas) ?? createCanvasRenderer(canvas);
    readout.renderer.textContent = renderer.kind === 'webgl2' ? 'WebGL2 (R32F texture)' : 'canvas 2D (no WebGL2)';
    root.dataset['renderer'] = renderer.kind;

    const stats = new FrameStats();
    /** The newest frame not drawn yet, and the acknowledgement that waits for its draw. */
    let pending: { data: Float32Array; width: number; height: number; meta: unknown; done: () => void } | undefined;
    let colormapChosen = false;
    let drawn = 0;
    let ignored = 0;
    let frameRequest = 0;
    let limits: ContrastLimits = [0, 1];

    const wallClock = (): number => performance.timeOrigin + performance.now();
    const draw = (): void => {
      frameRequest = 0;
      const frame = pending;
      pending = undefined;
      if (!frame) return;
      const mode = contrastSelect.value as ContrastMode;
      if (mode === 'metadata') limits = contrastFromMeta(frame.meta) ?? autoContrast(frame.data);
      else if (mode === 'auto') limits = autoContrast(frame.data);
      else limits = [Number(lowInput.value), Number(highInput.value)];
      if (mode !== 'manual') {
        lowInput.value = String(Number(limits[0].toPrecision(4)));
        highInput.value = String(Number(limits[1].toPrecision(4)));
      }
      if (!colormapChosen) {
        const wanted = colormapFromMeta(frame.meta);
        if (wanted) colormapSelect.value = wanted;
      }
      const colormap: ColormapName = isColormapName(colormapSelect.value) ? colormapSelect.value : 'viridis';
      try {
        renderer.draw(frame.data, frame.width, frame.height, limits, colormap);
      } finally {
        frame.done(); // uploaded and drawn (or failed to): the relay may send the next frame
      }
      drawn++;
      root.dataset['drawn'] = String(drawn);
    };

    context.subscribe(TOPIC, (payload, info) => {
      const frame = asFrame(payload);
      const size = frame ? imageSize(frame.shape) : undefined;
      const data = frame && size ? asFloat32(frame.data) : undefined;
      if (!frame || !size || !data || data.length < size.width * size.height) {
        ignored++;
        root.dataset['ignored'] = String(ignored);
        return;
      }
      // The snapshot a page gets on opening is the newest frame, but not news: draw it, do not time it.
      if (!info.replayed) stats.add(wallClock(), frame.byteLength, wallClock() - frame.time);
      root.dataset['frames'] = String(stats.total);
      wait.hidden = true;
      if (readout.size.textContent === '–' || root.dataset['shape'] !== frame.shape.join('x')) {
        root.dataset['shape'] = frame.shape.join('x');
        readout.size.textContent = `${size.height} × ${size.width} ${frame.dtype}`;
      }
      // A frame replaced before it was drawn is not acknowledged on its own: acknowledgements are
      // cumulative, so the newer frame's covers it once drawn (and the relay sends nothing extra meanwhile).
      pending = { data, width: size.width, height: size.height, meta: frame.meta, done: info.defer() };
      if (frameRequest === 0) frameRequest = requestAnimationFrame(draw);
    });

    colormapSelect.addEventListener('change', () => (colormapChosen = true), { signal: context.signal });
    const manual = (): void => {
      contrastSelect.value = 'manual';
    };
    lowInput.addEventListener('input', manual, { signal: context.signal });
    highInput.addEventListener('input', manual, { signal: context.signal });

    const showReadout = (): void => {
      const snapshot = stats.snapshot(wallClock());
      root.dataset['fps'] = snapshot.fps.toFixed(1);
      readout.fps.textContent = `${snapshot.fps.toFixed(1)} Hz`;
      readout.rate.textContent = formatRate(snapshot.bytesPerSecond);
      readout.latency.textContent = Number.isNaN(snapshot.latencyP50) ? '–' : `${snapshot.latencyP50.toFixed(1)} / ${snapshot.latencyP99.toFixed(1)} ms`;
    };
    const timer = setInterval(showReadout, READOUT_MS);
    return () => {
      clearInterval(timer);
      if (frameRequest !== 0) cancelAnimationFrame(frameRequest);
      renderer.dispose();
      root.remove();
    };
  },
});
