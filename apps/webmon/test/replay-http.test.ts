/**
 * `POST /api/replay` against the real HTTP server on port 0, driving a small `ReplayControl` written here
 * (the replay driver is tested on its own): what reaches the control, and every refusal — cross-origin 403,
 * bad JSON and bad fields 400 with the typed code, no replay 404, a session needed with a token.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebmonServer, type WebmonServer } from '../src/http/server.js';
import { BAD_REPLAY_REQUEST, REPLAY_PATH, type ReplayControl } from '../src/http/replay.js';

const servers: WebmonServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A replay that records what it is asked (and can be told to fail a seek). */
class RecordingControl implements ReplayControl {
  readonly calls: unknown[][] = [];
  failSeek = false;
  play(): void {
    this.calls.push(['play']);
  }
  pause(): void {
    this.calls.push(['pause']);
  }
  async seek(cursorMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failSeek) throw new Error('the recording ends before that');
    this.calls.push(['seek', cursorMs]);
  }
  setSpeed(speed: number): void {
    this.calls.push(['speed', speed]);
  }
  async step(direction: 1 | -1): Promise<void> {
    this.calls.push(['step', direction]);
  }
}

async function start(replay: ReplayControl | undefined, token?: string): Promise<number> {
  const assetsDir = mkdtempSync(join(tmpdir(), 'webmon-replay-http-'));
  dirs.push(assetsDir);
  const server = await startWebmonServer({
    host: '127.0.0.1',
    port: 0,
    pages: [],
    assetsDir,
    sourceLabel: 'the recording',
    status: () => ({}),
    flightRecorderBytes: 0,
    relay: token === undefined ? {} : { token },
    ...(replay === undefined ? {} : { replay }),
  });
  servers.push(server);
  return server.port;
}

interface Answer {
  status: number;
  body: string;
}

function post(port: number, body: string, headers: Record<string, string> = { origin: `http://localhost:${port}` }, path = REPLAY_PATH): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { host: `localhost:${port}`, 'content-type': 'application/json', ...headers }, timeout: 10_000 });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
}

describe('POST /api/replay', () => {
  it('hands every control to the replay and answers 204 once it is done', async () => {
    const control = new RecordingControl();
    const port = await start(control);
    for (const body of [
      { action: 'play' },
      { action: 'pause' },
      { action: 'seek', cursor: 1_700_000_012_345 },
      { action: 'speed', speed: 0.25 },
      { action: 'speed', speed: 8 },
      { action: 'step', direction: -1 },
      { action: 'step', direction: 1 },
    ]) {
      const answer = await post(port, JSON.stringify(body));
      expect(answer, JSON.stringify(body)).toEqual({ status: 204, body: '' });
    }
    expect(control.calls).toEqual([['play'], ['pause'], ['seek', 1_700_000_012_345], ['speed', 0.25], ['speed', 8], ['step', -1], ['step', 1]]);
  });

  it('refuses a request without this server as its Origin (403), and calls nothing', async () => {
    const control = new RecordingControl();
    const port = await start(control);
    expect((await post(port, '{"action":"play"}', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(port, '{"action":"play"}', {})).status).toBe(403);
    expect(control.calls).toEqual([]);
  });

  it('refuses bad JSON and bad fields with 400 and the typed code, and calls nothing', async () => {
    const control = new RecordingControl();
    const port = await start(control);
    for (const [body, why] of [
      ['{"action":', 'expected JSON'],
      ['[1]', 'expected a JSON object'],
      ['{"action":"rewind"}', 'action must be one of'],
      ['{"action":"speed","speed":16}', 'speed must be a number from 0.25 to 8'],
      ['{"action":"speed","speed":0.1}', 'speed must be a number from 0.25 to 8'],
      ['{"action":"speed","speed":"2"}', 'speed must be a number'],
      ['{"action":"seek"}', 'seek needs a cursor'],
      ['{"action":"seek","cursor":-5}', 'seek needs a cursor'],
      ['{"action":"step","direction":2}', 'step needs a direction'],
    ] as const) {
      const answer = await post(port, body);
      expect(answer.status, body).toBe(400);
      expect(answer.body, body).toContain(`${BAD_REPLAY_REQUEST}: ${why}`);
    }
    expect(control.calls).toEqual([]);
  });

  it('does not wait for an oversized body: the request is cut', async () => {
    const port = await start(new RecordingControl());
    await expect(post(port, JSON.stringify({ action: 'play', pad: 'x'.repeat(100_000) }))).rejects.toThrow();
  });

  it('says 500 with the reason when the replay fails', async () => {
    const control = new RecordingControl();
    control.failSeek = true;
    const port = await start(control);
    const answer = await post(port, '{"action":"seek","cursor":5}');
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('the recording ends before that');
  });

  it('is not found when webmon does not replay', async () => {
    const port = await start(undefined);
    const answer = await post(port, '{"action":"play"}');
    expect(answer.status).toBe(404);
    expect(answer.body).toBe('not replaying a recording\n');
  });

  it('needs the session when the server has a token', async () => {
    const control = new RecordingControl();
    const port = await start(control, 'a'.repeat(32));
    expect((await post(port, '{"action":"play"}')).status).toBe(401);
    expect(control.calls).toEqual([]);
  });
});
