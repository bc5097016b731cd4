/**
 * The app's HTTP surface under attack, against the real command on port 0: beyond loopback nothing is
 * served without the token (exchanged for a session cookie, in real Chromium), foreign Host names are
 * refused, a flood of idle raw sockets neither locks a browser out nor lives long, and odd or hostile
 * request lines (`//`, `*`, absolute form, generated ones) get a 4xx, never a 500 or the process.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, eventually, launchChromium, startProcess, startWebmon, type Proc } from './helpers.js';
import fc from 'fast-check';
import WebSocket from 'ws';

const running: Proc[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((proc) => proc.stop()));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (node:http, so Host, Origin and Cookie are ours to set). */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host: `localhost:${port}`, ...headers }, timeout: 15_000 });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
}

describe('beyond loopback (token mode)', () => {
  let proc: Proc;
  let url: string;
  let port: number;
  let token: string;

  beforeAll(async () => {
    ({ proc, url } = await startWebmon(['--port', '0', '--host', '0.0.0.0']));
    const parsed = new URL(url);
    port = Number(parsed.port);
    token = new URLSearchParams(parsed.hash.slice(1)).get('token') ?? '';
    expect(token).not.toBe('');
  });
  afterAll(async () => {
    await proc.stop();
  });

  it('serves no page, module, source map or status without the session: 401, no data', async () => {
    const root = await get(port, '/');
    expect(root.status).toBe(401);
    expect(root.body).toContain('webmon-authorize');
    expect(root.body).not.toContain('webmon-manifest');
    expect(root.body).not.toContain('waiting for napari');
    expect(root.body).not.toMatch(/Loader|Viewer|\/pages\//);
    const page = await get(port, '/viewer');
    expect(page.status).toBe(401);
    expect(page.body).not.toContain('webmon-manifest');
    for (const path of ['/api/status', '/api/pages', '/pages/viewer/page.js', '/pages/viewer/page.js.map', '/pages/loader/charts-worker.js', '/assets/shell.js', '/assets/shell.js.map', '/no-such-page']) {
      const answer = await get(port, path);
      expect(answer.status, path).toBe(401);
      expect(answer.body, path).not.toMatch(/napari|rings|counters|viewer|sourceMappingURL|"version"/);
    }
    // A wrong cookie is no cookie.
    expect((await get(port, '/api/status', { cookie: `webmon_session_${port}=guess` })).status).toBe(401);
    // The authorisation page's own script and style are public (they hold nothing).
    expect((await get(port, '/assets/authorize.js')).status).toBe(200);
  });

  it('trades the right token for an HttpOnly, SameSite=Strict session cookie, and only the right one', async () => {
    const exchange = (value: string, headers: Record<string, string> = {}) =>
      get(port, '/api/session', { origin: `http://localhost:${port}`, 'x-webmon-session': '1', 'content-type': 'application/json', ...headers }, 'POST', JSON.stringify({ token: value }));
    expect((await exchange('x'.repeat(43))).status).toBe(401);
    expect((await exchange(token, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await exchange(token, { 'x-webmon-session': '' })).status).toBe(403);
    const accepted = await exchange(token);
    expect(accepted.status).toBe(204);
    const setCookie = String(accepted.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^webmon_session_${port}=[A-Za-z0-9_-]{40,}; HttpOnly; SameSite=Strict; Path=/$`));
    expect(setCookie).not.toContain(token);
    const cookie = setCookie.split(';')[0] ?? '';
    const status = await get(port, '/api/status', { cookie });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toHaveProperty('napari');
    expect((await get(port, '/pages/viewer/page.js.map', { cookie })).status).toBe(200);
  });

  it('refuses a Host naming another domain (403), with or without the session', async () => {
    expect((await get(port, '/', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(port, '/api/status', { host: 'rebind.attacker.test' })).status).toBe(403);
    expect((await get(port, '/', { host: `localhost:${port}` })).status).toBe(401);
    expect((await get(port, '/', { host: `127.0.0.1:${port}` })).status).toBe(401);
  });

  it('in Chromium: the printed address signs in (fragment → cookie), then pages and the WebSocket work; without it, the authorisation page', async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url.replace('/#', '/loader#'));
      await expect.poll(() => page.locator('#webmon-status').textContent(), { timeout: 60_000 }).toBe('connected');
      // The token left the address bar; the cookie is HttpOnly and scripts cannot see it.
      expect(page.url()).toBe(`http://localhost:${port}/loader`);
      expect(await page.evaluate(() => document.cookie)).toBe('');
      const cookies = await context.cookies();
      expect(cookies).toEqual([expect.objectContaining({ name: `webmon_session_${port}`, httpOnly: true, sameSite: 'Strict' })]);
      expect(cookies[0]?.value).not.toBe(token);
      // Another page of the site, and the status API, with the cookie alone.
      await page.goto(`http://localhost:${port}/viewer`);
      await expect.poll(() => page.locator('#webmon-status').textContent(), { timeout: 60_000 }).toBe('connected');
      expect((await context.request.get(`http://localhost:${port}/api/status`)).status()).toBe(200);

      const stranger = await (await browser.newContext()).newPage();
      let sockets = 0;
      stranger.on('websocket', () => {
        sockets += 1;
      });
      const response = await stranger.goto(`http://localhost:${port}/viewer`);
      expect(response?.status()).toBe(401);
      await expect.poll(() => stranger.locator('#webmon-authorize').textContent()).toBe('authorisation needed');
      expect(await stranger.locator('#webmon-status').count()).toBe(0);
      // A wrong token is refused with a message, and still no data.
      await stranger.goto(`http://localhost:${port}/viewer#token=${'A'.repeat(43)}`);
      await expect.poll(() => stranger.locator('#webmon-authorize').textContent(), { timeout: 20_000 }).toContain('refused');
      expect(sockets).toBe(0);
    } finally {
      await browser.close();
    }
  });
});

describe('raw sockets', () => {
  it('1,000 idle sockets do not lock a client out, even with a low descriptor limit, and are closed within ~5 s', async () => {
    // 400 descriptors: the flood alone would take them all if every socket were kept.
    const proc = startProcess('sh', ['-c', `ulimit -n 400 && exec "${process.execPath}" "${CLI}" --port 0`]);
    running.push(proc);
    const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/, 90_000))[1] ?? '';
    const port = Number(new URL(url).port);

    const lifetimes: number[] = []; // from the client's connect to the server's close, per socket
    const idle: Socket[] = [];
    await Promise.all(
      Array.from({ length: 1_000 }, () => new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        idle.push(socket);
        let connectedAt = Date.now();
        socket.on('error', () => undefined);
        socket.once('connect', () => {
          connectedAt = Date.now();
          resolve();
        });
        socket.once('close', () => {
          lifetimes.push(Date.now() - connectedAt);
          resolve();
        });
      })),
    );
    try {
      // A legitimate client is served promptly, while the flood is still open.
      const started = Date.now();
      const answer = await get(port, '/api/status', { host: `127.0.0.1:${port}` });
      expect(answer.status).toBe(200);
      const servedMs = Date.now() - started;
      // Served, not locked out (the kernel queue of the flood still has to be accepted first on a loaded machine).
      expect(servedMs).toBeLessThan(10_000);
      // Every idle socket goes. Those beyond the descriptor limit wait in the kernel's backlog until the
      // server can accept them, so on a loaded machine (a parallel test run) the last go much later.
      await eventually(() => (lifetimes.length === idle.length ? true : undefined), 90_000, `all idle sockets closed (${lifetimes.length} of ${idle.length})`);
      const sorted = [...lifetimes].sort((a, b) => a - b);
      console.info(`idle sockets: ${idle.length} opened; the first 300 closed within ${sorted[299]} ms of connecting, all within ${sorted.at(-1)} ms; a client was served in ${servedMs} ms`);
      // The sockets the server could accept at once (below its 400 descriptors) are cut after 5 s of
      // silence, plus a little for a loaded machine.
      expect(sorted[299]).toBeLessThan(9_000);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  }, 180_000);
});

/** The status line a raw request gets ('' when the server closes without one, or after `ms`); the socket is dropped at once. */
function statusLineOf(port: number, text: string, ms = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer.split('\r\n')[0] ?? '');
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\r\n')) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    const timer = setTimeout(finish, ms);
  });
}

describe('connections', () => {
  it('takes 32 WebSocket connections from loopback (16 tabs, each with its bulk worker), and refuses the 33rd with 4029', async () => {
    const { proc, url } = await startWebmon(['--port', '0']);
    running.push(proc);
    const wsUrl = `${url.replace(/^http/, 'ws')}ws`;
    const open = (): Promise<{ socket: WebSocket; outcome: string }> =>
      new Promise((resolve) => {
        const socket = new WebSocket(wsUrl, ['webmon.v1']);
        socket.addEventListener('message', () => resolve({ socket, outcome: 'hello' }), { once: true });
        socket.addEventListener('close', (event) => resolve({ socket, outcome: String(event.code) }), { once: true });
      });
    const sockets: WebSocket[] = [];
    try {
      for (let index = 0; index < 32; index++) {
        const { socket, outcome } = await open();
        sockets.push(socket);
        expect(outcome, `connection ${index + 1}`).toBe('hello');
      }
      const { socket, outcome } = await open();
      sockets.push(socket);
      expect(outcome).toBe('4029');
    } finally {
      for (const socket of sockets) socket.close();
    }
  }, 120_000);
});

describe('request lines', () => {
  // One webmon for both tests; each checks it is still there.
  let proc: Proc;
  let port: number;
  let exited = false;
  beforeAll(async () => {
    let url: string;
    ({ proc, url } = await startWebmon(['--port', '0']));
    port = Number(new URL(url).port);
    proc.child.once('exit', () => (exited = true));
  });
  afterAll(async () => {
    await proc.stop();
  });

  it('a target of `//…`, `*` or absolute form gets 404 or 400, never the process: an HTTP request or a WebSocket upgrade (a page can open ws://host//)', async () => {
    // Resolved against a base, `//` threw (a 500 for HTTP; for an upgrade, an uncaught exception that ended webmon)
    // and `//x/viewer` named the host `x` and served /viewer.
    expect((await get(port, '//')).status).toBe(404);
    expect((await get(port, '//x/viewer')).status).toBe(404);
    expect((await get(port, '//x/api/status')).status).toBe(404);
    expect(await statusLineOf(port, `GET * HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`)).toBe('HTTP/1.1 400 Bad Request');
    expect(await statusLineOf(port, `GET http://localhost:${port}/api/status HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`)).toBe('HTTP/1.1 400 Bad Request');
    for (const target of ['//', '//x/ws', '//ws']) {
      const upgrade = `GET ${target} HTTP/1.1\r\nHost: localhost:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
      expect(await statusLineOf(port, upgrade)).toBe('HTTP/1.1 404 Not Found');
    }
    // Still serving, and the pages' own paths still answer.
    expect((await get(port, '/api/status')).status).toBe(200);
    expect((await get(port, '/viewer')).status).toBe(200);
    expect(exited).toBe(false);
  }, 120_000);
  it('800 generated requests (methods, targets, Host, Origin, cookies, upgrade headers, bodies): never a 500, never the process, and webmon serves after', async () => {
    const targets = ['/', '//', '///', '/%', '/%zz', '/%00', '/..', '/../../etc/passwd', '/assets/..%2f..%2fpackage.json', '/pages/x/..', '/pages/%2e%2e/x', '/assets/%00',
      '/api/status?x=%', '/api/recording?seconds=-1', '/api/recording?seconds=1e309', '/api/recording?seconds=abc', '/ws', '/ws?token=%', '/viewer?%', '/\\', '/\u00ff',
      `/${'a'.repeat(5000)}`, '*', 'http://x/', `http://localhost:${port}/api/status`, '/api/sources', '/api/session', '/api/replay', '/api/attach', '//x/ws', '//ws'];
    const hosts = [`localhost:${port}`, `127.0.0.1:${port}`, '', 'evil.example', `[::1]:${port}`, '[', 'localhost:', ':::', `localhost:${port}:${port}`, '%', `LOCALHOST:${port}`];
    const origins = [undefined, 'null', '', 'http://[', `http://localhost:${port}`, 'http://evil.example', '://', 'file://', 'x'.repeat(9000)];
    const bodies = ['', '{', '{"token":1}', 'x'.repeat(100_000), '{"path":"/etc/passwd"}', '{"port":-1}', '[]', 'null'];
    const upgradeHeaders = fc.record({
      version: fc.constantFrom('13', '8', 'x'),
      protocol: fc.option(fc.constantFrom('webmon.v1', 'webmon.token.%', `webmon.v1, webmon.token.${'a'.repeat(100)}`, ','), { nil: undefined }),
    });
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE'),
      target: fc.constantFrom(...targets),
      host: fc.constantFrom(...hosts),
      origin: fc.constantFrom(...origins),
      upgrade: fc.option(upgradeHeaders, { nil: undefined, freq: 2 }),
      cookie: fc.option(fc.constantFrom('webmon_session=%', 'a', '=;=;', `webmon_session_${port}=${'x'.repeat(100)}`), { nil: undefined, freq: 2 }),
      body: fc.constantFrom(...bodies),
    });
    const statuses = new Map<string, number>();
    // fast-check: a seed, so a run can be repeated, and a failing request shrunk to its simplest form.
    await fc.assert(
      fc.asyncProperty(request, async ({ method, target, host, origin, upgrade, cookie, body: anyBody }) => {
        const body = method === 'POST' ? anyBody : '';
        let text = `${method} ${target} HTTP/1.1\r\n${host === '' ? '' : `Host: ${host}\r\n`}${origin === undefined ? '' : `Origin: ${origin}\r\n`}`;
        text += upgrade === undefined
          ? 'Connection: close\r\n'
          : `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${upgrade.version}\r\n` +
            (upgrade.protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${upgrade.protocol}\r\n`);
        if (cookie !== undefined) text += `Cookie: ${cookie}\r\n`;
        if (body !== '') text += `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
        const line = await statusLineOf(port, `${text}\r\n${body}`);
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(line)?.[1] ?? 'none';
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const shown = JSON.stringify(text.slice(0, 300));
        expect(exited, `webmon exited after ${shown}`).toBe(false);
        expect(status, shown).not.toMatch(/^5/);
        // No answer only where webmon cuts a body it will not read (a POST over its limit).
        if (status === 'none') expect(body.length, `no answer to ${shown}`).toBeGreaterThan(10_000);
      }),
      { numRuns: 800, seed: 20261206, endOnFailure: true },
    );
    console.info(`hostile requests: answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(exited).toBe(false);
    expect((await get(port, '/api/status')).status).toBe(200);
  }, 180_000);
});
