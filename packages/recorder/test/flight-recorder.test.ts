import { decodeFrame } from '@webmon/protocol';
import { createRelay, type Relay, type RelayTopicOptions } from '@webmon/relay';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecorderErrorCode, createFlightRecorder } from '../src/index.js';
import { readIndexed } from './helpers.js';

let relay: Relay;

beforeEach(() => {
  relay = createRelay({
    topics: [
      { name: 'status', mode: 'latest' },
      { name: 'ticks', mode: 'stream' },
      { name: 'image', mode: 'latest', binary: true },
    ],
  });
});

afterEach(async () => {
  await relay.close();
});

/** Replaces the shared relay with one of these topics (closed after the test as usual). */
async function useRelay(topics: RelayTopicOptions[]): Promise<void> {
  await relay.close();
  relay = createRelay({ topics });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createFlightRecorder', () => {
  it('saves the last N seconds, with each latest topic’s value as of the window start', async () => {
    const flight = createFlightRecorder(relay, { maxBytes: 8 * 2 ** 20 });
    relay.publish('status', { state: 'old' });
    relay.publish('ticks', { n: -1 });
    await sleep(400);
    for (let n = 0; n < 10; n++) relay.publish('ticks', { n });
    relay.publishFrame('image', { dtype: 'uint8', shape: [2, 2] }, new Uint8Array([1, 2, 3, 4]));
    const back = await readIndexed(await flight.save(0.2));
    // The stream topic: only the window; the latest topic: its value as of the window start.
    expect(back.counts.get('ticks')).toBe(10);
    expect(back.counts.get('status')).toBe(1);
    expect(JSON.parse(new TextDecoder().decode(back.messages.find((entry) => entry.topic === 'status')?.message.data))).toEqual({ state: 'old' });
    expect(back.counts.get('image')).toBe(1);
    expect(back.counts.get('image/image')).toBe(1);
    expect(back.channels.map((channel) => channel.topic).sort()).toEqual(['image', 'image/image', 'status', 'ticks']);
    // Messages come out in log-time order.
    const times = back.messages.map((entry) => entry.message.logTime);
    expect([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(times);
    flight.close();
  });

  it('stays within its byte budget; the biggest topic gives up values first', async () => {
    const maxBytes = 2 * 2 ** 20;
    const flight = createFlightRecorder(relay, { maxBytes });
    const frame = new Float32Array(64 * 1024); // 256 KiB
    for (let n = 0; n < 100; n++) {
      relay.publish('ticks', { n });
      relay.publishFrame('image', { dtype: 'float32', shape: [256, 256] }, frame);
      expect(flight.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    const stats = flight.stats();
    expect(stats.evicted).toBeGreaterThan(80);
    const back = await readIndexed(await flight.save(60));
    expect(back.counts.get('ticks')).toBe(100); // the small topic kept all of its history
    expect(back.counts.get('image')).toBeLessThan(10);
    flight.close();
  });

  it('a value larger than the whole budget is counted, not held', () => {
    const flight = createFlightRecorder(relay, { maxBytes: 1024 });
    relay.publishFrame('image', { dtype: 'uint8', shape: [64, 64] }, new Uint8Array(4096));
    expect(flight.stats()).toMatchObject({ tooLarge: 1, bytes: 0 });
    flight.close();
  });

  it('off (maxBytes 0) it taps nothing and save says RECORDER_DISABLED; bad seconds are refused', async () => {
    const off = createFlightRecorder(relay, { maxBytes: 0 });
    relay.publish('ticks', { n: 1 });
    expect(off.stats().bytes).toBe(0);
    await expect(off.save(10)).rejects.toMatchObject({ code: RecorderErrorCode.DISABLED });
    const on = createFlightRecorder(relay);
    await expect(on.save(0)).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS });
    await expect(on.save(Number.NaN)).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS });
    expect(() => createFlightRecorder(relay, { maxBytes: -1 })).toThrow(expect.objectContaining({ code: RecorderErrorCode.INVALID_OPTIONS }));
    on.close();
  });
});

describe('the flight recorder’s frame memory', () => {
  /** A frame whose every byte says which frame it is. */
  const frameOf = (n: number) => new Uint8Array(64 * 1024).fill(n % 251);

  it('keeps copies, not the producer’s buffers, in memory that frames leaving the window give to new ones', async () => {
    const flight = createFlightRecorder(relay, { maxBytes: 2 * 2 ** 20 }); // room for ~31 frames of 64 KiB
    for (let n = 0; n < 200; n++) {
      const data = frameOf(n);
      relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, data);
      data.fill(255); // a producer reusing its buffer would not change what was recorded (the recorder copied it)
    }
    const stats = flight.stats();
    expect(stats.bytes).toBeLessThanOrEqual(2 * 2 ** 20);
    // 200 frames of 64 KiB went through memory of 2 MiB, and it stays in one piece.
    expect(stats.memoryTouched).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(stats.memoryTouched).toBeGreaterThan(2 ** 20);
    expect(stats.memoryFragments).toBeLessThanOrEqual(2);
    expect(stats.droppedWhileSaving).toBe(0);
    const back = await readIndexed(await flight.save(60));
    const frames = back.messages.filter((entry) => entry.topic === 'image');
    expect(frames.length).toBeGreaterThan(20);
    for (const entry of frames) {
      const data = decodeFrame(entry.message.data).data as Uint8Array;
      expect(new Set(data)).toEqual(new Set([entry.message.sequence % 251]));
    }
    flight.close();
  });

  it('a save reads the frames it chose even when they leave the window while it runs', async () => {
    const flight = createFlightRecorder(relay, { maxBytes: 2 * 2 ** 20 });
    for (let n = 0; n < 40; n++) relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, frameOf(n));
    const saving = flight.save(60);
    for (let n = 40; n < 200; n++) relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, frameOf(n));
    const frames = (await readIndexed(await saving)).messages.filter((entry) => entry.topic === 'image');
    expect(frames.length).toBeGreaterThan(20);
    expect(Math.max(...frames.map((entry) => entry.message.sequence))).toBeLessThan(40);
    for (const entry of frames) expect(new Set(decodeFrame(entry.message.data).data as Uint8Array)).toEqual(new Set([entry.message.sequence % 251]));
    flight.close();
  });

  it('frames of mixed sizes from two topics stay within the memory, each readable as it was', async () => {
    await useRelay([
      { name: 'ticks', mode: 'stream' },
      { name: 'image', mode: 'latest', binary: true },
      { name: 'tiles', mode: 'stream', binary: true },
    ]);
    const maxBytes = 2 * 2 ** 20;
    const flight = createFlightRecorder(relay, { maxBytes });
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 400; n++) {
      const topic = random() < 0.5 ? 'image' : 'tiles';
      const length = 1 + Math.floor(random() * 300 * 1024);
      relay.publishFrame(topic, { dtype: 'uint8', shape: [length] }, new Uint8Array(length).fill(n % 251));
      relay.publish('ticks', { n });
      const stats = flight.stats();
      expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
      expect(stats.memoryTouched).toBeLessThanOrEqual(maxBytes);
    }
    const back = await readIndexed(await flight.save(60));
    expect(back.counts.get('ticks')).toBe(400);
    const frames = back.messages.filter((entry) => entry.topic === 'tiles' || entry.topic === 'image');
    expect(frames.length).toBeGreaterThan(5);
    for (const entry of frames) {
      const data = decodeFrame(entry.message.data).data as Uint8Array;
      expect(data.length).toBeGreaterThan(0);
      expect(data[0]).toBe(data[data.length - 1]);
      expect(new Set(data).size).toBe(1);
    }
    flight.close();
  });

  it('while a save holds every frame, new frames are dropped and counted; the other topics keep their history', async () => {
    const maxBytes = 2 * 2 ** 20;
    const flight = createFlightRecorder(relay, { maxBytes });
    for (let n = 0; n < 40; n++) relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, frameOf(n));
    const saving = flight.save(60); // pins the ~31 frames held, until its thread has copied them
    for (let n = 0; n < 50; n++) {
      relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, frameOf(40 + n));
      relay.publish('ticks', { n });
    }
    const during = flight.stats();
    expect(during.droppedWhileSaving).toBeGreaterThan(0);
    expect(during.memoryTouched).toBeLessThanOrEqual(maxBytes);
    await saving;
    // The save let go: new frames find room again, and the JSON topic lost nothing to the frames' squeeze.
    for (let n = 0; n < 40; n++) relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, frameOf(90 + n));
    expect(flight.stats().droppedWhileSaving).toBe(during.droppedWhileSaving);
    const back = await readIndexed(await flight.save(60));
    expect(back.counts.get('ticks')).toBe(50);
    const frames = back.messages.filter((entry) => entry.topic === 'image');
    expect(Math.max(...frames.map((entry) => entry.message.sequence))).toBe(129);
    for (const entry of frames) expect(new Set(decodeFrame(entry.message.data).data as Uint8Array)).toEqual(new Set([entry.message.sequence % 251]));
    flight.close();
  });

  it('over a long run, small topics beside an image stream neither crowd the frames out nor pass the bookkeeping cap', async () => {
    await useRelay([
      { name: 'image', mode: 'latest', binary: true },
      { name: 'ticks', mode: 'stream' },
      { name: 'status', mode: 'latest' },
      { name: 'poll', mode: 'latest' },
    ]);
    const maxBytes = 4 * 2 ** 20;
    const flight = createFlightRecorder(relay, { maxBytes });
    const frame = new Uint8Array(64 * 1024);
    for (let n = 0; n < 1500; n++) {
      relay.publishFrame('image', { dtype: 'uint8', shape: [256, 256] }, frame.fill(n % 251));
      for (let k = 0; k < 3; k++) {
        relay.publish('ticks', { n, k, pad: 'x'.repeat((n * 7 + k) % 200) });
        relay.publish('status', { n, k });
        relay.publish('poll', { n, layers: ['a'.repeat((n * 13) % 500)] });
      }
      const stats = flight.stats();
      expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
      expect(stats.memoryTouched).toBeLessThanOrEqual(maxBytes);
      expect(stats.values * 176).toBeLessThanOrEqual(maxBytes / 16); // 176 bytes of heap counted per value
    }
    const back = await readIndexed(await flight.save(3600));
    // ~3.5 MiB of the memory is the frames' (a sixteenth is kept for small values, a sixteenth is bookkeeping):
    // about 53 frames of 64 KiB. Small values in their slabs at the top leave the frames their room.
    // Small values live in slabs of their topic's at the top: the free memory stays in a few pieces.
    expect(flight.stats().memoryFragments).toBeLessThanOrEqual(3);
    expect(back.counts.get('image')).toBeGreaterThanOrEqual(45);
    // The bookkeeping cap (4 MiB / 16 / 176 bytes = 1489 values) is shared by the topics with the most values.
    const small = ['ticks', 'status', 'poll'].map((topic) => back.counts.get(topic) ?? 0);
    expect(small.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(1350);
    for (const count of small) expect(count).toBeGreaterThan(400);
    for (const entry of back.messages.filter((message) => message.topic === 'image')) {
      expect(new Set(decodeFrame(entry.message.data).data as Uint8Array)).toEqual(new Set([entry.message.sequence % 251]));
    }
    expect(flight.stats().droppedWhileSaving).toBe(0);
    flight.close();
  });
});
