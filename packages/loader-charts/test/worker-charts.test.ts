/**
 * The loader charts with Vega in a Web Worker, in real Chromium: the worker is src/worker/charts-worker.ts
 * bundled with its document shim exactly as tsup builds dist/charts-worker.js, handed to the page as a blob
 * URL. Compared with the main-thread charts drawing the same messages: identical pixels, rows, SVG, summary.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleBrowserEntry, openPage, openTestSite, type TestSite } from '@webmon/test-chromium';
import { DOCUMENT_SHIM } from '../src/worker/document-shim.js';
import type {} from './browser/harness.js';

let site: TestSite;
let page: Page;

beforeAll(async () => {
  const worker = `${DOCUMENT_SHIM}\n${await bundleBrowserEntry(fileURLToPath(new URL('../src/worker/charts-worker.ts', import.meta.url)))}`;
  site = await openTestSite(fileURLToPath(new URL('./browser/harness.ts', import.meta.url)), {
    title: 'loader-charts worker',
    bodyStyle: 'margin:16px;background:#fff',
    bodyHtml: '<div id="app"></div>',
    define: { 'process.env.NODE_ENV': '"production"', __LC_WORKER__: JSON.stringify(worker) },
  });
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

describe('createLoaderCharts with a worker', () => {
  it('draws exactly the pixels of the main-thread charts, with the same rows, SVG and summary', async () => {
    const result = await page.evaluate(async () => {
      const { lc, container, compareImages, workerUrl } = window.harness;
      const epoch = 1_700_000_000;
      // A full 10 s window and then some, with loads: every mark kind, the axes sliding, points evicted.
      const messages = [
        ...Array.from({ length: 720 }, (_, i) => ({ time: epoch + i / 60, delta_ms: 16.7 + 4 * Math.sin(i / 20) + (i % 97 === 0 ? 30 : 0) })),
        ...Array.from({ length: 360 }, (_, i) => ({ time: epoch + i / 30, num_bytes: 65_536 * (1 + (i % 4)), load_ms: 2 + (i % 13) / 2 })),
      ].sort((a, b) => a.time - b.time);
      const options = { schedule: 'manual' as const, summaryIntervalMs: 1 };
      const onMain = lc.createLoaderCharts(container(), { ...options, worker: false });
      const inWorker = lc.createLoaderCharts(container(), { ...options, worker: workerUrl! });
      await Promise.all([onMain.ready, inWorker.ready]);
      // In batches, as a socket delivers them.
      for (let i = 0; i < messages.length; i += 100) {
        onMain.push(messages.slice(i, i + 100));
        inWorker.push(messages.slice(i, i + 100));
        await Promise.all([onMain.flush(), inWorker.flush()]);
      }
      const [mainPixels, workerPixels] = await Promise.all([onMain.toImageData(), inWorker.toImageData()]);
      const pixels = (['frameTime', 'loadTime', 'chunkSize'] as const).map((name) => ({ name, ...compareImages(mainPixels[name], workerPixels[name]) }));
      const [mainRows, workerRows] = await Promise.all([onMain.rows(), inWorker.rows()]);
      const [mainSvg, workerSvg] = await Promise.all([onMain.toSVG(), inWorker.toSVG()]);
      const statText = () =>
        [...document.querySelectorAll('.webmon-loader-charts')].map((root) => root.querySelector('[data-stat="fps"]')?.textContent);
      const result = {
        modes: [onMain.mode, inWorker.mode],
        charts: [onMain.charts !== undefined, inWorker.charts === undefined],
        pixels,
        rowsEqual: JSON.stringify(mainRows) === JSON.stringify(workerRows),
        rowCounts: [workerRows.frameTime.length, workerRows.loadTime.length, workerRows.chunkSize.length],
        svgEqual: JSON.stringify(mainSvg) === JSON.stringify(workerSvg),
        summaries: [onMain.summary(), inWorker.summary()],
        fpsText: statText(),
        canvasCss: [...document.querySelectorAll('.webmon-loader-charts')].map((root) =>
          [...root.querySelectorAll('canvas')].map((canvas) => `${canvas.getBoundingClientRect().width}x${canvas.getBoundingClientRect().height}`),
        ),
      };
      onMain.dispose();
      inWorker.dispose();
      return result;
    });
    expect(result.modes).toEqual(['main', 'worker']);
    expect(result.charts).toEqual([true, true]);
    for (const chart of result.pixels) {
      expect(chart.differing, `${chart.name} ${chart.size}`).toBe(0);
      // Not two blank canvases: the chart's marks and axes are there.
      expect(chart.inked, chart.name).toBeGreaterThan(2_000);
    }
    expect(result.rowsEqual).toBe(true);
    expect(result.rowCounts).toEqual([601, 300, 300]);
    expect(result.svgEqual).toBe(true);
    expect(result.summaries[1]).toEqual(result.summaries[0]);
    expect(result.fpsText[0]).toMatch(/^\d+\.\d$/);
    expect(result.fpsText[1]).toBe(result.fpsText[0]);
    // The placeholder canvases take the size the main-thread canvases have.
    expect(result.canvasCss[1]).toEqual(result.canvasCss[0]);
  });

  for (const worker of [false, true]) {
    it(`charts messages, summarises them, pauses and resumes (${worker ? 'worker' : 'main thread'})`, async () => {
      const result = await page.evaluate(async (worker) => {
        const { lc, container, frames, workerUrl } = window.harness;
        const element = container();
        const updates: number[] = [];
        const charts = lc.createLoaderCharts(element, {
          summaryIntervalMs: 1,
          frameBudgetMs: Infinity,
          worker: worker ? workerUrl! : false,
          onUpdate: (info) => updates.push(info.chartsUpdated),
        });
        await charts.ready;
        const epoch = 1_700_000_000;
        const second = (from: number) => [
          ...Array.from({ length: 60 }, (_, i) => ({ kind: 'frame_time' as const, data: { time: epoch + from + i / 60, delta_ms: 20 } })),
          ...Array.from({ length: 10 }, (_, i) => ({ time: epoch + from + i / 10, num_bytes: 500_000, load_ms: 4 })),
        ];
        /** Waits (up to 2 s of frames) until the charts drew something new: the worker draws on frames of its own. */
        const drawn = async (after: number) => {
          for (let i = 0; i < 120 && updates.length <= after; i += 1) await frames(1);
          await frames(2); // the summary text follows the update
        };
        const stat = (name: string) => element.querySelector(`[data-stat="${name}"]`)?.textContent;
        const counts = async () => {
          const rows = await charts.rows();
          return { frames: rows.frameTime.length, loads: rows.loadTime.length, sizes: rows.chunkSize.length };
        };
        const pixels = async () => Array.from((await charts.toImageData()).frameTime.data.slice(0, 400_000)).join();
        charts.push(second(0));
        await drawn(0);
        const first = { ...(await counts()), fps: stat('fps'), mean: stat('frame-mean'), mbps: stat('megabytes-per-second') };
        const before = await pixels();
        charts.pause();
        const updatesAtPause = updates.length;
        charts.push(second(1));
        await frames(6);
        const paused = { updates: updates.length - updatesAtPause, same: (await pixels()) === before, paused: charts.paused, flushed: await charts.flush(), fps: stat('frame-mean') };
        charts.resume();
        await drawn(updatesAtPause);
        const resumed = { ...(await counts()), changed: (await pixels()) !== before };
        charts.dispose();
        const afterDispose = { push: charts.push(second(2)), children: element.childElementCount, svg: await charts.toSVG().then(() => 'resolved', (error: { code?: string }) => error.code) };
        return { mode: charts.mode, first, paused, resumed, afterDispose };
      }, worker);
      expect(result.mode).toBe(worker ? 'worker' : 'main');
      expect(result.first).toEqual({ frames: 60, loads: 10, sizes: 10, fps: '50.0', mean: '20.0 ms', mbps: '5.00' });
      expect(result.paused).toEqual({ updates: 0, same: true, paused: true, flushed: false, fps: '20.0 ms' });
      expect(result.resumed).toEqual({ frames: 120, loads: 20, sizes: 20, changed: true });
      expect(result.afterDispose).toEqual({ push: 0, children: 0, svg: 'LOADER_CHARTS_DISPOSED' });
    });
  }

  it('keeps scrolling a live clock in the worker with no new data, and stops when paused', async () => {
    const result = await page.evaluate(async () => {
      const { lc, container, frames, workerUrl } = window.harness;
      const updates: number[] = [];
      const charts = lc.createLoaderCharts(container(), { clock: 'live', worker: workerUrl!, onUpdate: () => updates.push(performance.now()) });
      await charts.ready;
      charts.push({ time: Date.now() / 1000, delta_ms: 16 });
      await frames(30);
      const live = updates.length;
      charts.pause();
      await frames(3); // an update already under way may still land
      const atPause = updates.length;
      await frames(20);
      const whilePaused = updates.length - atPause;
      charts.dispose();
      return { mode: charts.mode, live, whilePaused };
    });
    expect(result.mode).toBe('worker');
    // One push, then an update on (nearly) every frame of the worker while the window scrolls.
    expect(result.live).toBeGreaterThan(10);
    expect(result.whilePaused).toBe(0);
  });

  it('falls back to the main thread with every message when the worker cannot start', async () => {
    const result = await page.evaluate(async () => {
      const { lc, container } = window.harness;
      const reported: string[] = [];
      const epoch = 1_700_000_000;
      const element = container();
      // No such file on this server: the script fails to load.
      const charts = lc.createLoaderCharts(element, { worker: '/no-such-worker.js', schedule: 'manual', onError: (error) => reported.push((error as { code: string }).code) });
      const modeAtStart = charts.mode;
      charts.push(Array.from({ length: 30 }, (_, i) => ({ time: epoch + i / 60, delta_ms: 16 })));
      await charts.ready;
      charts.push({ time: epoch + 1, load_ms: 3, num_bytes: 1_000 });
      await charts.flush();
      const rows = await charts.rows();
      // The default worker URL (charts-worker.js beside the module) is not served by this test page either.
      const byDefault = lc.createLoaderCharts(container(), { schedule: 'manual', onError: (error) => reported.push(`default ${(error as { code: string }).code}`) });
      await byDefault.ready;
      const result = {
        modeAtStart,
        mode: charts.mode,
        views: charts.charts?.frameTime.view?.data('points').length,
        rows: [rows.frameTime.length, rows.loadTime.length],
        roots: element.querySelectorAll('.webmon-loader-charts').length,
        canvases: element.querySelectorAll('canvas').length,
        defaultMode: byDefault.mode,
        reported,
      };
      charts.dispose();
      byDefault.dispose();
      return result;
    });
    expect(result).toEqual({
      modeAtStart: 'worker',
      mode: 'main',
      views: 30,
      rows: [30, 1],
      roots: 1,
      canvases: 3,
      defaultMode: 'main',
      reported: ['LOADER_CHARTS_WORKER_FAILED', 'default LOADER_CHARTS_WORKER_FAILED'],
    });
  });

  it('checks messages and options on the page, before anything is posted', async () => {
    const result = await page.evaluate(async () => {
      const { lc, container, workerUrl } = window.harness;
      const codeOf = (call: () => unknown) => {
        try {
          call();
          return 'none';
        } catch (error) {
          return (error as { code?: string }).code;
        }
      };
      const element = container();
      const options = [
        codeOf(() => lc.createLoaderCharts(element, { worker: workerUrl!, renderer: 'svg' })),
        codeOf(() => lc.createLoaderCharts(element, { worker: true, now: () => 0 })),
        codeOf(() => lc.createLoaderCharts(element, { worker: 3 as never })),
      ];
      const childrenAfterBadOptions = element.childElementCount;
      const charts = lc.createLoaderCharts(element, { worker: workerUrl!, schedule: 'manual' });
      await charts.ready;
      const epoch = 1_700_000_000;
      const bad = codeOf(() => charts.push([{ time: epoch, delta_ms: 16 }, { time: 'soon', delta_ms: 16 } as never]));
      const unknownSkipped = charts.push([{ kind: 'unknown', data: {} } as never, { time: epoch, delta_ms: 16 }]);
      await charts.flush();
      const rows = (await charts.rows()).frameTime.length;
      charts.dispose();
      return { options, childrenAfterBadOptions, bad, unknownSkipped, rows, supported: lc.canUseChartsWorker() };
    });
    expect(result.options).toEqual(['LOADER_CHARTS_INVALID_OPTIONS', 'LOADER_CHARTS_INVALID_OPTIONS', 'LOADER_CHARTS_INVALID_OPTIONS']);
    expect(result.childrenAfterBadOptions).toBe(0);
    expect(result.bad).toBe('LOADER_CHARTS_INVALID_MESSAGE');
    expect(result.unknownSkipped).toBe(1);
    expect(result.rows).toBe(1);
    expect(result.supported).toBe(true);
  });
});
