/**
 * Replay benchmark (`pnpm --filter @webmon/recorder bench`):
 *
 * 1. Seek in a 1 GiB recording: the time from `seek(t)` until a relay client (Node, `ws`) has the image
 *    frame at `t` — the state at the cursor read through the MCAP index, a new relay session, the snapshot
 *    sent. Baselines in the same run: the `@mcap/core` indexed reader's own time to the first frame at `t`
 *    (the floor), and reading the file from its start up to `t` (what a seek without an index costs).
 * 2. Replay at ×1: each topic's rate at a client against its rate in the recording, over the same span.
 *
 * The recording is made first (256² float32 noise frames at ~60 Hz with JSON topics beside them), or reused:
 * `BENCH_SEEK_FILE=/path.mcap` keeps it between runs. `BENCH_SEEK_BYTES` sets its size (default 1 GiB).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import { createRelay } from '@webmon/relay';
import { createRelayClient } from '@webmon/relay/client';
import WebSocket from 'ws';
import { decompressHandlers, openRecording, recordToFile, replayToRelay } from '../src/index.js';
import { FileReadable } from '../src/reader/readable.js';
import { open } from 'node:fs/promises';

const TARGET_BYTES = Number(process.env['BENCH_SEEK_BYTES'] ?? 2 ** 30);
const FILE = process.env['BENCH_SEEK_FILE'] ?? join(tmpdir(), `webmon-seek-bench-${TARGET_BYTES}.mcap`);
const SEEKS = Number(process.env['BENCH_SEEKS'] ?? 20);
const REPLAY_SECONDS = Number(process.env['BENCH_REPLAY_SECONDS'] ?? 10);
/** 256² float32 frames (256 KiB, noise: chunks stored as they are) at 60 Hz: 1 GiB is about a minute. */
const EDGE = 256;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
/** A seeded PRNG, so every run seeks to the same places. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function makeRecording(): Promise<void> {
  const existing = await stat(FILE).catch(() => undefined);
  if (existing !== undefined && existing.size >= TARGET_BYTES * 0.9) {
    console.log(`recording: reusing ${FILE} (${(existing.size / 2 ** 20).toFixed(0)} MiB)`);
    return;
  }
  const relay = createRelay({
    topics: [
      { name: 'demo.frame_time', mode: 'latest', replayMs: 60_000 },
      { name: 'demo.layers', mode: 'latest' },
      { name: 'demo.events', mode: 'stream', replayMs: 10_000 },
      { name: 'demo.image', mode: 'latest', binary: true },
    ],
  });
  const recorder = await recordToFile(relay, { path: FILE, images: false, maxCpuShare: 1 });
  const started = performance.now();
  relay.publish('demo.layers', { names: ['cells', 'nuclei'] });
  const random = prng(7);
  const noise = new Float32Array(EDGE * EDGE).map(() => random());
  let frame = 0;
  // 60 Hz of frames with the JSON topics beside them; paced by the disk so nothing is dropped.
  while (recorder.stats().bytesWritten < TARGET_BYTES) {
    // Each frame the noise rotated by a different amount: no two frames alike, nothing to compress.
    const image = new Float32Array(noise.length);
    const shift = (frame * 7919) % noise.length;
    image.set(noise.subarray(shift), 0);
    image.set(noise.subarray(0, shift), noise.length - shift);
    relay.publishFrame('demo.image', { dtype: 'float32', shape: [EDGE, EDGE], meta: { frame } }, image);
    relay.publish('demo.frame_time', { frame, delta_ms: 16.7 });
    relay.publish('demo.events', { frame });
    frame++;
    await sleep(16);
    while (recorder.stats().queuedBytes > 32 * 2 ** 20) await sleep(5);
  }
  await recorder.close();
  await relay.close();
  const { droppedTotal } = recorder.stats();
  console.log(`recording: wrote ${FILE}: ${frame} frames, ${((await stat(FILE)).size / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s, ${droppedTotal} dropped`);
}

async function main(): Promise<void> {
  await makeRecording();
  const openedAt = performance.now();
  const recording = await openRecording(FILE);
  const openMs = performance.now() - openedAt;
  const spanMs = Number(recording.endTime - recording.startTime) / 1e6;
  console.log(`open: ${openMs.toFixed(1)} ms (index of ${recording.messageCount} messages, ${(spanMs / 1000).toFixed(1)} s recorded)`);

  const relay = createRelay({});
  const { url } = await relay.listen();
  const player = await replayToRelay(recording, relay, { paused: true });
  const client = createRelayClient({ url, WebSocket: WebSocket as never });
  let waiting: ((frame: number) => void) | undefined;
  client.subscribe('demo.image', (event) => {
    if (event.kind === 'frame') waiting?.((event.frame.meta as { frame: number }).frame);
  });
  await new Promise<void>((resolve) => client.onHello(() => resolve()));
  await sleep(500);

  // The floor: the library's indexed reader alone, to the first image frame at t.
  const handle = await open(FILE, 'r');
  const handlers = await decompressHandlers();
  const raw = await McapIndexedReader.Initialize({ readable: new FileReadable(handle, BigInt((await handle.stat()).size)), decompressHandlers: handlers });
  const random = prng(42);
  const seekMs: number[] = [];
  const floorMs: number[] = [];
  for (let n = 0; n < SEEKS; n++) {
    const cursor = Number(recording.startTime / 1_000_000n) + random() * spanMs;
    const cursorNs = BigInt(Math.round(cursor * 1000)) * 1000n;
    const t0 = performance.now();
    for await (const message of raw.readMessages({ topics: ['demo.image'], endTime: cursorNs, reverse: true })) {
      void message;
      break;
    }
    floorMs.push(performance.now() - t0);
    const got = new Promise<number>((resolve) => (waiting = resolve));
    const t1 = performance.now();
    await player.seek(cursor);
    await got;
    seekMs.push(performance.now() - t1);
    waiting = undefined;
  }
  // What a seek without an index costs: reading from the start to the middle of the file.
  const middle = recording.startTime + (recording.endTime - recording.startTime) / 2n;
  const scanStarted = performance.now();
  await new Promise<void>((resolve, reject) => {
    const stream = new McapStreamReader({ decompressHandlers: handlers, validateCrcs: false });
    const input = createReadStream(FILE, { highWaterMark: 4 * 2 ** 20 });
    input.on('data', (chunk) => {
      stream.append(chunk as Buffer);
      for (let record; (record = stream.nextRecord()); ) {
        if (record.type === 'Message' && record.logTime >= middle) {
          input.destroy();
          resolve();
          return;
        }
      }
    });
    input.on('error', reject);
    input.on('close', () => resolve());
  });
  const scanMs = performance.now() - scanStarted;
  await handle.close();
  console.log(`seek (${SEEKS} random instants, to the image frame at a client): p50 ${quantile(seekMs, 0.5).toFixed(1)} ms, p95 ${quantile(seekMs, 0.95).toFixed(1)} ms, max ${Math.max(...seekMs).toFixed(1)} ms (goal ≤ 200 ms)`);
  console.log(`  baseline, @mcap/core's indexed reader alone to that frame: p50 ${quantile(floorMs, 0.5).toFixed(1)} ms → seek / floor ${(quantile(seekMs, 0.5) / quantile(floorMs, 0.5)).toFixed(2)}×`);
  console.log(`  baseline, reading from the start to the middle (no index): ${scanMs.toFixed(0)} ms → ${(scanMs / quantile(seekMs, 0.5)).toFixed(0)}× the seek`);

  // Replay at ×1 over REPLAY_SECONDS from a quarter in: rates at the client vs in the file.
  const from = recording.startTime + (recording.endTime - recording.startTime) / 4n;
  const until = from + BigInt(REPLAY_SECONDS * 1e9);
  const recorded = new Map<string, number>();
  for await (const message of recording.messages({ start: from, end: until })) recorded.set(message.topic, (recorded.get(message.topic) ?? 0) + 1);
  const received = new Map<string, number>();
  for (const topic of ['demo.frame_time', 'demo.events']) {
    client.subscribe(topic, (event) => {
      if (!event.replay) received.set(topic, (received.get(topic) ?? 0) + 1);
    });
  }
  client.subscribe('demo.image', (event) => {
    if (!event.replay) received.set('demo.image', (received.get('demo.image') ?? 0) + 1);
  });
  await player.seek(Number(from / 1_000_000n));
  await sleep(300);
  received.clear();
  const played = performance.now();
  player.play();
  await sleep(REPLAY_SECONDS * 1000);
  player.pause();
  const wallS = (performance.now() - played) / 1000;
  console.log(`replay ×1 for ${REPLAY_SECONDS} s (a client acknowledging nothing: every value it is sent):`);
  for (const [topic, count] of recorded) {
    const fileHz = count / REPLAY_SECONDS;
    const gotHz = (received.get(topic) ?? 0) / wallS;
    console.log(`  ${topic}: ${gotHz.toFixed(1)} Hz received vs ${fileHz.toFixed(1)} Hz recorded → ${(gotHz / fileHz).toFixed(2)}×`);
  }
  client.close();
  player.close();
  await relay.close();
  await recording.close();
}

await main();
