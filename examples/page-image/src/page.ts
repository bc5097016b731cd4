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
 *
 * The drawing, zoom and pan, and the view to ask for are `@webmon/image-view`'s; this file is the page
 * around it: the controls, the read-out, the subscription.
 */
import { COLORMAP_NAMES, FrameStats, createImageView, formatRate, isColormapName, isImageViewError, placementOf, type ImageViewReadout, type ShowOutcome } from '@webmon/image-view';
import { definePage } from '@webmon/page-kit';
import type { ArrayView, DecodedFrame, ViewDType } from '@webmon/protocol';

const TOPIC = 'napari.image';
const READOUT_MS = 250;
const VIEW_DTYPES: readonly ViewDType[] = ['float32', 'float16', 'uint16', 'uint8'];

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
        .image-canvas { border:1px solid #2c3036; }
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
      <div data-role="image"></div>`;
    element.replaceChildren(root);
    const find = <T extends HTMLElement>(role: string): T => {
      const found = root.querySelector<T>(`[data-role="${role}"]`);
      if (!found) throw new Error(`image page: template is missing ${role}`);
      return found;
    };
    const colormapSelect = find<HTMLSelectElement>('colormap');
    const contrastSelect = find<HTMLSelectElement>('contrast');
    const lowInput = find<HTMLInputElement>('low');
    const highInput = find<HTMLInputElement>('high');
    const dtypeSelect = find<HTMLSelectElement>('dtype');
    const wait = find<HTMLElement>('wait');
    const readout = { fps: find('fps'), rate: find('rate'), latency: find('latency'), size: find('size'), view: find('view'), zoom: find('zoom'), renderer: find('renderer') };

    const stats = new FrameStats();
    /** The newest seq received: a value that comes again (the server re-sends it after a view change) is not news. */
    let newestSeq = -1;
    let colormapChosen = false;
    let drawn = 0;
    let ignored = 0;
    const wallClock = (): number => performance.timeOrigin + performance.now();
    const dtype = (): ViewDType => (isViewDType(dtypeSelect.value) ? dtypeSelect.value : 'float32');

    /** After each draw: the viewport's test attributes, the zoom, and the limits and colour map in use. */
    const drawnNow = (now: ImageViewReadout): void => {
      const { x0, y0, x1, y1 } = now.visible;
      root.dataset['canvas'] = `${now.canvas.width}x${now.canvas.height}`;
      root.dataset['visible'] = [x0, y0, x1, y1].map((value) => value.toFixed(2)).join(',');
      root.dataset['scale'] = now.scale.toFixed(4);
      readout.zoom.textContent = now.fitted ? 'whole image' : `${now.scale >= 1 ? now.scale.toFixed(1) : now.scale.toFixed(2)} screen px per pixel`;
      readout.renderer.textContent = now.renderer === 'webgl2' ? `WebGL2 (${now.texture} texture)` : 'canvas 2D (no WebGL2)';
      if (contrastSelect.value !== 'manual') {
        lowInput.value = String(Number(now.limits[0].toPrecision(4)));
        highInput.value = String(Number(now.limits[1].toPrecision(4)));
      }
      if (!colormapChosen) colormapSelect.value = now.colormap;
    };

    // Asking for the view the widget reports: what it shows, in the dtype picked.
    const ask = (wanted: ArrayView): void => {
      root.dataset['asked'] = JSON.stringify(wanted);
      context.setView(TOPIC, wanted).then(
        () => delete root.dataset['viewError'],
        // Refused (or too many changes): the server keeps the last view it took.
        (error: unknown) => (root.dataset['viewError'] = (error as { code?: string }).code ?? 'error'),
      );
    };
    const view = createImageView(find('image'), { viewDtype: dtype(), onViewChange: ask, onDraw: drawnNow });
    view.canvas.dataset['role'] = 'canvas';
    view.canvas.classList.add('image-canvas');
    root.dataset['renderer'] = view.readOut().renderer;
    drawnNow(view.readOut());
    const initial = view.view();
    root.dataset['asked'] = JSON.stringify(initial);

    /** The read-out and test attributes of the view received: shape, step (source pixels per pixel), how it was reduced, dtype, region. */
    const showView = (frame: DecodedFrame): void => {
      const placement = placementOf(frame);
      if (!placement) return;
      const { region, stepY, stepX, resample, rows, cols } = placement;
      const step = resample === 'area' ? `${Number(Math.max(stepY, stepX).toFixed(3))}` : String(stepY);
      root.dataset['shape'] = `${rows}x${cols}`;
      readout.size.textContent = `${rows} × ${cols} ${frame.view?.source.dtype ?? frame.dtype}`;
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
      let shown: Promise<ShowOutcome> | undefined;
      try {
        if (frame) shown = view.show(frame);
      } catch (error) {
        if (!isImageViewError(error)) throw error;
      }
      if (!frame || !shown) {
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
      showView(frame);
      // Acknowledged once drawn (or replaced by a newer frame that was): the relay then sends the next.
      const done = info.defer();
      shown.then((outcome) => {
        if (outcome !== 'drawn') return;
        if (!resent) drawn++; // a value drawn again in a new view is a redraw, not another frame
        root.dataset['drawn'] = String(drawn);
        root.dataset['drawnSeq'] = String(info.seq);
        // The source's time stamp of the frame drawn: the same in a replay as when it was live (seq is not).
        root.dataset['drawnTime'] = String(frame.time);
      }).finally(done);
      // Borrowed: nothing of the frame's buffer is kept once it is shown (the image view reads none of it after).
    }, { view: initial, borrowFrames: true });

    dtypeSelect.addEventListener('change', () => view.setViewDtype(dtype()), { signal: context.signal });
    colormapSelect.addEventListener('change', () => {
      colormapChosen = true;
      if (isColormapName(colormapSelect.value)) view.setColormap(colormapSelect.value);
    }, { signal: context.signal });
    const applyContrast = (): void => {
      const mode = contrastSelect.value;
      try {
        view.setContrastLimits(mode === 'metadata' ? 'producer' : mode === 'auto' ? 'auto' : [Number(lowInput.value), Number(highInput.value)]);
      } catch (error) {
        if (!isImageViewError(error)) throw error; // a half-typed number: keep the limits until it is one
      }
    };
    contrastSelect.addEventListener('change', applyContrast, { signal: context.signal });
    const manual = (): void => {
      contrastSelect.value = 'manual';
      applyContrast();
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
      view.dispose();
      root.remove();
    };
  },
});
