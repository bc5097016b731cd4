import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChromiumNotFoundError, QuietPageError, chromiumExecutablePath, launchChromium, openBenchPage, openPage, openQuietPage, openTestSite, servePage, type PageServer, type TestSite } from '../src/index.js';

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

describe('launchChromium({ gpuCompositing })', () => {
  it('composites in the GPU process (SwiftShader) with it, in software without it, and has WebGL2 either way', async () => {
    for (const gpuCompositing of [false, true]) {
      const browser = await launchChromium({ gpuCompositing });
      try {
        const cdp = await browser.newBrowserCDPSession();
        const { gpu } = (await cdp.send('SystemInfo.getInfo')) as { gpu: { featureStatus: Record<string, string> } };
        expect(gpu.featureStatus['gpu_compositing']).toBe(gpuCompositing ? 'enabled' : 'disabled_software');
        const page = await browser.newPage();
        expect(await page.evaluate(() => document.createElement('canvas').getContext('webgl2') !== null)).toBe(true);
      } finally {
        await browser.close();
      }
    }
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

/** A page server for `script` and a browser of its own, both closed after `body` (whatever it did to them). */
async function onSite(script: string, options: Parameters<typeof servePage>[1], body: (server: PageServer, browser: Browser) => Promise<void>): Promise<void> {
  const server = await servePage(script, options);
  const browser = await launchChromium();
  try {
    await body(server, browser);
  } finally {
    await browser.close();
    await server.close();
  }
}

describe('openQuietPage', () => {
  it('runs the page outside playwright (no playwright page, so no network instrumentation) and evaluates in it', async () => {
    await onSite('window.quietReady = location.pathname; window.twice = (n) => n * 2;', { title: 'quiet' }, async (server, browser) => {
      const page = await openQuietPage(browser, server.url, { viewport: { width: 640, height: 360 } });
      await page.waitFor('window.quietReady === "/"', { timeoutMs: 10_000 });
      expect(await page.evaluate<string>('document.title')).toBe('quiet');
      expect(await page.evaluate<number[]>('[innerWidth, innerHeight]')).toEqual([640, 360]);
      // A second quiet page does not hide the first (each has a window of its own, and focus).
      const second = await openQuietPage(browser, server.url);
      await second.waitFor('window.quietReady === "/"', { timeoutMs: 10_000 });
      for (const each of [page, second]) expect(await each.evaluate<string>('document.visibilityState + " " + document.hasFocus()')).toBe('visible true');
      await second.close();
      expect(await page.evaluate<number>('Promise.resolve(twice(21))')).toBe(42);
      // Playwright opened no page for it: its Network domain (every WebSocket frame, base64) is never enabled there.
      expect(browser.contexts().flatMap((context) => context.pages())).toHaveLength(0);
      await page.send('Emulation.setCPUThrottlingRate', { rate: 2 });
      await page.close();
      // Its connections went with it (a browser context of its own): the server closes without waiting for
      // them (`server.close()` alone, not the page server's `close`, which drops them first).
      let timer: NodeJS.Timeout | undefined;
      const closedInTime = await Promise.race([
        new Promise<boolean>((resolve) => server.server.close(() => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000))),
      ]);
      clearTimeout(timer);
      expect(closedInTime).toBe(true);
    });
  });

  it('gives typed errors: a throw in the page, a bad command, a wait that times out, a command never answered, a closed page', async () => {
    await onSite('window.ready = true;', {}, async (server, browser) => {
      const page = await openQuietPage(browser, server.url, { commandTimeoutMs: 2_000 });
      await page.waitFor('window.ready === true');
      const thrown = await page.evaluate('(() => { throw new Error("boom in quiet page"); })()').catch((caught: unknown) => caught);
      expect(thrown).toBeInstanceOf(QuietPageError);
      expect((thrown as QuietPageError).code).toBe('QUIET_PAGE_FAILED');
      expect((thrown as Error).message).toContain('boom in quiet page');
      await expect(page.send('No.suchMethod')).rejects.toThrow(/No\.suchMethod/);
      await expect(page.waitFor('window.never === 1', { timeoutMs: 300, pollMs: 50 })).rejects.toThrow(/waited 300 ms for `window.never === 1` \(last: false\)/);
      // A promise the page never settles: the command is given up, and the page still answers the next.
      const hung = await page.evaluate('new Promise(() => {})').catch((caught: unknown) => caught);
      expect(hung).toBeInstanceOf(QuietPageError);
      expect((hung as Error).message).toBe('quiet page: Runtime.evaluate: no answer in 2000 ms');
      expect(await page.evaluate('6 * 7')).toBe(42);
      await page.close();
      await expect(page.evaluate('1')).rejects.toThrow(/closed/);
    });
  });

  it('openBenchPage: the same interface on a quiet page or, watched, on a playwright page; its init script runs before the page\'s', async () => {
    await onSite('window.answer = { n: 42, early: window.early };', {}, async (server, browser) => {
      for (const watched of [false, true]) {
        const page = await openBenchPage(browser, server.url, { watched, viewport: { width: 500, height: 300 }, initScript: 'window.early = "before the page";' });
        await page.waitFor(() => (window as unknown as { answer?: unknown }).answer !== undefined, { timeoutMs: 10_000 });
        expect(await page.evaluate(() => (window as unknown as { answer: { n: number } }).answer)).toEqual({ n: 42, early: 'before the page' });
        expect(await page.evaluate('innerWidth')).toBe(500);
        expect(await page.send('Runtime.evaluate', { expression: '6 * 7', returnByValue: true })).toMatchObject({ result: { value: 42 } });
        expect(browser.contexts().flatMap((context) => context.pages())).toHaveLength(watched ? 1 : 0);
        await page.close();
      }
    });
  });
});
