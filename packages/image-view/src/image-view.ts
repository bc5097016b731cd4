/**
 * The image view: a canvas in a container that draws the newest decoded frame of a 2-D array with a
 * colour map and contrast limits, zooms (wheel, about the pointer) and pans (drag), and tells the host
 * which array view to ask the server for (its canvas's device pixels as `maxShape`, the source rectangle
 * it shows as `region`). It knows array shapes and view headers, not the relay: the host subscribes and
 * hands it frames (`show`), and sends the views it reports (`onViewChange`).
 *
 * Only the newest frame is kept and it is drawn on the next animation frame, so a slow tab shows fresh
 * data rather than a backlog; `show()` resolves once its frame is on screen (or replaced by a newer one
 * that is), which is when a host acknowledges it to the relay.
 */
import type { ArrayView, ViewDType } from '@webmon/protocol';
import { COLORMAP_NAMES, autoContrast, colormapFromMeta, contrastFromMeta, isColormapName, type ColormapName, type ContrastLimits } from './colormap.js';
import { ImageViewError, ImageViewErrorCode } from './errors.js';
import { placementOf, type Placement } from './placement.js';
import { createDrawTarget, type DrawTarget } from './draw-target.js';
import { createWorkerTarget, workerSupported } from './worker-target.js';
import type { RendererKind, Scene } from './renderer.js';
import { sampleValues, texelsOf, type ImageFrame, type Texels } from './texels.js';
import { Viewport, type VisibleRect } from './viewport.js';

const VIEW_DTYPES: readonly ViewDType[] = ['float32', 'float16', 'uint16', 'uint8'];

export interface ImageViewOptions {
  /** The colour map; `'producer'`: the frame's `meta.colormap` when it names one, else the last one used (`viridis` at first). @default 'producer' */
  colormap?: ColormapName | 'producer';
  /**
   * `[low, high]` (low ≥ high: a step at high); `'auto'`: the 0.5–99.5 percentiles of 16 384 strided samples of each frame;
   * `'producer'`: the frame's `meta.contrast_limits` (napari's name), automatic without them. @default 'producer'
   */
  contrastLimits?: ContrastLimits | 'auto' | 'producer';
  /** The dtype put in the views it reports (`float32` exact; `float16`, `uint16`, `uint8` fewer bytes). @default 'float32' */
  viewDtype?: ViewDType;
  /** Called (debounced) when the view to ask for changed: after a zoom, pan, resize, new source shape or dtype. */
  onViewChange?: (view: ArrayView) => void;
  /** Called after each draw (a new frame, or a redraw after a zoom, pan or setting), with the read-out. */
  onDraw?: (readout: ImageViewReadout) => void;
  /** Quiet time after the last zoom, pan or resize before `onViewChange`, ms. @default 120 */
  viewDebounceMs?: number;
  /**
   * `'image'`: the canvas takes the image's proportions, as wide as the container allows and at most
   * `maxHeight` tall. `'container'`: the canvas fills the container (give it a size); the image is fitted inside. @default 'image'
   */
  fit?: 'image' | 'container';
  /** CSS length: the canvas's largest height with `fit: 'image'`. @default '80vh' */
  maxHeight?: string;
  /** `'auto'`: WebGL2, the canvas 2D fallback without it. @default 'auto' */
  renderer?: 'auto' | RendererKind;
  /** WebGL2: upload float16, uint8 and uint16 frames as they are (false: read back to float32 on the CPU first). @default true */
  nativeTextures?: boolean;
  /** Zoom with the wheel, pan by dragging, double-click for the whole image. @default true */
  interactive?: boolean;
  /** Keep the drawn picture in WebGL's drawing buffer, so it can be read back (tests). @default false */
  preserveDrawingBuffer?: boolean;
  /**
   * Draw in a worker on an `OffscreenCanvas` (the canvas's `transferControlToOffscreen`): uploads and
   * draws leave the main thread. Where the browser cannot, the view draws on the main thread
   * (`readOut().worker` says which). @default false
   */
  worker?: boolean;
  /**
   * With `worker`: move each frame's buffer to the worker (`postMessage` transfer, no copy). The frame's
   * `data` — and every view into the same `ArrayBuffer` — is detached after `show()`; set false when the
   * host keeps using frames after showing them, and they are copied instead. @default true
   */
  transferFrames?: boolean;
}

/** What the view shows now (for a host's read-out and tests). */
export interface ImageViewReadout {
  renderer: RendererKind;
  /** How the last frame is held: `R32F`, `R16F (half float)`, `R8UI (codes)`, `R16UI (codes)`, `RGBA8 (CPU colouring)`. */
  texture: string;
  /** Drawn in a worker on an `OffscreenCanvas`. */
  worker: boolean;
  /** Canvas size in device pixels. */
  canvas: { width: number; height: number };
  /** The source rectangle shown (floats; it may reach beyond the array when the image is smaller than the canvas). */
  visible: VisibleRect;
  /** Device pixels per source pixel. */
  scale: number;
  /** Showing the whole image (not zoomed or panned). */
  fitted: boolean;
  /** Where the last frame shown lies in the source (undefined before the first frame). */
  placement: Placement | undefined;
  limits: ContrastLimits;
  colormap: ColormapName;
  /** Frames drawn since creation (a redraw of the same frame does not count). */
  drawn: number;
}

/** How a frame handed to `show()` ended: on screen, or replaced by a newer frame before it was drawn (resolved when that one is). */
export type ShowOutcome = 'drawn' | 'replaced' | 'disposed';

export interface ImageView {
  /** The canvas the view draws on (style it, give it attributes; its pixel size is the view's). */
  readonly canvas: HTMLCanvasElement;
  /**
   * Takes a decoded frame (a 2-D array; `[rows, cols, 1]` too) and draws it on the next animation frame.
   * Throws `IMAGE_VIEW_INVALID_FRAME` for a frame it cannot draw (nothing changes). The promise resolves
   * once the frame is on screen (`'drawn'`), or with `'replaced'` once a newer frame that replaced it is.
   * From then on the view reads nothing more of the frame's buffer: the picture is on the GPU (or, with
   * the 2D fallback, in a copy of its own) and the samples for `'auto'` limits are taken. So the host may
   * give the buffer back then (the relay client's `borrowFrames`) or reuse it.
   */
  show(frame: ImageFrame): Promise<ShowOutcome>;
  /** The view to ask the server for now (for the first subscribe); later changes come to `onViewChange`. */
  view(): ArrayView;
  setColormap(colormap: ColormapName | 'producer'): void;
  setContrastLimits(limits: ContrastLimits | 'auto' | 'producer'): void;
  setViewDtype(dtype: ViewDType): void;
  /** Shows the whole image again (as a double-click does). */
  resetZoom(): void;
  readOut(): ImageViewReadout;
  /** Frees the GPU resources (forcing the context's loss), stops the worker, removes the canvas and every listener. */
  dispose(): void;
}

/** A frame taken by `show()`: its texels, where it lies, its metadata, and its samples once taken. */
interface Shown {
  texels: Texels;
  placement: Placement;
  meta: unknown;
  samples?: Float32Array;
}

function checkOptions(options: ImageViewOptions): void {
  const bad = (message: string): never => {
    throw new ImageViewError(ImageViewErrorCode.INVALID_OPTIONS, `image view: ${message}`);
  };
  if (options.colormap !== undefined && options.colormap !== 'producer' && !isColormapName(options.colormap)) bad(`colormap must be 'producer' or one of ${COLORMAP_NAMES.join(', ')}`);
  if (options.contrastLimits !== undefined) checkLimits(options.contrastLimits);
  if (options.viewDtype !== undefined && !VIEW_DTYPES.includes(options.viewDtype)) bad(`viewDtype must be one of ${VIEW_DTYPES.join(', ')}`);
  if (options.viewDebounceMs !== undefined && !(options.viewDebounceMs >= 0 && Number.isFinite(options.viewDebounceMs))) bad('viewDebounceMs must be a finite number ≥ 0');
  if (options.fit !== undefined && options.fit !== 'image' && options.fit !== 'container') bad("fit must be 'image' or 'container'");
  if (options.renderer !== undefined && !['auto', 'webgl2', 'canvas2d'].includes(options.renderer)) bad("renderer must be 'auto', 'webgl2' or 'canvas2d'");
}

const isLimits = (value: ContrastLimits | 'auto' | 'producer'): value is ContrastLimits => typeof value !== 'string';

function checkLimits(limits: unknown): void {
  if (limits === 'auto' || limits === 'producer') return;
  if (!Array.isArray(limits) || limits.length !== 2 || !limits.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ImageViewError(ImageViewErrorCode.INVALID_OPTIONS, "image view: contrast limits must be 'auto', 'producer' or [low, high], two finite numbers");
  }
}

/** Creates an image view in `container` (appends its canvas). Throws `IMAGE_VIEW_INVALID_OPTIONS`, `IMAGE_VIEW_NO_RENDERER`. */
export function createImageView(container: HTMLElement, options: ImageViewOptions = {}): ImageView {
  checkOptions(options);
  const canvas = document.createElement('canvas');
  canvas.width = 1;
  canvas.height = 1;
  const fit = options.fit ?? 'image';
  const maxHeight = options.maxHeight ?? '80vh';
  canvas.style.cssText = 'display:block;background:#111;touch-action:none;';
  if (options.interactive !== false) canvas.style.cursor = 'grab';
  const proportion = (rows: number, cols: number): void => {
    if (fit === 'container') return;
    canvas.style.aspectRatio = `${cols} / ${rows}`;
    canvas.style.width = `min(100%, calc(${maxHeight} * ${(cols / rows).toFixed(6)}))`;
  };
  if (fit === 'container') {
    canvas.style.width = '100%';
    canvas.style.height = '100%';
  } else proportion(1, 1);
  container.append(canvas);

  let target: DrawTarget;
  try {
    const drawOptions = { renderer: options.renderer ?? 'auto', nativeTextures: options.nativeTextures ?? true, preserveDrawingBuffer: options.preserveDrawingBuffer ?? false } as const;
    target = options.worker === true && workerSupported()
      ? createWorkerTarget(canvas, { ...drawOptions, transfer: options.transferFrames ?? true })
      : createDrawTarget(canvas, drawOptions);
  } catch (error) {
    canvas.remove();
    throw error;
  }

  const controller = new AbortController();
  const { signal } = controller;
  const viewport = new Viewport();
  const debounceMs = options.viewDebounceMs ?? 120;
  let colormapSetting = options.colormap ?? 'producer';
  let limitsSetting = options.contrastLimits ?? 'producer';
  let viewDtype: ViewDType = options.viewDtype ?? 'float32';
  /** The producer's last colour map (kept while frames name none). */
  let producerColormap: ColormapName = 'viridis';
  let colormap: ColormapName = colormapSetting === 'producer' ? producerColormap : colormapSetting;
  let limits: ContrastLimits = isLimits(limitsSetting) ? limitsSetting : [0, 1];
  /** The newest frame not drawn yet, and the promises waiting on it (those of frames it replaced too). */
  let pending: (Shown & { waiting: ((outcome: ShowOutcome) => void)[] }) | undefined;
  /** The frame last handed to the target: a redraw (zoom, setting) reuses it; its samples give 'auto' limits. */
  let shown: Shown | undefined;
  let drawn = 0;
  let frameRequest = 0;
  /** A draw in flight (the worker answers asynchronously): the next waits for it. */
  let busy = false;
  /** A redraw (zoom, pan, setting) asked while a draw was in flight: done when it finishes. */
  let redrawDue = false;
  let disposed = false;

  const alive = (): void => {
    if (disposed) throw new ImageViewError(ImageViewErrorCode.DISPOSED, 'image view: used after dispose()');
  };
  const schedule = (): void => {
    if (frameRequest === 0 && !disposed) frameRequest = requestAnimationFrame(draw);
  };

  // The canvas in device pixels: the view asked for is never larger, and one texel lands on one pixel at step 1.
  // Before layout (a view created in a hidden element) it has no size yet: ask for 1024² until it has.
  let deviceSize = { width: 1024, height: 1024 };
  viewport.setCanvas(deviceSize.width, deviceSize.height);
  const measure = (): void => {
    if (canvas.clientWidth === 0 || canvas.clientHeight === 0) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (width === deviceSize.width && height === deviceSize.height) return;
    deviceSize = { width, height };
    viewport.setCanvas(width, height);
  };
  measure();

  /** Strided samples of a frame's values, taken once (and before its buffer moves to a worker). */
  const samplesOf = (frame: Shown): Float32Array => (frame.samples ??= sampleValues(frame.texels));
  const limitsFor = (frame: Shown): ContrastLimits => {
    if (isLimits(limitsSetting)) return limitsSetting;
    if (limitsSetting === 'producer') {
      const fromMeta = contrastFromMeta(frame.meta);
      if (fromMeta) return fromMeta;
    }
    return autoContrast(samplesOf(frame), 0.5, 99.5, Number.POSITIVE_INFINITY);
  };

  function draw(): void {
    frameRequest = 0;
    if (disposed) return;
    if (busy) {
      redrawDue = true;
      return;
    }
    const frame = pending;
    pending = undefined;
    if (frame) {
      // Taken now, whatever the limits: 'auto' may be picked later, and by then the frame's buffer is not
      // ours to read (moved to the worker, or the host's again once `show()` settled: see `show`).
      samplesOf(frame);
      shown = frame;
      limits = limitsFor(frame);
      const wanted = colormapFromMeta(frame.meta);
      if (wanted) producerColormap = wanted;
    } else if (shown && isLimits(limitsSetting)) limits = limitsSetting;
    colormap = colormapSetting === 'producer' ? producerColormap : colormapSetting;
    const settle = (outcome: 'drawn' | 'disposed'): void => {
      if (!frame) return;
      frame.waiting.forEach((resolve, i) => resolve(outcome === 'disposed' ? 'disposed' : i === frame.waiting.length - 1 ? 'drawn' : 'replaced'));
    };
    if (!shown) return;
    const scene: Scene = { ...deviceSize, visible: viewport.visible(), placement: shown.placement, limits, colormap };
    const finished = (): void => {
      busy = false;
      if (disposed) return settle('disposed');
      if (frame) drawn++;
      settle('drawn');
      options.onDraw?.(readOut());
      if (pending || redrawDue) schedule();
      redrawDue = false;
    };
    busy = true;
    let result: Promise<void> | void;
    try {
      result = target.draw(frame?.texels, scene);
    } catch (error) {
      busy = false;
      settle('drawn'); // failed to draw: the host must still be free to take the next frame
      throw error;
    }
    if (result) result.then(finished, (error: unknown) => {
      busy = false;
      settle('disposed');
      console.error(error);
    });
    else finished();
  }

  // Reporting the view: what the viewport shows, in the dtype picked; only when it differs from the last one reported.
  let announced: string | undefined;
  let askTimer: ReturnType<typeof setTimeout> | undefined;
  const ask = (): void => {
    askTimer = undefined;
    if (disposed) return;
    const wanted = viewport.request(viewDtype);
    const key = JSON.stringify(wanted);
    if (key === announced) return;
    announced = key;
    options.onViewChange?.(wanted);
  };
  const askSoon = (): void => {
    clearTimeout(askTimer);
    askTimer = setTimeout(ask, debounceMs);
  };
  const moved = (): void => {
    schedule();
    askSoon();
  };

  if (options.interactive !== false) {
    const ratio = (): number => window.devicePixelRatio || 1;
    canvas.addEventListener('wheel', (event) => {
      event.preventDefault();
      const perLine = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.002;
      viewport.zoomAt(Math.exp(-event.deltaY * perLine), event.offsetX * ratio(), event.offsetY * ratio());
      moved();
    }, { signal, passive: false });
    let drag: { x: number; y: number } | undefined;
    canvas.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY };
      canvas.setPointerCapture(event.pointerId);
      canvas.style.cursor = 'grabbing';
    }, { signal });
    canvas.addEventListener('pointermove', (event) => {
      if (!drag) return;
      viewport.panBy((event.clientX - drag.x) * ratio(), (event.clientY - drag.y) * ratio());
      drag = { x: event.clientX, y: event.clientY };
      moved();
    }, { signal });
    const endDrag = (): void => {
      drag = undefined;
      canvas.style.cursor = 'grab';
    };
    canvas.addEventListener('pointerup', endDrag, { signal });
    canvas.addEventListener('pointercancel', endDrag, { signal });
    canvas.addEventListener('dblclick', () => {
      viewport.fit();
      moved();
    }, { signal });
  }
  const resized = new ResizeObserver(() => {
    measure();
    moved();
  });
  resized.observe(canvas);

  function readOut(): ImageViewReadout {
    return {
      renderer: target.kind,
      texture: target.texture,
      worker: target.worker,
      canvas: { ...deviceSize },
      visible: viewport.visible(),
      scale: viewport.scale,
      fitted: viewport.fitted,
      placement: shown?.placement,
      limits,
      colormap,
      drawn,
    };
  }

  return {
    canvas,
    show(frame) {
      alive();
      const texels = texelsOf(frame);
      const placement = placementOf(frame);
      if (placement === undefined) throw new ImageViewError(ImageViewErrorCode.INVALID_FRAME, 'image view: the frame places no 2-D source');
      // A new source shape: the canvas takes the image's proportions (the resize that follows measures it
      // again) and the whole image is fitted again, so another view is due.
      if (viewport.setSource(placement.rows, placement.cols)) {
        proportion(placement.rows, placement.cols);
        askSoon();
      }
      return new Promise<ShowOutcome>((resolve) => {
        const waiting = [...(pending?.waiting ?? []), resolve];
        pending = { texels, placement, meta: frame.meta, waiting };
        schedule();
      });
    },
    view() {
      alive();
      const wanted = viewport.request(viewDtype);
      announced = JSON.stringify(wanted);
      return wanted;
    },
    setColormap(value) {
      alive();
      if (value !== 'producer' && !isColormapName(value)) checkOptions({ colormap: value });
      colormapSetting = value;
      schedule();
    },
    setContrastLimits(value) {
      alive();
      checkLimits(value);
      limitsSetting = isLimits(value) ? [value[0], value[1]] : value;
      if (pending === undefined && shown !== undefined) limits = limitsFor(shown);
      schedule();
    },
    setViewDtype(dtype) {
      alive();
      checkOptions({ viewDtype: dtype });
      viewDtype = dtype;
      askSoon();
    },
    resetZoom() {
      alive();
      viewport.fit();
      moved();
    },
    readOut() {
      alive();
      return readOut();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      controller.abort();
      clearTimeout(askTimer);
      resized.disconnect();
      if (frameRequest !== 0) cancelAnimationFrame(frameRequest);
      pending?.waiting.forEach((resolve) => resolve('disposed'));
      pending = undefined;
      target.dispose();
      canvas.remove();
    },
  };
}
