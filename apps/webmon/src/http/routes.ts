/**
 * Routing: which request gets which answer. The pages (server-rendered shell), their modules under
 * `/pages/<id>/`, the shell's assets, a small JSON API and the attach hand-over; the relay's WebSocket
 * upgrades at `WS_PATH` never reach this handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostAllowed, isLoopbackHostName, requestTarget, type Relay } from '@webmon/relay';
import type { FlightRecorder } from '@webmon/recorder';
import type { PageEntry } from '../pages.js';
import { allowedHostNames, hostNamed } from './allowed-hosts.js';
import { ATTACH_PATH, handleAttach } from './attach.js';
import { SOURCES_PATH, handleSourceAttach, type SourceAttachHandler } from './attach-source.js';
import { RECORDING_PATH, handleRecording } from './recording.js';
import { REPLAY_PATH, handleReplay, type ReplayControl } from './replay.js';
import { SECURITY_HEADERS, send, sendHtml, sendJson, sendText } from './responses.js';
import { AUTHORIZE_SCRIPT_PATH, SESSION_PATH, renderAuthorize, sendAuthorizeScript, type SessionGate } from './session.js';
import { sendFile } from './static-files.js';
import { hostManifest, renderNotFound, renderShell, type SiteView } from './templates.js';

export const WS_PATH = '/ws';

export interface WebmonRoutesOptions {
  /** The address the server listens on (a loopback server refuses other Host names: DNS rebinding). */
  host: string;
  pages: readonly PageEntry[];
  /** Directory of the shell's own files (`shell.js`, `webmon.css`), served at `/assets/`. */
  assetsDir: string;
  /** Extra fields for `/api/status` (napari state, rates). */
  status: () => Record<string, unknown>;
  /** Wording: napari or the simulator. */
  sourceLabel: string;
  /**
   * With `--stay`: a webmon that napari launched after a restart found our port taken and hands us
   * napari's new manager port (`POST /api/attach`). Returns false when we are busy with a napari.
   */
  onAttach?: (port: number) => boolean;
  /** Under `webmon run`: programs of the run attach as sources (`POST /api/sources`, `attach-source.ts`). */
  sourceAttach?: SourceAttachHandler;
  /**
   * With a token (beyond loopback): every answer but the authorisation page needs the session cookie
   * this gate sets (see `session.ts`).
   */
  session?: SessionGate;
  /** The flight recorder `POST /api/recording` saves from (none: the endpoint says it is off). */
  flightRecorder?: FlightRecorder;
  /** `webmon replay`: the replay the header timeline drives (`POST /api/replay`); none: that path is not found. */
  replay?: ReplayControl;
}

export function createRequestHandler(options: WebmonRoutesOptions, relay: Relay): (request: IncomingMessage, response: ServerResponse) => void {
  const pagesById = new Map(options.pages.map((page) => [page.id, page]));
  const site: SiteView = { pages: options.pages, sourceLabel: options.sourceLabel, ws: WS_PATH };
  const loopback = isLoopbackHostName(options.host);
  const hostNames = allowedHostNames(options.host);
  const gate = options.session;

  return (request, response) => {
    // DNS rebinding: on a loopback server, only loopback host names may be used to reach it (the
    // relay's own rule, so pages and their WebSocket agree); beyond loopback, only the configured
    // names. First, before any route: the attach hand-over too (a webmon handing over names us by a
    // loopback address, so it always passes).
    if (loopback ? !hostAllowed(request, []) : !hostNamed(request.headers.host, hostNames)) {
      sendText(response, 403, 'forbidden host\n');
      return;
    }
    const url = requestTarget(request.url);
    if (url === undefined) {
      request.resume();
      sendText(response, 400, 'bad request target\n');
      return;
    }
    if (request.method === 'POST' && request.url === ATTACH_PATH) {
      handleAttach(request, response, options.onAttach);
      return;
    }
    if (request.method === 'POST' && request.url === SOURCES_PATH) {
      handleSourceAttach(request, response, options.sourceAttach);
      return;
    }
    if (request.method === 'POST' && request.url === SESSION_PATH && gate !== undefined) {
      if (!hostNamed(request.headers.host, hostNames)) sendText(response, 403, 'forbidden host\n');
      else gate.exchange(request, response);
      return;
    }
    if (request.method === 'POST' && url.pathname === RECORDING_PATH) {
      if (gate !== undefined && !gate.admits(request)) sendText(response, 401, 'unauthorized\n');
      else handleRecording(request, response, url, options.flightRecorder);
      return;
    }
    if (request.method === 'POST' && request.url === REPLAY_PATH) {
      if (gate !== undefined && !gate.admits(request)) {
        request.resume();
        sendText(response, 401, 'unauthorized\n');
      } else handleReplay(request, response, options.replay);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendText(response, 405, 'method not allowed\n');
      return;
    }
    const path = decodeURIComponentSafe(url.pathname);
    if (path === undefined) {
      sendText(response, 400, 'bad path\n');
      return;
    }
    if (gate !== undefined && !gate.admits(request)) {
      refuseWithoutSession(request, response, path, pagesById, options.assetsDir);
      return;
    }
    if (path === '/') {
      sendHtml(response, renderShell(site, null));
      return;
    }
    if (path === '/favicon.ico') {
      response.writeHead(204, SECURITY_HEADERS).end();
      return;
    }
    if (path === '/api/status') {
      // memory: the process's own figures (external = array buffers outside the JS heap, where frames live).
      sendJson(response, { ...options.status(), clients: relay.stats().connections, sessionId: relay.sessionId, memory: process.memoryUsage() });
      return;
    }
    if (path === '/api/pages') {
      sendJson(response, hostManifest(site, null).pages);
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
      else sendText(response, 404, 'no such page\n');
      return;
    }
    const pageRoute = /^\/([a-z][a-z0-9-]*)\/?$/.exec(path);
    const page = pageRoute ? pagesById.get(pageRoute[1] ?? '') : undefined;
    if (page) {
      sendHtml(response, renderShell(site, page));
      return;
    }
    send(response, 404, 'text/html; charset=utf-8', renderNotFound(site, path));
  };
}

/**
 * Without the session cookie: the authorisation page (and its script and stylesheet) for a page's
 * address, 401 with no data for everything else — even a 404 would list the pages.
 */
function refuseWithoutSession(request: IncomingMessage, response: ServerResponse, path: string, pagesById: ReadonlyMap<string, PageEntry>, assetsDir: string): void {
  if (path === AUTHORIZE_SCRIPT_PATH) {
    sendAuthorizeScript(response);
    return;
  }
  if (path === '/assets/shell.css') {
    sendFile(response, assetsDir, 'shell.css', request.method === 'HEAD');
    return;
  }
  if (path === '/favicon.ico') {
    response.writeHead(204, SECURITY_HEADERS).end();
    return;
  }
  const pageRoute = /^\/([a-z][a-z0-9-]*)\/?$/.exec(path);
  if (path === '/' || (pageRoute !== null && pagesById.has(pageRoute[1] ?? ''))) {
    send(response, 401, 'text/html; charset=utf-8', renderAuthorize());
    return;
  }
  sendText(response, 401, 'unauthorized: open the address webmon printed (with #token=…)\n');
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
