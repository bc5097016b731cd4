/**
 * The chart in real Chromium (Debian's, driven by playwright-core): the package source bundled by esbuild into
 * a page on a loopback port. What is checked is read back from the canvas: where the line is drawn.
 */
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleBrowserEntry, launchChromium, openPage, servePage, type PageServer } from '@webmon/test-chromium';
import type {} from './browser/harness.js';

let browser: Browser;
let server: PageServer;
let page: Page;

beforeAll(async () => {
  const script = await bundleBrowserEntry(fileURLToPath(new URL('./browser/harness.ts', import.meta.url)));
  server = await servePage(script, { title: 'time-series', bodyStyle: 'margin:16px;background:#fff', bodyHtml: '<div id="app"></div>' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  page = await openPage(browser, server.url, 'harness');
});

afterEach(async () => {
  await page?.close();
});

const RED: [number, number, number] = [0xe4, 0x57, 0x2e];

describe('createTimeSeriesChart in Chromium', () => {
  it('draws a one-sample spike among 36,000 points at its column, at full height', async () => {
    const result = await page.evaluate(async (red) => {
      const { ts, container, frames, columnExtent } = window.harness;
      const element = container(700);
      const frameInfo: unknown[] = [];
      const chart = ts.createTimeSeriesChart(element, { windowMs: 600_000, legend: false, onFrame: (info) => frameInfo.push(info) });
      chart.addSeries({ id: 'a', color: `rgb(${red.join(',')})` });
      const base = 1_700_000_000_000;
      const n = 36_000; // 10 minutes at 60 Hz
      const times = new Float64Array(n);
      const values = new Float64Array(n);
      const spikeAt = 27_000;
      for (let i = 0; i < n; i += 1) {
        times[i] = base + (i * 1000) / 60;
        values[i] = i === spikeAt ? 100 : Math.sin(i / 500); // ±1, and one sample at 100
      }
      chart.pushMany('a', times, values);
      await frames(3);
      const view = chart.getView();
      const extent = columnExtent(chart.element, red);
      const expectedColumn = ((times[spikeAt] as number) - view.fromMs) / ((view.toMs - view.fromMs) / extent.plotWidth);
      chart.destroy();
      return { extent, expectedColumn, view, frames: frameInfo.length };
    }, RED);
    const { top } = result.extent;
    const drawn = top.map((y, column) => ({ y, column })).filter((c) => c.y >= 0);
    expect(drawn.length).toBeGreaterThan(result.extent.plotWidth * 0.9);
    // The highest drawn pixel is the spike: far above the ±1 band, in the column of its time (±2 px).
    const highest = drawn.reduce((best, c) => (c.y < best.y ? c : best));
    expect(Math.abs(highest.column - result.expectedColumn)).toBeLessThanOrEqual(2);
    const band = drawn.filter((c) => Math.abs(c.column - result.expectedColumn) > 3).map((c) => c.y);
    expect(Math.min(...band) - highest.y).toBeGreaterThan(100);
    expect(result.view.follow).toBe(true);
  });
});
