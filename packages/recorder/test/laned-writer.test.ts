import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { createRelay } from '@webmon/relay';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { decompressHandlers, recordToFile } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webmon-lanes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('gives big frames chunks of their own, so a small topic reads without them; small chunks close after 1 s', async () => {
  const relay = createRelay({ topics: [{ name: 'stats', mode: 'latest' }, { name: 'camera', mode: 'latest', binary: true }] });
  const path = join(dir, 'run.mcap');
  const recorder = await recordToFile(relay, { path });
  const frame = new Float32Array(128 * 128); // 64 KiB
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < 2_600) {
    relay.publish('stats', { n });
    if (n % 4 === 0) relay.publishFrame('camera', { dtype: 'float32', shape: [128, 128] }, frame.map((_, i) => i + n));
    n++;
    await sleep(20);
  }
  await recorder.close();
  await relay.close();

  const bytes = await readFile(path);
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)) },
    decompressHandlers: await decompressHandlers(),
  });
  const idOf = (topic: string) => [...reader.channelsById.values()].find((channel) => channel.topic === topic)?.id;
  const stats = idOf('stats');
  const camera = idOf('camera');
  const chunksWithStats = reader.chunkIndexes.filter((chunk) => chunk.messageIndexOffsets.has(stats!));
  const chunksWithCamera = reader.chunkIndexes.filter((chunk) => chunk.messageIndexOffsets.has(camera!));
  expect(chunksWithCamera.length).toBe(Math.ceil(n / 4)); // one chunk per frame
  for (const chunk of chunksWithCamera) expect([...chunk.messageIndexOffsets.keys()]).toEqual([camera]);
  // The small values share a few chunks, each spanning at most the 1 s age limit.
  expect(chunksWithStats.length).toBeGreaterThanOrEqual(3);
  expect(chunksWithStats.length).toBeLessThanOrEqual(4);
  for (const chunk of chunksWithStats) expect(chunk.messageEndTime - chunk.messageStartTime).toBeLessThan(1_000_000_000n);
  // Every value reads back, in log-time order across the overlapping chunks of the two lanes.
  const read: string[] = [];
  let last = 0n;
  for await (const message of reader.readMessages({ topics: ['stats', 'camera'] })) {
    expect(message.logTime).toBeGreaterThanOrEqual(last);
    last = message.logTime;
    read.push(reader.channelsById.get(message.channelId)!.topic);
  }
  expect(read.filter((topic) => topic === 'stats')).toHaveLength(n);
  expect(read.filter((topic) => topic === 'camera')).toHaveLength(Math.ceil(n / 4));
});
