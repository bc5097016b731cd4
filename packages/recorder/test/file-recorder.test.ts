import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import { decodeFrame } from '@webmon/protocol';
import { createRelay, type Relay } from '@webmon/relay';
import { createRelayClient } from '@webmon/relay/client';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecorderErrorCode, decompressHandlers, openRecording, recordToFile, type RecordingWritable } from '../src/index.js';
import { PADDING_OPCODE } from '../src/layout.js';
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
    // Two frames in the same millisecond: every frame gets its RawImage only when the rate allows any.
    const recorder = await recordToFile(relay, { path, compression: 'none', rawImageHz: Infinity });
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
    // The writer thread meets the error on its own time; publishing went on meanwhile.
    await expect.poll(() => recorder.stats().error, { timeout: 10_000 }).toMatch(/ENOSPC/);
    expect(recorder.stats().errorCode).toBe(RecorderErrorCode.WRITE_FAILED);
    await expect(recorder.close()).rejects.toMatchObject({ code: RecorderErrorCode.WRITE_FAILED });
  });

  it('refuses bad options with RECORDER_INVALID_OPTIONS and an unwritable path with RECORDER_OPEN_FAILED', async () => {
    await expect(recordToFile(relay, { path: join(dir, 'x.mcap'), compressionLevel: 0 })).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS });
    await expect(recordToFile(relay, { path: join(dir, 'x.mcap'), rawImageHz: -1 })).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS, message: expect.stringMatching(/rawImageHz/) });
    await expect(recordToFile(relay, { path: join(dir, 'x.mcap'), rawImageHz: Number.NaN })).rejects.toMatchObject({ code: RecorderErrorCode.INVALID_OPTIONS });
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

  it('big frames are written from the shared ring, padded into place; every reader reads them back, a file cut short too', async () => {
    const path = join(dir, 'in-place.mcap');
    const recorder = await recordToFile(relay, { path, images: false });
    // Frames of ~1 MiB, of awkward lengths and random bits (zstd cannot shrink them, so they are stored as
    // they are): each crosses in the ring and is written from there.
    const count = 12;
    const published = [...Array(count).keys()].map((n) => randomBytes(2 ** 20 + 5 * n));
    for (const data of published) relay.publishFrame('camera', { dtype: 'uint8', shape: [data.byteLength] }, new Uint8Array(data));
    relay.publish('stats', { done: true });
    await recorder.close();
    expect(recorder.stats().framesInRing).toBe(count);

    // Compared by digest: deep equality of megabytes element by element takes minutes.
    const digest = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
    const expected = published.map(digest);
    const readFrames = (messages: { topic: string; message: { data: Uint8Array } }[]) =>
      messages.filter((entry) => entry.topic === 'camera').map((entry) => digest(decodeFrame(entry.message.data).data as Uint8Array));
    expect(readFrames((await readIndexed(path)).messages)).toEqual(expected);
    // Front to back, the stream reader steps over the padding records (private records, which readers skip).
    const bytes = await readFile(path);
    const stream = new McapStreamReader({ decompressHandlers: await decompressHandlers() });
    stream.append(bytes);
    let paddings = 0;
    for (let record; (record = stream.nextRecord()); ) if (record.type === 'Unknown' && record.opcode === PADDING_OPCODE) paddings += 1;
    expect(paddings).toBeGreaterThan(0);
    expect((await readStream(bytes)).counts.get('camera')).toBe(count);
    // Cut after the seventh frame's chunk, as a crash would: the scan that rebuilds the index reads past the padding.
    const cutPath = join(dir, 'cut.mcap');
    await writeFile(cutPath, bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)));
    const cut = await openRecording(cutPath);
    try {
      expect(cut.problems.truncated).toBe(true);
      const frames: string[] = [];
      for await (const message of cut.messages()) if (message.kind === 'frame') frames.push(digest(message.frame.data as Uint8Array));
      expect(frames.length).toBeGreaterThanOrEqual(6);
      expect(frames).toEqual(expected.slice(0, frames.length));
    } finally {
      await cut.close();
    }
  });

  it('channels say whether the topic is binary and, when it has one, its replay window', async () => {
    const path = join(dir, 'meta.mcap');
    relay.declareTopic({ name: 'chart', mode: 'stream', replayMs: 30_000 });
    const recorder = await recordToFile(relay, { path });
    relay.publish('chart', { y: 1 });
    await recorder.close();
    const byTopic = new Map((await readIndexed(path)).channels.map((channel) => [channel.topic, channel.metadata]));
    expect(Object.fromEntries(byTopic.get('chart') ?? [])).toEqual({ 'webmon.mode': 'stream', 'webmon.schema': 'webmon.v1/json', 'webmon.binary': 'false', 'webmon.replayMs': '30000' });
    expect(byTopic.get('camera')?.get('webmon.binary')).toBe('true');
    expect(byTopic.get('camera')?.has('webmon.replayMs')).toBe(false);
  });

  it('close() writes everything handed over before it, even values published in the same turn', async () => {
    const path = join(dir, 'flush.mcap');
    const recorder = await recordToFile(relay, { path, chunkSize: 4096, rawImageHz: Infinity });
    const frame = new Uint8Array(32 * 32).fill(7);
    for (let n = 0; n < 2000; n++) relay.publish('events', { n });
    for (let n = 0; n < 20; n++) relay.publishFrame('camera', { dtype: 'uint8', shape: [32, 32] }, frame);
    await recorder.close();
    expect(recorder.stats()).toMatchObject({ droppedTotal: 0, queuedBytes: 0, error: undefined });
    const back = await readIndexed(path);
    expect(Object.fromEntries(back.counts)).toEqual({ events: 2000, camera: 20, 'camera/image': 20 });
    expect(Object.fromEntries(back.counts)).toEqual(Object.fromEntries(recorder.counts()));
  });

  it('chunks zstd does not shrink (random bits) are stored uncompressed; after such a try a channel stores 8 frames untried, then tries again', async () => {
    const path = join(dir, 'mixed.mcap');
    const recorder = await recordToFile(relay, { path, images: false, chunkSize: 512 * 1024 });
    const noise = new Float32Array(randomBytes(1 << 20).buffer); // incompressible: every bit random
    const smooth = new Float32Array(256 * 1024).map((_, index) => Math.floor(index / 1024));
    relay.publishFrame('camera', { dtype: 'float32', shape: [512, 512] }, noise);
    for (let n = 0; n < 10; n++) relay.publishFrame('camera', { dtype: 'float32', shape: [512, 512] }, smooth);
    relay.publishFrame('camera', { dtype: 'float32', shape: [512, 512] }, noise); // tried (the last try paid), stored
    relay.publishFrame('camera', { dtype: 'float32', shape: [512, 512] }, smooth); // untried again
    await recorder.close();
    const bytes = await readFile(path);
    const reader = await McapIndexedReader.Initialize({ readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)) } });
    expect(reader.chunkIndexes.map((chunk) => chunk.compression)).toEqual(['', ...Array<string>(8).fill(''), 'zstd', 'zstd', '', '']);
    const frames = (await readIndexed(path)).messages.map((entry) => decodeFrame(entry.message.data).data as Float32Array);
    const same = (a: Float32Array | undefined, b: Float32Array) => a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer));
    expect(frames).toHaveLength(13);
    expect(frames.map((frame, index) => same(frame, index === 0 || index === 11 ? noise : smooth))).toEqual(Array(13).fill(true));
  });

  it('writes RawImage messages at most rawImageHz per second of the frames\' clock; at the source rate or above, every frame', async () => {
    // 2 s of a 30 Hz stream, its time stamps (the source's clock) up to 8 ms early or late.
    const jitter = [3, -8, 5, 0, 7, -2, -6, 8, 1, -4];
    const publish = () => {
      for (let n = 0; n < 60; n++) relay.publishFrame('camera', { dtype: 'uint8', shape: [4, 4], time: 1_700_000_000_000 + (n * 1000) / 30 + (jitter[n % jitter.length] as number) }, new Uint8Array(16).fill(n));
    };
    const imagesIn = async (options: { rawImageHz?: number }) => {
      const path = join(dir, `rate-${String(options.rawImageHz)}.mcap`);
      const recorder = await recordToFile(relay, { path, ...options });
      publish();
      await recorder.close();
      const back = await readIndexed(path);
      expect(back.counts.get('camera')).toBe(60); // the binary channel keeps every frame
      const images = back.messages.filter((entry) => entry.topic === 'camera/image').map((entry) => JSON.parse(new TextDecoder().decode(entry.message.data)) as { data: string; timestamp: { sec: number; nsec: number } });
      // Each decodes to its own frame (the frames are filled with their number).
      const frameNumbers = images.map((image) => Buffer.from(image.data, 'base64')[0] as number);
      for (const image of images) expect([...Buffer.from(image.data, 'base64')]).toEqual(Array(16).fill(Buffer.from(image.data, 'base64')[0]));
      expect(back.counts.get('camera/image') ?? 0).toBe(recorder.counts().get('camera/image') ?? 0);
      return { frameNumbers, channels: back.channels.map((channel) => channel.topic) };
    };
    const byDefault = await imagesIn({});
    // 5 per second over 2 s (the first frame, then one per 200 ms of the frames' clock), evenly spaced.
    expect(byDefault.frameNumbers.length).toBeGreaterThanOrEqual(10);
    expect(byDefault.frameNumbers.length).toBeLessThanOrEqual(11);
    const gaps = byDefault.frameNumbers.slice(2).map((frame, index) => frame - (byDefault.frameNumbers[index + 1] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(5);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(7);
    expect((await imagesIn({ rawImageHz: 2 })).frameNumbers.length).toBeLessThanOrEqual(5);
    expect((await imagesIn({ rawImageHz: 30 })).frameNumbers).toEqual([...Array(60).keys()]);
    const none = await imagesIn({ rawImageHz: 0 });
    expect(none.frameNumbers).toEqual([]);
    expect(none.channels).not.toContain('camera/image');
  });

  it('a full disk at the start (/dev/full) is RECORDER_WRITE_FAILED from recordToFile', async () => {
    await expect(recordToFile(relay, { path: '/dev/full' })).rejects.toMatchObject({ code: RecorderErrorCode.WRITE_FAILED, message: expect.stringMatching(/ENOSPC/) });
  });

  describe('the writer thread writing to a pipe (a real disk that stalls, then fails)', () => {
    /** A named pipe: the writer thread's writes block while nobody reads, and fail with EPIPE once the reader is gone. */
    async function pipeRecording(options: { maxQueuedBytes?: number; chunkSize?: number }) {
      const path = join(dir, 'pipe.mcap');
      execFileSync('mkfifo', [path]);
      const [recorder, reader] = await Promise.all([recordToFile(relay, { path, compression: 'none', ...options }), open(path, 'r')]);
      return { recorder, reader };
    }

    async function readAll(reader: FileHandle): Promise<Uint8Array> {
      const parts: Uint8Array[] = [];
      for (;;) {
        const buffer = new Uint8Array(1 << 20);
        const { bytesRead } = await reader.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) return Buffer.concat(parts);
        parts.push(buffer.subarray(0, bytesRead));
      }
    }

    it('drops are counted while the thread is stuck on the disk; publishing never waits; the file is whole once it drains', async () => {
      const { recorder, reader } = await pipeRecording({ maxQueuedBytes: 512 * 1024, chunkSize: 64 * 1024 });
      const data = new Float32Array(16 * 1024); // 64 KiB a frame
      const started = performance.now();
      for (let round = 0; round < 20; round++) {
        for (let n = 0; n < 20; n++) relay.publishFrame('camera', { dtype: 'float32', shape: [128, 128] }, data);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const publishMs = performance.now() - started;
      const stats = recorder.stats();
      expect(stats.dropped.camera).toBeGreaterThan(300);
      expect(stats.queuedBytes).toBeLessThanOrEqual(512 * 1024);
      expect(publishMs).toBeLessThan(5_000); // 20 × 5 ms of sleeps: it never waited on the disk
      // The disk comes back: everything admitted reaches the file, with its summary and index.
      const [bytes] = await Promise.all([readAll(reader), recorder.close()]);
      await reader.close();
      const back = await readIndexed(bytes);
      expect(back.counts.get('camera')).toBe(400 - (recorder.stats().dropped.camera ?? 0));
      expect(back.counts.get('camera')).toBe(recorder.counts().get('camera'));
    });

    it('a write that fails mid-recording (EPIPE) is a typed error in stats; live publishing goes on', async () => {
      const { recorder, reader } = await pipeRecording({ chunkSize: 4096 });
      const { url } = await relay.listen();
      const client = createRelayClient({ url, WebSocket: WebSocket as never });
      const received: number[] = [];
      const subscribed = new Promise<void>((resolve) => client.onHello(() => resolve()));
      client.subscribe('events', (event) => {
        if (event.kind === 'data') received.push((event.payload as { n: number }).n);
      });
      await subscribed;
      await client.ping();
      await reader.close(); // the disk is gone
      let n = 0;
      await expect
        .poll(
          () => {
            for (let i = 0; i < 100; i++) relay.publish('events', { n: n++, pad: 'z'.repeat(100) });
            return recorder.stats().errorCode;
          },
          { timeout: 20_000 },
        )
        .toBe(RecorderErrorCode.WRITE_FAILED);
      expect(recorder.stats().error).toMatch(/EPIPE/);
      const after = n;
      for (let i = 0; i < 100; i++) relay.publish('events', { n: n++ });
      await expect.poll(() => received.length, { timeout: 10_000 }).toBe(after + 100);
      expect(received).toEqual([...Array(after + 100).keys()]);
      client.close();
      await expect(recorder.close()).rejects.toMatchObject({ code: RecorderErrorCode.WRITE_FAILED });
    });
  });
});
