import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McapIndexedReader, McapWriter, type McapTypes } from '@mcap/core';
import { createRelay, type Relay } from '@webmon/relay';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecorderErrorCode, decompressHandlers, openRecording, recordToFile, type RecordedMessage, type Recording } from '../../src/index.js';
import { readStream } from '../helpers.js';

let dir: string;
let relay: Relay;
const opened: Recording[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webmon-reader-'));
  relay = createRelay({
    topics: [
      { name: 'stats', mode: 'latest', schema: 'webmon.v1/json' },
      { name: 'layers', mode: 'latest' },
      { name: 'events', mode: 'stream', schema: 'demo.v1/event', replayMs: 200 },
      { name: 'camera', mode: 'latest', binary: true },
    ],
  });
});

afterEach(async () => {
  for (const recording of opened.splice(0)) await recording.close();
  await relay.close();
  await rm(dir, { recursive: true, force: true });
});

async function openIt(path: string): Promise<Recording> {
  const recording = await openRecording(path);
  opened.push(recording);
  return recording;
}

async function all(recording: Recording, options?: Parameters<Recording['messages']>[0]): Promise<RecordedMessage[]> {
  const out: RecordedMessage[] = [];
  for await (const message of recording.messages(options)) out.push(message);
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes a known sequence over ~300 ms into a recording of small chunks; returns what was published, in order. */
async function recordDemo(path: string, chunkSize = 2048): Promise<{ topic: string; value: unknown }[]> {
  const recorder = await recordToFile(relay, { path, chunkSize });
  const published: { topic: string; value: unknown }[] = [];
  relay.publish('layers', { names: ['cells'] });
  published.push({ topic: 'layers', value: { names: ['cells'] } });
  for (let n = 0; n < 60; n++) {
    relay.publish('events', { n });
    published.push({ topic: 'events', value: { n } });
    if (n % 3 === 0) {
      relay.publish('stats', { fps: n });
      published.push({ topic: 'stats', value: { fps: n } });
    }
    if (n % 10 === 0) {
      const pixels = new Uint16Array(12).map((_, i) => i * 100 + n);
      relay.publishFrame('camera', { dtype: 'uint16', shape: [3, 4] }, pixels);
      published.push({ topic: 'camera', value: [...pixels] });
    }
    await sleep(5);
  }
  await recorder.close();
  return published;
}

function valueOf(message: RecordedMessage): unknown {
  return message.kind === 'json' ? message.payload : [...(message.frame.data as Uint16Array)];
}

describe('openRecording', () => {
  it('gives the topics as they were declared and every value in order, read through the index', async () => {
    const path = join(dir, 'run.mcap');
    const published = await recordDemo(path);
    const recording = await openIt(path);
    expect(recording.problems).toMatchObject({ truncated: false, indexRebuilt: false, skippedChunks: 0, badMessages: 0, unknownChannels: [] });
    expect(recording.topics).toEqual(
      expect.arrayContaining([
        { name: 'stats', mode: 'latest', schema: 'webmon.v1/json' },
        { name: 'layers', mode: 'latest', schema: 'webmon.v1/json' },
        expect.objectContaining({ name: 'events', mode: 'stream', schema: 'demo.v1/event' }),
        expect.objectContaining({ name: 'camera', mode: 'latest', binary: true }),
      ]),
    );
    expect(recording.topics).toHaveLength(4); // camera/image is Foxglove's copy, not a topic
    const messages = await all(recording);
    expect(messages.map((message) => ({ topic: message.topic, value: valueOf(message) }))).toEqual(published);
    expect(recording.startTime).toBe(messages[0]?.logTime);
    expect(recording.endTime).toBe(messages.at(-1)?.logTime);
    const frame = messages.find((message) => message.kind === 'frame');
    expect(frame?.kind === 'frame' && frame.frame.shape).toEqual([3, 4]);
    // Reverse, and a time range, through the index.
    const reversed = await all(recording, { reverse: true });
    expect(reversed.map(valueOf)).toEqual(messages.map(valueOf).reverse());
    const middle = messages[40]!.logTime;
    const later = await all(recording, { start: middle });
    expect(later[0]?.logTime).toBe(middle);
    expect(later.length).toBe(messages.filter((message) => message.logTime >= middle).length);
  });

  it('says what a page would hold at any instant: latest values as of then, stream windows before it', async () => {
    const path = join(dir, 'run.mcap');
    await recordDemo(path);
    const recording = await openIt(path);
    const messages = await all(recording);
    for (const index of [0, 17, 45, messages.length - 1]) {
      const cursor = messages[index]!.logTime;
      const state = await recording.stateAt(cursor);
      const before = messages.filter((message) => message.logTime <= cursor);
      const lastOf = (topic: string) => before.filter((message) => message.topic === topic).at(-1);
      for (const topic of ['stats', 'layers', 'camera']) {
        const expected = lastOf(topic);
        const got = state.filter((message) => message.topic === topic);
        if (expected === undefined) expect(got).toEqual([]);
        else expect(got.map(valueOf)).toEqual([valueOf(expected)]);
      }
      const window = before.filter((message) => message.topic === 'events' && message.logTime >= cursor - 200_000_000n);
      expect(state.filter((message) => message.topic === 'events').map(valueOf)).toEqual(window.map(valueOf));
      // Oldest first.
      expect(state.map((message) => message.logTime)).toEqual([...state.map((message) => message.logTime)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  });

  it('replays a recording cut off by a crash up to the cut, with an index made from its records', async () => {
    const path = join(dir, 'killed.mcap');
    const script = fileURLToPath(new URL('../fixtures/record-until-killed.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (/published \d+/.test(chunk.toString())) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const bytes = await readFile(path);
    const streamed = await readStream(bytes);
    const recording = await openIt(path);
    expect(recording.problems.truncated).toBe(true);
    expect(recording.problems.indexRebuilt).toBe(true);
    const messages = await all(recording);
    // Everything the file holds up to the cut, in order (the stream reader reads the same prefix).
    expect(messages.length).toBe(streamed.counts.get('events'));
    expect(messages.map((message) => (message.kind === 'json' ? (message.payload as { n: number }).n : -1))).toEqual(messages.map((_, n) => n));
    // Reading from an instant in the middle goes through the rebuilt index: it starts there, with what follows.
    const middle = messages[Math.floor(messages.length / 2)]!.logTime;
    const fromMiddle = await all(recording, { start: middle });
    expect(fromMiddle[0]?.logTime).toBe(middle);
    expect(fromMiddle.length).toBe(messages.filter((message) => message.logTime >= middle).length);
  });

  it('replays a complete file cut at any byte up to the last whole chunk before the cut', async () => {
    const path = join(dir, 'run.mcap');
    const published = await recordDemo(path, 1024);
    const whole = await readFile(path);
    for (const fraction of [0.3, 0.55, 0.8, 0.97]) {
      const cutPath = join(dir, `cut-${fraction}.mcap`);
      const cutBytes = whole.subarray(0, Math.floor(whole.length * fraction));
      await writeFile(cutPath, cutBytes);
      const streamed = await readStream(cutBytes);
      const recording = await openIt(cutPath);
      expect(recording.problems.indexRebuilt).toBe(true); // (a cut inside the summary loses no data: not "truncated")
      const messages = await all(recording);
      const streamedCount = [...streamed.counts.entries()].filter(([topic]) => !topic.endsWith('/image')).reduce((sum, [, n]) => sum + n, 0);
      expect(messages.length).toBe(streamedCount);
      expect(messages.length).toBeGreaterThan(0);
      // A prefix of what was published.
      expect(messages.map((message) => ({ topic: message.topic, value: valueOf(message) }))).toEqual(published.slice(0, messages.length));
    }
  });

  it('skips a damaged chunk with a count and reads on after it', async () => {
    const path = join(dir, 'run.mcap');
    const published = await recordDemo(path, 1024);
    const reader = await McapIndexedReader.Initialize({ readable: bytesReadable(await readFile(path)), decompressHandlers: await decompressHandlers() });
    const chunks = [...reader.chunkIndexes].sort((a, b) => Number(a.chunkStartOffset - b.chunkStartOffset));
    expect(chunks.length).toBeGreaterThan(4);
    const victim = chunks[2]!;
    const bytes = await readFile(path);
    // Scribble over the middle of its compressed data.
    const middle = Number(victim.chunkStartOffset + victim.chunkLength / 2n);
    for (let i = 0; i < 16; i++) bytes[middle + i] = bytes[middle + i]! ^ 0x5a;
    await writeFile(path, bytes);
    const recording = await openIt(path);
    const messages = await all(recording);
    expect(recording.problems.skippedChunks).toBe(1);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.length).toBeLessThan(published.length);
    // What is left is what was published, less one run of consecutive values (the damaged chunk's).
    const values = messages.map((message) => JSON.stringify({ topic: message.topic, value: valueOf(message) }));
    const expected = published.map((entry) => JSON.stringify(entry));
    let first = 0;
    while (values[first] === expected[first]) first++;
    const missing = expected.length - values.length;
    expect(values.slice(first)).toEqual(expected.slice(first + missing));
    expect(messages.at(-1)?.topic).toBe(published.at(-1)?.topic);
  });

  it('rebuilds the index when the summary is damaged', async () => {
    const path = join(dir, 'run.mcap');
    const published = await recordDemo(path);
    const reader = await McapIndexedReader.Initialize({ readable: bytesReadable(await readFile(path)), decompressHandlers: await decompressHandlers() });
    const bytes = await readFile(path);
    const summaryStart = Number(reader.footer.summaryStart);
    bytes.fill(0xff, summaryStart, summaryStart + 64);
    await writeFile(path, bytes);
    const recording = await openIt(path);
    expect(recording.problems.indexRebuilt).toBe(true);
    expect(recording.problems.truncated).toBe(false);
    expect((await all(recording)).length).toBe(published.length);
  });

  it('refuses what is not a recording, or one from a newer webmon, with typed errors', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'hello, this is not MCAP at all\n');
    await expect(openRecording(text)).rejects.toMatchObject({ code: RecorderErrorCode.NOT_MCAP });
    const empty = join(dir, 'empty.mcap');
    await writeFile(empty, '');
    await expect(openRecording(empty)).rejects.toMatchObject({ code: RecorderErrorCode.NOT_MCAP });
    await expect(openRecording(join(dir, 'missing.mcap'))).rejects.toMatchObject({ code: RecorderErrorCode.OPEN_FAILED });

    const newer = join(dir, 'newer.mcap');
    await writeFile(newer, await writeMcap(async (writer) => {
      await writer.addMetadata({ name: 'webmon', metadata: new Map([['format', '2']]) });
      const schemaId = await writer.registerSchema({ name: 'x', encoding: 'jsonschema', data: new TextEncoder().encode('{}') });
      const channelId = await writer.registerChannel({ topic: 'a', messageEncoding: 'json', schemaId, metadata: new Map() });
      await writer.addMessage({ channelId, sequence: 0, logTime: 1n, publishTime: 1n, data: new TextEncoder().encode('1') });
    }));
    await expect(openRecording(newer)).rejects.toMatchObject({ code: RecorderErrorCode.NEWER_FORMAT });
  });

  it('replays JSON channels of other tools as latest topics and lists channels it cannot serve', async () => {
    const path = join(dir, 'foreign.mcap');
    await writeFile(path, await writeMcap(async (writer) => {
      const schemaId = await writer.registerSchema({ name: 'pose', encoding: 'jsonschema', data: new TextEncoder().encode('{}') });
      const json = await writer.registerChannel({ topic: 'robot.pose', messageEncoding: 'json', schemaId, metadata: new Map() });
      const proto = await writer.registerChannel({ topic: '/camera', messageEncoding: 'protobuf', schemaId, metadata: new Map() });
      for (let n = 0; n < 5; n++) {
        await writer.addMessage({ channelId: json, sequence: n, logTime: BigInt(n + 1) * 1_000_000n, publishTime: 0n, data: new TextEncoder().encode(JSON.stringify({ x: n })) });
        await writer.addMessage({ channelId: proto, sequence: n, logTime: BigInt(n + 1) * 1_000_000n, publishTime: 0n, data: new Uint8Array([1, 2, 3]) });
      }
      await writer.addMessage({ channelId: json, sequence: 9, logTime: 9_000_000n, publishTime: 0n, data: new TextEncoder().encode('{not json') });
    }));
    const recording = await openIt(path);
    expect(recording.topics).toEqual([{ name: 'robot.pose', mode: 'latest', schema: 'webmon.v1/json' }]);
    expect(recording.problems.unknownChannels).toEqual(['/camera (protobuf)']);
    const messages = await all(recording);
    expect(messages.map((message) => message.kind === 'json' && message.payload)).toEqual([0, 1, 2, 3, 4].map((x) => ({ x })));
    expect(recording.problems.badMessages).toBe(1);
  });
});

function bytesReadable(bytes: Uint8Array): McapTypes.IReadable {
  return { size: async () => BigInt(bytes.byteLength), read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)) };
}

async function writeMcap(fill: (writer: McapWriter) => Promise<void>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let position = 0n;
  const writer = new McapWriter({
    writable: {
      position: () => position,
      write: async (buffer: Uint8Array) => {
        parts.push(buffer.slice());
        position += BigInt(buffer.byteLength);
      },
    },
    chunkSize: 256,
  });
  await writer.start({ profile: '', library: 'test' });
  await fill(writer);
  await writer.end();
  return Buffer.concat(parts);
}
