/**
 * The app in real Chromium against the simulator in "napari ≥ 0.5" mode (what napari 0.5–0.9 send:
 * empty polls, frame_time only, no commands), with plugin activity starting mid-run. Real CPython,
 * real sockets, the real relay.
 */
import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, getJson, launchChromium, startWebmon, type Proc } from './helpers.js';

/** Long enough for Chromium to start and the topics page to open before the plugin does. */
const PLUGIN_AFTER_S = 20;

let webmon: Proc;
let url: string;
let browser: Browser;

beforeAll(async () => {
  // A small image keeps this file light beside the other suites (the 1024² stream is image.e2e's).
  ({ proc: webmon, url } = await startWebmon(['--port', '0', '--simulate', '0.5', '--simulate-plugin', String(PLUGIN_AFTER_S), '--simulate-image', '128']));
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await webmon?.stop();
});

/** Sends one command over a raw WebSocket the way a page would, and returns the answer. */
async function sendCommand(name: string, args: unknown, topic?: string): Promise<Record<string, unknown>> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}ws`, ['webmon.v1']);
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const answer = new Promise<Record<string, unknown>>((resolve) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        if (message['id'] === 'c1') resolve(message);
      });
    });
    socket.send(JSON.stringify({ type: 'command', id: 'c1', name, args, ...(topic === undefined ? {} : { topic }) }));
    return await answer;
  } finally {
    socket.close();
  }
}

describe('webmon on a napari ≥ 0.5 (simulated), in Chromium', () => {
  it('shows a napari_data key and a message kind that appear mid-run as new topics, with their values, within a second', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${url}topics`);
    await page.waitForSelector('[data-topic="napari.frame_time"][data-count]', { timeout: 60_000 });
    // Opened before the plugin starts: neither topic exists yet.
    expect(webmon.output()).not.toMatch(/plugin data started/);
    expect(await page.locator('[data-topic="napari.data.my_plugin"]').count()).toBe(0);
    await webmon.waitFor(/plugin data started/, 60_000);
    const rows = { data: page.locator('[data-topic="napari.data.my_plugin"]'), event: page.locator('[data-topic="napari.message.my_event"]') };
    for (const row of Object.values(rows)) {
      await expect.poll(async () => Number(await row.getAttribute('data-count')), { timeout: 30_000 }).toBeGreaterThan(0);
      expect((await row.locator('[data-role="value"]').textContent()) ?? '').toMatch(/"count":\d+/);
    }
    // T0: Python's time.time() of the plugin's first add_data + send_message (the first my_event; a stream's
    // replay brings it even to a page that subscribed a little later).
    const firstEvent = JSON.parse((await rows.event.getAttribute('data-first-value')) ?? 'null') as { count: number; time: number };
    expect(firstEvent.count).toBe(1);
    const t0 = firstEvent.time * 1000;
    for (const [name, row] of Object.entries(rows)) {
      const trip = Number(await row.getAttribute('data-first-at')) - t0;
      console.log(`first ${name} value on the page ${trip.toFixed(1)} ms after the plugin added it`);
      expect(trip).toBeGreaterThan(-50);
      expect(trip).toBeLessThan(1_000);
    }
    await page.close();
  });

  it('shows no tile view and no grid toggle on /viewer, and says why', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${url}viewer`);
    // napari ≥ 0.5 writes the same empty poll every frame: webmon passes it on once (unchanged bytes are skipped).
    await page.waitForFunction(() => Number((document.querySelector('[data-polls]') as HTMLElement | null)?.dataset['polls']) >= 1, undefined, { timeout: 60_000 });
    const notice = page.locator('[data-role="viewer-notice"]');
    await expect.poll(async () => (await notice.textContent()) ?? '', { timeout: 30_000 }).toMatch(/no tile data: napari 0\.5 and later removed octree/);
    expect(await page.locator('[data-tiles]').getAttribute('data-tiles')).toBe('none');
    expect(await page.locator('canvas').count()).toBe(0);
    expect(await page.getByText(/grid/i).count()).toBe(0);
    await page.close();
  });

  it('sends napari no command it cannot run: a typed error for the page instead of a traceback in napari', async () => {
    expect(await sendCommand('show_grid', true, 'napari.layers')).toMatchObject({ type: 'error', code: 'UNKNOWN_COMMAND' });
    expect(await sendCommand('reset_view', null)).toMatchObject({ type: 'error', code: 'UNKNOWN_COMMAND' });
    expect(await sendCommand('__init__', null)).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    const status = (await getJson(`${url}api/status`)) as { sources: { capabilities: { octree: boolean; commands: string[] }; counters: { commands: number; refusedCommands: number } }[] };
    expect(status.sources[0]).toMatchObject({ capabilities: { octree: false, commands: [] }, counters: { commands: 0 } });
    expect(status.sources[0]?.counters.refusedCommands).toBeGreaterThanOrEqual(2);
    // The simulator prints every command that reaches it ("RemoteCommands.<name> does not exist."): none did.
    expect(webmon.output()).not.toMatch(/RemoteCommands\./);
  });

  it('charts frame times on /loader (and no chunk loads: napari ≥ 0.5 has no chunk loader)', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${url}loader`);
    const rows = () => page.evaluate(() => {
      const root = document.querySelector('[data-frame-rows]') as HTMLElement | null;
      return { frames: Number(root?.dataset['frameRows'] ?? 0), loads: Number(root?.dataset['loadRows'] ?? 0) };
    });
    await expect.poll(async () => (await rows()).frames, { timeout: 60_000 }).toBeGreaterThan(60);
    expect((await rows()).loads).toBe(0);
    await page.close();
  });

  it("draws the plugin's ring image on /image, as with napari 0.4", async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 800 } });
    await page.goto(`${url}image`);
    await page.waitForFunction(() => Number((document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset['drawn']) > 3, undefined, { timeout: 60_000 });
    await page.close();
  });

  it('exits cleanly when the simulated napari quits', async () => {
    // Stop the simulator itself (the launcher's child), as a user quitting napari would.
    const simulatorPid = Number(execFileSync('pgrep', ['-P', String(webmon.child.pid), '-f', 'napari_simulator.py'], { encoding: 'utf8' }).trim().split('\n')[0]);
    process.kill(simulatorPid, 'SIGTERM');
    expect(await webmon.exited(60_000)).toBe(0);
    expect(webmon.output()).toMatch(/the napari simulator shut down; exiting/);
    expect(webmon.output()).not.toMatch(/RemoteCommands\./);
  });
});
