/**
 * `createTimeSeriesChart`: a live line chart of many numeric series over a sliding window of time, drawn by
 * uPlot from min/max-decimated columns (see `decimate.ts`).
 *
 * Memory is bounded by construction: each series owns one `TimeRing` of
 * `ceil(windowMs / 1000 × maxRateHz × 1.25) + 64` points (16 bytes each: 10 minutes at 60 Hz is 45,064 points,
 * 721 kB a series), and the drawn data is 3 slots a pixel column, whatever the number of points.
 *
 * Work is bounded per animation frame: pushes only store points and ask for one frame; the frame drops points
 * older than the window, updates the column summaries (only the columns that changed while the chart follows
 * the live edge at a fixed zoom; every column in view after a zoom) and has uPlot draw synchronously (axes,
 * grid, legend; the lines are drawn by `drawLines` in uPlot's `draw` hook). No frame is asked for while
 * nothing changes.
 */
import uPlot from 'uplot';
import { PixelColumns, drawColumns } from './column-path.js';
import { ColumnStats, SLOTS_PER_COLUMN, decimateRing, writeSlots } from './decimate.js';
import { TimeSeriesError, TimeSeriesErrorCode, checkPositive } from './errors.js';
import { TimeRing } from './ring-buffer.js';
import { CHART_CSS, ROOT_CLASS, SERIES_COLORS } from './style.js';
import { clampView, panView, zoomView, type ViewRange } from './view.js';

export type { ViewRange } from './view.js';

export interface TimeSeriesChartOptions {
  /** Length of the window of time kept and shown when zoomed out, ms. @default 600_000 (10 minutes) */
  windowMs?: number;
  /** Title above the chart. @default none */
  title?: string;
  /** Label of the value axis. @default none */
  yLabel?: string;
  /** Width in CSS pixels. @default the container's width, followed as it changes */
  width?: number;
  /** Height of the plot and its axes in CSS pixels (the legend comes below). @default 240 */
  height?: number;
  /**
   * The fastest rate one series is expected to push at, Hz: sizes each series' ring (with 25 % slack). A
   * faster series keeps its newest points and a shorter stretch of the window. @default 60
   */
  maxRateHz?: number;
  /** The shortest span a wheel zoom reaches, ms. @default 100 */
  minSpanMs?: number;
  /** Show the legend (series names, and values under the cursor). @default true */
  legend?: boolean;
  /** Called after each drawn frame with what it cost (for dashboards and benchmarks). */
  onFrame?: (info: FrameInfo) => void;
}

export interface SeriesOptions {
  /** Unique within the chart: the name `push` uses. */
  id: string;
  /** Name in the legend. @default the id */
  label?: string;
  /** Line colour (any CSS colour). @default the next of ten built-in colours */
  color?: string;
  /**
   * Line width in CSS pixels; dense columns are drawn `round(width × devicePixelRatio)` device pixels wide.
   * @default one device pixel (`1 / devicePixelRatio`)
   */
  width?: number;
}

export interface FrameInfo {
  /** Main-thread time of this frame's chart work (decimation and uPlot's drawing), ms. */
  ms: number;
  /** Pixel columns drawn. */
  columns: number;
  /** Columns summed again from the rings this frame (the rest were reused). */
  columnsComputed: number;
  /** Points held by all series. */
  points: number;
  /** The range shown. */
  view: ViewRange;
  follow: boolean;
}

export interface ViewState extends ViewRange {
  /** True while the view follows the live edge (the newest point). */
  follow: boolean;
}

export interface TimeSeriesChart {
  /** The chart's root element (inside the container). */
  readonly element: HTMLElement;
  addSeries(series: SeriesOptions): void;
  removeSeries(id: string): void;
  hasSeries(id: string): boolean;
  /** Appends one point. Times per series must not decrease; a non-finite value draws as a gap in the line. */
  push(id: string, timeMs: number, value: number): void;
  /** Appends many points of one series (same rules as `push`). */
  pushMany(id: string, times: ArrayLike<number>, values: ArrayLike<number>): void;
  /** Paused, the chart keeps storing points but stops moving; zoom and pan still work. */
  setPaused(paused: boolean): void;
  readonly paused: boolean;
  /** Shows a fixed range of time, or `'follow'`: the whole window, ending at the newest point. */
  setView(view: ViewRange | 'follow'): void;
  getView(): ViewState;
  /** Removes the chart's DOM, listeners and pending frame. Calls after this throw `TIME_SERIES_DESTROYED`. */
  destroy(): void;
}

export const TimeSeriesChartDefaults = {
  windowMs: 600_000,
  height: 240,
  maxRateHz: 60,
  minSpanMs: 100,
  legend: true,
} as const;

/** Ring slack over `windowMs × maxRateHz`: jitter in the sender's rate must not cost the window's oldest points. */
const RING_SLACK = 1.25;
const RING_EXTRA = 64;

interface SeriesState {
  id: string;
  ring: TimeRing;
  stats: ColumnStats;
  spare: ColumnStats;
  /** Earliest time pushed since the last frame (+Infinity: none; -Infinity: recompute every column). */
  dirtyFrom: number;
  slots: (number | null | undefined)[];
  /** Line colour as given (CSS), and as the pixel buffer's packed RGBA. */
  color: string;
  packedColor: number;
  /** Line width, CSS px. */
  width: number;
}

/** A CSS colour as the 32-bit value of its pixel in an `ImageData`'s `Uint32Array` view (bytes R, G, B, A). */
function packColor(color: string): number {
  const canvas = document.createElement('canvas');
  canvas.width = 1;
  canvas.height = 1;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) return 0xff000000;
  context.fillStyle = '#000';
  context.fillStyle = color;
  context.fillRect(0, 0, 1, 1);
  const [r = 0, g = 0, b = 0, a = 255] = context.getImageData(0, 0, 1, 1).data;
  return new Uint32Array(new Uint8Array([r, g, b, a]).buffer)[0] as number;
}

/**
 * Column width for `span` ms over `pixels` columns: span / pixels rounded up to a step of a 1/16-octave grid,
 * so a plot that changes width by a few pixels (the value axis growing a digit) keeps its columns, and the
 * summed columns stay reusable. Columns are then up to 4.4 % wider than a pixel.
 */
export function columnWidth(span: number, pixels: number): number {
  return 2 ** (Math.ceil(Math.log2(span / pixels) * 16) / 16);
}

export function createTimeSeriesChart(container: HTMLElement, options: TimeSeriesChartOptions = {}): TimeSeriesChart {
  if (typeof HTMLElement === 'undefined' || !(container instanceof HTMLElement)) {
    throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_ELEMENT, 'createTimeSeriesChart needs a DOM element as its container');
  }
  const windowMs = checkPositive('windowMs', options.windowMs ?? TimeSeriesChartDefaults.windowMs);
  const height = checkPositive('height', options.height ?? TimeSeriesChartDefaults.height);
  const maxRateHz = checkPositive('maxRateHz', options.maxRateHz ?? TimeSeriesChartDefaults.maxRateHz);
  const minSpanMs = checkPositive('minSpanMs', options.minSpanMs ?? TimeSeriesChartDefaults.minSpanMs);
  if (options.width !== undefined) checkPositive('width', options.width);
  const capacity = Math.ceil((windowMs / 1000) * maxRateHz * RING_SLACK) + RING_EXTRA;

  const root = document.createElement('div');
  root.className = ROOT_CLASS;
  const style = document.createElement('style');
  style.textContent = CHART_CSS;
  root.append(style);
  container.append(root);

  const series: SeriesState[] = [];
  let colorIndex = 0;
  let x = new Float64Array(0);
  let xKey = '';
  let latest = -Infinity;
  let paused = false;
  /** The live edge while paused: the newest time when the pause began. */
  let pausedEdge = -Infinity;
  let follow = true;
  let manual: ViewRange = { fromMs: 0, toMs: windowMs };
  let frameId = 0;
  let destroyed = false;

  const width = (): number => options.width ?? Math.max(50, Math.round(container.clientWidth || 600));

  const plot = new uPlot(
    {
      width: width(),
      height,
      ...(options.title === undefined ? {} : { title: options.title }),
      ms: 1,
      pxAlign: 0,
      scales: {
        x: { time: true, auto: false, range: () => [currentView().fromMs, currentView().toMs] },
        y: { auto: true },
      },
      axes: [{}, options.yLabel === undefined ? {} : { label: options.yLabel }],
      series: [{}],
      legend: { show: options.legend ?? TimeSeriesChartDefaults.legend },
      // Our own wheel zoom and drag pan replace uPlot's drag-to-select and double-click reset.
      cursor: { drag: { x: false, y: false, setScale: false }, bind: { dblclick: () => null } },
      hooks: { draw: [(u) => drawLines(u)] },
    },
    [x],
    root,
  );

  // The series layer: uPlot draws axes, grid, legend and cursor; the lines are drawn here, after uPlot's
  // own drawing, as pixel runs plus anti-aliased segments (see column-path.ts for why).
  let image: ImageData | undefined;
  let pixels = new Uint32Array(0);
  let sink: PixelColumns | undefined;
  const scratch = document.createElement('canvas');
  const scratchContext = scratch.getContext('2d');

  function drawLines(u: uPlot): void {
    const { left, top, width: w, height: h } = u.bbox;
    const xScale = u.scales.x as { min?: number | null; max?: number | null };
    const yScale = u.scales.y as { min?: number | null; max?: number | null };
    const { min: xMin, max: xMax } = xScale;
    const { min: yMin, max: yMax } = yScale;
    if (!scratchContext || w < 1 || h < 1 || xMin == null || xMax == null || yMin == null || yMax == null || !(xMax > xMin)) return;
    if (!image || image.width !== w || image.height !== h) {
      image = new ImageData(w, h);
      pixels = new Uint32Array(image.data.buffer);
      sink = new PixelColumns(pixels, w, h);
      scratch.width = w;
      scratch.height = h;
    } else {
      pixels.fill(0);
    }
    const columns = sink as PixelColumns;
    const ratio = globalThis.devicePixelRatio || 1;
    const toX = (t: number): number => (t - xMin) * (w / (xMax - xMin));
    const toY = yMax > yMin ? (v: number): number => (yMax - v) * (h / (yMax - yMin)) : (): number => h / 2;
    const xs = u.data[0] as ArrayLike<number>;
    const drawnBefore = columns.drawn - columns.segments;
    const ctx = u.ctx;
    series.forEach((s, index) => {
      if (!u.series[index + 1]?.show) return;
      const ys = u.data[index + 1] as ArrayLike<number | null | undefined>;
      columns.color = s.packedColor;
      columns.lineWidth = Math.max(1, Math.round(s.width * ratio));
      const path = new Path2D();
      columns.path = path;
      const segmentsBefore = columns.segments;
      drawColumns(columns, xs, ys, 0, ys.length - 1, toX, toY);
      if (columns.segments > segmentsBefore) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, w, h);
        ctx.clip();
        ctx.translate(left, top);
        ctx.lineWidth = columns.lineWidth;
        ctx.lineJoin = 'round';
        ctx.strokeStyle = s.color;
        ctx.stroke(path);
        ctx.restore();
      }
    });
    columns.path = undefined;
    if (columns.drawn - columns.segments > drawnBefore) {
      scratchContext.putImageData(image, 0, 0);
      ctx.drawImage(scratch, left, top);
    }
  }

  function edge(): number {
    return paused ? pausedEdge : latest;
  }

  function currentView(): ViewRange {
    if (!follow) return manual;
    const end = edge();
    if (end === -Infinity) return { fromMs: 0, toMs: windowMs };
    return { fromMs: end - windowMs, toMs: end };
  }

  function plotWidth(): number {
    const css = plot.bbox.width / (globalThis.devicePixelRatio || 1);
    return Math.max(1, Math.round(css));
  }

  function data(): uPlot.AlignedData {
    return [x, ...series.map((s) => s.slots)];
  }

  function schedule(): void {
    if (frameId !== 0 || destroyed) return;
    frameId = requestAnimationFrame(frame);
  }

  function frame(): void {
    frameId = 0;
    const started = performance.now();
    const cutoff = latest - windowMs;
    let points = 0;
    for (const s of series) {
      s.ring.dropBefore(cutoff);
      points += s.ring.length;
    }
    const view = currentView();
    const columns = plotWidth();
    const colMs = columnWidth(view.toMs - view.fromMs, columns);
    const c0 = Math.floor(view.fromMs / colMs);
    const c1 = Math.floor(view.toMs / colMs);
    const n = c1 - c0 + 1;
    const key = `${colMs}:${c0}:${n}`;
    if (key !== xKey) {
      xKey = key;
      if (x.length !== n * SLOTS_PER_COLUMN) x = new Float64Array(n * SLOTS_PER_COLUMN);
      for (let k = 0; k < n; k += 1) {
        const start = (c0 + k) * colMs;
        for (let j = 0; j < SLOTS_PER_COLUMN; j += 1) x[k * SLOTS_PER_COLUMN + j] = start + (colMs * (j + 0.5)) / SLOTS_PER_COLUMN;
      }
    }
    let computed = 0;
    for (const s of series) computed += updateColumns(s, colMs, c0, c1);
    plot.batch(() => plot.setData(data()));
    const ms = performance.now() - started;
    options.onFrame?.({ ms, columns: n, columnsComputed: computed, points, view, follow });
  }

  /** Brings `s.stats` to columns [c0, c1] at `colMs`, reusing the columns that cannot have changed. Returns columns summed. */
  function updateColumns(s: SeriesState, colMs: number, c0: number, c1: number): number {
    const old = s.stats;
    const next = s.spare;
    next.reset(colMs, c0, c1 - c0 + 1);
    let computed = 0;
    // Reusable: same grid, not the first column of either (points may have left the window there), and
    // before the first column that received points since the last frame.
    let r0 = Infinity;
    let r1 = -Infinity;
    if (old.colMs === colMs && old.count > 0 && s.dirtyFrom !== -Infinity) {
      r0 = Math.max(c0 + 1, old.firstCol + 1);
      r1 = Math.min(c1, old.firstCol + old.count - 1);
      if (s.dirtyFrom !== Infinity) r1 = Math.min(r1, Math.floor(s.dirtyFrom / colMs) - 1);
    }
    if (r0 <= r1) {
      next.copyFrom(old, r0, r1);
      decimateRing(s.ring, next, c0, r0 - 1);
      decimateRing(s.ring, next, r1 + 1, c1);
      computed = c1 - c0 + 1 - (r1 - r0 + 1);
    } else {
      decimateRing(s.ring, next, c0, c1);
      computed = c1 - c0 + 1;
    }
    s.stats = next;
    s.spare = old;
    s.dirtyFrom = Infinity;
    s.slots.length = next.count * SLOTS_PER_COLUMN;
    writeSlots(next, s.slots);
    return computed;
  }

  function alive(): void {
    if (destroyed) throw new TimeSeriesError(TimeSeriesErrorCode.DESTROYED, 'the chart was destroyed');
  }

  function find(id: string): SeriesState {
    const s = series.find((candidate) => candidate.id === id);
    if (!s) throw new TimeSeriesError(TimeSeriesErrorCode.UNKNOWN_SERIES, `no series ${JSON.stringify(id)} in this chart`);
    return s;
  }

  /** Stores one point (checked) and notes from when the summed columns are stale. */
  function store(s: SeriesState, timeMs: number, value: number): void {
    if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) {
      throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_POINT, `time of ${JSON.stringify(s.id)} must be a finite number, got ${String(timeMs)}`);
    }
    if (timeMs < s.ring.lastTime) {
      throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_POINT, `time of ${JSON.stringify(s.id)} went back: ${timeMs} after ${s.ring.lastTime}`);
    }
    // Overwriting the oldest point changes columns already summed: recompute them all next frame.
    if (s.ring.push(timeMs, typeof value === 'number' ? value : Number.NaN)) s.dirtyFrom = -Infinity;
    else if (timeMs < s.dirtyFrom) s.dirtyFrom = timeMs;
    if (timeMs > latest) latest = timeMs;
  }

  function changed(fromMs: number): void {
    if (paused) return;
    if (!follow && fromMs > manual.toMs) return;
    schedule();
  }

  // Wheel zoom around the pointer, drag pan, double-click back to following the live edge.
  const over = plot.over;
  const timeAt = (offsetX: number): number => {
    const view = currentView();
    return view.fromMs + (offsetX / Math.max(1, over.clientWidth)) * (view.toMs - view.fromMs);
  };
  const bounded = (view: ViewRange): ViewRange => {
    const end = edge();
    return end === -Infinity ? view : clampView(view, end - windowMs, end);
  };
  const onWheel = (event: WheelEvent): void => {
    event.preventDefault();
    const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    const factor = Math.exp(event.deltaY * lines * 0.002);
    const next = bounded(zoomView(currentView(), timeAt(event.offsetX), factor, minSpanMs, windowMs));
    if (next.toMs - next.fromMs >= windowMs && factor > 1) {
      follow = true;
    } else {
      follow = false;
      manual = next;
    }
    schedule();
  };
  let drag: { pointerId: number; x: number; view: ViewRange } | undefined;
  const onPointerDown = (event: PointerEvent): void => {
    if (event.button !== 0) return;
    drag = { pointerId: event.pointerId, x: event.clientX, view: currentView() };
    over.setPointerCapture?.(event.pointerId);
    over.classList.add('webmon-time-series-dragging');
  };
  const onPointerMove = (event: PointerEvent): void => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const dx = event.clientX - drag.x;
    if (dx === 0) return;
    const span = drag.view.toMs - drag.view.fromMs;
    follow = false;
    manual = bounded(panView(drag.view, (-dx / Math.max(1, over.clientWidth)) * span));
    schedule();
  };
  const onPointerUp = (event: PointerEvent): void => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    drag = undefined;
    over.releasePointerCapture?.(event.pointerId);
    over.classList.remove('webmon-time-series-dragging');
  };
  const onDoubleClick = (): void => {
    follow = true;
    schedule();
  };
  over.addEventListener('wheel', onWheel, { passive: false });
  over.addEventListener('pointerdown', onPointerDown);
  over.addEventListener('pointermove', onPointerMove);
  over.addEventListener('pointerup', onPointerUp);
  over.addEventListener('pointercancel', onPointerUp);
  over.addEventListener('dblclick', onDoubleClick);

  let resize: ResizeObserver | undefined;
  if (options.width === undefined && typeof ResizeObserver !== 'undefined') {
    let last = width();
    resize = new ResizeObserver(() => {
      const next = width();
      if (next === last || destroyed) return;
      last = next;
      plot.setSize({ width: next, height });
      schedule();
    });
    resize.observe(container);
  }

  return {
    element: root,
    addSeries(opts) {
      alive();
      if (!opts || typeof opts.id !== 'string') throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_OPTIONS, 'addSeries needs an id (a string)');
      if (series.some((s) => s.id === opts.id)) {
        throw new TimeSeriesError(TimeSeriesErrorCode.DUPLICATE_SERIES, `series ${JSON.stringify(opts.id)} is already in this chart`);
      }
      const color = opts.color ?? (SERIES_COLORS[colorIndex++ % SERIES_COLORS.length] as string);
      const state: SeriesState = {
        id: opts.id,
        ring: new TimeRing(capacity),
        stats: new ColumnStats(),
        spare: new ColumnStats(),
        dirtyFrom: Infinity,
        slots: new Array<number | null | undefined>(x.length),
        color,
        packedColor: packColor(color),
        width: opts.width === undefined ? 1 / (globalThis.devicePixelRatio || 1) : checkPositive('width', opts.width),
      };
      series.push(state);
      plot.batch(() => {
        plot.addSeries(
          {
            label: opts.label ?? opts.id,
            stroke: color,
            width: state.width,
            // No uPlot paths: `drawLines` draws the series (uPlot keeps the legend, cursor and value scale).
            paths: () => null,
            points: { show: false },
          },
          series.length,
        );
        plot.setData(data());
      });
      schedule();
    },
    removeSeries(id) {
      alive();
      const s = find(id);
      const index = series.indexOf(s);
      series.splice(index, 1);
      plot.batch(() => {
        plot.delSeries(index + 1);
        plot.setData(data());
      });
      latest = series.reduce((max, other) => Math.max(max, other.ring.lastTime), -Infinity);
      schedule();
    },
    hasSeries(id) {
      return series.some((s) => s.id === id);
    },
    push(id, timeMs, value) {
      alive();
      const s = find(id);
      store(s, timeMs, value);
      changed(timeMs);
    },
    pushMany(id, times, values) {
      alive();
      const s = find(id);
      if (times.length !== values.length) {
        throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_POINT, `pushMany: ${times.length} times but ${values.length} values`);
      }
      if (times.length === 0) return;
      for (let i = 0; i < times.length; i += 1) store(s, times[i] as number, values[i] as number);
      changed(times[0] as number);
    },
    setPaused(next) {
      alive();
      if (next === paused) return;
      paused = next;
      pausedEdge = latest;
      schedule();
    },
    get paused() {
      return paused;
    },
    setView(view) {
      alive();
      if (view === 'follow') {
        follow = true;
      } else {
        if (!view || !Number.isFinite(view.fromMs) || !Number.isFinite(view.toMs) || !(view.toMs > view.fromMs)) {
          throw new TimeSeriesError(TimeSeriesErrorCode.INVALID_OPTIONS, 'setView needs finite fromMs < toMs, or "follow"');
        }
        follow = false;
        manual = { fromMs: view.fromMs, toMs: view.toMs };
      }
      schedule();
    },
    getView() {
      return { ...currentView(), follow };
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (frameId !== 0) cancelAnimationFrame(frameId);
      frameId = 0;
      resize?.disconnect();
      over.removeEventListener('wheel', onWheel);
      over.removeEventListener('pointerdown', onPointerDown);
      over.removeEventListener('pointermove', onPointerMove);
      over.removeEventListener('pointerup', onPointerUp);
      over.removeEventListener('pointercancel', onPointerUp);
      over.removeEventListener('dblclick', onDoubleClick);
      plot.destroy();
      root.remove();
      series.length = 0;
    },
  };
}
