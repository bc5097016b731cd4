/** Files from disk: the shell's assets and the page modules' directories. */
import { createReadStream, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { SECURITY_HEADERS, sendText } from './responses.js';

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

/** Serves a file strictly inside `root` with a known extension; everything else is a 404. */
export function sendFile(response: ServerResponse, root: string, relative: string, headOnly: boolean): void {
  const type = CONTENT_TYPES[extname(relative).toLowerCase()];
  const file = normalize(join(root, relative));
  if (type === undefined || relative.includes('\0') || !file.startsWith(normalize(root) + sep)) {
    sendText(response, 404, 'not found\n');
    return;
  }
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch {
    sendText(response, 404, 'not found\n');
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
