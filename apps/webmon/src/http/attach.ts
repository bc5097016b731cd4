/**
 * The attach hand-over between two webmons. With `--stay`, a webmon that lost its napari keeps
 * serving; when napari restarts it launches a new webmon, which finds the port taken and hands napari's
 * new manager port to the old one (`POST /api/attach`), then exits.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { isLoopbackAddress } from '@webmon/relay';
import { readSmallBody } from './request-checks.js';
import { sendJson, sendText } from './responses.js';

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

/**
 * The receiving side. Only another local webmon may call it: loopback peer, no Origin (a browser
 * always sends one, so no web page can forge it), a custom header (which a cross-site form cannot
 * set), a small JSON body. `onAttach` returns false when this webmon is busy with a napari.
 */
export function handleAttach(request: IncomingMessage, response: ServerResponse, onAttach: ((port: number) => boolean) | undefined): void {
  if (!onAttach || !isLoopbackAddress(request.socket.remoteAddress) || request.headers.origin !== undefined || request.headers[ATTACH_HEADER] !== '1') {
    sendText(response, 403, 'attach refused\n');
    return;
  }
  readSmallBody(request, 1024, (body) => {
    let port: unknown;
    try {
      port = (JSON.parse(body) as { port?: unknown }).port;
    } catch {
      port = undefined;
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      sendText(response, 400, 'expected {"port": 1-65535}\n');
      return;
    }
    if (onAttach(port)) sendJson(response, { attached: true });
    else sendText(response, 409, 'already connected to a napari\n');
  });
}
