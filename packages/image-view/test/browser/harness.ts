/**
 * Test page: creates real image views in real DOM containers and reads their drawn pixels back. The Node
 * side (vitest + playwright-core) drives it through `window.iv` and makes every assertion.
 */
import { describeError, type ErrorInfo } from '@webmon/test-chromium/harness-tools';
import type { ArrayView, FrameView } from '@webmon/protocol';
import { createImageView, type ImageView, type ImageViewOptions, type ImageViewReadout, type ShowOutcome } from '../../src/index.js';

/** A frame as JSON: raw element values (float16: bits; uint: codes) and the dtype to hold them in. */
export interface FrameSpec {
  dtype: 'float32' | 'float16' | 'uint8' | 'uint16' | 'int16' | 'complex64';
  shape: number[];
  data: number[];
  view?: FrameView;
  meta?: Record<string, unknown>;
}

interface Entry {
  view: ImageView;
  container: HTMLDivElement;
  views: ArrayView[];
  draws: number;
}

const entries = new Map<string, Entry>();
const ARRAYS = { float32: Float32Array, float16: Uint16Array, uint8: Uint8Array, uint16: Uint16Array, int16: Int16Array, complex64: Float32Array } as const;

function entry(id: string): Entry {
  const found = entries.get(id);
  if (!found) throw new Error(`no view ${id}`);
  return found;
}

export type { ErrorInfo };

const harness = {
  /** A container placed absolutely (CSS px = device px at scale factor 1) and a view in it. */
  create(id: string, options: Omit<ImageViewOptions, 'onViewChange' | 'onDraw'> = {}, box: { left?: number; top?: number; width?: number; height?: number } = {}): { ok: true } | { ok: false; error: ErrorInfo } {
    const container = document.createElement('div');
    container.id = id;
    container.style.cssText = `position:absolute;left:${box.left ?? 0}px;top:${box.top ?? 0}px;width:${box.width ?? 64}px;height:${box.height ?? 64}px;`;
    document.body.append(container);
    const views: ArrayView[] = [];
    try {
      const record: Entry = { view: undefined as unknown as ImageView, container, views, draws: 0 };
      record.view = createImageView(container, { fit: 'container', preserveDrawingBuffer: true, viewDebounceMs: 20, ...options, onViewChange: (v) => views.push(v), onDraw: () => record.draws++ });
      entries.set(id, record);
      return { ok: true };
    } catch (error) {
      container.remove();
      return { ok: false, error: describeError(error) };
    }
  },

  /** Shows a frame; resolves with the outcome once drawn (or the error `show` threw). */
  async show(id: string, spec: FrameSpec): Promise<{ ok: true; outcome: ShowOutcome } | { ok: false; error: ErrorInfo }> {
    const data = new ARRAYS[spec.dtype](spec.data);
    try {
      const outcome = await entry(id).view.show({ data, shape: spec.shape, dtype: spec.dtype, view: spec.view, meta: spec.meta });
      return { ok: true, outcome };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  },

  /** Shows a float32 frame and says whether its buffer is still here once drawn (not moved to a worker). */
  async showKeeps(id: string, spec: FrameSpec): Promise<{ outcome: ShowOutcome; kept: boolean }> {
    const data = new Float32Array(spec.data);
    const shown = entry(id).view.show({ data, shape: spec.shape, dtype: 'float32', meta: spec.meta });
    const outcome = await shown;
    return { outcome, kept: data.length === spec.data.length && data.buffer.byteLength > 0 };
  },

  /**
   * Shows a float32 frame, then takes its buffer away once `show()` settled (moved elsewhere, as a host that
   * gives frames back does): the view must draw on without it. Says whether the buffer was detached.
   */
  async showThenTakeBack(id: string, spec: FrameSpec): Promise<{ outcome: ShowOutcome; detached: boolean }> {
    const data = new Float32Array(spec.data);
    const outcome = await entry(id).view.show({ data, shape: spec.shape, dtype: 'float32', meta: spec.meta });
    structuredClone(data.buffer, { transfer: [data.buffer] });
    return { outcome, detached: data.byteLength === 0 };
  },

  /** Two frames at once: the first is replaced before it is drawn. */
  async showTwo(id: string, first: FrameSpec, second: FrameSpec): Promise<ShowOutcome[]> {
    const make = (spec: FrameSpec) => ({ data: new ARRAYS[spec.dtype](spec.data), shape: spec.shape, dtype: spec.dtype, view: spec.view, meta: spec.meta });
    const { view } = entry(id);
    return Promise.all([view.show(make(first)), view.show(make(second))]);
  },

  /** Calls a handle method; returns its result, or the thrown error described. */
  call(id: string, method: string, ...args: unknown[]): { ok: true; value: unknown } | { ok: false; error: ErrorInfo } {
    const view = entry(id).view as unknown as Record<string, (...a: unknown[]) => unknown>;
    try {
      return { ok: true, value: view[method]!(...args) };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  },

  readOut(id: string): ImageViewReadout {
    return entry(id).view.readOut();
  },

  views(id: string): ArrayView[] {
    return entry(id).views;
  },

  /** Waits for the next draw (after a zoom or a setting) and a frame for the compositor. */
  async drawn(id: string, after: number): Promise<number> {
    const record = entry(id);
    while (record.draws <= after) await new Promise(requestAnimationFrame);
    return record.draws;
  },

  draws(id: string): number {
    return entry(id).draws;
  },

  /** The canvas's pixels, RGBA, base64 (copied through a 2D canvas: works for WebGL with a preserved buffer and for 2D). */
  pixels(id: string): { width: number; height: number; rgba: string } {
    const { canvas } = entry(id).view;
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const context = copy.getContext('2d')!;
    context.drawImage(canvas, 0, 0);
    const { data } = context.getImageData(0, 0, copy.width, copy.height);
    let binary = '';
    for (let i = 0; i < data.length; i++) binary += String.fromCharCode(data[i]!);
    return { width: copy.width, height: copy.height, rgba: btoa(binary) };
  },

  /** Whether the view's canvas is still in the document. */
  attached(id: string): boolean {
    return entry(id).view.canvas.isConnected;
  },

  remove(id: string): void {
    const record = entries.get(id);
    if (!record) return;
    record.view.dispose();
    record.container.remove();
    entries.delete(id);
  },
};

export type Harness = typeof harness;
(window as unknown as { iv: Harness }).iv = harness;
(window as unknown as { ivReady: boolean }).ivReady = true;
