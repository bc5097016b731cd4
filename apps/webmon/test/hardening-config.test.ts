/**
 * A config file in the working directory must not run code or open webmon to the network: napari
 * launches webmon in napari's working directory, which may be anyone's checkout. Real `webmon`
 * processes in a directory holding a hostile `webmon.config.json` and `node_modules/x`.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PYTHON, getJson, startProcess, startWebmon, type Proc } from './helpers.js';

let root: string;
let project: string;
let configFile: string;
/** Written by the config's `python` when it runs. */
let pythonMarker: string;
/** Written by `node_modules/x` when Node imports it. */
let pageMarker: string;
/** No user config (HOME and XDG_CONFIG_HOME are empty directories), a real Python for the simulator. */
let env: NodeJS.ProcessEnv;
const running: Proc[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'webmon-hardening-config-'));
  project = join(root, 'project');
  pythonMarker = join(root, 'python-ran');
  pageMarker = join(root, 'page-imported');
  mkdirSync(join(project, 'node_modules', 'x'), { recursive: true });
  const script = join(project, 'script.sh');
  // Harmless: leaves a marker and exits 1, so webmon reports it as not being Python.
  writeFileSync(script, `#!/bin/sh\necho "$@" > '${pythonMarker}'\nexit 1\n`);
  chmodSync(script, 0o755);
  const plant = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pageMarker)}, 'imported');\n`;
  writeFileSync(
    join(project, 'node_modules', 'x', 'package.json'),
    JSON.stringify({ name: 'x', version: '1.0.0', type: 'module', main: './index.js', exports: './index.js', webmon: { page: './page.js', id: 'x', title: 'X', topics: ['*'] } }),
  );
  writeFileSync(join(project, 'node_modules', 'x', 'index.js'), plant);
  writeFileSync(join(project, 'node_modules', 'x', 'page.js'), `${plant}export const page = {};\n`);
  configFile = join(project, 'webmon.config.json');
  writeFileSync(configFile, JSON.stringify({ python: script, host: '0.0.0.0', pages: ['x'] }));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'xdg'));
  env = { ...process.env, HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg'), WEBMON_PYTHON: PYTHON };
});

afterAll(async () => {
  await Promise.all(running.map((proc) => proc.stop()));
  if (root) rmSync(root, { recursive: true, force: true });
});

function clearMarkers(): void {
  rmSync(pythonMarker, { force: true });
  rmSync(pageMarker, { force: true });
}

/** Resolves with the connection's error code, or 'connected'. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const item of list ?? []) if (item.family === 'IPv4' && !item.internal) return item.address;
  return undefined;
}

/**
 * The addresses listening on TCP `port`, from the kernel's table (Linux): `127.0.0.1`, `0.0.0.0`, `::`.
 * Undefined where there is no /proc.
 */
function listenAddresses(port: number): string[] | undefined {
  if (!existsSync('/proc/net/tcp')) return undefined;
  const found: string[] = [];
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || local === undefined) continue; // 0A: LISTEN
      const [hex = '', portHex = ''] = local.split(':');
      if (parseInt(portHex, 16) !== port) continue;
      if (v6) found.push(/^0+$/.test(hex) ? '::' : hex === '00000000000000000000000001000000' ? '::1' : hex);
      else found.push(hex.match(/../g)?.reverse().map((byte) => parseInt(byte, 16)).join('.') ?? hex);
    }
  }
  return found;
}

describe('a webmon.config.json in the working directory', () => {
  it('is ignored: its python does not run, its page is not loaded or imported, and webmon listens on loopback only', async () => {
    clearMarkers();
    // No napari: the simulator path, which is where a config's `python` would run.
    const { proc, url } = await startWebmon(['--port', '0', '--simulate-image', '16'], { cwd: project, env });
    running.push(proc);
    const address = new URL(url);
    expect(address.hostname).toBe('127.0.0.1');
    expect(url).not.toContain('#token=');
    const status = (await getJson(`${url}api/status`)) as { pages: { id: string }[] };
    expect(status.pages.map((page) => page.id)).not.toContain('x');
    const listening = listenAddresses(Number(address.port));
    if (listening !== undefined) expect(listening).toEqual(['127.0.0.1']);
    const other = nonLoopbackAddress();
    if (other !== undefined) expect(await tryConnect(other, Number(address.port))).toBe('ECONNREFUSED');
    await proc.stop();
    expect(proc.stderr()).not.toMatch(/listens beyond|names an executable/);
    expect(existsSync(pythonMarker)).toBe(false);
    expect(existsSync(pageMarker)).toBe(false);
  });

  it('with --config: its host is used, and stderr says it widens exposure; its page is listed, never imported in Node', async () => {
    clearMarkers();
    // A dead manager port with --stay: webmon serves on while it retries, so the address can be seen.
    const { proc, url } = await startWebmon(['--config', configFile, '--port', '0', '--connect', '127.0.0.1:9', '--stay'], { cwd: root, env });
    running.push(proc);
    // A wildcard address is shown as localhost, with the token every non-loopback listener requires.
    expect(url).toMatch(/#token=/);
    const port = Number(new URL(url).port);
    const listening = listenAddresses(port);
    if (listening !== undefined) expect(listening).toEqual(['0.0.0.0']);
    const other = nonLoopbackAddress();
    if (other !== undefined) expect(await tryConnect(other, port)).toBe('connected');
    // Named by the config the user chose, the page is listed (from package.json alone).
    // Beyond loopback every HTTP answer needs the session a browser gets for the printed token.
    const base = url.replace(/#.*$/, '');
    const token = new URLSearchParams(new URL(url).hash.slice(1)).get('token') ?? '';
    const session = await fetch(`${base}api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webmon-session': '1', origin: new URL(base).origin },
      body: JSON.stringify({ token }),
    });
    expect(session.status).toBeLessThan(300);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const status = (await (await fetch(`${base}api/status`, { headers: { cookie } })).json()) as { pages: { id: string }[] };
    expect(status.pages.map((page) => page.id)).toContain('x');
    expect(proc.stderr()).toMatch(/^webmon warn: config .*webmon\.config\.json sets "host": "0\.0\.0\.0": webmon listens beyond this machine/m);
    expect(proc.stderr()).toMatch(/^webmon warn: config .*webmon\.config\.json names an executable, "python": ".*script\.sh"/m);
    await proc.stop();
    expect(existsSync(pageMarker)).toBe(false);
    expect(existsSync(pythonMarker)).toBe(false); // attached by hand: no simulator, nothing to run
  });

  it('with --config and no napari: its python is run, after a line saying the config names it', async () => {
    clearMarkers();
    const proc = startProcess(process.execPath, [CLI, '--config', configFile, '--port', '0'], { cwd: root, env });
    running.push(proc);
    const status = await proc.exited(60_000);
    expect(status).not.toBe(0);
    const stderr = proc.stderr();
    const warning = stderr.search(/^webmon warn: config .* names an executable, "python"/m);
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(stderr).toMatch(/WEBMON_NO_PYTHON\]: --python names ".*script\.sh", which does not run as Python/);
    expect(warning).toBeLessThan(stderr.indexOf('WEBMON_NO_PYTHON'));
    expect(existsSync(pythonMarker)).toBe(true);
  });
});
