/**
 * The image page: the newest frame of the binary topic `napari.image` (a 2-D array a napari plugin or
 * the simulator publishes through a shared-memory ring), drawn with a colour map and contrast limits,
 * zoomed (wheel) and panned (drag), with its frame rate, throughput, age (writer clock → this page) and
 * the view it receives beside it.
 *
 * The page asks the server for the array at the size it draws it (protocol 1.3 array views): its canvas's
 * device pixels as the largest shape, the part of the source it shows as the region. It asks again,
 * debounced, when zoomed, panned or resized; zoomed in far enough, the region is no larger than the canvas
 * and the server sends the source's own pixels. Each frame's header says where it lies in the source, so
 * a frame of an older view is still drawn in the right place while the new one is on its way.
 *
 * Frames arrive as the relay's decoded binary frames; the page keeps only the newest and draws it on
 * the next animation frame, so a slow tab shows fresh data rather than a backlog. Each frame is
 * acknowledged once drawn (`info.defer()`), not when it arrives: the relay then sends the next frame only
 * when this one is on screen, so the frames in flight are never older than one draw (and a hidden tab,
 * whose animation frames stop, stops receiving).
 */
import { definePage } from '@webmon/page-kit';
import { frameValues, type ArrayView, type DecodedFrame, type ViewDType } from '@webmon/protocol';
import { COLORMAP_NAMES, autoContrast, colormapFromMeta, contrastFromMeta, imageSize, isColormapName, type ColormapName, type ContrastLimits } from './colormap.js';
import { createCanvasRenderer, createWebGl2Renderer, type ImageRenderer } from './renderers.js';
import { FrameStats, formatRate } from './stats.js';
import { placementOf, type Placement } from './view-data.js';
import { Viewport } from './viewport.js';

const TOPIC = 'napari.image';
const READOUT_MS = 250;
/** Quiet time after the last zoom, pan or resize before the page asks for the new view. */
const ASK_DEBOUNCE_MS = 120;
const VIEW_DTYPES: readonly ViewDType[] = ['float32', 'float16', 'uint16', 'uint8'];
type ContrastMode = 'metadata' | 'auto' | 'manual';

/** A frame as the host delivers it on a binary topic; anything else is ignored (and counted). */
function asFrame(payload: unknown): DecodedFrame | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const frame = payload as Partial<DecodedFrame>;
  return Array.isArray(frame.shape) && ArrayBuffer.isView(frame.data) && typeof frame.time === 'number' ? (frame as DecodedFrame) : undefined;
}

const isViewDType = (value: string): value is ViewDType => (VIEW_DTYPES as readonly string[]).includes(value);

export const page = definePage({
  id: 'image',
  title: 'Image',
  description: 'A live image from Python through shared memory: WebGL2, colour map, contrast limits, zoom and pan, frame rate and latency.',
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
        .image-canvas { width:min(100%, 80vh); aspect-ratio:1; background:#111; border:1px solid #2c3036; touch-action:none; cursor:grab; }
        .image-canvas:active { cursor:grabbing; }
        .image-wait, .image-hint { color:#9aa0a6; }
      </style>
      <div class="image-bar">
        <label>colour map <select data-role="colormap">${COLORMAP_NAMES.map((name) => `<option value="${name}">${name}</option>`).join('')}</select></label>
        <label>contrast <select data-role="contrast">
          <option value="metadata">from the producer</option><option value="auto">auto (0.5–99.5 %)</option><option value="manual">manual</option>
        </select></label>
        <label>low <input type="number" step="any" data-role="low" value="0"></label>
        <label>high <input type="number" step="any" data-role="high" value="1"></label>
        <label>sent as <select data-role="dtype">${VIEW_DTYPES.map((name) => `<option value="${name}">${name}</option>`).join('')}</select></label>
        <span class="image-hint">wheel: zoom · drag: pan · double-click: whole image</span>
      </div>
      <div class="image-readout" data-role="readout">
        <span>frame rate <b data-role="fps">–</b></span>
        <span>throughput <b data-role="rate">–</b></span>
        <span>age p50 / p99 <b data-role="latency">–</b></span>
        <span>size <b data-role="size">–</b></span>
        <span>view <b data-role="view">–</b></span>
        <span>zoom <b data-role="zoom">whole image</b></span>
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
    const dtypeSelect = find<HTMLSelectElement>('dtype');
    const wait = find<HTMLElement>('wait');
    const readout = { fps: find('fps'), rate: find('rate'), latency: find('latency'), size: find('size'), view: find('view'), zoom: find('zoom'), renderer: find('renderer') };

    const renderer: ImageRenderer = createWebGl2Renderer(canvas) ?? createCanvasRenderer(canvas);
    readout.renderer.textContent = renderer.kind === 'webgl2' ? 'WebGL2 (R32F texture)' : 'canvas 2D (no WebGL2)';
    root.dataset['renderer'] = renderer.kind;

    const stats = new FrameStats();
    const viewport = new Viewport();
    /** The newest frame not drawn yet, and the acknowledgement that waits for its draw. */
    let pending: { data: Float32Array; width: number; height: number; placement: Placement; meta: unknown; seq: number; resent: boolean; done: () => void } | undefined;
    /** The newest seq received: a value that comes again (the server re-sends it after a view change) is not news. */
    let newestSeq = -1;
    /** Where the frame on the GPU lies in the source (undefined until the first upload). */
    let uploaded: Placement | undefined;
    let colormapChosen = false;
    let drawn = 0;
    let ignored = 0;
    let frameRequest = 0;
    let limits: ContrastLimits = [0, 1];

    const wallClock = (): number => performance.timeOrigin + performance.now();
    const colormap = (): ColormapName => (isColormapName(colormapSelect.value) ? colormapSelect.value : 'viridis');
    const schedule = (): void => {
      if (frameRequest === 0) frameRequest = requestAnimationFrame(draw);
    };

    // The canvas in device pixels: the view asked for is never larger, and one texel lands on one pixel at step 1.
    // Before layout (a page mounted into a hidden element) it has no size yet: ask for 1024² until it has.
    viewport.setCanvas(1024, 1024);
    const measure = (): void => {
      if (canvas.clientWidth === 0 || canvas.clientHeight === 0) return;
      const ratio = window.devicePixelRatio || 1;
      const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
      const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
      if (width === canvas.width && height === canvas.height) return;
      canvas.width = width;
      canvas.height = height;
      viewport.setCanvas(width, height);
      root.dataset['canvas'] = `${width}x${height}`;
    };
    measure();

    const draw = (): void => {
      frameRequest = 0;
      const frame = pending;
      pending = undefined;
      if (frame) {
        const mode = contrastSelect.value as ContrastMode;
        if (mode === 'metadata') limits = contrastFromMeta(frame.meta) ?? autoContrast(frame.data);
        else if (mode === 'auto') limits = autoContrast(frame.data);
        if (mode !== 'manual') {
          lowInput.value = String(Number(limits[0].toPrecision(4)));
          highInput.value = String(Number(limits[1].toPrecision(4)));
        }
        if (!colormapChosen) {
          const wanted = colormapFromMeta(frame.meta);
          if (wanted) colormapSelect.value = wanted;
        }
      }
      if (contrastSelect.value === 'manual') limits = [Number(lowInput.value), Number(highInput.value)];
      try {
        if (frame) {
          renderer.upload(frame.data, frame.width, frame.height);
          uploaded = frame.placement;
        }
        // Also without a new frame: a zoom, pan or resize redraws what is on the GPU at once.
        if (uploaded) renderer.render({ visible: viewport.visible(), placement: uploaded, limits, colormap: colormap() });
      } finally {
        frame?.done(); // uploaded and drawn (or failed to): the relay may send the next frame
      }
      if (frame) {
        if (!frame.resent) drawn++; // a value drawn again in a new view is a redraw, not another frame
        root.dataset['drawn'] = String(drawn);
        root.dataset['drawnSeq'] = String(frame.seq);
      }
      const { x0, y0, x1, y1 } = viewport.visible();
      root.dataset['visible'] = [x0, y0, x1, y1].map((value) => value.toFixed(2)).join(',');
      root.dataset['scale'] = viewport.scale.toFixed(4);
      readout.zoom.textContent = viewport.fitted ? 'whole image' : `${viewport.scale >= 1 ? viewport.scale.toFixed(1) : viewport.scale.toFixed(2)} screen px per pixel`;
    };

    // Asking for the view: what the viewport shows, in the dtype picked; only when it differs from the last ask.
    const dtype = (): ViewDType => (isViewDType(dtypeSelect.value) ? dtypeSelect.value : 'float32');
    const initial = viewport.request(dtype());
    /** The view last asked for (undefined after a refusal: the next change asks again). */
    let asked: ArrayView | undefined = initial;
    let askTimer: ReturnType<typeof setTimeout> | undefined;
    const ask = (): void => {
      askTimer = undefined;
      const wanted: ArrayView = viewport.request(dtype());
      if (asked !== undefined && JSON.stringify(wanted) === JSON.stringify(asked)) return;
      asked = wanted;
      root.dataset['asked'] = JSON.stringify(wanted);
      context.setView(TOPIC, wanted).then(
        () => delete root.dataset['viewError'],
        (error: unknown) => {
          // Refused (or too many changes): the server keeps the last view it took.
          root.dataset['viewError'] = (error as { code?: string }).code ?? 'error';
          asked = undefined;
        },
      );
    };
    const askSoon = (): void => {
      clearTimeout(askTimer);
      askTimer = setTimeout(ask, ASK_DEBOUNCE_MS);
    };
    root.dataset['asked'] = JSON.stringify(initial);

    /** The read-out and test attributes of the view received: shape, step (source pixels per pixel), how it was reduced, dtype, region. */
    const showView = (frame: DecodedFrame, placement: Placement): void => {
      const { region, stepY, stepX, resample, rows, cols } = placement;
      const step = resample === 'area' ? `${Number(Math.max(stepY, stepX).toFixed(3))}` : String(stepY);
      root.dataset['viewShape'] = frame.shape.slice(0, 2).join('x');
      root.dataset['viewStep'] = step;
      root.dataset['viewResample'] = resample;
      root.dataset['viewDtype'] = frame.dtype;
      root.dataset['viewRegion'] = `${region.y0},${region.x0},${region.y1},${region.x1}`;
      const whole = region.y0 === 0 && region.x0 === 0 && region.y1 === rows && region.x1 === cols;
      const where = whole ? 'whole image' : `rows ${region.y0}–${region.y1}, cols ${region.x0}–${region.x1}`;
      readout.view.textContent = frame.view === undefined
        ? 'whole frame (the server sends no views)'
        : `${frame.shape[0]} × ${frame.shape[1]} ${frame.dtype}, ${resample === 'area' ? `area mean, ${step} px per pixel` : `step ${step}`}, ${where}`;
    };

    context.subscribe(TOPIC, (payload, info) => {
      const frame = asFrame(payload);
      const size = frame ? imageSize(frame.shape) : undefined;
      const placement = frame ? placementOf(frame) : undefined;
      // float32 as it came (no copy); float16 and uint8/uint16 codes read back to float32 values.
      const data = frame && size ? frameValues(frame) : undefined;
      if (!frame || !size || !placement || !data || data.length < size.width * size.height) {
        ignored++;
        root.dataset['ignored'] = String(ignored);
        return;
      }
      // The snapshot a page gets on opening is the newest frame, but not news: draw it, do not time it. Nor
      // is a value the server sends again in a new view (same seq): draw it, do not count it.
      const resent = !info.replayed && info.seq <= newestSeq;
      newestSeq = info.replayed ? info.seq : Math.max(newestSeq, info.seq);
      if (!info.replayed && !resent) stats.add(wallClock(), frame.byteLength, wallClock() - frame.time);
      root.dataset['frames'] = String(stats.total);
      wait.hidden = true;
      // A new source shape: the canvas takes the image's proportions (no letterbox at the whole image; the
      // resize that follows re-measures it) and the whole image is fitted again, so another view is asked.
      if (viewport.setSource(placement.rows, placement.cols)) {
        canvas.style.aspectRatio = `${placement.cols} / ${placement.rows}`;
        canvas.style.width = `min(100%, ${((80 * placement.cols) / placement.rows).toFixed(3)}vh)`;
        askSoon();
      }
      const sourceDtype = frame.view?.source.dtype ?? frame.dtype;
      root.dataset['shape'] = `${placement.rows}x${placement.cols}`;
      readout.size.textContent = `${placement.rows} × ${placement.cols} ${sourceDtype}`;
      showView(frame, placement);
      // A frame replaced before it was drawn is not acknowledged on its own: acknowledgements are
      // cumulative, so the newer frame's covers it once drawn (and the relay sends nothing extra meanwhile).
      pending = { data, width: size.width, height: size.height, placement, meta: frame.meta, seq: info.seq, resent, done: info.defer() };
      schedule();
    }, { view: initial });

    // Zoom (wheel, about the pointer), pan (drag), whole image (double-click); each redraws at once and asks for the new view.
    const moved = (): void => {
      schedule();
      askSoon();
    };
    const ratio = (): number => window.devicePixelRatio || 1;
    canvas.addEventListener('wheel', (event) => {
      event.preventDefault();
      const perLine = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.002;
      viewport.zoomAt(Math.exp(-event.deltaY * perLine), event.offsetX * ratio(), event.offsetY * ratio());
      moved();
    }, { signal: context.signal, passive: false });
    let drag: { x: number; y: number } | undefined;
    canvas.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY };
      canvas.setPointerCapture(event.pointerId);
    }, { signal: context.signal });
    canvas.addEventListener('pointermove', (event) => {
      if (!drag) return;
      viewport.panBy((event.clientX - drag.x) * ratio(), (event.clientY - drag.y) * ratio());
      drag = { x: event.clientX, y: event.clientY };
      moved();
    }, { signal: context.signal });
    const endDrag = (): void => {
      drag = undefined;
    };
    canvas.addEventListener('pointerup', endDrag, { signal: context.signal });
    canvas.addEventListener('pointercancel', endDrag, { signal: context.signal });
    canvas.addEventListener('dblclick', () => {
      viewport.fit();
      moved();
    }, { signal: context.signal });
    const resized = new ResizeObserver(() => {
      measure();
      moved();
    });
    resized.observe(canvas);
    dtypeSelect.addEventListener('change', askSoon, { signal: context.signal });

    colormapSelect.addEventListener('change', () => ((colormapChosen = true), schedule()), { signal: context.signal });
    const manual = (): void => {
      contrastSelect.value = 'manual';
      schedule();
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
      clearTimeout(askTimer);
      resized.disconnect();
      if (frameRequest !== 0) cancelAnimationFrame(frameRequest);
      renderer.dispose();
      root.remove();
    };
  },
});
