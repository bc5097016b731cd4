/**
 * The relay client's bulk worker (`bulkWorker`) in Debian's Chromium against a real relay: binary topics on a
 * second connection opened in a dedicated worker, frames moved to the page, the page's credit window kept
 * across the worker, views through it, and the fall-back to the page's connection when the worker cannot start.
 */
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { SUBPROTOCOL, encodeFrame } from '@webmon/protocol';
import { bundleBrowserEntry, launchChromium, servePage, type PageServer } from '@webmon/test-chromium';
import { createRelay, type Relay, type RelayOptions } from '../src/index.js';
import type { BulkPageState } from './bulk-page/page.js';

let browser: Browser;
let pageScript: string;
let workerScript: string;
let site: PageServer | undefined;
let relay: Relay | undefined;

beforeAll(async () => {
  [pageScript, workerScript] = await Promise.all([
    bundleBrowserEntry(fileURLToPath(new URL('./bulk-page/page.ts', import.meta.url))),
    bundleBrowserEntry(fileURLToPath(new URL('../src/bulk-worker.ts', import.meta.url))),
  ]);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await relay?.close();
  await site?.close();
  relay = undefined;
  site = undefined;
});

const TOPICS = [{ name: 'image', mode: 'latest' as const, binary: true }, { name: 'small', mode: 'stream' as const }];

async function start(query = '', options: Partial<RelayOptions> = {}): Promise<{ page: Page; relay: Relay }> {
  site = await servePage(pageScript, { scripts: { '/bulk-worker.js': workerScript } });
  relay = createRelay({ server: site.server, topics: TOPICS, ...options });
  const page = await browser.newPage();
  await page.goto(`${site.url}#${query}`);
  await page.waitForFunction(() => (globalThis as { bulkPage?: unknown }).bulkPage !== undefined);
  return { page, relay };
}

/** The data of a 4 × 4 float32 frame, every pixel `value`. */
const frame = (value: number): Float32Array => new Float32Array(16).fill(value);
const state = (page: Page) => page.evaluate(() => {
  const { frames, small, errors } = (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage;
  return { frames, small, errors };
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Both connections subscribed: the page's to `small`, the worker's to `image`. */
async function bothSubscribed(relay: Relay): Promise<string[][]> {
  return until(async () => {
    const subscriptions = relay.stats().clients.map((client) => [...client.subscriptions].sort());
    return subscriptions.length === 2 && subscriptions.every((list) => list.length > 0) ? subscriptions : undefined;
  }, 'two subscribed connections');
}

describe('relay client with a bulk worker, in Chromium', () => {
  it('takes binary topics on a connection of its own in the worker, JSON topics on the page\'s, and hands the frames over whole', async () => {
    const { page, relay } = await start();
    expect((await bothSubscribed(relay)).sort()).toEqual([['image'], ['small']]);
    for (let value = 1; value <= 3; value++) {
      relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, new Float32Array(64 * 64).fill(value));
      relay.publish('small', { n: value });
      // Window 1: the next frame leaves once the page handled this one.
      await until(async () => ((await state(page)).frames.some((received) => received.first === value) ? true : undefined), `frame ${value}`);
    }
    const { frames, small, errors } = await state(page);
    expect(frames.map(({ first, length, shape }) => ({ first, length, shape }))).toEqual([1, 2, 3].map((first) => ({ first, length: 64 * 64, shape: [64, 64] })));
    expect(small).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps the page\'s credit window across the worker: nothing more is sent until the page\'s handler is done, then the newest', async () => {
    const { page, relay } = await start('hold=1');
    await bothSubscribed(relay);
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(1));
    await until(async () => ((await state(page)).frames.length === 1 ? true : undefined), 'the first frame');
    for (let value = 2; value <= 6; value++) relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(value));
    // The page holds frame 1: its window is full, so the relay keeps the newest for it and sends nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await state(page)).frames.map((received) => received.first)).toEqual([1]);
    const imagePeer = relay.stats().clients.find((client) => client.subscriptions.includes('image'));
    expect(imagePeer?.unackedMessages).toBe(1);
    expect(await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.release())).toBe(true);
    await until(async () => ((await state(page)).frames.length === 2 ? true : undefined), 'the frame after the acknowledgement');
    expect((await state(page)).frames.map((received) => received.first)).toEqual([1, 6]);
    await page.close();
  });

  it('gives a borrowed frame\'s buffer back to the worker once the page\'s handler is done with it (borrowFrames), and not before', async () => {
    const { page, relay } = await start('hold=1&borrow=1');
    await bothSubscribed(relay);
    const bulkPage = (): Promise<{ detached: boolean[]; firsts: number[] }> =>
      page.evaluate(() => {
        const { bulkPage } = globalThis as unknown as { bulkPage: BulkPageState };
        return { detached: bulkPage.detached(), firsts: bulkPage.frames.map((received) => received.first) };
      });
    relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, new Float32Array(64 * 64).fill(1));
    await until(async () => ((await state(page)).frames.length === 1 ? true : undefined), 'the first frame');
    // Held (`defer`): the page may still read it.
    expect((await bulkPage()).detached).toEqual([false]);
    expect(await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.release())).toBe(true);
    await until(async () => ((await bulkPage()).detached[0] === true ? true : undefined), 'the first frame given back');
    relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, new Float32Array(64 * 64).fill(2));
    await until(async () => ((await state(page)).frames.length === 2 ? true : undefined), 'the frame after it');
    expect(await bulkPage()).toEqual({ detached: [true, false], firsts: [1, 2] });
    expect((await state(page)).errors).toEqual([]);
    await page.close();
  });

  it.each([['its handler did not say it borrows it', ''], ['one of its two handlers did not', 'borrow=mixed']])('leaves a frame on the page when %s', async (_case, query) => {
    const { page, relay } = await start(query);
    await bothSubscribed(relay);
    for (let value = 1; value <= 2; value++) {
      relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, new Float32Array(64 * 64).fill(value));
      await until(async () => ((await state(page)).frames.length === value ? true : undefined), `frame ${value}`);
    }
    expect(await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.detached())).toEqual([false, false]);
    await page.close();
  });

  it('sets a view through the worker: the frames that follow are reduced', async () => {
    const { page, relay } = await start();
    await bothSubscribed(relay);
    relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, new Float32Array(64 * 64).fill(5));
    await until(async () => ((await state(page)).frames.length === 1 ? true : undefined), 'a whole frame');
    const answer = await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.setView({ maxShape: [8, 8] }));
    expect(answer).toBe('ok');
    relay.publishFrame('image', { dtype: 'float32', shape: [64, 64] }, new Float32Array(64 * 64).fill(7));
    const viewed = await until(async () => (await state(page)).frames.find((received) => received.first === 7), 'a viewed frame');
    expect(viewed.shape[0]).toBeLessThanOrEqual(8);
    expect(viewed.shape[1]).toBeLessThanOrEqual(8);
    expect(viewed.view).not.toBeNull();
    await page.close();
  });

  it('leaves a page of binary topics alone on one connection, and moves them to the worker with its first JSON topic', async () => {
    const { page, relay } = await start('small=later');
    await until(async () => (relay.stats().clients.some((client) => client.subscriptions.includes('image')) ? true : undefined), 'image subscribed');
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(1));
    await until(async () => ((await state(page)).frames.length === 1 ? true : undefined), 'a frame on the page connection');
    expect(relay.stats().clients).toHaveLength(1);
    await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.subscribeSmall());
    expect((await bothSubscribed(relay)).sort()).toEqual([['image'], ['small']]);
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(2));
    relay.publish('small', { n: 1 });
    await until(async () => ((await state(page)).frames.some((received) => received.first === 2) ? true : undefined), 'a frame through the worker');
    expect((await state(page)).small).toEqual([{ n: 1 }]);
    expect((await state(page)).errors).toEqual([]);
    await page.close();
  });

  it('moves the binary topics back to the page\'s connection when the page drops its last JSON topic, and to the worker again with the next', async () => {
    const { page, relay } = await start();
    await bothSubscribed(relay);
    const pageConnection = () => relay.stats().clients.find((client) => client.subscriptions.includes('small'))?.id;
    const imageConnection = () => relay.stats().clients.find((client) => client.subscriptions.includes('image'))?.id;
    const pageId = pageConnection();
    expect(imageConnection()).not.toBe(pageId);
    await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.unsubscribeSmall());
    // The page's own connection takes the image again; the worker's stays open, subscribed to nothing (for
    // `bulkIdleMs`, 5 s by default: the next test closes it).
    await until(async () => {
      const clients = relay.stats().clients;
      const onPage = clients.some((client) => client.id === pageId && client.subscriptions.includes('image'));
      return onPage && clients.length === 2 && clients.filter((client) => client.subscriptions.length === 0).length === 1 ? true : undefined;
    }, 'image on the page connection, none on the worker\'s');
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(3));
    await until(async () => ((await state(page)).frames.some((received) => received.first === 3) ? true : undefined), 'a frame on the page connection');
    await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.subscribeSmall());
    await until(async () => (imageConnection() !== undefined && imageConnection() !== pageId && pageConnection() === pageId ? true : undefined), 'image on the worker again');
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(5));
    await until(async () => ((await state(page)).frames.some((received) => received.first === 5) ? true : undefined), 'a frame through the worker again');
    expect((await state(page)).errors).toEqual([]);
    expect(relay.stats().clients).toHaveLength(2);
    await page.close();
  });

  it('closes the worker\'s connection once it has had no topic for bulkIdleMs, and opens a new one for the next', async () => {
    const { page, relay } = await start('idle=300');
    await bothSubscribed(relay);
    const pageId = relay.stats().clients.find((client) => client.subscriptions.includes('small'))?.id;
    await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.unsubscribeSmall());
    // The page's connection alone is left, with the image: the worker's no longer takes a slot of the server's.
    await until(async () => {
      const clients = relay.stats().clients;
      return clients.length === 1 && clients[0]!.id === pageId && clients[0]!.subscriptions.includes('image') ? true : undefined;
    }, 'the worker\'s connection closed, the image on the page\'s');
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(3));
    await until(async () => ((await state(page)).frames.some((received) => received.first === 3) ? true : undefined), 'a frame on the page connection');
    await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage.subscribeSmall());
    const subscriptions = await bothSubscribed(relay);
    expect(subscriptions.sort()).toEqual([['image'], ['small']]);
    expect(relay.stats().clients.find((client) => client.subscriptions.includes('image'))?.id).not.toBe(pageId);
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(5));
    await until(async () => ((await state(page)).frames.some((received) => received.first === 5) ? true : undefined), 'a frame through the new worker');
    expect((await state(page)).errors).toEqual([]);
    await page.close();
  });

  it('falls back to the page\'s connection, with RELAY_CLIENT_BULK_WORKER_FAILED, when the worker script does not load', async () => {
    const { page, relay } = await start('worker=/missing.js');
    await until(async () => ((await state(page)).errors.includes('RELAY_CLIENT_BULK_WORKER_FAILED') ? true : undefined), 'the worker failure');
    await until(async () => (relay.stats().clients.some((client) => client.subscriptions.includes('image')) ? true : undefined), 'image subscribed on the page connection');
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(9));
    await until(async () => ((await state(page)).frames.some((received) => received.first === 9) ? true : undefined), 'the frame on the page connection');
    const clients = relay.stats().clients;
    expect(clients).toHaveLength(1);
    expect([...clients[0]!.subscriptions].sort()).toEqual(['image', 'small']);
    await page.close();
  });

  it('falls back to the page\'s connection when the server refuses the worker\'s (too many connections from the address), instead of retrying for ever', async () => {
    const { page, relay } = await start('', { maxConnectionsPerAddress: 1 });
    await until(async () => ((await state(page)).errors.includes('RELAY_CLIENT_BULK_WORKER_FAILED') ? true : undefined), 'the worker failure');
    await until(async () => (relay.stats().clients.some((client) => client.subscriptions.includes('image')) ? true : undefined), 'image subscribed on the page connection');
    relay.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(4));
    relay.publish('small', { n: 4 });
    await until(async () => ((await state(page)).frames.some((received) => received.first === 4) ? true : undefined), 'the frame on the page connection');
    expect((await state(page)).small).toEqual([{ n: 4 }]);
    expect(relay.stats().clients).toHaveLength(1);
    await page.close();
  });

  it('reports a server\'s malformed frames on the worker\'s connection as the page\'s connection would, and takes the next good one', async () => {
    // A server that breaks the protocol on the worker's connection only (a real socket, not the relay).
    site = await servePage(pageScript, { scripts: { '/bulk-worker.js': workerScript } });
    const server = new WebSocketServer({ server: site.server, handleProtocols: () => SUBPROTOCOL });
    const frameOf = (seq: number, value: number) => encodeFrame({ topic: 'image', seq, time: 1, dtype: 'float32', shape: [2, 2] }, new Float32Array(4).fill(value));
    server.on('connection', (socket) => {
      const topics = [{ name: 'image', mode: 'latest', schema: 'webmon.v1/array', binary: true }, { name: 'small', mode: 'stream', schema: 'webmon.v1/json' }];
      socket.send(JSON.stringify({ type: 'hello', protocol: SUBPROTOCOL, version: '1.2.0', sessionId: 's1', topics, time: 1 }));
      socket.on('message', (data, isBinary) => {
        const message = isBinary ? undefined : (JSON.parse(String(data)) as { type: string; topics?: string[] });
        if (message?.type !== 'subscribe') return;
        if (message.topics?.includes('small')) socket.send(JSON.stringify({ type: 'data', topic: 'small', seq: 0, time: 1, payload: { n: 1 } }));
        if (!message.topics?.includes('image')) return;
        const good = frameOf(0, 5);
        socket.send(good.subarray(0, good.length - 1)); // truncated
        socket.send(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)); // not a frame at all
        socket.send(frameOf(1, 7));
      });
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${site.url}#`);
      await until(async () => ((await state(page)).frames.length === 1 ? true : undefined), 'the good frame after the bad ones');
      const { frames, small, errorMessages } = await page.evaluate(() => (globalThis as unknown as { bulkPage: BulkPageState }).bulkPage);
      expect(frames.map(({ first, seq }) => ({ first, seq }))).toEqual([{ first: 7, seq: 1 }]);
      expect(small).toEqual([{ n: 1 }]);
      // Both came through the worker (its messages say so) and it kept its connection: no fall-back.
      expect(errorMessages).toEqual([expect.stringMatching(/^bulk worker: binary frame: /), expect.stringMatching(/^bulk worker: binary frame: not a webmon frame/)]);
      expect(server.clients.size).toBe(2);
      await page.close();
    } finally {
      for (const socket of server.clients) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('after a server restart both connections come back: the worker reconnects and subscribes again, and frames flow through it', async () => {
    const { page, relay: first } = await start();
    await bothSubscribed(first);
    first.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(1));
    await until(async () => ((await state(page)).frames.length === 1 ? true : undefined), 'a frame before the restart');
    await first.close();
    // The same address, a new relay: the pages reconnect on their own (backoff), as after webmon restarts.
    const second = createRelay({ server: site!.server, topics: TOPICS });
    relay = second;
    expect((await bothSubscribed(second)).sort()).toEqual([['image'], ['small']]);
    second.publishFrame('image', { dtype: 'float32', shape: [4, 4] }, frame(2));
    second.publish('small', { n: 2 });
    await until(async () => ((await state(page)).frames.some((received) => received.first === 2) ? true : undefined), 'a frame after the restart');
    const { small, errors } = await state(page);
    expect(small).toEqual([{ n: 2 }]);
    // Connection losses are reported (RELAY_CLIENT_DISCONNECTED and the like), but the worker was not given up.
    expect(errors).not.toContain('RELAY_CLIENT_BULK_WORKER_FAILED');
    await page.close();
  });
});
