/**
 * The `webmon` command as a user meets it: real processes, real CPython (the oldest supported one without
 * numpy, one too old), real ports. Each test cleans up its processes.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oldestSupportedWithoutNumpy, tooOldPython } from './pythons.js';
import { CLI, PYTHON, SIMULATOR, eventually, getJson, launchChromium, startProcess, startWebmon, stopAfterEach, type Proc } from './helpers.js';

const track = stopAfterEach();

/** A regex source matching `version` literally ("3.8.18" → "3\.8\.18"). */
const literal = (version: string): string => version.replace(/\./g, '\\.');

interface Status {
  napari: string;
  counters?: { polls: number; frameTimes: number };
}

describe('webmon command', () => {
  it('prints help and version', async () => {
    const help = track(startProcess(process.execPath, [CLI, '--help']));
    expect(await help.exited(), help.output()).toBe(0);
    expect(help.stdout()).toMatch(/Usage: webmon \[options\]/);
    expect(help.stdout()).toMatch(/--connect <\[p=\]h:p>/);
    // Examples: the simulator, serving a napari through its NAPARI_MON config, several windows, a port.
    const examples = help.stdout().split('\nExamples:\n')[1] ?? '';
    expect(examples).toMatch(/^ {2}webmon {2,}the built-in napari simulator/m);
    expect(examples).toContain('{"clients": [["webmon"]], "log_path": ');
    expect(examples).toMatch(/--connect left=\d+ --connect right=\d+/);
    expect(examples).toMatch(/-p 0 /);
    const version = track(startProcess(process.execPath, [CLI, '--version']));
    expect(await version.exited(), version.output()).toBe(0);
    expect(version.stdout()).toMatch(/^webmon \d+\.\d+\.\d+\n$/);
  });

  it('reports a usage error with status 2 and a hint to --help, before any Python starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webmon-usage-'));
    try {
      // A Python stand-in that notes every start and then fails: webmon reaching for Python at all shows.
      const marker = join(dir, 'python-started');
      const python = join(dir, 'python3');
      writeFileSync(python, `#!/bin/sh\necho "$@" >> '${marker}'\nexit 1\n`, { mode: 0o755 });
      const env = { ...process.env, WEBMON_PYTHON: python };
      const badConfig = join(dir, 'bad.json');
      writeFileSync(badConfig, JSON.stringify({ colour: 'red' }));

      // The control: a good command line does start Python (the stand-in fails, so webmon exits 1).
      const control = track(startProcess(process.execPath, [CLI, '--port', '0'], { env, cwd: dir }));
      expect(await control.exited(), control.output()).toBe(1);
      expect(existsSync(marker), 'the stand-in ran for a good command line').toBe(true);
      rmSync(marker);

      const cases: [string[], string, RegExp][] = [
        [['--prot', '5001'], 'WEBMON_BAD_ARGUMENT', /unknown option --prot \(did you mean --port\?\)/],
        [['--port', 'eighty'], 'WEBMON_BAD_ARGUMENT', /--port must be an integer 0–65535/],
        [['--simulate', '0.6'], 'WEBMON_BAD_ARGUMENT', /--simulate must be one of 0\.4, 0\.5/],
        [['--port'], 'WEBMON_BAD_ARGUMENT', /--port <value>' argument missing/],
        [['simulate'], 'WEBMON_BAD_ARGUMENT', /unexpected argument "simulate"/],
        [['--config', badConfig], 'WEBMON_BAD_CONFIG', /bad\.json: unknown key "colour"/],
        [['--config', join(dir, 'missing.json')], 'WEBMON_BAD_CONFIG', /missing\.json: not found/],
      ];
      for (const [args, code, message] of cases) {
        const started = performance.now();
        const proc = track(startProcess(process.execPath, [CLI, ...args], { env, cwd: dir }));
        expect(await proc.exited(10_000), `${args.join(' ')}: ${proc.output()}`).toBe(2);
        const elapsed = performance.now() - started;
        const [error = '', hint, ...rest] = proc.stderr().split('\n');
        expect(error).toMatch(new RegExp(`^webmon error \\[${code}\\]: `));
        expect(error).toMatch(message);
        expect(hint).toBe("Run 'webmon --help' for the options and examples.");
        expect(rest).toEqual(['']);
        expect(proc.stdout()).toBe('');
        expect(proc.output()).not.toMatch(/napari simulator/);
        expect(existsSync(marker), `${args.join(' ')} started Python`).toBe(false);
        // Only Node's own start-up: no simulator was waited for (its first frame alone takes longer).
        expect(elapsed, args.join(' ')).toBeLessThan(5_000);
      }

      // Not a usage error, but found before Python starts too: a page package that is not installed.
      const page = track(startProcess(process.execPath, [CLI, '--port', '0', '--page', '@nobody/no-such-page'], { env, cwd: dir }));
      expect(await page.exited(10_000), page.output()).toBe(1);
      expect(page.stderr()).toMatch(/\[WEBMON_PAGE_NOT_FOUND\]: page package "@nobody\/no-such-page" not found/);
      expect(existsSync(marker), 'a missing page package started Python').toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says clearly that a taken port is taken, through the simulator, and leaves nothing running', async () => {
    // Another program holding the port: it accepts and hangs up (webmon first asks whether it is a webmon).
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const proc = track(startProcess(process.execPath, [CLI, '--port', String(port)]));
      const status = await proc.exited(90_000);
      expect(status, proc.output()).toBe(1);
      expect(proc.output()).toMatch(new RegExp(`webmon error \\[WEBMON_PORT_IN_USE\\]: port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(proc.output()).toMatch(/--port 0 picks a free one/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('refuses a Python older than 3.8 by name', async () => {
    const old = tooOldPython();
    try {
      const proc = track(startProcess(process.execPath, [CLI, '--port', '0'], { env: { ...process.env, WEBMON_PYTHON: old.command } }));
      expect(await proc.exited(), proc.output()).toBe(1);
      expect(proc.stderr()).toMatch(
        new RegExp(`\\[WEBMON_PYTHON_TOO_OLD\\]: WEBMON_PYTHON names .*python3, which is Python ${literal(old.version)}; the simulator needs Python 3\\.8 or newer`),
      );
    } finally {
      old.dispose();
    }
  });

  it('says so when there is no Python at all', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'webmon-nopython-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: empty };
      delete env['WEBMON_PYTHON'];
      const proc = track(startProcess(process.execPath, [CLI, '--port', '0'], { env }));
      expect(await proc.exited(), proc.output()).toBe(1);
      expect(proc.stderr()).toMatch(/\[WEBMON_NO_PYTHON\]: no napari to attach to, and no Python to run the built-in simulator: python3 and python not found/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('names a page package that is not installed', async () => {
    const proc = track(startProcess(process.execPath, [CLI, '--port', '0', '--connect', '127.0.0.1:9', '--page', '@nobody/no-such-page']));
    expect(await proc.exited(), proc.output()).toBe(1);
    expect(proc.stderr()).toMatch(/\[WEBMON_PAGE_NOT_FOUND\]: page package "@nobody\/no-such-page" not found .* npm install @nobody\/no-such-page/);
  });

  it('fails clearly when --connect finds no napari', async () => {
    const proc = track(startProcess(process.execPath, [CLI, '--port', '0', '--connect', '127.0.0.1:9']));
    expect(await proc.exited(), proc.output()).toBe(1);
    expect(proc.stderr()).toMatch(/\[WEBMON_NAPARI_UNREACHABLE\]: cannot reach napari's manager at 127\.0\.0\.1:9/);
  });

  it('runs the simulator on the oldest supported CPython without numpy (plain lists), then stops on SIGTERM with status 0', async () => {
    const python = oldestSupportedWithoutNumpy();
    const { proc, url } = await startWebmon(['--port', '0', '--python', python.command]);
    track(proc);
    expect(proc.output()).toMatch(new RegExp(`Python ${literal(python.version.join('.'))}, no numpy \\(lists\\)`));
    const status = await eventually(async () => {
      const value = (await getJson(`${url}api/status`)) as Status;
      return value.napari === 'connected' && (value.counters?.polls ?? 0) > 10 && (value.counters?.frameTimes ?? 0) > 10 ? value : undefined;
    }, 60_000, `polls and frame times from Python ${python.version.join('.')}`);
    expect(status.napari).toBe('connected');
    proc.child.kill('SIGTERM');
    expect(await proc.exited(), proc.output()).toBe(0);
    expect(proc.output()).toMatch(/client \d+ exited with status 0/);
  });

  it('attaches by hand with --connect, and with --stay waits through a napari restart on the same port', async () => {
    const first = track(startProcess(PYTHON, [SIMULATOR]));
    const port = Number((await first.waitFor(/manager on 127\.0\.0\.1:(\d+)/))[1]);
    const { proc, url } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${port}`, '--stay']);
    track(proc);
    const napari = async (): Promise<string> => ((await getJson(`${url}api/status`)) as Status).napari;
    await eventually(async () => ((await napari()) === 'connected' ? true : undefined), 30_000, 'connected');
    await first.stop();
    await eventually(async () => ((await napari()) === 'disconnected' ? true : undefined), 30_000, 'disconnected');
    // Still serving: --stay.
    expect(proc.child.exitCode).toBeNull();
    const second = track(startProcess(PYTHON, [SIMULATOR, '--port', String(port)]));
    await second.waitFor(/manager on/);
    await eventually(async () => ((await napari()) === 'connected' ? true : undefined), 60_000, 'reconnected');
    await proc.stop();
    expect(proc.child.exitCode).toBe(0);
  });

  it('beyond loopback, serves the data only to a browser that has the token from the printed URL', async () => {
    const { proc, url } = await startWebmon(['--port', '0', '--host', '0.0.0.0']);
    track(proc);
    expect(url).toMatch(/^http:\/\/localhost:\d+\/#token=[A-Za-z0-9_-]{40,}$/);
    const browser = await launchChromium();
    try {
      const withToken = await browser.newPage();
      await withToken.goto(url.replace('/#', '/viewer#'));
      await expect.poll(() => withToken.locator('#webmon-status').textContent(), { timeout: 60_000 }).toBe('connected');
      // The token is kept for the tab's other pages.
      await withToken.locator('#webmon-nav a', { hasText: 'Loader' }).click();
      await expect.poll(() => withToken.locator('#webmon-status').textContent(), { timeout: 60_000 }).toBe('connected');
      // Without the token not even the page is served: the authorisation page, no WebSocket.
      const withoutToken = await (await browser.newContext()).newPage();
      let sockets = 0;
      withoutToken.on('websocket', () => {
        sockets += 1;
      });
      expect((await withoutToken.goto(url.split('#')[0] ?? url))?.status()).toBe(401);
      expect(await withoutToken.locator('#webmon-authorize').textContent()).toBe('authorisation needed');
      expect(await withoutToken.locator('#webmon-status').count()).toBe(0);
      expect(sockets).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('with --stay, takes over the napari that a restarted napari hands it through its new webmon', async () => {
    const probe: Server = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const webPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const first = track(startProcess(PYTHON, [SIMULATOR]));
    const firstPort = Number((await first.waitFor(/manager on 127\.0\.0\.1:(\d+)/))[1]);
    const clientConfig = Buffer.from(JSON.stringify({ server_port: firstPort })).toString('base64');
    const { proc, url } = await startWebmon(['--port', String(webPort), '--stay'], { env: { ...process.env, NAPARI_MON_CLIENT: clientConfig } });
    track(proc);
    const status = async (): Promise<{ napari: string; napariAddress: string }> => (await getJson(`${url}api/status`)) as { napari: string; napariAddress: string };
    await eventually(async () => ((await status()).napari === 'connected' ? true : undefined), 30_000, 'connected to the first napari');
    await first.stop();
    await eventually(async () => ((await status()).napari === 'disconnected' ? true : undefined), 30_000, 'disconnected');

    // "napari" restarts on a new port and launches webmon the napari way, with the same options.
    const second = track(startProcess(PYTHON, [SIMULATOR, '--', process.execPath, CLI, '--port', String(webPort), '--stay']));
    const secondPort = Number((await second.waitFor(/manager on 127\.0\.0\.1:(\d+)/))[1]);
    await second.waitFor(new RegExp(`handed napari \\(port ${secondPort}\\) to the webmon already serving`), 60_000);
    const after = await eventually(async () => {
      const value = await status();
      return value.napari === 'connected' ? value : undefined;
    }, 60_000, 'connected to the restarted napari');
    expect(after.napariAddress).toBe(`127.0.0.1:${secondPort}`);
  });

  it('refuses an attach request from a browser page', async () => {
    const first = track(startProcess(PYTHON, [SIMULATOR]));
    const port = Number((await first.waitFor(/manager on 127\.0\.0\.1:(\d+)/))[1]);
    const { proc, url } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${port}`, '--stay']);
    track(proc);
    const response = await fetch(`${url}api/attach`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'x-webmon-attach': '1', 'content-type': 'application/json' },
      body: JSON.stringify({ port: 1 }),
    });
    expect(response.status).toBe(403);
  });
});
