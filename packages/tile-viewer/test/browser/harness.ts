/**
 * Test page: creates real viewers in real DOM containers and reads real pixels back from their WebGL canvases.
 * The Node side (vitest + playwright-core) drives it through `window.tv` and makes every assertion.
 */
import { describeError, type ErrorInfo } from '@webmon/test-chromium/harness-tools';
import type { Poll } from '@webmon/napari';
import { createTileViewer, type TileViewer, type TileViewerEvents, type TileViewerOptions } from '../../src/index.js';

interface Entry {
  viewer: TileViewer;
  container: HTMLDivElement;
  gl: WebGL2RenderingContext;
  events: { type: keyof TileViewerEvents; payload: unknown }[];
}

const entries = new Map<string, Entry>();
/** Options every `create` starts from (a test suite sets e.g. the tile geometry under test). */
let defaults: TileViewerOptions = {};

function entry(id: string): Entry {
  const found = entries.get(id);
  if (!found) throw new Error(`no viewer ${id}`);
  return found;
}

export type { ErrorInfo };

const harness = {
  /** Creates a container (absolutely placed, so tests can put two side by side) and a viewer in it. */
  create(id: string, options: TileViewerOptions = {}, box: { left?: number; top?: number; width?: number; height?: number } = {}): void {
    const container = document.createElement('div');
    container.id = id;
    container.style.cssText = `position:absolute;left:${box.left ?? 0}px;top:${box.top ?? 0}px;width:${box.width ?? 600}px;height:${box.height ?? 600}px;`;
    document.body.append(container);
    const viewer = createTileViewer(container, { preserveDrawingBuffer: true, ...defaults, ...options });
    const gl = viewer.canvas.getContext('webgl2');
    if (!gl) throw new Error('viewer canvas has no webgl2 context');
    const events: Entry['events'] = [];
    for (const type of ['hover', 'command', 'layerschange', 'levelchange', 'invalidate'] as const) {
      viewer.on(type, (payload) => events.push({ type, payload }));
    }
    entries.set(id, { viewer, container, gl, events });
  },

  setDefaults(options: TileViewerOptions): void {
    defaults = options;
  },

  /** Calls a handle method; returns its result, or the thrown error described. */
  call(id: string, method: string, ...args: unknown[]): { ok: true; value: unknown } | { ok: false; error: ErrorInfo } {
    const viewer = entry(id).viewer as unknown as Record<string, (...a: unknown[]) => unknown>;
    try {
      const fn = viewer[method];
      if (typeof fn !== 'function') throw new Error(`no method ${method}`);
      return { ok: true, value: fn.apply(viewer, args) ?? null };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  },

  update(id: string, poll: Poll): { ok: true } | { ok: false; error: ErrorInfo } {
    try {
      entry(id).viewer.update(poll);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  },

  /** Canvas CSS pixel of a content-space point (x right, y down, level's longer side = 1). */
  toCanvas(id: string, x: number, y: number): [number, number] {
    const { viewer } = entry(id);
    const view = viewer.getView();
    const canvas = viewer.canvas;
    return [(x - view.centerX) * view.scale + canvas.clientWidth / 2, (y - view.centerY) * view.scale + canvas.clientHeight / 2];
  },

  /** Viewport (client) position of a content-space point, for mouse events. */
  toClient(id: string, x: number, y: number): [number, number] {
    const [px, py] = harness.toCanvas(id, x, y);
    const box = entry(id).viewer.canvas.getBoundingClientRect();
    return [box.left + px, box.top + py];
  },

  /** RGBA of the device pixel under a canvas CSS position, after a synchronous render. */
  pixelAtCanvas(id: string, px: number, py: number, render = true): [number, number, number, number] {
    const { viewer, gl } = entry(id);
    if (render) viewer.render();
    const ratio = gl.drawingBufferWidth / viewer.canvas.clientWidth;
    const x = Math.floor(px * ratio);
    // WebGL rows start at the bottom.
    const y = gl.drawingBufferHeight - 1 - Math.floor(py * ratio);
    const out = new Uint8Array(4);
    gl.readPixels(x, y, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, out);
    return [out[0] ?? 0, out[1] ?? 0, out[2] ?? 0, out[3] ?? 0];
  },

  pixelAt(id: string, x: number, y: number, render = true): [number, number, number, number] {
    const [px, py] = harness.toCanvas(id, x, y);
    return harness.pixelAtCanvas(id, px, py, render);
  },

  events(id: string, type?: keyof TileViewerEvents): unknown[] {
    const list = entry(id).events;
    return (type ? list.filter((e) => e.type === type) : list).map((e) => e.payload);
  },

  clearEvents(id: string): void {
    entry(id).events.length = 0;
  },

  canvasInfo(id: string): { width: number; height: number; clientWidth: number; clientHeight: number; contextLost: boolean } {
    const { viewer, gl } = entry(id);
    return {
      width: viewer.canvas.width,
      height: viewer.canvas.height,
      clientWidth: viewer.canvas.clientWidth,
      clientHeight: viewer.canvas.clientHeight,
      contextLost: gl.isContextLost(),
    };
  },

  containerInfo(id: string): { children: number; html: string; attributes: string[]; contextLost: boolean } {
    const { container, gl } = entry(id);
    return {
      children: container.childElementCount,
      html: container.innerHTML,
      attributes: [...container.attributes].map((a) => `${a.name}=${a.value}`),
      contextLost: gl.isContextLost(),
    };
  },

  setContainerSize(id: string, width: number, height: number): void {
    const { container } = entry(id);
    container.style.width = `${width}px`;
    container.style.height = `${height}px`;
  },

  /** Text of a built-in control (by its data-role). */
  controlText(id: string, role: string): string | null {
    const node = entry(id).container.querySelector(`[data-role="${role}"]`);
    return node instanceof HTMLElement && node.style.display !== 'none' ? node.textContent : null;
  },

  /** Two touch pointers pinching apart around a canvas point, as real PointerEvents through the DOM. */
  pinch(id: string, px: number, py: number, from: number, to: number, steps = 5): void {
    const canvas = entry(id).viewer.canvas;
    const box = canvas.getBoundingClientRect();
    const fire = (type: string, pointerId: number, x: number, y: number): void => {
      canvas.dispatchEvent(
        new PointerEvent(type, { pointerId, pointerType: 'touch', isPrimary: pointerId === 11, clientX: box.left + x, clientY: box.top + y, bubbles: true, cancelable: true, button: 0, buttons: type === 'pointerup' ? 0 : 1 }),
      );
    };
    fire('pointerdown', 11, px - from / 2, py);
    fire('pointerdown', 12, px + from / 2, py);
    for (let i = 1; i <= steps; i++) {
      const d = from + ((to - from) * i) / steps;
      fire('pointermove', 11, px - d / 2, py);
      fire('pointermove', 12, px + d / 2, py);
    }
    fire('pointerup', 11, px - to / 2, py);
    fire('pointerup', 12, px + to / 2, py);
  },

  /** Resolves after `n` animation frames (lets 'auto' renders and ResizeObserver callbacks run). */
  frames(n = 2): Promise<void> {
    return new Promise((resolve) => {
      const step = (left: number): void => {
        if (left === 0) resolve();
        else requestAnimationFrame(() => step(left - 1));
      };
      step(n);
    });
  },

  dispose(id: string): void {
    entry(id).viewer.dispose();
  },

  remove(id: string): void {
    const found = entries.get(id);
    if (!found) return;
    if (!found.viewer.disposed) found.viewer.dispose();
    found.container.remove();
    entries.delete(id);
  },

  /** Creates, draws and disposes `count` viewers one after another; returns how many drew a red seen tile. */
  churn(count: number, poll: Poll, probe: [number, number]): number {
    let drew = 0;
    for (let i = 0; i < count; i++) {
      const id = `churn-${i}`;
      harness.create(id, { renderMode: 'manual', controls: false }, { width: 200, height: 200 });
      harness.update(id, poll);
      const [r, g, b] = harness.pixelAt(id, probe[0], probe[1]);
      if (r > 180 && g < 80 && b < 80) drew++;
      harness.remove(id);
    }
    return drew;
  },
};

export type Harness = typeof harness;
(window as unknown as { tv: Harness }).tv = harness;
(window as unknown as { tvReady: boolean }).tvReady = true;
