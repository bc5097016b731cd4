import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRelay, type Relay } from '@webmon/relay';
import { createRelayClient, type RelayClient, type TopicEvent } from '@webmon/relay/client';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecorderErrorCode, openRecording, recordToFile, replayToRelay, type Recording, type ReplayPlayer } from '../../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let path: string;
let recording: Recording;
let live: Relay;
let replay: Relay;
let player: ReplayPlayer | undefined;
let client: RelayClient | undefined;
/** Log times (ms) of the recorded `stats` values, in order. */
let statsTimes: number[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webmon-player-'));
  path = join(dir, 'run.mcap');
  live = createRelay({
    topics: [
      { name: 'stats', mode: 'latest', replayMs: 150 },
      { name: 'layers', mode: 'latest' },
      { name: 'events', mode: 'stream', replayMs: 100 },
      { name: 'camera', mode: 'latest', binary: true },
    ],
  });
  const recorder = await recordToFile(live, { path, chunkSize: 2048 });
  live.publish('layers', { names: ['cells'] });
  for (let n = 0; n < 40; n++) {
    live.publish('stats', { n });
    live.publish('events', { n });
    if (n % 5 === 0) live.publishFrame('camera', { dtype: 'uint8', shape: [2, 2], time: 1_700_000_000_000 + n }, new Uint8Array([n, n + 1, n + 2, n + 3]));
    await sleep(10);
  }
  await recorder.close();
  await live.close();
  recording = await openRecording(path);
  statsTimes = [];
  for await (const message of recording.messages({ topics: ['stats'] })) statsTimes.push(Number(message.logTime / 1000n) / 1000);
  replay = createRelay({});
});

afterEach(async () => {
  client?.close();
  player?.close();
  await replay.close();
  await recording.close();
  await rm(dir, { recursive: true, force: true });
});

interface Received {
  topic: string;
  replay: boolean;
  value: unknown;
  time: number;
}

async function connect(): Promise<{ received: Received[]; sessions: string[] }> {
  const { url } = await replay.listen();
  client = createRelayClient({ url, WebSocket: WebSocket as never });
  const received: Received[] = [];
  const sessions: string[] = [];
  client.onHello((hello) => sessions.push(hello.sessionId));
  const take = (event: TopicEvent<unknown>) => {
    received.push({ topic: event.topic, replay: event.replay, value: event.kind === 'data' ? event.payload : [...(event.frame.data as Uint8Array)], time: event.time });
  };
  for (const topic of ['stats', 'layers', 'events', 'camera']) client.subscribe(topic, take);
  await expect.poll(() => sessions.length).toBeGreaterThan(0);
  return { received, sessions };
}

describe('replayToRelay', () => {
  it('declares the recorded topics and plays every value with its recorded time stamp, in order', async () => {
    player = await replayToRelay(recording, replay, { paused: true });
    expect(replay.topics.map((topic) => topic.name).sort()).toEqual(['camera', 'events', 'layers', 'stats']);
    expect(replay.topics.find((topic) => topic.name === 'stats')?.replayMs).toBe(150);
    expect(replay.timeline).toMatchObject({ state: 'paused', speed: 1 });
    const { received } = await connect();
    player.setSpeed(4);
    player.play();
    await expect.poll(() => player?.status().state, { timeout: 10_000 }).toBe('ended');
    await sleep(100);
    // A latest topic paced by the client's acknowledgements: newer values, in order, up to the last.
    const stats = received.filter((item) => item.topic === 'stats' && !item.replay).map((item) => (item.value as { n: number }).n);
    expect(stats.length).toBeGreaterThan(3);
    expect(stats).toEqual([...stats].sort((a, b) => a - b));
    expect(stats.at(-1)).toBe(39);
    // A stream topic: every value (the state at the start is the first value recorded, \`layers\`).
    const events = received.filter((item) => item.topic === 'events' && !item.replay).map((item) => (item.value as { n: number }).n);
    expect(events).toEqual([...Array(40).keys()]);
    const recordedTimes: number[] = [];
    for await (const message of recording.messages({ topics: ['events'] })) recordedTimes.push(Number(message.publishTime / 1000n) / 1000);
    const times = received.filter((item) => item.topic === 'events' && !item.replay).map((item) => item.time);
    times.forEach((time, n) => expect(time).toBeCloseTo(recordedTimes[n]!, 2));
    expect(received.filter((item) => item.topic === 'camera').map((item) => (item.value as number[])[0])).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
    expect(replay.timeline).toMatchObject({ state: 'ended' });
  });

  it('a seek starts a new session whose snapshot is the state at the cursor', async () => {
    player = await replayToRelay(recording, replay, { paused: true });
    const { received, sessions } = await connect();
    const cursor = statsTimes[22]!;
    received.length = 0;
    await player.seek(cursor);
    await expect.poll(() => sessions.length).toBe(2);
    await expect.poll(() => received.some((item) => item.topic === 'camera')).toBe(true);
    await sleep(100);
    expect(received.every((item) => item.replay)).toBe(true);
    const statsWindow = received.filter((item) => item.topic === 'stats').map((item) => (item.value as { n: number }).n);
    // The newest value as of the cursor is the last of the window; the window reaches back 150 ms.
    expect(statsWindow.at(-1)).toBe(22);
    const expectedWindow = statsTimes.map((time, n) => ({ time, n })).filter(({ time }) => time <= cursor && time >= cursor - 150).map(({ n }) => n);
    expect(statsWindow).toEqual(expectedWindow);
    expect(received.filter((item) => item.topic === 'layers').map((item) => item.value)).toEqual([{ names: ['cells'] }]);
    expect(received.filter((item) => item.topic === 'camera').map((item) => (item.value as number[])[0])).toEqual([20]);
    expect(player.status()).toMatchObject({ state: 'paused', seeks: 1 });
    expect(Math.abs(player.status().cursor - cursor)).toBeLessThan(0.01);
    expect(replay.timeline?.cursor).toBeCloseTo(cursor, 1);
  });

  it('steps to the next and the previous recorded instant', async () => {
    player = await replayToRelay(recording, replay, { paused: true });
    await player.seek(statsTimes[10]!);
    const before = player.status().cursor;
    await player.step(1);
    const after = player.status().cursor;
    expect(after).toBeGreaterThan(before);
    await player.step(-1);
    expect(player.status().cursor).toBeLessThan(after);
    expect(player.status().state).toBe('paused');
  });

  it('refuses a speed outside ×0.25–×8 with a typed error and keeps its own', async () => {
    player = await replayToRelay(recording, replay, { paused: true });
    for (const speed of [0, 0.1, 9, Number.NaN]) expect(() => player?.setSpeed(speed)).toThrow(expect.objectContaining({ code: RecorderErrorCode.INVALID_OPTIONS }));
    expect(player.status().speed).toBe(1);
  });
});
