/**
 * The HTTP server's last resort, over a real socket on port 0: a route that throws answers a bare 500 (its
 * text may name this machine's paths: it stays on this side) and the error, with the request, reaches the
 * log as one line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startWebmonServer, type WebmonServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { logInternalError } from '../src/serving.js';

const servers: WebmonServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('a route that throws answers 500 "internal error" without the error\'s text, and the log gets the request and the stack on one line', async () => {
  const assetsDir = mkdtempSync(join(tmpdir(), 'webmon-assets-'));
  dirs.push(assetsDir);
  const lines: string[] = [];
  const logger = createLogger('info', (line) => lines.push(line));
  const seen: { error: unknown; url: string | undefined }[] = [];
  const server = await startWebmonServer({
    host: '127.0.0.1',
    port: 0,
    pages: [],
    assetsDir,
    sourceLabel: 'the test',
    flightRecorderBytes: 0,
    relay: {},
    status: () => {
      throw new Error('cannot read /home/someone/secret.json');
    },
    onInternalError: (error: unknown, request: IncomingMessage) => {
      seen.push({ error, url: request.url });
      logInternalError(logger, error, request);
    },
  });
  servers.push(server);
  const response = await fetch(`${server.url}api/status`);
  expect(response.status).toBe(500);
  const body = await response.text();
  expect(body).toBe('internal error\n');
  expect(seen).toHaveLength(1);
  expect((seen[0]?.error as Error).message).toBe('cannot read /home/someone/secret.json');
  expect(seen[0]?.url).toBe('/api/status');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^webmon error: internal error answering GET \/api\/status: Error: cannot read \/home\/someone\/secret\.json\\n {4}at /);
  expect(lines[0]?.indexOf('\n')).toBe(lines[0]!.length - 1);
  // The server goes on: the next request is answered as usual.
  expect((await fetch(`${server.url}api/pages`)).status).toBe(200);
});
