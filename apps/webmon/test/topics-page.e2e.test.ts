/**
 * The /topics page's counts, in Chromium, against a real `webmon replay` of a small recording made here
 * (`recordings.ts`), so the history a page gets is known exactly: "N received" counts the values that arrived
 * live since the page subscribed, and the snapshot a late page gets (a stream's window, a JSON `latest`
 * topic's last minute) is shown apart, "· M in snapshot" — not added to what was received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, launchChromium, startWebmon, stopAfterEach } from './helpers.js';
import { recordTicks } from './recordings.js';

/** Values recorded on each topic. */
const VALUES = 40;

const track = stopAfterEach();
let dir: string;
let file: string;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webmon-topics-page-'));
  file = join(dir, 'ticks.mcap');
  await recordTicks(file, VALUES, 20);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Counts {
  received: number;
  snapshot: number;
  head: string;
}

const counts = (page: Page, topic: string): Promise<Counts> =>
  page.locator(`[data-topic="${topic}"]`).evaluate((row) => ({
    received: Number((row as HTMLElement).dataset['count']),
    snapshot: Number((row as HTMLElement).dataset['snapshot']),
    head: row.firstElementChild?.textContent ?? '',
  }));

const replayState = async (url: string): Promise<{ state: string; start: number; end: number }> => ((await getJson(`${url}api/status`)) as { replay: { state: string; start: number; end: number } }).replay;

describe('/topics, in Chromium', () => {
  it('counts live values as received and shows a late joiner\'s snapshot apart', async () => {
    const { proc, url } = await startWebmon(['replay', file, '--port', '0']);
    track(proc);
    // Paused at the end of the recording before any page (a control before the first page stands): a page
    // opened now gets every value as its snapshot, and nothing live.
    const { end } = await replayState(url);
    const seek = await fetch(`${url}api/replay`, { method: 'POST', headers: { origin: url.replace(/\/$/, ''), 'content-type': 'application/json' }, body: JSON.stringify({ action: 'seek', cursor: end }) });
    expect(seek.status).toBe(204);
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      await page.goto(`${url}topics`);
      for (const topic of ['demo.ticks', 'demo.stats']) {
        await expect.poll(async () => (await counts(page, topic)).snapshot, { timeout: 30_000 }).toBe(VALUES);
        const late = await counts(page, topic);
        expect(late.received, topic).toBe(0);
        expect(late.head, topic).toContain(`0 received · ${VALUES} in snapshot`);
      }
      await page.waitForTimeout(500);
      expect((await counts(page, 'demo.stats')).received, 'still nothing live while paused').toBe(0);

      // Back to the start (a new session: the page is mounted again with the snapshot there, the first tick),
      // then played: the rest arrives live — each value counted once, in one place or the other.
      const control = (action: Record<string, unknown>): Promise<number> =>
        page.evaluate(async (body) => (await fetch('/api/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status, action);
      const { start } = await replayState(url);
      expect(await control({ action: 'seek', cursor: start })).toBe(204);
      await expect.poll(async () => (await counts(page, 'demo.ticks')).snapshot, { timeout: 30_000 }).toBe(1);
      expect((await counts(page, 'demo.ticks')).received).toBe(0);
      expect(await control({ action: 'play' })).toBe(204);
      await expect.poll(async () => (await replayState(url)).state, { timeout: 30_000 }).toBe('ended');
      await expect.poll(async () => (await counts(page, 'demo.ticks')).received, { timeout: 10_000 }).toBe(VALUES - 1);
      const ticks = await counts(page, 'demo.ticks');
      expect(ticks.snapshot).toBe(1);
      expect(ticks.head).toContain(`${VALUES - 1} received · 1 in snapshot`);
      // A `latest` topic may skip values the page had no time for (the newest wins), never count more.
      const stats = await counts(page, 'demo.stats');
      expect(stats.received).toBeGreaterThan(0);
      expect(stats.received + stats.snapshot).toBeLessThanOrEqual(VALUES);
    } finally {
      await page.close();
    }
  });
});
