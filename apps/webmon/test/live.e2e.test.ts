/**
 * Live means live (issue 13), observed in real Chromium on webmon's own simulator: the image topic
 * (1024² float32 frames through shared memory) and `napari.frame_time`, received by a probe page that
 * webmon serves like any page package (`test/live-probe-page`, acknowledging each frame when its handler
 * returns: credit window 1). The properties are stated in sequence numbers and in the order things
 * happened, never as time limits: speed is for the benchmarks (`bench/image.bench.ts`). And beyond loopback
 * (token mode): the bulk worker's connection is admitted on the page's session cookie.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRelayClient, type RelayClient, type WebSocketConstructor } from '@webmon/relay/client';
import { eventually, launchChromium, startWebmon, type Proc } from './helpers.js';
import type { ProbeEvent, ProbeState } from './live-probe-page/src/page.js';

const PROBE_DIR = fileURLToPath(new URL('./live-probe-page', import.meta.url));
/** How long each test watches the pages. */
const WATCH_MS = 8_000;
/**
 * Wall clocks compared across processes (the relay's `Date.now()`, whole ms, against the page's
 * `performance.timeOrigin + now()`): an event counts as later only beyond this much.
 */
const CLOCK_SLACK_MS = 2;

let project: string;
let webmon: Proc;
let url: string;
let browser: Browser;

beforeAll(async () => {
  await build({
    entry: { page: join(PROBE_DIR, 'src/page.ts') },
    outDir: join(PROBE_DIR, 'dist'),
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    silent: true,
    config: false,
  });
  project = mkdtempSync(join(tmpdir(), 'webmon-live-e2e-'));
  ({ proc: webmon, url } = await startWebmon(['--port', '0', '--page', PROBE_DIR], { cwd: project }));
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await webmon?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

const wallClock = (): number => performance.timeOrigin + performance.now();

async function openProbe(query: string, cpuThrottle = 1, beforeLoad?: (page: Page) => void): Promise<Page> {
  const page = await browser.newPage();
  beforeLoad?.(page);
  await page.goto(`${url}live-probe?${query}`);
  if (cpuThrottle !== 1) await (await page.context().newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: cpuThrottle });
  await page.waitForFunction(() => ((globalThis as { liveProbe?: ProbeState }).liveProbe?.events.length ?? 0) > 2, undefined, { timeout: 90_000, polling: 250 });
  return page;
}

/** The probe's events from `from` (page wall clock) on. */
async function eventsOf(page: Page, from: number): Promise<ProbeEvent[]> {
  const events = await page.evaluate(() => (globalThis as unknown as { liveProbe: ProbeState }).liveProbe.events);
  return events.filter((event) => event.at >= from);
}

type ImageEvent = Extract<ProbeEvent, { topic: 'image' }>;

/**
 * Credit window 1 means: when the page acknowledges frame s, the relay sends the newest frame it has, so
 * every frame the page receives after another is at least as new as the newest frame the server had
 * published when the page finished the previous one. `published` (seq → when this test's own client, which
 * never acknowledges, received it: after the relay published it) gives a lower bound of "the newest the
 * server had". Returns each violation as text.
 */
function staleFrames(images: ImageEvent[], published: Map<number, number>): string[] {
  const byTime = [...published].sort((a, b) => a[1] - b[1]);
  const newestBy = (time: number): number => {
    let newest = -1;
    for (const [seq, at] of byTime) if (at <= time - CLOCK_SLACK_MS) newest = Math.max(newest, seq);
    return newest;
  };
  const stale: string[] = [];
  for (let i = 1; i < images.length; i++) {
    const previous = images[i - 1]!;
    const next = images[i]!;
    const newest = newestBy(previous.handled);
    if (next.seq < newest) stale.push(`after handling ${previous.seq} the page got ${next.seq}, but ${newest} was out already`);
  }
  return stale;
}

describe('live means live, in Chromium', () => {
  let observer: RelayClient | undefined;
  afterAll(() => observer?.close());

  it('a page CPU-throttled 4× gets no stale frames (credit window 1), and an unthrottled page beside it keeps receiving', { timeout: 240_000 }, async () => {
    // This test's own client, never acknowledging (a 1.1 client), records when each frame was out.
    const published = new Map<number, number>();
    observer = createRelayClient({ url: `${url.replace(/^http/, 'ws')}ws`, WebSocket: WebSocket as unknown as WebSocketConstructor, window: 0 });
    observer.subscribe('napari.image', (event) => {
      if (event.kind === 'frame' && !event.replay) published.set(event.seq, wallClock());
    });
    const slow = await openProbe('frameTime=0', 4);
    const fast = await openProbe('frameTime=0');
    await eventually(() => (published.size > 5 ? true : undefined), 60_000, 'frames published');
    const from = wallClock();
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
    const slowImages = (await eventsOf(slow, from)).filter((event): event is ImageEvent => event.topic === 'image');
    const fastImages = (await eventsOf(fast, from)).filter((event): event is ImageEvent => event.topic === 'image');
    await Promise.all([slow.close(), fast.close()]);
    const publishedInWindow = [...published.values()].filter((at) => at >= from).length;

    // Both pages received frames all along, in order; the unthrottled one at least as many as the slow one.
    // (Pages of image topics alone take them on their own connection: the relay client's bulk worker is
    // only for pages that also take small topics, so the throttled page handles its chunks itself.)
    expect(slowImages.length).toBeGreaterThan(3);
    const counts = `frames in the window: published ${publishedInWindow}, slow page ${slowImages.length}, fast page ${fastImages.length}`;
    expect(fastImages.length, counts).toBeGreaterThanOrEqual(slowImages.length);
    for (const images of [slowImages, fastImages]) {
      for (let i = 1; i < images.length; i++) expect(images[i]!.seq).toBeGreaterThan(images[i - 1]!.seq);
    }
    // The throttled page cannot take every frame: the relay coalesced what it could not take (else this
    // test would prove nothing about staleness).
    expect(slowImages.length, counts).toBeLessThan(publishedInWindow);
    // No frame either page received was older than the newest out when it asked for the next one.
    expect(staleFrames(slowImages, published)).toEqual([]);
    expect(staleFrames(fastImages, published)).toEqual([]);
  });

  it('beside a saturating image topic, frame_time arrives in order without gaps, on the page\'s connection while the image comes in chunks on the bulk worker\'s', { timeout: 240_000 }, async () => {
    // What Chromium's WebSockets received, in order, per socket, as the network saw it (DevTools: the
    // page's and its relay client's bulk worker's): image frames in chunks (protocol 1.5), frame_time data.
    type Kind = 'chunk' | 'chunk-last' | 'whole-frame' | 'frame_time' | 'other';
    const sockets: Kind[][] = [];
    let recording = false;
    const page = await openProbe('', 1, (opened) => {
      opened.on('websocket', (socket) => {
        const wire: Kind[] = [];
        sockets.push(wire);
        socket.on('framereceived', ({ payload }) => {
          if (!recording) return;
          if (typeof payload === 'string') {
            wire.push(payload.includes('"topic":"napari.frame_time"') ? 'frame_time' : 'other');
          } else if (payload.subarray(0, 3).toString('latin1') === 'WMC') {
            // Chunk header: frame number, offset, total (u32 LE at 4, 8, 12); the bytes follow from 16.
            wire.push(payload.readUInt32LE(8) + payload.length - 16 === payload.readUInt32LE(12) ? 'chunk-last' : 'chunk');
          } else {
            wire.push(payload.length > 16 * 1024 ? 'whole-frame' : 'other');
          }
        });
      });
    });
    recording = true;
    const from = wallClock();
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
    recording = false;
    const events = await eventsOf(page, from);
    await page.close();
    const frameTimes = events.filter((event): event is Extract<ProbeEvent, { topic: 'frame_time' }> => event.topic === 'frame_time');
    const images = events.filter((event) => event.topic === 'image');
    // The image topic kept the page busy, and frame_time kept coming.
    expect(images.length).toBeGreaterThan(10);
    expect(frameTimes.length).toBeGreaterThan(60);
    // In order, without gaps: consecutive sequence numbers and napari's own times increasing.
    for (let i = 1; i < frameTimes.length; i++) {
      expect(frameTimes[i]!.seq).toBe(frameTimes[i - 1]!.seq + 1);
      expect(frameTimes[i]!.put).toBeGreaterThan(frameTimes[i - 1]!.put);
    }
    // frame_time is not starved by the image: with credit window 1 there is at most one image frame on its
    // way, so between a frame_time's publish on the relay and its arrival in the page the page handles
    // that one frame at most — almost always. The two come on separate connections (below) and reach the
    // page's main thread through separate task queues (the WebSocket's, the worker's messages), so after
    // a pause of that thread the scheduler may run the next frame first: two, never more than that in 7 CI
    // runs, when the probe still kept its frames (Blink's sweep of them was such a pause: bench:image's
    // fairness group). It borrows them now, as webmon's pages do; alone on this machine, six runs with and
    // without borrowing saw at most one, so the bound stays at two for a loaded CI machine. Without the
    // worker, on one connection, the relay's fair scheduling makes it at most one, always.
    const ahead = frameTimes.map((message) => {
      const index = events.indexOf(message);
      return events.slice(0, index).filter((event) => event.topic === 'image' && event.at > message.relay + CLOCK_SLACK_MS).length;
    });
    const worst = Math.max(...ahead);
    const perMessage = `image frames handled between a frame_time's publish and its arrival (per message: ${ahead.join(',')})`;
    expect(worst, perMessage).toBeLessThanOrEqual(2);
    expect(ahead.filter((count) => count <= 1).length / ahead.length, perMessage).toBeGreaterThanOrEqual(0.98);
    // Two connections (webmon's shell gives its relay client a bulk worker): the image's chunks on one,
    // frame_time on the other, never the two on the same one. Every image frame came in chunks, none whole.
    const carrying = (kind: Kind) => sockets.filter((wire) => wire.includes(kind));
    const [bulk, ...otherBulk] = carrying('chunk-last');
    const [small, ...otherSmall] = carrying('frame_time');
    expect(otherBulk).toEqual([]);
    expect(otherSmall).toEqual([]);
    expect(bulk).toBeDefined();
    expect(bulk).not.toBe(small);
    expect(bulk!.filter((kind) => kind === 'chunk-last').length).toBeGreaterThan(10);
    expect(sockets.flat().filter((kind) => kind === 'whole-frame')).toEqual([]);
    expect(small!.filter((kind) => kind === 'chunk' || kind === 'chunk-last')).toEqual([]);
  });
});

describe('beyond loopback (token mode)', () => {
  it('the bulk worker\'s connection is admitted on the page\'s session: the image comes on a second socket, frame_time on the page\'s own', { timeout: 240_000 }, async () => {
    const remoteProject = mkdtempSync(join(tmpdir(), 'webmon-live-e2e-token-'));
    const { proc, url: signIn } = await startWebmon(['--port', '0', '--host', '0.0.0.0', '--page', PROBE_DIR], { cwd: remoteProject });
    const context = await browser.newContext();
    try {
      expect(signIn).toContain('#token=');
      const page = await context.newPage();
      // Per socket, what it carried: binary image data (frames or chunks) and frame_time messages.
      // Counted once the page is up: before its second topic, the first may come on the page's socket.
      const sockets: { images: number; frameTimes: number; url: string }[] = [];
      let counting = false;
      page.on('websocket', (socket) => {
        const wire = { images: 0, frameTimes: 0, url: socket.url() };
        sockets.push(wire);
        socket.on('framereceived', ({ payload }) => {
          if (!counting) return;
          if (typeof payload === 'string') {
            if (payload.includes('"topic":"napari.frame_time"')) wire.frameTimes += 1;
          } else if (['WMC', 'WMF'].includes(payload.subarray(0, 3).toString('latin1'))) {
            wire.images += 1;
          }
        });
      });
      // The printed address carries the token in its fragment: the shell trades it for the session cookie.
      await page.goto(signIn.replace('/#', '/live-probe#'));
      const flowing = (images: number, frameTimes: number) =>
        page.waitForFunction(([minImages, minFrameTimes]) => {
          const events = (globalThis as { liveProbe?: ProbeState }).liveProbe?.events ?? [];
          return events.filter((event) => event.topic === 'image').length > minImages! && events.filter((event) => event.topic === 'frame_time').length > minFrameTimes!;
        }, [images, frameTimes], { timeout: 90_000, polling: 250 });
      await flowing(2, 10);
      counting = true;
      await flowing(10, 60);
      const imageSockets = sockets.filter((wire) => wire.images > 0);
      const frameTimeSockets = sockets.filter((wire) => wire.frameTimes > 0);
      // Had the worker's connection been refused (no session), the image would have fallen back to the page's socket.
      expect(imageSockets, JSON.stringify(sockets)).toHaveLength(1);
      expect(frameTimeSockets, JSON.stringify(sockets)).toHaveLength(1);
      expect(imageSockets[0]).not.toBe(frameTimeSockets[0]);
      expect(imageSockets[0]!.frameTimes).toBe(0);
      // Neither socket carried the token: the session cookie stood for it.
      const token = new URLSearchParams(new URL(signIn).hash.slice(1)).get('token') ?? '';
      for (const wire of sockets) expect(wire.url).not.toContain(token);
    } finally {
      await context.close();
      await proc.stop();
      rmSync(remoteProject, { recursive: true, force: true });
    }
  });
});
