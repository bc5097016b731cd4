/**
 * Page script of the Chromium tests: the package's real source, bundled by esbuild, plus a tracker of
 * outstanding animation frames (so a test can see that an idle or destroyed chart keeps none) and pixel
 * helpers that read the chart's canvas.
 */
import { trackAnimationFrames } from '@webmon/test-chromium/harness-tools';
import * as ts from '../../src/index.js';

// Count the frames the library requests: wraps the browser API, not our code.
const animationFrames = trackAnimationFrames();

const harness = {
  ts,
  outstandingFrames: (): number => animationFrames.outstanding(),
  /** Resolves after `count` real animation frames (not counted as outstanding). */
  frames: (count = 1): Promise<number> => animationFrames.frames(count),
  /** A fresh container under #app, `width` CSS px wide. */
  container(width = 600): HTMLElement {
    const element = document.createElement('div');
    element.style.width = `${width}px`;
    document.getElementById('app')?.append(element);
    return element;
  },
  /**
   * For each CSS-px column of the chart's plot area, the topmost and bottommost row (CSS px from the plot's
   * top) holding a pixel within `tolerance` of `rgb`, or -1: what the line looks like, read back from the canvas.
   */
  columnExtent(root: Element, rgb: [number, number, number], tolerance = 60): { top: number[]; bottom: number[]; plotLeft: number; plotWidth: number } {
    const canvas = root.querySelector('canvas') as HTMLCanvasElement;
    const over = root.querySelector('.u-over') as HTMLElement;
    const context = canvas.getContext('2d') as CanvasRenderingContext2D;
    const ratio = canvas.width / canvas.getBoundingClientRect().width;
    const left = Math.round((over.getBoundingClientRect().left - canvas.getBoundingClientRect().left) * ratio);
    const top = Math.round((over.getBoundingClientRect().top - canvas.getBoundingClientRect().top) * ratio);
    const width = Math.round(over.clientWidth * ratio);
    const height = Math.round(over.clientHeight * ratio);
    const { data } = context.getImageData(left, top, width, height);
    const tops: number[] = [];
    const bottoms: number[] = [];
    for (let cx = 0; cx < over.clientWidth; cx += 1) {
      let first = -1;
      let last = -1;
      for (let py = 0; py < height; py += 1) {
        for (let dx = 0; dx < ratio; dx += 1) {
          const px = Math.floor(cx * ratio) + dx;
          const i = (py * width + px) * 4;
          const distance = Math.abs((data[i] as number) - rgb[0]) + Math.abs((data[i + 1] as number) - rgb[1]) + Math.abs((data[i + 2] as number) - rgb[2]);
          if ((data[i + 3] as number) > 128 && distance <= tolerance) {
            if (first < 0) first = py / ratio;
            last = py / ratio;
          }
        }
      }
      tops.push(first);
      bottoms.push(last);
    }
    return { top: tops, bottom: bottoms, plotLeft: left / ratio, plotWidth: over.clientWidth };
  },
};

export type Harness = typeof harness;

declare global {
  interface Window {
    harness: Harness;
  }
}

window.harness = harness;
