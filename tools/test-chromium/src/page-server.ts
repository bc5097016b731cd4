import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { BundleError } from './errors.js';
import { launchChromium, type LaunchChromiumOptions } from './launch.js';

export interface BundleOptions {
  /** Inline source map, so a failing page's stack points at the TypeScript source. Default false. */
  sourcemap?: boolean;
  /** esbuild `define`. Default replaces `process.env.NODE_ENV` (Vega probes it; a browser has no `process`). */
  define?: Record<string, string>;
}

/** Bundles a browser entry (and everything it imports, package sources included) into one ESM script, in memory. */
export async function bundleBrowserEntry(entry: string, options: BundleOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: options.sourcemap ? 'inline' : false,
    logLevel: 'error',
    define: options.define ?? { 'process.env.NODE_ENV': '"production"' },
  });
  const file = result.outputFiles[0];
  if (!file) throw new BundleError(entry);
  return file.text;
}

export interface PageOptions {
  /** Document title. Default `test page`. */
  title?: string;
  /** Inline style of `<body>`. Default `margin:0;background:#fff`. */
  bodyStyle?: string;
  /** Markup before the script tag. Default none. */
  bodyHtml?: string;
  /** More scripts served beside `/page.js`, by path (a worker a module loads from `new URL(…, import.meta.url)`). Default none. */
  scripts?: Record<string, string>;
}

export interface PageServer {
  /** `http://127.0.0.1:<port>/`: the page that loads the script as a module. */
  url: string;
  /** The HTTP server, for a test that serves more on the same origin (a relay's WebSocket at `/ws`). */
  server: Server;
  close(): Promise<void>;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Serves `/` (a page loading `/page.js` as a module) and `/page.js` on 127.0.0.1, port 0; anything else is 404. */
export async function servePage(script: string, options: PageOptions = {}): Promise<PageServer> {
  // The empty icon keeps Chromium's favicon request (a 404, logged as a console error) away.
  const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(options.title ?? 'test page')}</title></head>
<body style="${escapeHtml(options.bodyStyle ?? 'margin:0;background:#fff')}">${options.bodyHtml ?? ''}<script type="module" src="/page.js"></script></body></html>`;
  const server: Server = createServer((request, response) => {
    if (request.url === '/' || request.url === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (request.url === '/page.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (request.url !== undefined && options.scripts && Object.hasOwn(options.scripts, request.url)) {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(options.scripts[request.url]);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        // Chromium keeps connections alive; without this `close` waits for them to time out.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestSite {
  browser: Browser;
  /** URL of the page that loads the bundled entry. */
  url: string;
  /** Closes the browser and the server. */
  close(): Promise<void>;
}

export interface OpenTestSiteOptions extends PageOptions, BundleOptions, LaunchChromiumOptions {}

/** Bundles `entry`, serves it and launches Chromium; on any failure, whatever was started is stopped again. */
export async function openTestSite(entry: string, options: OpenTestSiteOptions = {}): Promise<TestSite> {
  const script = await bundleBrowserEntry(entry, options);
  const server = await servePage(script, options);
  let browser: Browser;
  try {
    browser = await launchChromium(options);
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    browser,
    url: server.url,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * Opens `url` in a new page and waits until the page script has set `window[readyFlag]`; page errors seen
 * meanwhile go into the timeout message, since they are usually why the flag never came.
 */
export async function openPage(browser: Browser, url: string, readyFlag: string, viewport = { width: 900, height: 700 }, timeoutMs = 30_000): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  try {
    await page.waitForFunction((flag) => (window as unknown as Record<string, unknown>)[flag] !== undefined, readyFlag, { timeout: timeoutMs });
  } catch (error) {
    await page.close();
    throw new Error(`page did not set window.${readyFlag}: ${errors.join('; ') || String(error)}`);
  }
  return page;
}
