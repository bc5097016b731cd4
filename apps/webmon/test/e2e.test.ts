/**
 * The whole app in real Chromium against the real simulator (CPython) over real sockets, started the
 * way the README says (`webmon` with no napari), with the example page installed from its packed
 * tarball. Also writes the README's screenshots (docs/viewer.png, docs/loader.png).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { APP_DIR, eventually, getJson, launchChromium, startWebmon, type Proc } from './helpers.js';
import { changedShare, summarizePixels } from './pixels.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../../../examples/page-stats', import.meta.url));

let project: string;
let webmon: Proc;
let url: string;
let browser: Browser;

/** `pnpm pack` the example page and `npm install` the tarball into a fresh project, as a user would. */
function installExamplePage(into: string): void {
  const packDir = join(into, 'pack');
  mkdirSync(packDir);
  // The pnpm running this test (npm_execpath) when there is one: `npm test` may run pnpm through npx.
  const pnpmScript = process.env['npm_execpath'];
  const [command, prefix] = pnpmScript && /pnpm/.test(pnpmScript) ? [process.execPath, [pnpmScript]] : ['pnpm', []];
  execFileSync(command, [...prefix, 'pack', '--pack-destination', packDir], { cwd: EXAMPLE_DIR, stdio: 'pipe' });
  const tarball = readdirSync(packDir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error('pnpm pack wrote no tarball');
  writeFileSync(join(into, 'package.json'), JSON.stringify({ name: 'webmon-e2e-project', private: true }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', join(packDir, tarball)], { cwd: into, stdio: 'pipe' });
  writeFileSync(join(into, 'webmon.config.json'), JSON.stringify({ pages: ['@webmon/page-stats'] }));
}

async function statusText(page: Page): Promise<string> {
  return (await page.locator('#webmon-status').textContent()) ?? '';
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'webmon-e2e-'));
  installExamplePage(project);
  // The README's command, in a project whose webmon.config.json names the example page: given with
  // --config, as a config in the working directory is never read by itself.
  ({ proc: webmon, url } = await startWebmon(['--config', join(project, 'webmon.config.json'), '--port', '0'], { cwd: project }));
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await webmon?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('webmon on the simulator, in Chromium', () => {
  it('shows red seen tiles and a yellow frustum on /viewer, moving as the simulator pans', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${url}viewer`);
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toBe('connected');
    await page.waitForFunction(() => Number((document.querySelector('[data-polls]') as HTMLElement | null)?.dataset['polls']) > 5, undefined, { timeout: 60_000 });
    const canvas = page.locator('canvas').first();
    const shoot = async () => summarizePixels(page, await canvas.screenshot());
    const first = await shoot();
    await page.waitForTimeout(1_500);
    const second = await shoot();
    // Yellow comes only from the frustum (its outline, and its tint over gray and red tiles). Its size on
    // screen follows the simulator's 24 s zoom cycle, and at its smallest it covered 85–92 pixels: every shot
    // shows it, and within one cycle a shot shows it large.
    for (const shot of [first, second]) {
      expect(shot.red).toBeGreaterThan(500);
      expect(shot.yellow).toBeGreaterThan(20);
    }
    // The camera moves every frame: the picture must change between the two shots.
    expect(changedShare(first, second)).toBeGreaterThan(0.005);
    await expect.poll(async () => (await shoot()).yellow, { timeout: 30_000, interval: 500 }).toBeGreaterThan(100);
    // For the README: a moment in the middle of the zoom cycle, where a level has many tiles.
    const level = page.locator('[data-role="level"]');
    await expect.poll(async () => /^Level [2-5] /.test((await level.textContent()) ?? ''), { timeout: 60_000, interval: 100 }).toBe(true);
    await page.getByRole('button', { name: 'Reset' }).click(); // the whole level, as the original viewer showed it
    await page.waitForTimeout(300);
    mkdirSync(join(APP_DIR, 'docs'), { recursive: true });
    await page.screenshot({ path: join(APP_DIR, 'docs', 'viewer.png') });
    await page.close();
  });

  it('sends the show-grid toggle to the Python side', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}viewer`);
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toBe('connected');
    const toggle = page.getByLabel('Show grid in napari');
    const before = await toggle.isChecked();
    await toggle.click();
    await webmon.waitFor(new RegExp(`show_grid ${before ? 'False' : 'True'}`), 30_000);
    await toggle.click();
    const lines = () => webmon.output().match(/show_grid (True|False)/g) ?? [];
    await expect.poll(() => lines().at(-1), { timeout: 30_000 }).toBe(`show_grid ${before ? 'True' : 'False'}`);
    await page.close();
  });

  it('refuses every command name that is not a public identifier before it reaches napari, and names napari cannot run', async () => {
    // napari 0.4 runs `getattr(RemoteCommands, name)(args)` and catches only AttributeError: a dunder must never get there.
    const ask = async (name: string, args: unknown, topic?: string): Promise<Record<string, unknown>> => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}ws`, ['webmon.v1']);
      try {
        await new Promise((resolve, reject) => {
          socket.addEventListener('open', resolve, { once: true });
          socket.addEventListener('error', reject, { once: true });
        });
        const answer = new Promise<Record<string, unknown>>((resolve) => {
          socket.addEventListener('message', ({ data }) => {
            const message = JSON.parse(String(data)) as Record<string, unknown>;
            if (message['id'] === 'c') resolve(message);
          });
        });
        socket.send(JSON.stringify({ type: 'command', id: 'c', name, args, ...(topic === undefined ? {} : { topic }) }));
        return await answer;
      } finally {
        socket.close();
      }
    };
    for (const name of ['__init__', '__class__', '_show_grid', 'show grid']) expect(await ask(name, null)).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    expect(await ask('reset_view', null, 'napari.layers')).toMatchObject({ type: 'error', code: 'UNKNOWN_COMMAND' });
    expect(webmon.output()).not.toMatch(/RemoteCommands\./);
  });

  it('fills the charts on /loader', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${url}loader`);
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toBe('connected');
    const rows = () => page.evaluate(() => {
      const root = document.querySelector('[data-frame-rows]') as HTMLElement | null;
      return { frames: Number(root?.dataset['frameRows'] ?? 0), loads: Number(root?.dataset['loadRows'] ?? 0) };
    });
    await expect.poll(async () => (await rows()).frames, { timeout: 60_000 }).toBeGreaterThan(120);
    await expect.poll(async () => (await rows()).loads, { timeout: 60_000 }).toBeGreaterThan(10);
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(3);
    // Vega runs in the charts' worker, served from beside the page's module (no fallback to the main thread).
    expect(await page.evaluate(() => (document.querySelector('[data-charts-mode]') as HTMLElement | null)?.dataset['chartsMode'])).toBe('worker');
    await page.waitForTimeout(1_000);
    await page.screenshot({ path: join(APP_DIR, 'docs', 'loader.png') });
    await page.close();
  });

  it('lists the installed example page in the navigation, and the page gets data', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const links = await page.locator('#webmon-nav a').allTextContents();
    expect(links).toEqual(['Tile viewer', 'Loader', 'Topics', 'Explorer', 'Image', 'Stats']); // Explorer: shown with any source; Image: by default on the simulator
    await page.locator('#webmon-nav a', { hasText: 'Stats' }).click();
    await page.waitForURL(/\/stats$/);
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toBe('connected');
    await expect.poll(() => page.locator('tr[data-role="layer"]').count(), { timeout: 60_000 }).toBe(1);
    const frameRate = () => page.locator('tr[data-topic="napari.frame_time"] td').nth(1).textContent();
    await expect.poll(async () => Number(await frameRate()), { timeout: 60_000 }).toBeGreaterThan(10);
    expect(Number(await page.locator('tr[data-role="layer"]').getAttribute('data-seen'))).toBeGreaterThan(0);
    await page.close();
  });

  it('gives a tab opened late the current state at once', async () => {
    // The app has been running for a while: the loader's window of history is on the server.
    const page = await browser.newPage();
    await page.goto(`${url}loader`);
    await page.waitForFunction(() => Number((document.querySelector('[data-frame-times]') as HTMLElement | null)?.dataset['frameTimes']) > 0, undefined, { timeout: 60_000 });
    const { count, openMs } = await page.evaluate(() => ({
      count: Number((document.querySelector('[data-frame-times]') as HTMLElement).dataset['frameTimes']),
      openMs: performance.now(),
    }));
    // Live frames alone arrive at 60 per second; far more at the first delivery means the replay came first.
    expect(count).toBeGreaterThan(60 * (openMs / 1000) + 120);
    expect(await statusText(page)).toBe('connected');
    // And the viewer: the latest poll arrives with the subscription, not a frame later.
    await page.goto(`${url}viewer`);
    await page.waitForFunction(() => Number((document.querySelector('[data-polls]') as HTMLElement | null)?.dataset['polls']) > 0, undefined, { timeout: 60_000 });
    await page.close();
  });

  it('refuses a page served from another origin', async () => {
    const wsUrl = `${url.replace('http:', 'ws:')}ws`;
    const other: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script>
        window.result = new Promise((resolve) => {
          const socket = new WebSocket(${JSON.stringify(wsUrl)}, 'webmon.v1');
          const messages = [];
          socket.onmessage = (event) => messages.push(String(event.data).slice(0, 40));
          socket.onclose = (event) => resolve({ code: event.code, messages });
        });
      </script>`);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      const result = await page.evaluate(() => (window as unknown as { result: Promise<{ code: number; messages: string[] }> }).result);
      expect(result.code).toBe(4003); // CloseCode.FORBIDDEN_ORIGIN
      expect(result.messages.some((message) => message.includes('"hello"'))).toBe(false);
      await page.close();
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('exits cleanly when the simulator stops, after telling open pages', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}viewer`);
    await expect.poll(() => statusText(page), { timeout: 60_000 }).toBe('connected');
    const status = (await getJson(`${url}api/status`)) as { napari: string };
    expect(status.napari).toBe('connected');
    // Stop the simulator itself (the launcher's child), as a user quitting napari would.
    const simulatorPid = Number(execFileSync('pgrep', ['-P', String(webmon.child.pid), '-f', 'napari_simulator.py'], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(simulatorPid).toBeGreaterThan(0);
    process.kill(simulatorPid, 'SIGTERM');
    await expect.poll(() => statusText(page), { timeout: 30_000 }).toBe('disconnected');
    expect(await webmon.exited(60_000)).toBe(0);
    expect(webmon.output()).toMatch(/the napari simulator shut down; exiting/);
    expect(webmon.output()).toMatch(/client \d+ exited with status 0/);
    await expect(fetch(url)).rejects.toThrow();
    await page.close();
  });
});
