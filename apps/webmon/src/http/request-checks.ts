/**
 * What the small POST endpoints (session, recording, attach, source attach) check and read alike: one
 * same-origin rule, and one bounded body reader, so the limits are the same code everywhere.
 */
import type { IncomingMessage } from 'node:http';

/** A browser's POST always carries Origin; it must name the server the request went to (its Host). */
export function isSameOrigin(request: IncomingMessage): boolean {
  const { origin, host } = request.headers;
  if (origin === undefined || host === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Reads a small text body and hands it to `onBody` when complete. A body longer than `maxChars` destroys
 * the request (no answer: the caller is not a client of ours), so nobody makes webmon buffer megabytes.
 */
export function readSmallBody(request: IncomingMessage, maxChars: number, onBody: (body: string) => void): void {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => {
    body += chunk;
    if (body.length > maxChars) request.destroy();
  });
  request.on('end', () => onBody(body));
}
