/**
 * Page script of the Chromium tests: the package's real source, bundled by esbuild, plus a tracker of
 * outstanding animation frames (so a test can see that a disposed or paused chart keeps none).
 */
import { trackAnimationFrames } from '@webmon/test-chromium/harness-tools';
import * as loaderCharts from '../../src/index.js';

// Count the frames the library requests: wraps the browser API, not our code.
const animationFrames = trackAnimationFrames();

/** The charts' worker (src/worker/charts-worker.ts bundled with its shim), when the test bundles it in. */
declare const __LC_WORKER__: string | undefined;
const workerUrl = typeof __LC_WORKER__ === 'string' ? URL.createObjectURL(new Blob([__LC_WORKER__], { type: 'text/javascript' })) : undefined;

const harness = {
  lc: loaderCharts,
  /** A blob URL of the charts' worker script (test/worker-charts.test.ts), for `createLoaderCharts(el, { worker: workerUrl })`. */
  workerUrl,
  /** How many bytes of two images differ (Infinity when their sizes differ), and how many channels are inked. */
  compareImages(a: ImageData, b: ImageData): { differing: number; inked: number; size: string } {
    let differing = a.width === b.width && a.height === b.height ? 0 : Infinity;
    let inked = 0;
    for (let k = 0; differing !== Infinity && k < a.data.length; k += 1) {
      if (a.data[k] !== b.data[k]) differing += 1;
      if ((k & 3) !== 3 && (a.data[k + (3 - (k & 3))] as number) > 0 && (a.data[k] as number) < 200) inked += 1;
    }
    return { differing, inked, size: `${b.width}x${b.height}` };
  },
  /** Animation frames requested and not yet run or cancelled. */
  outstandingFrames: (): number => animationFrames.outstanding(),
  /** Resolves after `count` real animation frames (not counted as outstanding). */
  frames: (count = 1): Promise<number> => animationFrames.frames(count),
  /** A fresh container under #app. */
  container(): HTMLElement {
    const element = document.createElement('div');
    document.getElementById('app')?.append(element);
    return element;
  },
  /** Pixels of the canvases under `element` whose colour is within `tolerance` of `rgb`. */
  countPixels(element: Element, rgb: [number, number, number], tolerance = 40): number {
    let count = 0;
    for (const canvas of element.querySelectorAll('canvas')) {
      const context = canvas.getContext('2d');
      if (!context) continue;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        const distance = Math.abs((data[i] as number) - rgb[0]) + Math.abs((data[i + 1] as number) - rgb[1]) + Math.abs((data[i + 2] as number) - rgb[2]);
        if ((data[i + 3] as number) > 0 && distance <= tolerance) count += 1;
      }
    }
    return count;
  },
  /**
   * Where a chart's texts (title, axis labels and titles) are drawn, in CSS px of its canvas, and the canvas
   * size: Vega's scenegraph bounds, shifted by the group offsets and the view's origin (the canvas renderer
   * has no DOM per text).
   */
  textLayout(view: { scenegraph(): unknown; origin(): [number, number] }, canvas: HTMLCanvasElement) {
    interface Node {
      marktype?: string;
      role?: string;
      items?: Node[];
      x?: number;
      y?: number;
      text?: unknown;
      opacity?: number;
      bounds?: { x1: number; y1: number; x2: number; y2: number };
    }
    const [originX, originY] = view.origin();
    const texts: { role: string; text: string; x1: number; y1: number; x2: number; y2: number }[] = [];
    const visitMark = (mark: Node, dx: number, dy: number): void => {
      for (const item of mark.items ?? []) {
        // opacity 0: a label Vega hid (labelOverlap), not drawn.
        if (mark.marktype === 'text' && item.bounds && item.text !== undefined && item.text !== '' && item.opacity !== 0) {
          const b = item.bounds;
          texts.push({ role: String(mark.role), text: String(item.text), x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy });
        } else if (mark.marktype === 'group') {
          for (const child of item.items ?? []) visitMark(child, dx + (item.x ?? 0), dy + (item.y ?? 0));
        }
      }
    };
    visitMark((view.scenegraph() as { root: Node }).root, originX, originY);
    const box = canvas.getBoundingClientRect();
    return { width: box.width, height: box.height, texts };
  },
  /** Items of the first mark of the given type in a Vega scenegraph. */
  markItems(view: { scenegraph(): unknown }, markType: string): number {
    const visit = (node: unknown): number | undefined => {
      if (typeof node !== 'object' || node === null) return undefined;
      const record = node as { marktype?: string; role?: string; items?: unknown[] };
      if (record.marktype === markType && record.role === 'mark') return record.items?.length ?? 0;
      for (const child of record.items ?? []) {
        const found = visit(child);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    return visit((view.scenegraph() as { root: unknown }).root) ?? -1;
  },
};

export type Harness = typeof harness;
declare global {
  interface Window {
    harness: Harness;
  }
}

window.harness = harness;
