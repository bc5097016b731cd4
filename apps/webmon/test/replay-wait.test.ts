/**
 * `webmon replay` waits for someone to watch: a real `webmon replay` process on port 0 serves a small
 * recording made here (a real relay recorded with `recordToFile`: `recordings.ts`), stays paused at the start until the first
 * page connects (a real WebSocket: `@webmon/relay/client` on `ws`, as page-kit uses it) and then plays from
 * the start at ×1. A control sent before any page (`POST /api/replay`) stands: the first page starts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRelayClient, type RelayClient, type TimelineMessage, type TopicEvent, type WebSocketConstructor } from '@webmon/relay/client';
import { eventually, getJson, startWebmon, stopAfterEach } from './helpers.js';
import { recordTicks } from './recordings.js';

interface ReplayStatus {
  replay: { state: string; cursor: number; start: number; end: number; speed: number };
}

const track = stopAfterEach();
const clients: RelayClient[] = [];
let dir: string;
let file: string;
/** Ticks recorded (0, 1, …), one every TICK_MS: the recording lasts about TICKS × TICK_MS. */
const TICKS = 100;
const TICK_MS = 30;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webmon-replay-wait-'));
  file = join(dir, 'ticks.mcap');
  await recordTicks(file, TICKS, TICK_MS);
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const status = async (url: string): Promise<ReplayStatus['replay']> => ((await getJson(`${url}api/status`)) as ReplayStatus).replay;

/** A page: the relay client on a real WebSocket, subscribed to the ticks, noting every timeline. */
function page(url: string): { client: RelayClient; timelines: TimelineMessage[]; live: number[]; snapshot: number[] } {
  const client = createRelayClient({ url: `${url.replace(/^http/, 'ws')}ws`, WebSocket: WebSocket as unknown as WebSocketConstructor });
  clients.push(client);
  const timelines: TimelineMessage[] = [];
  const live: number[] = [];
  const snapshot: number[] = [];
  client.onTimeline((timeline) => {
    if (timeline !== undefined) timelines.push(timeline);
  });
  client.subscribe('demo.ticks', (event: TopicEvent<unknown>) => {
    if (event.kind !== 'data') return;
    (event.replay ? snapshot : live).push((event.payload as { n: number }).n);
  });
  return { client, timelines, live, snapshot };
}

describe('webmon replay waits for its first page', () => {
  it('stays paused at the start while nobody watches, and plays from the start at ×1 when the first page connects', async () => {
    const { proc, url } = await startWebmon(['replay', file, '--port', '0']);
    track(proc);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const waiting = await status(url);
    expect(waiting.state).toBe('paused');
    expect(waiting.cursor).toBe(waiting.start);
    expect(waiting.end - waiting.start).toBeGreaterThan(1_000);

    const first = page(url);
    await eventually(() => (first.timelines.some((timeline) => timeline.state === 'playing') ? true : undefined), 20_000, 'the replay playing');
    // The page was told paused at the start (after hello), then playing from the start at ×1.
    expect(first.timelines[0]).toMatchObject({ state: 'paused', cursor: waiting.start });
    const playing = first.timelines.find((timeline) => timeline.state === 'playing')!;
    // (From the start: the cursor is read as the play begins, so a busy machine may add a few ms.)
    expect(playing.cursor - waiting.start).toBeGreaterThanOrEqual(0);
    expect(playing.cursor - waiting.start).toBeLessThan(250);
    expect(playing.speed).toBe(1);
    // The values arrive from the start: the snapshot begins with the first tick (it may hold one or two more,
    // played before the page's subscribe reached the relay), the live values follow it in order.
    await eventually(() => (first.live.length >= 5 ? true : undefined), 20_000, 'live ticks');
    expect(first.snapshot[0]).toBe(0);
    expect([...first.snapshot, ...first.live].slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    const now = await status(url);
    expect(now.state === 'playing' || now.state === 'ended').toBe(true);
    expect(now.cursor).toBeGreaterThan(waiting.start);

    // A later page joins where the cursor is: it does not start the replay over.
    const later = page(url);
    await eventually(() => (later.timelines.length > 0 ? true : undefined), 20_000, 'the later page\'s timeline');
    expect(later.timelines[0]!.cursor).toBeGreaterThan(waiting.start);
  });

  it('a control before any page stands: the first page does not start the replay', async () => {
    const { proc, url } = await startWebmon(['replay', file, '--port', '0']);
    track(proc);
    const { start } = await status(url);
    const origin = url.replace(/\/$/, '');
    const seek = await fetch(`${url}api/replay`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'seek', cursor: start + 500 }) });
    expect(seek.status).toBe(204);
    const sought = await status(url);
    expect(sought.state).toBe('paused');
    expect(sought.cursor).toBeGreaterThanOrEqual(start + 500);

    const first = page(url);
    await eventually(() => (first.timelines.length > 0 && first.snapshot.length > 0 ? true : undefined), 20_000, 'the page\'s timeline and snapshot');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(first.timelines.map((timeline) => timeline.state)).toEqual(['paused']);
    expect(first.live).toEqual([]);
    expect(await status(url)).toMatchObject({ state: 'paused', cursor: sought.cursor });
  });
});
