import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeFrame } from '@webmon/protocol';
import { createRelay, type Relay } from '@webmon/relay';
import { createRelayClient } from '@webmon/relay/client';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecorderErrorCode, recordToFile, type RecordingWritable } from '../src/index.js';
import { readIndexed, readStream } from './helpers.js';

let dir: string;
let relay: Relay;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webmon-recorder-'));
  relay = createRelay({
    topics: [
      { name: 'stats', mode: 'latest', schema: 'webmon.v1/json' },
      { name: 'events', mode: 'stream', schema: 'demo.v1/event' },
      { name: 'camera', mode: 'latest', binary: true },
    ],
  });
});

afterEach(async () => {
  await relay.close();
  await rm(dir, { recursive: true, force: true });
});

const EVENT_SCHEMA = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };

describe('recordToFile', () => {
  it('writes one channel per topic with its schema, every published value, and a RawImage channel for 2-D images', async () => {
    const path = join(dir, 'run.mcap');
    const recorder = await recordToFile(relay, { path, schemas: (id) => (id === 'demo.v1/event' ? EVENT_SCHEMA : undefined) });
    relay.declareTopic({ name: 'late', mode: 'latest' }); // declared while recording
    for (let n = 0; n < 50; n++) relay.publish('events', { n });
    for (let n = 0; n < 7; n++) relay.publish('stats', { fps: 60 + n });
    relay.publish('late', 'hello');
    const pixels = new Float32Array(6 * 4).map((_, index) => index * 0.5);
    relay.publishFrame('camera', { dtype: 'float32', shape: [6, 4], time: 1_700_000_000_123.5 }, pixels);
    relay.publishFrame('camera', { dtype: 'float32', shape: [3], time: 1_700_000_000_200 }, new Float32Array([1, 2, 3])); // not an image
    await recorder.close();

    const back = await readIndexed(path);
    expect(Object.fromEntries(back.counts)).toEqual({ events: 50, stats: 7, late: 1, camera: 2, 'camera/image': 1 });
    const byTopic = new Map(back.channels.map((channel) => [channel.topic, channel]));
    const schemaOf = (topic: string) => back.schemas.find((schema) => schema.id === byTopic.get(topic)?.schemaId);
    expect(byTopic.get('events')?.messageEncoding).toBe('json');
    expect(schemaOf('events')?.encoding).toBe('jsonschema');
    expect(schemaOf('events')?.name).toBe('demo.v1/event');
    expect(JSON.parse(new TextDecoder().decode(schemaOf('events')?.data))).toEqual(EVENT_SCHEMA);
    expect(schemaOf('stats')?.name).toBe('webmon.v1/json');
    expect(byTopic.get('camera')?.messageEncoding).toBe('webmon.frame.v1');
    expect(schemaOf('camera')?.name).toBe('webmon.v1/frame');
    expect(schemaOf('camera/image')?.name).toBe('foxglove.RawImage');

    const events = back.messages.filter((entry) => entry.topic === 'events').map((entry) => JSON.parse(new TextDecoder().decode(entry.message.data)) as { n: number });
    expect(events.map((event) => event.n)).toEqual([...Array(50).keys()]);
    // Each message's sequence is the relay's own number of the value on its topic.
    expect(back.messages.filter((entry) => entry.topic === 'events').map((entry) => entry.message.sequence)).toEqual([...Array(50).keys()]);

    // The binary frame message is the webmon frame pages receive; publish time is the frame's own clock.
    const frames = back.messages.filter((entry) => entry.topic === 'camera');
    const decoded = decodeFrame(frames[0]!.message.data);
    expect(decoded.shape).toEqual([6, 4]);
    expect([...(decoded.data as Float32Array)]).toEqual([...pixels]);
    expect(frames[0]!.message.publishTime).toBe(1_700_000_000_123_500_000n);

    const image = back.messages.find((entry) => entry.topic === 'camera/image')!;
    const raw = JSON.parse(new TextDecoder().decode(image.message.data)) as { timestamp: { sec: number; nsec: number }; width: number; height: number; encoding: string; step: number; data: string; frame_id: string };
    expect(raw).toMatchObject({ width: 4, height: 6, encoding: '32FC1', step: 16, frame_id: 'camera', timestamp: { sec: 1_700_000_000, nsec: 123_500_000 } });
    const bytes = Buffer.from(raw.data, 'base64');
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)]).toEqual([...pixels]);
  });

  it('uint8 and uint16 images are mono8 and mono16', async () => {
    const path = join(dir, 'mono.mcap');
    const recorder = await recordToFile(relay, { path, compression: 'none' });
    relay.publishFrame('camera', { dtype: 'uint8', shape: [2, 3, 1] }, new Uint8Array([1, 2, 3, 4, 5, 6]));
    relay.publishFrame('camera', { dtype: 'uint16', shape: [1, 2] }, new Uint16Array([513, 65535]));
    await recorder.close();
    const images = (await readIndexed(path)).messages.filter((entry) => entry.topic === 'camera/image').map((entry) => JSON.parse(new TextDecoder().decode(entry.message.data)) as { encoding: string; step: number; data: string });
    expect(images.map((image) => [image.encoding, image.step, [...Buffer.from(image.data, 'base64')]])).toEqual([
      ['mono8', 3, [1, 2, 3, 4, 5, 6]],
      ['mono16', 4, [1, 2, 255, 255]],
    ]);
  });

  it('a disk slower than the data: values are dropped and counted per topic, publishing never waits', async () => {
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let position = 0n;
    let stalling = false;
    const slow: RecordingWritable = {
      position: () => position,
      write: async (buffer) => {
        if (stalling) await stalled; // the file's start goes through, then the disk stalls
        position += BigInt(buffer.byteLength);
      },
    };
    const recorder = await recordToFile(relay, { writable: slow, maxQueuedBytes: 256 * 1024, chunkSize: 64 * 1024, compression: 'none' });
    stalling = true;
    // A live page: it must get every event while the disk stalls.
    const { url } = await relay.listen();
    const client = createRelayClient({ url, WebSocket: WebSocket as never });
    const received: number[] = [];
    const subscribed = new Promise<void>((resolve) => client.onHello(() => resolve()));
    client.subscribe('events', (event) => {
      if (event.kind === 'data') received.push((event.payload as { n: number }).n);
    });
    await subscribed;
    await client.ping(); // answered after the server has taken the subscription sent before it
    const data = new Float32Array(16 * 1024); // 64 KiB a frame
    const started = performance.now();
    for (let n = 0; n < 200; n++) relay.publishFrame('camera', { dtype: 'float32', shape: [128, 128] }, data);
    for (let n = 0; n < 100; n++) relay.publish('events', { n });
    const publishMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stats = recorder.stats();
    expect(stats.dropped.camera).toBeGreaterThan(150);
    expect(stats.droppedTotal).toBe(Object.values(stats.dropped).reduce((sum, count) => sum + count, 0));
    expect(stats.queuedBytes).toBeLessThanOrEqual(256 * 1024);
    // Publishing went on at memory speed while the disk stalled (a generous bound: it never waited on the disk).
    expect(publishMs).toBeLessThan(2_000);
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(100);
    expect(received).toEqual([...Array(100).keys()]);
    client.close();
    release();
    await recorder.close();
    expect(recorder.stats().closed).toBe(true);
  });

  it('a write error stops recording with RECORDER_WRITE_FAILED at close, not an exception while publishing', async () => {
    let full = false;
    const broken: RecordingWritable = {
      position: () => 0n,
      write: async () => {
        if (full) throw new Error('ENOSPC: no space left on device');
      },
    };
    const recorder = await recordToFile(relay, { writable: broken, chunkSize: 1024, compression: 'none' });
    full = true; // the file's start was written, then the disk is full
    for (let n = 0; n < 500; n++) relay.publish('events', { n, pad: 'x'.repeat(50) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(recorder.stats().error).toMatch(/ENOSPC/);
    await expect(recorder.close()).rejects.toMatchObject({ code: RecorderErrorCode.WRITE_FAILED });
  });

  it('refuses bad options with RECORDER_INVALID_OPTIONS and an unwritable path with RECORDER_OPEN_FAILED', async () => {
    await expect(recordToFile(relay, { path: join(dir, 'x.mcap'), compressionLevel: 0 })).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS });
    await expect(recordToFile(relay, {})).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS });
    await expect(recordToFile(relay, { path: join(dir, 'missing', 'x.mcap') })).rejects.toMatchObject({ code: RecorderErrorCode.OPEN_FAILED });
  });

  it('a recording cut off by SIGKILL reads with the stream reader up to the cut', async () => {
    const path = join(dir, 'killed.mcap');
    const script = fileURLToPath(new URL('./fixtures/record-until-killed.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    // The child says how many values it published once several chunks are on disk; then it is killed.
    const published = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /published (\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const bytes = await readFile(path);
    const back = await readStream(bytes);
    expect(back.complete).toBe(false); // no footer: the summary was never written
    const read = back.counts.get('events') ?? 0;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(published);
    // Values arrive in order: what was read is a prefix of what was published.
    expect([...back.channels.values()].map((channel) => channel.topic)).toContain('events');
  });
});
