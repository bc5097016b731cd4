/**
 * One HTTP server for everything: the pages (server-rendered navigation, so the page list works
 * before any script runs), their modules, the shell's assets, a small JSON API, and the relay's
 * WebSocket at `/ws` (attached to the same server, so pages connect same-origin).
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { createRelay, type Relay, type RelayOptions } from '@webmon/relay';
import { WebmonError, WebmonErrorCode } from './errors.js';
import type { PageEntry } from './pages.js';

export interface WebmonServerOptions {
  host: string;
  port: number;
  pages: readonly PageEntry[];
  /** Directory of the shell's own files (`shell.js`, `webmon.css`), served at `/assets/`. */
  assetsDir: string;
  relay: Omit<RelayOptions, 'server' | 'path'>;
  /** Extra fields for `/api/status` (napari state, rates). */
  status: () => Record<string, unknown>;
  /** Wording: napari or the simulator. */
  sourceLabel: string;
  /**
   * With `--stay`: a webmon that napari launched after a restart found our port taken and hands us
   * napari's new manager port (`POST /api/attach`). Returns false when we are busy with a napari.
   */
  onAttach?: (port: number) => boolean;
}

export interface WebmonServer {
  readonly relay: Relay;
  readonly http: Server;
  /** `http://host:port/` as a browser should open it. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const WS_PATH = '/ws';
export const ATTACH_PATH = '/api/attach';
export const ATTACH_HEADER = 'x-webmon-attach';

/**
 * Asks the webmon serving `baseUrl` to take over napari's manager at `napariPort` (it must run with
 * `--stay` and be without a napari). Resolves true when it accepted.
 */
export function handOver(baseUrl: string, napariPort: number): Promise<boolean> {
  // node:http rather than fetch: its socket keeps the process alive while we wait, and a peer that is
  // not a webmon (resets, never answers) ends in `false` within the timeout.
  return new Promise((resolve) => {
    const body = JSON.stringify({ port: napariPort });
    const request = httpRequest(new URL(ATTACH_PATH, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [ATTACH_HEADER]: '1' },
      timeout: 5_000,
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(false));
    request.end(body);
  });
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

/**
 * vega compiles its expressions with `new Function` (hence 'unsafe-eval'); vega-embed and three add
 * inline styles. Everything else is this origin only; no framing.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export async function startWebmonServer(options: WebmonServerOptions): Promise<WebmonServer> {
  const pagesById = new Map(options.pages.map((page) => [page.id, page]));
  const loopback = isLoopbackHost(options.host);
  const http = createServer((request, response) => {
    try {
      handle(request, response);
    } catch (error) {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `internal error: ${(error as Error).message}\n`);
      else response.destroy();
    }
  });
  // Slow or idle clients must not hold sockets forever.
  http.headersTimeout = 20_000;
  http.requestTimeout = 30_000;
  const relay = createRelay({ ...options.relay, server: http, path: WS_PATH });

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method === 'POST' && request.url === ATTACH_PATH) {
      handleAttach(request, response);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    // DNS rebinding: on a loopback server, only loopback host names may be used to reach it.
    if (loopback && !isLoopbackHostHeader(request.headers.host)) {
      send(response, 403, 'text/plain; charset=utf-8', 'forbidden host\n');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://webmon.invalid');
    const path = decodeURIComponentSafe(url.pathname);
    if (path === undefined) {
      send(response, 400, 'text/plain; charset=utf-8', 'bad path\n');
      return;
    }
    if (path === '/') {
      sendHtml(response, renderShell(options, null));
      return;
    }
    if (path === '/favicon.ico') {
      response.writeHead(204, SECURITY_HEADERS).end();
      return;
    }
    if (path === '/api/status') {
      sendJson(response, { ...options.status(), clients: relay.stats().connections, sessionId: relay.sessionId });
      return;
    }
    if (path === '/api/pages') {
      sendJson(response, manifest(options, null).pages);
      return;
    }
    if (path.startsWith('/assets/')) {
      sendFile(response, options.assetsDir, path.slice('/assets/'.length), request.method === 'HEAD');
      return;
    }
    const pageAsset = /^\/pages\/([a-z][a-z0-9-]*)\/(.+)$/.exec(path);
    if (pageAsset) {
      const page = pagesById.get(pageAsset[1] ?? '');
      if (page) sendFile(response, page.dir, pageAsset[2] ?? '', request.method === 'HEAD');
      else send(response, 404, 'text/plain; charset=utf-8', 'no such page\n');
      return;
    }
    const pageRoute = /^\/([a-z][a-z0-9-]*)\/?$/.exec(path);
    const page = pageRoute ? pagesById.get(pageRoute[1] ?? '') : undefined;
    if (page) {
      sendHtml(response, renderShell(options, page));
      return;
    }
    send(response, 404, 'text/html; charset=utf-8', renderNotFound(options, path));
  }

  /**
   * Only another local webmon may call this: loopback peer, no Origin (a browser always sends one, so no
   * web page can forge it), a custom header (which a cross-site form cannot set), a small JSON body.
   */
  function handleAttach(request: IncomingMessage, response: ServerResponse): void {
    const onAttach = options.onAttach;
    if (!onAttach || !isLoopbackHost(request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '') || request.headers.origin !== undefined || request.headers[ATTACH_HEADER] !== '1') {
      send(response, 403, 'text/plain; charset=utf-8', 'attach refused\n');
      return;
    }
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 1024) request.destroy();
    });
    request.on('end', () => {
      let port: unknown;
      try {
        port = (JSON.parse(body) as { port?: unknown }).port;
      } catch {
        port = undefined;
      }
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        send(response, 400, 'text/plain; charset=utf-8', 'expected {"port": 1-65535}\n');
        return;
      }
      if (onAttach(port)) sendJson(response, { attached: true });
      else send(response, 409, 'text/plain; charset=utf-8', 'already connected to a napari\n');
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      http.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new WebmonError(WebmonErrorCode.PORT_IN_USE, `port ${options.port} on ${options.host} is already in use (another webmon?). Stop that program or choose another port: --port 0 picks a free one.`, { cause: error }));
      } else {
        reject(new WebmonError(WebmonErrorCode.LISTEN_FAILED, `cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error }));
      }
    };
    const onListening = (): void => {
      http.off('error', onError);
      resolve();
    };
    http.once('error', onError);
    http.once('listening', onListening);
    http.listen(options.port, options.host);
  }).catch(async (error: unknown) => {
    await relay.close().catch(() => undefined);
    throw error;
  });

  const address = http.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const urlHost = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : shownHost;
  let closing: Promise<void> | undefined;
  return {
    relay,
    http,
    port: address.port,
    url: `http://${urlHost}:${address.port}/`,
    close() {
      closing ??= (async () => {
        await relay.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

export interface ShellManifest {
  current: string | null;
  pages: { id: string; title: string; description?: string; path: string; module: string; topics: readonly string[] }[];
  ws: string;
  sourceLabel: string;
}

function manifest(options: WebmonServerOptions, current: PageEntry | null): ShellManifest {
  return {
    current: current?.id ?? null,
    pages: options.pages.map((page) => ({
      id: page.id,
      title: page.title,
      ...(page.description === undefined ? {} : { description: page.description }),
      path: `/${page.id}`,
      module: `/pages/${page.id}/${encodeURIComponent(page.moduleFile)}`,
      topics: page.topics,
    })),
    ws: WS_PATH,
    sourceLabel: options.sourceLabel,
  };
}

function renderShell(options: WebmonServerOptions, current: PageEntry | null): string {
  const data = manifest(options, current);
  const nav = data.pages
    .map((page) => `<a href="${page.path}"${page.id === data.current ? ' aria-current="page"' : ''}>${escapeHtml(page.title)}</a>`)
    .join('');
  const body =
    current === null
      ? `<section class="index"><h1>webmon</h1><p>Live views of ${escapeHtml(options.sourceLabel)}.</p><ul class="cards">${data.pages
          .map((page) => `<li><a href="${page.path}"><strong>${escapeHtml(page.title)}</strong><span>${escapeHtml(page.description ?? '')}</span></a></li>`)
          .join('')}</ul></section>`
      : '';
  // `<` escaped so no payload can close the script element early.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(current ? `${current.title} · webmon` : 'webmon')}</title>
<link rel="stylesheet" href="/assets/shell.css">
<script type="application/json" id="webmon-manifest">${json}</script>
<script type="module" src="/assets/shell.js"></script>
</head>
<body>
<header class="bar">
<a class="brand" href="/">webmon</a>
<nav id="webmon-nav" aria-label="Pages">${nav}</nav>
<output id="webmon-status" class="status" data-state="waiting" aria-live="polite">waiting for napari</output>
</header>
<main id="webmon-page" data-page="${escapeHtml(current?.id ?? '')}">${body}</main>
</body>
</html>
`;
}

function renderNotFound(options: WebmonServerOptions, path: string): string {
  const links = options.pages.map((page) => `<li><a href="/${page.id}">${escapeHtml(page.title)}</a></li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found · webmon</title><link rel="stylesheet" href="/assets/shell.css"></head><body><main class="index"><h1>Not found</h1><p>No page at ${escapeHtml(path)}. Pages:</p><ul>${links}</ul></main></body></html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

function sendHtml(response: ServerResponse, html: string): void {
  send(response, 200, 'text/html; charset=utf-8', html);
}

function sendJson(response: ServerResponse, value: unknown): void {
  send(response, 200, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

/** Serves a file strictly inside `root` with a known extension; everything else is a 404. */
function sendFile(response: ServerResponse, root: string, relative: string, headOnly: boolean): void {
  const type = CONTENT_TYPES[extname(relative).toLowerCase()];
  const file = normalize(join(root, relative));
  if (type === undefined || relative.includes('\0') || !file.startsWith(normalize(root) + sep)) {
    send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    return;
  }
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch {
    send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    return;
  }
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': size, 'cache-control': 'no-cache' });
  if (headOnly) {
    response.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return false;
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.replace(/:\d+$/, '');
  const bare = name.toLowerCase().replace(/\.$/, '');
  return isLoopbackHost(bare) || bare.endsWith('.localhost');
}
