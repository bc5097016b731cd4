/**
 * A chart of a `latest` topic opened late starts with the window before now (protocol 1.5: the topic's
 * `replayMs` puts it in the snapshot) — and again after a new session (a replay that seeks); and a late
 * page's topic counts, which keep that snapshot apart from live values: the explorer page in real
 * Chromium, mounted by the real page host on the real relay client, against a real relay.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, type Relay } from '@webmon/relay';
import { openPage, openTestSite, type TestSite } from '@webmon/test-chromium';

let site: TestSite;
let relay: Relay;
let relayUrl: string;
let page: Page | undefined;

beforeAll(async () => {
  site = await openTestSite(fileURLToPath(new URL('./browser/host-harness.ts', import.meta.url)), { title: 'page-explorer host', bodyHtml: '<div id="app" style="width:900px;height:700px"></div>' });
  relay = createRelay({ heartbeatMs: 0, allowedOrigins: [new URL(site.url).origin], topics: [{ name: 'stats', mode: 'latest', replayMs: 60_000 }] });
  relayUrl = (await relay.listen()).url;
});

afterEach(async () => {
  await page?.close();
  page = undefined;
});

afterAll(async () => {
  await relay?.close();
  await site?.close();
});

const pointsShown = async (): Promise<number> => Number((await page!.locator('[data-points]').first().getAttribute('data-points')) ?? '0');

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('explorer topic counts', () => {
  it('a page opened late counts its snapshot apart from the values it receives live', async () => {
    // A topic of its own (the chart test below counts every value of `stats` in its window).
    relay.declareTopic({ name: 'counted', mode: 'latest', replayMs: 60_000 });
    relay.publish('counted', { value: 1 });
    relay.publish('counted', { value: 2 });
    page = await openPage(site.browser, `${site.url}#relay=${encodeURIComponent(relayUrl)}`, 'hostHarness');
    const card = page.locator('[data-topic="counted"]');
    const counts = async () => [await card.getAttribute('data-count'), await card.getAttribute('data-snapshot')];
    // The values published before it opened arrive as its snapshot (it keeps a minute: both of them).
    await eventually(async () => (await counts()).join() === '0,2', 'the snapshot counted apart');
    expect(await card.locator('.wx-topic-meta').textContent()).toContain('0 received · 2 in snapshot');
    relay.publish('counted', { value: 3 });
    await eventually(async () => (await counts()).join() === '1,2', 'a live value counted as received');
    expect(await card.locator('.wx-topic-meta').textContent()).toContain('1 received · 2 in snapshot');
  });
});

describe('explorer charts of a latest topic with history', () => {
  it('a page opened late charts the last minute at once; after a new session, the new session’s minute', async () => {
    const now = Date.now();
    // 50 values over the last 50 s (and two older than the window, which the snapshot leaves out).
    for (const age of [90_000, 70_000]) relay.publish('stats', { value: -1 }, { time: now - age });
    for (let index = 0; index < 50; index += 1) relay.publish('stats', { value: index }, { time: now - 50_000 + index * 1_000 });
    page = await openPage(site.browser, `${site.url}#relay=${encodeURIComponent(relayUrl)}&chart=stats~value`, 'hostHarness');
    await eventually(async () => (await pointsShown()) === 50, 'the 50 values of the window in the chart');

    // A seek: a new session on the open connection, with 10 values before the new cursor.
    relay.restartSession();
    const later = Date.now();
    for (let index = 0; index < 10; index += 1) relay.publish('stats', { value: 100 + index }, { time: later - 10_000 + index * 1_000 });
    await eventually(async () => (await pointsShown()) === 10, 'the chart of the new session (remounted: the old points gone)');
    relay.publish('stats', { value: 200 });
    await eventually(async () => (await pointsShown()) === 11, 'a live value after it');
    expect(await page.locator('[data-role="explorer"]').count()).toBe(1);
  });
});
