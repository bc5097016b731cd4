import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChromiumNotFoundError, chromiumExecutablePath, launchChromium, openPage, openTestSite, servePage, type TestSite } from '../src/index.js';

const ENTRY = fileURLToPath(new URL('./fixtures/entry.ts', import.meta.url));

describe('openTestSite', () => {
  let site: TestSite;
  let page: Page;

  beforeAll(async () => {
    site = await openTestSite(ENTRY, { title: 'probe', bodyHtml: '<div id="app"></div>' });
    page = await openPage(site.browser, site.url, 'entryReady');
  });

  afterAll(async () => {
    await page?.close();
    await site?.close();
  });

  it('runs the bundled entry, imports included, in headless Chromium', async () => {
    expect(await page.title()).toBe('probe');
    expect(await page.locator('#app').textContent()).toBe('hello from chromium');
    expect(await page.evaluate(() => (window as unknown as { entryReady: string }).entryReady)).toMatch(/HeadlessChrome|Chrome/);
  });

  it('has WebGL2 (SwiftShader)', async () => {
    expect(await page.evaluate(() => document.createElement('canvas').getContext('webgl2') !== null)).toBe(true);
  });

  it('serves on loopback and answers 404 for anything but the page and its script', async () => {
    expect(site.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await fetch(new URL('/page.js', site.url))).status).toBe(200);
    expect((await fetch(new URL('/other.js', site.url))).status).toBe(404);
  });
});

describe('failures', () => {
  it('names the missing binary', async () => {
    const missing = '/nonexistent/chromium-for-test';
    const error = await launchChromium({ executablePath: missing }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChromiumNotFoundError);
    expect((error as ChromiumNotFoundError).code).toBe('CHROMIUM_NOT_FOUND');
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toContain('WEBMON_CHROMIUM');
  });

  it('reports page errors when the ready flag never comes', async () => {
    const server = await servePage('throw new Error("boom in page")');
    const browser = await launchChromium();
    try {
      await expect(openPage(browser, server.url, 'neverSet', undefined, 2_000)).rejects.toThrow(/neverSet: .*boom in page/);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('serves more scripts beside the page: a module worker loaded from import.meta.url', async () => {
    const page = `const worker = new Worker(new URL('./echo-worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (event) => { window.echoed = event.data; };
worker.postMessage('ping');`;
    const server = await servePage(page, { scripts: { '/echo-worker.js': 'self.onmessage = (event) => self.postMessage(event.data + " pong");' } });
    const browser = await launchChromium();
    try {
      const opened = await openPage(browser, server.url, 'echoed');
      expect(await opened.evaluate(() => (window as unknown as { echoed: string }).echoed)).toBe('ping pong');
      // Nothing else is served.
      expect(await opened.evaluate(async () => (await fetch('/other.js')).status)).toBe(404);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('prefers WEBMON_CHROMIUM when set', () => {
    const saved = process.env['WEBMON_CHROMIUM'];
    try {
      process.env['WEBMON_CHROMIUM'] = '/opt/some/chromium';
      expect(chromiumExecutablePath()).toBe('/opt/some/chromium');
      process.env['WEBMON_CHROMIUM'] = '';
      expect(chromiumExecutablePath()).toBe('/usr/bin/chromium');
    } finally {
      if (saved === undefined) delete process.env['WEBMON_CHROMIUM'];
      else process.env['WEBMON_CHROMIUM'] = saved;
    }
  });
});
