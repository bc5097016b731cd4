/**
 * Shared by the browser tests, the benchmark and the screenshot script: bundle a page script with
 * esbuild, serve it from a loopback server on port 0 and open it in Debian's Chromium (never a
 * downloaded browser).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    minify: false,
    sourcemap: false,
    logLevel: 'error',
    // Vega's packages probe `process.env` in a few places; a browser has none.
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `/` (a page loading `/page.js` as a module) and `/page.js` on 127.0.0.1, port 0. */
export async function servePage(script: string, bodyHtml = '<div id="app"></div>'): Promise<PageServer> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>loader-charts</title></head>
<body style="margin:16px;background:#fff">${bodyHtml}<script type="module" src="/page.js"></script></body></html>`;
  const server: Server = createServer((request, response) => {
    if (request.url === '/' || request.url === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (request.url === '/page.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.WEBMON_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Opens the served page and waits until the page script has set `window.<readyFlag>`. */
export async function openPage(browser: Browser, url: string, readyFlag: string, viewport = { width: 900, height: 700 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  try {
    await page.waitForFunction((flag) => (window as unknown as Record<string, unknown>)[flag] !== undefined, readyFlag, { timeout: 30_000 });
  } catch (error) {
    throw new Error(`page did not become ready: ${errors.join('; ') || String(error)}`);
  }
  return page;
}
