/**
 * The chart in real Chromium (Debian's, driven by playwright-core): the package source bundled by esbuild into
 * a page on a loopback port. What is checked is read back from the canvas: where the line is drawn.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestSite, openPage, type TestSite } from '@webmon/test-chromium';
import type {} from './browser/harness.js';

let site: TestSite;
let page: Page;

beforeAll(async () => {
  site = await openTestSite(fileURLToPath(new URL('./browser/harness.ts', import.meta.url)), { title: 'time-series', bodyStyle: 'margin:16px;background:#fff', bodyHtml: '<div id="app"></div>' });
});

afterAll(async () => {
  await site?.close();
});

beforeEach(async () => {
  page = await openPage(site.browser, site.url, 'harness');
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

  it('wheel zoom and drag pan (real mouse events) change what is shown; a double-click follows again', async () => {
    const setup = await page.evaluate(async (red) => {
      const { ts, container, frames } = window.harness;
      const element = container(700);
      const chart = ts.createTimeSeriesChart(element, { windowMs: 600_000, legend: false });
      (window as unknown as { chart: unknown }).chart = chart;
      chart.addSeries({ id: 'a', color: `rgb(${red.join(',')})` });
      const base = 1_700_000_000_000;
      for (let i = 0; i < 36_000; i += 1) chart.push('a', base + (i * 1000) / 60, i === 18_000 ? 100 : Math.sin(i / 300));
      await frames(3);
      const box = element.querySelector('.u-over')!.getBoundingClientRect();
      return { box: { x: box.x, y: box.y, width: box.width, height: box.height }, spikeMs: base + 300_000, view: chart.getView() };
    }, RED);
    type Chart = { getView(): { fromMs: number; toMs: number; follow: boolean }; element: HTMLElement };
    const spikeColumn = async (): Promise<{ column: number; expected: number; view: { fromMs: number; toMs: number; follow: boolean } }> =>
      page.evaluate(
        async ({ red, spikeMs }) => {
          const { frames, columnExtent } = window.harness;
          const chart = (window as unknown as { chart: Chart }).chart;
          await frames(2);
          const view = chart.getView();
          const { top, plotWidth } = columnExtent(chart.element, red);
          let column = -1;
          top.forEach((y, c) => {
            if (y >= 0 && (column < 0 || y < (top[column] as number))) column = c;
          });
          return { column, expected: ((spikeMs - view.fromMs) / (view.toMs - view.fromMs)) * plotWidth, view };
        },
        { red: RED, spikeMs: setup.spikeMs },
      );
    const { box } = setup;
    const before = await spikeColumn();
    expect(before.view.follow).toBe(true);
    expect(Math.abs(before.column - before.expected)).toBeLessThanOrEqual(2);

    // Zoom in with the pointer a quarter of the way across: the time under the pointer stays put.
    const anchorX = box.x + box.width / 4;
    await page.mouse.move(anchorX, box.y + box.height / 2);
    const anchorMs = before.view.fromMs + 0.25 * (before.view.toMs - before.view.fromMs);
    await page.mouse.wheel(0, -300);
    const zoomed = await spikeColumn();
    expect(zoomed.view.follow).toBe(false);
    const span = zoomed.view.toMs - zoomed.view.fromMs;
    expect(span).toBeLessThan(0.7 * (before.view.toMs - before.view.fromMs));
    expect(Math.abs((anchorMs - zoomed.view.fromMs) / span - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(zoomed.column - zoomed.expected)).toBeLessThanOrEqual(2);
    expect(zoomed.column - before.column).toBeGreaterThan(50); // the spike, right of the anchor, moved right

    // Drag 120 px to the right: the view moves back in time by 120 px worth, the spike moves 120 px right.
    await page.mouse.move(box.x + 200, box.y + 50);
    await page.mouse.down();
    await page.mouse.move(box.x + 260, box.y + 50, { steps: 3 });
    await page.mouse.move(box.x + 320, box.y + 50, { steps: 3 });
    await page.mouse.up();
    const panned = await spikeColumn();
    expect(panned.view.toMs - panned.view.fromMs).toBeCloseTo(span, 3);
    expect(Math.abs(panned.column - zoomed.column - 120)).toBeLessThanOrEqual(2);
    expect(Math.abs(panned.column - panned.expected)).toBeLessThanOrEqual(2);

    await page.mouse.dblclick(box.x + 100, box.y + 50);
    const followed = await spikeColumn();
    expect(followed.view).toEqual(before.view);
    expect(Math.abs(followed.column - before.column)).toBeLessThanOrEqual(1);
  });

  it('follows the live edge: new points move the view and the old ones left', async () => {
    const result = await page.evaluate(async (red) => {
      const { ts, container, frames, columnExtent } = window.harness;
      const chart = ts.createTimeSeriesChart(container(600), { windowMs: 10_000, legend: false });
      chart.addSeries({ id: 'a', color: `rgb(${red.join(',')})` });
      const highest = (): number => {
        const { top } = columnExtent(chart.element, red);
        let column = -1;
        top.forEach((y, c) => {
          if (y >= 0 && (column < 0 || y < (top[column] as number))) column = c;
        });
        return column;
      };
      const at = (i: number): number => 1000 + (i * 1000) / 60;
      let i = 0;
      for (; i < 600; i += 1) chart.push('a', at(i), i === 300 ? 50 : 0); // 10 s, spike in the middle
      await frames(2);
      const first = { view: chart.getView(), column: highest() };
      for (; i < 900; i += 1) chart.push('a', at(i), 0); // 5 s more
      await frames(2);
      const second = { view: chart.getView(), column: highest() };
      return { first, second, lastMs: at(899) };
    }, RED);
    expect(result.first.view.follow).toBe(true);
    expect(result.second.view.toMs).toBe(result.lastMs);
    expect(result.second.view.toMs - result.second.view.fromMs).toBe(10_000);
    // 5 s of a 10 s window: the spike moved left by half the plot width.
    expect(result.first.column).toBeGreaterThan(result.second.column);
    const plotWidth = 2 * (result.first.column - result.second.column);
    expect(plotWidth).toBeGreaterThan(450);
    expect(plotWidth).toBeLessThan(600);
  });

  it('draws a non-finite value as a gap in the line, and keeps drawing after it', async () => {
    const result = await page.evaluate(async (red) => {
      const { ts, container, frames, columnExtent } = window.harness;
      const chart = ts.createTimeSeriesChart(container(600), { windowMs: 10_000, legend: false });
      chart.addSeries({ id: 'a', color: `rgb(${red.join(',')})` });
      // 10 s of a ramp; values from 4 s to 6 s are NaN, then Infinity, then finite again.
      for (let i = 0; i <= 600; i += 1) {
        const t = (i * 1000) / 60;
        chart.push('a', t, t >= 4000 && t < 5000 ? Number.NaN : t >= 5000 && t < 6000 ? Infinity : i % 50);
      }
      await frames(3);
      const { top, plotWidth } = columnExtent(chart.element, red);
      const view = chart.getView();
      const columnOf = (ms: number): number => Math.round(((ms - view.fromMs) / (view.toMs - view.fromMs)) * plotWidth);
      const inside = top.slice(columnOf(4000) + 3, columnOf(6000) - 3);
      const before = top.slice(columnOf(1000), columnOf(3900));
      const after = top.slice(columnOf(6100), columnOf(9900));
      return { insideDrawn: inside.filter((y) => y >= 0).length, inside: inside.length, beforeDrawn: before.filter((y) => y >= 0).length, before: before.length, afterDrawn: after.filter((y) => y >= 0).length, after: after.length };
    }, RED);
    expect(result.inside).toBeGreaterThan(80);
    expect(result.insideDrawn).toBe(0);
    expect(result.beforeDrawn).toBe(result.before);
    expect(result.afterDrawn).toBe(result.after);
  });

  it('coalesces pushes into one frame, asks for no frame when idle or paused, and leaves nothing after destroy()', async () => {
    const result = await page.evaluate(async () => {
      const { ts, container, frames, outstandingFrames } = window.harness;
      const element = container(500);
      const drawn: { columnsComputed: number; columns: number; follow: boolean }[] = [];
      const chart = ts.createTimeSeriesChart(element, { windowMs: 10_000, legend: false, onFrame: (info) => drawn.push(info) });
      chart.addSeries({ id: 'a' });
      chart.addSeries({ id: 'b' });
      for (let i = 0; i < 500; i += 1) {
        chart.push('a', i * 16, i);
        chart.push('b', i * 16, -i);
      }
      await frames(3);
      const afterBurst = drawn.length;
      const idle = outstandingFrames();
      // Following at a fixed zoom, a frame re-sums only the columns that got points (and the first one).
      for (let i = 500; i < 503; i += 1) {
        chart.push('a', i * 16, 1);
        chart.push('b', i * 16, 1);
        await frames(2);
      }
      const incremental = drawn[drawn.length - 1]!;
      chart.setPaused(true);
      await frames(2);
      const pausedView = chart.getView();
      const framesBefore = drawn.length;
      for (let i = 503; i < 700; i += 1) chart.push('a', i * 16, i);
      const pausedOutstanding = outstandingFrames();
      await frames(2);
      const pausedFrames = drawn.length - framesBefore;
      const stillPaused = chart.getView();
      chart.setPaused(false);
      await frames(2);
      const resumed = chart.getView();
      chart.destroy();
      const afterDestroy = { children: element.children.length, outstanding: outstandingFrames() };
      let code = '';
      try {
        chart.push('a', 1e6, 1);
      } catch (error) {
        code = (error as { code: string }).code;
      }
      return { afterBurst, idle, incremental, pausedView, stillPaused, pausedOutstanding, pausedFrames, resumed, afterDestroy, code };
    });
    expect(result.afterBurst).toBe(1);
    expect(result.idle).toBe(0);
    expect(result.incremental.columnsComputed).toBeLessThanOrEqual(2 * 3);
    expect(result.incremental.columns).toBeGreaterThan(400);
    expect(result.pausedOutstanding).toBe(0);
    expect(result.pausedFrames).toBe(0);
    expect(result.stillPaused).toEqual(result.pausedView);
    expect(result.resumed.toMs).toBe(699 * 16);
    expect(result.afterDestroy).toEqual({ children: 0, outstanding: 0 });
    expect(result.code).toBe('TIME_SERIES_DESTROYED');
  });

  it('refuses bad input with typed errors', async () => {
    const codes = await page.evaluate(() => {
      const { ts, container } = window.harness;
      const attempt = (fn: () => unknown): string => {
        try {
          fn();
          return 'no error';
        } catch (error) {
          return ts.isTimeSeriesError(error) ? error.code : `untyped: ${String(error)}`;
        }
      };
      const chart = ts.createTimeSeriesChart(container(), { windowMs: 1000 });
      chart.addSeries({ id: 'a' });
      chart.push('a', 10, 1);
      const result = {
        element: attempt(() => ts.createTimeSeriesChart({} as HTMLElement)),
        window: attempt(() => ts.createTimeSeriesChart(container(), { windowMs: 0 })),
        duplicate: attempt(() => chart.addSeries({ id: 'a' })),
        unknown: attempt(() => chart.push('nope', 11, 1)),
        back: attempt(() => chart.push('a', 9, 1)),
        nanTime: attempt(() => chart.push('a', Number.NaN, 1)),
        lengths: attempt(() => chart.pushMany('a', [11, 12], [1])),
        view: attempt(() => chart.setView({ fromMs: 5, toMs: 5 })),
        sameTime: attempt(() => chart.push('a', 10, Number.NaN)),
      };
      chart.destroy();
      return result;
    });
    expect(codes).toEqual({
      element: 'TIME_SERIES_INVALID_ELEMENT',
      window: 'TIME_SERIES_INVALID_OPTIONS',
      duplicate: 'TIME_SERIES_DUPLICATE_SERIES',
      unknown: 'TIME_SERIES_UNKNOWN_SERIES',
      back: 'TIME_SERIES_INVALID_POINT',
      nanTime: 'TIME_SERIES_INVALID_POINT',
      lengths: 'TIME_SERIES_INVALID_POINT',
      view: 'TIME_SERIES_INVALID_OPTIONS',
      sameTime: 'no error',
    });
  });

  it('at devicePixelRatio 2 draws the spike in its column, and follows the width of its container', async () => {
    const hiDpi = await site.browser.newPage({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 2 });
    try {
      await hiDpi.goto(site.url);
      await hiDpi.waitForFunction(() => window.harness !== undefined);
      const result = await hiDpi.evaluate(async (red) => {
        const { ts, container, frames, columnExtent } = window.harness;
        const element = container(500);
        const chart = ts.createTimeSeriesChart(element, { windowMs: 60_000, legend: false });
        chart.addSeries({ id: 'a', color: `rgb(${red.join(',')})` });
        for (let i = 0; i < 3_600; i += 1) chart.push('a', (i * 1000) / 60, i === 900 ? 10 : Math.sin(i / 100) / 10);
        const measure = async () => {
          await frames(3);
          const extent = columnExtent(chart.element, red);
          const view = chart.getView();
          let column = -1;
          extent.top.forEach((y, c) => {
            if (y >= 0 && (column < 0 || y < (extent.top[column] as number))) column = c;
          });
          return { column, expected: ((15_000 - view.fromMs) / (view.toMs - view.fromMs)) * extent.plotWidth, plotWidth: extent.plotWidth, ratio: window.devicePixelRatio };
        };
        const narrow = await measure();
        element.style.width = '800px';
        await frames(2); // the resize observer reports after layout
        const wide = await measure();
        chart.destroy();
        return { narrow, wide };
      }, RED);
      expect(result.narrow.ratio).toBe(2);
      expect(Math.abs(result.narrow.column - result.narrow.expected)).toBeLessThanOrEqual(2);
      expect(result.wide.plotWidth - result.narrow.plotWidth).toBeGreaterThan(250);
      expect(Math.abs(result.wide.column - result.wide.expected)).toBeLessThanOrEqual(2);
    } finally {
      await hiDpi.close();
    }
  });
});
