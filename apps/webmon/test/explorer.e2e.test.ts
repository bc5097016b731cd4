/**
 * /explorer in real Chromium against the real simulator (CPython) in both napari modes at once: one
 * webmon attached with `--connect` to a napari-0.4 simulator (octree `poll`, `frame_time`, `load_chunk`,
 * an image ring) under `napari`, and to a napari-≥0.5 simulator (empty polls, `frame_time`, an image, and
 * plugin data that starts mid-run) under `n05`. Two sources let one of them go away while webmon keeps
 * serving the other: that source must be greyed, not dropped. Also writes docs/explorer.png.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explorerCount, explorerTopic, explorerValue } from './explorer-page.js';
import { APP_DIR, PYTHON, SIMULATOR, launchChromium, startProcess, startWebmon, type Proc } from './helpers.js';
import { canvasPixels } from './pixels.js';

/** Long enough for Chromium to start and /explorer to open before the plugin does. */
const PLUGIN_AFTER_S = 25;

let old: Proc;
let recent: Proc;
let webmon: Proc;
let url: string;
let browser: Browser;
let page: Page;

async function startSimulator(napari: '0.4' | '0.5', extra: string[] = []): Promise<{ proc: Proc; port: number }> {
  const proc = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--watch-stdin', '--napari', napari, '--image-hz', '10', '--image-size', '128', ...extra]);
  const port = Number((await proc.waitFor(/napari simulator: manager port (\d+)/, 60_000))[1]);
  return { proc, port };
}

const topic = (name: string) => explorerTopic(page, name);
const count = (name: string) => explorerCount(page, name);
const number = (name: string, path: string) => explorerValue(page, name, path);

beforeAll(async () => {
  const [a, b] = await Promise.all([startSimulator('0.4'), startSimulator('0.5', ['--plugin-after', String(PLUGIN_AFTER_S)])]);
  old = a.proc;
  recent = b.proc;
  ({ proc: webmon, url } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${a.port}`, '--connect', `n05=127.0.0.1:${b.port}`]));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await webmon?.stop();
  await old?.stop();
  await recent?.stop();
});

describe('/explorer on both napari modes, in Chromium', () => {
  it('is in the navigation and shows every topic of both sources with its values: trees, streams with counts, images', async () => {
    expect(webmon.output()).toMatch(/pages: [^)\n]*\/explorer/);
    await page.goto(url);
    await page.getByRole('link', { name: 'Explorer' }).first().click();
    await page.waitForURL(/\/explorer$/);
    // Marks this document: a reload would drop it (topics that appear later must come without one).
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
    for (const name of ['napari.layers', 'napari.info', 'napari.frame_time', 'napari.load_chunk', 'napari.image', 'n05.layers', 'n05.info', 'n05.frame_time', 'n05.image']) {
      await expect.poll(() => count(name), { timeout: 60_000, message: name }).toBeGreaterThan(0);
    }
    // napari 0.4's poll as a tree: the layer's keys listed under the root, its tile list countable.
    await expect.poll(async () => topic('napari.layers').locator('.json-node').count(), { timeout: 30_000 }).toBeGreaterThan(2);
    expect(await topic('napari.layers').getAttribute('data-mode')).toBe('latest');
    // Streams: their newest message as a tree, and the last messages listed newest first.
    for (const name of ['napari.frame_time', 'napari.load_chunk', 'n05.frame_time']) {
      expect(await topic(name).getAttribute('data-mode')).toBe('stream');
      await expect.poll(async () => topic(name).locator('[data-role="messages"] li').count(), { timeout: 30_000 }).toBeGreaterThan(3);
      const seqs = (await topic(name).locator('[data-role="messages"] li[data-kind="message"]').evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset['seq']))));
      expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    }
    await expect.poll(() => number('napari.frame_time', 'delta_ms').count(), { timeout: 30_000 }).toBe(1);
    // The images: drawn, not blank, at most the size of their canvas.
    for (const name of ['napari.image', 'n05.image']) {
      await expect.poll(async () => Number(await topic(name).locator('[data-role="image"]').getAttribute('data-drawn')), { timeout: 60_000, message: name }).toBeGreaterThan(1);
      const shot = await canvasPixels(page, `[data-topic="${name}"] canvas`);
      expect(shot.lit, name).toBeGreaterThan(0.2);
      expect(shot.colours, name).toBeGreaterThan(20);
    }
    // Sources: both live.
    expect(await page.locator('[data-source="napari"]').getAttribute('data-state')).toBe('connected');
    expect(await page.locator('[data-source="n05"]').getAttribute('data-state')).toBe('connected');
  });

  it('holds a closed image card\'s newest frame until it is opened: nothing more comes meanwhile, and it is drawn on opening', async () => {
    // Its frames are borrowed (their buffers go back to the bulk worker once shown): the one a closed card
    // has yet to show must stay, and so must its acknowledgement, or it would be gone by the time the card opens.
    const card = topic('n05.image');
    const drawn = async (): Promise<number> => Number(await card.locator('[data-role="image"]').getAttribute('data-drawn'));
    await expect.poll(drawn, { timeout: 30_000 }).toBeGreaterThan(1);
    await card.locator('summary').first().click();
    expect(await card.evaluate((element) => (element as HTMLDetailsElement).open)).toBe(false);
    const closedAt = await count('n05.image');
    // 10 frames a second are published meanwhile; the card holds one, so at most one more arrives.
    await page.waitForTimeout(1500);
    const whileClosed = await count('n05.image');
    expect(whileClosed - closedAt).toBeLessThanOrEqual(1);
    // Its header says why its count stopped.
    expect(await card.getAttribute('data-paused')).toBe('true');
    expect(await card.locator('.wx-topic-meta').textContent()).toContain('paused while closed');
    const drawnClosed = await drawn();
    await card.locator('summary').first().click();
    await expect.poll(drawn, { timeout: 10_000 }).toBeGreaterThan(drawnClosed);
    expect(await card.getAttribute('data-paused')).toBe('false');
    expect(await card.locator('.wx-topic-meta').textContent()).not.toContain('paused');
    await expect.poll(() => count('n05.image'), { timeout: 10_000 }).toBeGreaterThan(whileClosed + 3);
    const shot = await canvasPixels(page, '[data-topic="n05.image"] canvas');
    expect(shot.lit).toBeGreaterThan(0.2);
    expect(await card.locator('.wx-image-box').isHidden()).toBe(false);
  });

  it('keeps a node the user closed closed while its value keeps changing', async () => {
    const root = topic('napari.frame_time').locator('.json-node[data-path=""]').first();
    await root.locator(':scope > .json-line > .json-toggle').click();
    expect(await root.getAttribute('data-open')).toBe('false');
    const before = await count('napari.frame_time');
    await expect.poll(() => count('napari.frame_time')).toBeGreaterThan(before + 30);
    expect(await root.getAttribute('data-open')).toBe('false');
    expect(await number('napari.frame_time', 'delta_ms').count()).toBe(0);
    await root.locator(':scope > .json-line > .json-toggle').click();
    await expect.poll(() => number('napari.frame_time', 'delta_ms').count()).toBe(1);
  });

  it('charts frame_time.delta_ms when it is clicked, and keeps the chart in the URL', async () => {
    await number('napari.frame_time', 'delta_ms').click();
    const chart = page.locator('[data-role="charts"] .wx-chart').first();
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(30);
    expect(new URL(page.url()).search).toBe('?chart=napari.frame_time~delta_ms');
    expect(await chart.locator('[data-field]').textContent()).toContain('napari.frame_time.delta_ms');
    const plot = await canvasPixels(page, '[data-role="charts"] .wx-chart-plot canvas');
    expect(plot.colours).toBeGreaterThan(3);
  });

  it('shows plugin data that appears mid-run without a reload, and charts two of its fields in one chart and one in another', async () => {
    await recent.waitFor(/plugin data started/, 90_000);
    await expect.poll(() => count('n05.data.my_plugin'), { timeout: 90_000 }).toBeGreaterThan(0);
    await expect.poll(() => count('n05.message.my_event'), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    // A second field into chart 1 (the target chooser), a third into a chart of its own.
    await page.locator('[data-role="chart-target"]').selectOption('0');
    await number('n05.message.my_event', 'count').click();
    await page.locator('[data-role="chart-target"]').selectOption('new');
    // `stats` is one level down, small: open by itself.
    await expect.poll(() => number('n05.data.my_plugin', 'stats.mean').count(), { timeout: 30_000 }).toBe(1);
    await number('n05.data.my_plugin', 'stats.mean').click();
    await expect.poll(() => page.locator('[data-role="charts"]').getAttribute('data-charts')).toBe('2');
    expect(new URL(page.url()).search).toBe('?chart=napari.frame_time~delta_ms,n05.message.my_event~count&chart=n05.data.my_plugin~stats.mean');
    const charts = page.locator('[data-role="charts"] .wx-chart');
    for (const i of [0, 1]) await expect.poll(async () => Number(await charts.nth(i).getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(3);
    // For the README: both modes' topics, trees, streams, images and two charts.
    await page.setViewportSize({ width: 1400, height: 1500 });
    await page.waitForTimeout(1_000);
    await page.screenshot({ path: join(APP_DIR, 'docs', 'explorer.png') });
    await page.setViewportSize({ width: 1400, height: 1000 });
  });

  it('restores the same charts, with points, on reload', async () => {
    const search = new URL(page.url()).search;
    await page.reload();
    expect(new URL(page.url()).search).toBe(search);
    const charts = page.locator('[data-role="charts"] .wx-chart');
    await expect.poll(() => charts.count(), { timeout: 30_000 }).toBe(2);
    expect(await charts.nth(0).locator('[data-field]').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset['field']))).toEqual([
      'napari.frame_time~delta_ms',
      'n05.message.my_event~count',
    ]);
    // The streams' replay window brings their recent history at once; the rest comes live.
    for (const i of [0, 1]) await expect.poll(async () => Number(await charts.nth(i).getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(3);
  });

  it('greys a source that goes away and keeps its topics, while the other stays live', async () => {
    await recent.stop();
    const source = page.locator('[data-source="n05"]');
    await expect.poll(() => source.getAttribute('data-state'), { timeout: 60_000 }).toBe('gone');
    // webmon's log says it serves the other source on, not that it exits.
    await webmon.waitFor(/\(n05\)[^\n]*; serving the other sources on/, 30_000);
    expect(webmon.output()).not.toMatch(/; exiting/);
    // Its topics stay, with their last values (the bridge may keep them declared: the source's status says it is gone).
    expect(await count('n05.frame_time')).toBeGreaterThan(0);
    expect(await number('n05.frame_time', 'delta_ms').count()).toBe(1);
    expect(await source.evaluate((element) => Number(getComputedStyle(element).opacity))).toBeLessThan(0.8);
    expect(await page.locator('[data-source="napari"]').getAttribute('data-state')).toBe('connected');
    const before = await count('napari.frame_time');
    await expect.poll(() => count('napari.frame_time')).toBeGreaterThan(before);
  });
});
