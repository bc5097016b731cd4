/**
 * `POST /api/sources`: a program run by `webmon run` asks to be served. Its `webmon` Python module
 * started a napari-style manager and sends `{port, authkey, name, pid}`; webmon connects to it as a new
 * source and answers `{prefix, url}`.
 *
 * Only that run's programs may call it: a loopback peer, no `Origin` (browsers always send one, so no
 * web page can), and the run's secret in `x-webmon-run-token` (random per run, handed to the program
 * in its environment, compared in constant time). Anyone else gets 403 without learning more.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackAddress, tokensEqual } from '@webmon/relay';
import { readSmallBody } from './request-checks.js';
import { sendJson, sendText } from './responses.js';

export const SOURCES_PATH = '/api/sources';
export const RUN_TOKEN_HEADER = 'x-webmon-run-token';
/** Largest request body: four short fields. */
const MAX_BODY_BYTES = 4096;

export interface SourceAttachRequest {
  port: number;
  authkey: string;
  name: string;
  pid: number | undefined;
}

export interface SourceAttachHandler {
  /** The run's secret. */
  token: string;
  /** Connects to the program's manager; resolves with the prefix its topics go under and the page URL. */
  attach: (request: SourceAttachRequest) => Promise<{ prefix: string; url: string }>;
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export function handleSourceAttach(request: IncomingMessage, response: ServerResponse, handler: SourceAttachHandler | undefined): void {
  const given = request.headers[RUN_TOKEN_HEADER];
  if (!handler || !isLoopbackAddress(request.socket.remoteAddress) || request.headers.origin !== undefined || typeof given !== 'string' || !tokensEqual(given, handler.token)) {
    request.resume();
    sendText(response, 403, 'attach refused\n');
    return;
  }
  readSmallBody(request, MAX_BODY_BYTES, (body) => {
    const parsed = parseBody(body);
    if (typeof parsed === 'string') {
      sendText(response, 400, `${parsed}\n`);
      return;
    }
    handler.attach(parsed).then(
      (answer) => sendJson(response, answer),
      (error: unknown) => sendText(response, 502, `cannot connect to the program's manager: ${(error as Error).message}\n`),
    );
  });
}

/** The request, or why not. Checked field by field: it comes from another process. */
function parseBody(body: string): SourceAttachRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'expected JSON';
  }
  if (typeof value !== 'object' || value === null) return 'expected a JSON object';
  const { port, authkey, name, pid } = value as Record<string, unknown>;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return 'port must be 1-65535';
  if (typeof authkey !== 'string' || authkey.length < 1 || authkey.length > 256) return 'authkey must be a string of 1-256 characters';
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) return 'name must be a letter, then letters, digits, _ or - (at most 32)';
  if (pid !== undefined && (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1)) return 'pid must be a positive integer';
  return { port, authkey, name, pid };
}
