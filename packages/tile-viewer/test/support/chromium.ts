/**
 * Real Chromium for tests and the benchmark: bundle a browser entry with esbuild into a temp dir, serve it from
 * a loopback `node:http` server on port 0, and drive Debian's chromium with playwright-core (never a
 * downloaded browser).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

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

export interface TestSite {
  browser: Browser;
  /** URL of the page that loads the bundled entry. */
  url: string;
  close(): Promise<void>;
}

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>tile-viewer</title></head>
<body style="margin:0;background:#fff"><script type="module" src="/entry.js"></script></body></html>`;

/** Bundles `entry`, serves it and launches chromium. Call `close()` in `afterAll`. */
export async function openTestSite(entry: string): Promise<TestSite> {
  const dir = await mkdtemp(join(tmpdir(), 'tile-viewer-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'entry.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      sourcemap: 'inline',
      logLevel: 'error',
    });
    const script = await readFile(join(dir, 'entry.js'));
    server = createServer((request, response) => {
      if (request.url === '/' || request.url === '/index.html') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
      } else if (request.url === '/entry.js') {
        response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
      } else {
        response.writeHead(404).end();
      }
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(0, '127.0.0.1', () => resolve());
    });
    browser = await chromium.launch({
      executablePath: process.env['WEBMON_CHROMIUM'] ?? '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (error) {
    await browser?.close();
    server?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const openServer = server;
  const openBrowser = browser;
  const { port } = openServer.address() as AddressInfo;
  return {
    browser: openBrowser,
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await openBrowser.close();
      openServer.closeAllConnections();
      await new Promise<void>((resolve) => openServer.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
