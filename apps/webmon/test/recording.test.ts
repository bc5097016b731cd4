/**
 * `webmon --record` against the simulator in both napari modes (real CPython, real sockets, a real file),
 * read back with @mcap/core's indexed reader; `POST /api/recording` (the flight recorder) from the same
 * running webmon; `webmon record` headless. What the relay published is counted on the relay side by a
 * relay client that subscribes to every topic: every value it saw must be in the file, identical, and each
 * channel's MCAP `sequence` (the relay's own per-topic counter) must run without a gap.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader, type McapTypes } from '@mcap/core';
import { decodeFrame, type TopicInfo } from '@webmon/protocol';
import { decompressHandlers } from '@webmon/recorder';
import { createRelayClient } from '@webmon/relay/client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium, startProcess, startWebmon, CLI } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webmon-recording-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface ReadBack {
  channels: McapTypes.Channel[];
  schemas: Map<number, McapTypes.Schema>;
  messages: { topic: string; message: McapTypes.Message }[];
}

async function readIndexed(bytes: Uint8Array): Promise<ReadBack> {
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)) },
    decompressHandlers: await decompressHandlers(),
  });
  const messages: ReadBack['messages'] = [];
  for await (const message of reader.readMessages()) messages.push({ topic: reader.channelsById.get(message.channelId)?.topic ?? '?', message });
  return { channels: [...reader.channelsById.values()], schemas: new Map(reader.schemasById), messages };
}

/** Subscribes to every topic the server announces; keeps each value seen by topic and seq. */
function watchEverything(url: string): { seen: Map<string, Map<number, string>>; topics: Map<string, TopicInfo>; close: () => void } {
  const client = createRelayClient({ url: `${url.replace(/^http/, 'ws')}ws`, WebSocket: WebSocket as never });
  const seen = new Map<string, Map<number, string>>();
  const topics = new Map<string, TopicInfo>();
  const follow = (list: readonly TopicInfo[]): void => {
    for (const info of list) {
      if (topics.has(info.name)) continue;
      topics.set(info.name, info);
      const values = new Map<number, string>();
      seen.set(info.name, values);
      client.subscribe(info.name, (event) => {
        if (event.kind === 'frame') values.set(event.seq, `${event.frame.dtype} ${event.frame.shape.join('x')} ${Array.from(event.frame.data as Float32Array).slice(0, 8).join(',')}`);
        else values.set(event.seq, JSON.stringify(event.payload));
      });
    }
  };
  client.onHello(() => follow(client.topics));
  client.onTopics((change) => follow(change.topics));
  return { seen, topics, close: () => client.close() };
}

const decoder = new TextDecoder();

function checkRecording(back: ReadBack, seen: Map<string, Map<number, string>>, topics: Map<string, TopicInfo>): void {
  const channelByTopic = new Map(back.channels.map((channel) => [channel.topic, channel]));
  for (const [name, info] of topics) {
    const channel = channelByTopic.get(name);
    expect(channel, `channel of ${name}`).toBeDefined();
    const schema = back.schemas.get(channel!.schemaId);
    expect(schema?.encoding).toBe('jsonschema');
    expect(schema?.name).toBe(info.binary === true ? 'webmon.v1/frame' : info.schema);
    expect(channel!.messageEncoding).toBe(info.binary === true ? 'webmon.frame.v1' : 'json');
    // napari's own schemas (not "any JSON") for napari's topics.
    if (info.schema.startsWith('napari.')) expect(Object.keys((JSON.parse(decoder.decode(schema!.data)) as { properties?: object }).properties ?? {}).length).toBeGreaterThan(0);

    const recorded = back.messages.filter((entry) => entry.topic === name);
    // The relay numbers every value of a topic: gap-free sequences from 0 = every published value recorded.
    recorded.forEach((entry, index) => expect(entry.message.sequence, `${name} #${index}`).toBe(index));
    const bySeq = new Map(recorded.map((entry) => [entry.message.sequence, entry.message]));
    const values = seen.get(name) ?? new Map<number, string>();
    for (const [seq, value] of values) {
      const message = bySeq.get(seq);
      expect(message, `${name} seq ${seq} (seen live) in the file`).toBeDefined();
      if (info.binary === true) {
        const frame = decodeFrame(message!.data);
        expect(`${frame.dtype} ${frame.shape.join('x')} ${Array.from(frame.data as Float32Array).slice(0, 8).join(',')}`).toBe(value);
      } else {
        expect(decoder.decode(message!.data)).toBe(value);
      }
    }
  }
}

/**
 * The RawImage channel: present, each message the image of the frame of the same sequence number, and
 * thinned to at most `hz` per second of the frames' clock (the binary channel keeps every frame).
 */
function checkImage(back: ReadBack, topic: string, hz: number): void {
  const frames = back.messages.filter((entry) => entry.topic === topic);
  const images = back.messages.filter((entry) => entry.topic === `${topic}/image`);
  expect(frames.length).toBeGreaterThan(0);
  expect(images.length).toBeGreaterThan(0);
  const imageChannel = back.channels.find((channel) => channel.topic === `${topic}/image`)!;
  expect(back.schemas.get(imageChannel.schemaId)?.name).toBe('foxglove.RawImage');
  const framesBySeq = new Map(frames.map((entry) => [entry.message.sequence, entry.message]));
  for (const image of [images[0]!, images[images.length - 1]!]) {
    const frameMessage = framesBySeq.get(image.message.sequence);
    expect(frameMessage, `the frame of RawImage seq ${image.message.sequence}`).toBeDefined();
    expect(image.message.publishTime).toBe(frameMessage!.publishTime);
    const frame = decodeFrame(frameMessage!.data);
    const raw = JSON.parse(decoder.decode(image.message.data)) as { width: number; height: number; encoding: string; step: number; data: string };
    expect(raw).toMatchObject({ width: frame.shape[1], height: frame.shape[0], encoding: '32FC1', step: (frame.shape[1] ?? 0) * 4 });
    const bytes = Buffer.from(raw.data, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)))).toEqual(Array.from(frame.data as Float32Array));
  }
  // Thinned: the simulator sends 30 frames a second; at most `hz` of them per second get a RawImage
  // (the first frame, the next one half a period later at the earliest, then one per period), none closer
  // than half a period to the one before.
  const times = images.map((entry) => Number(entry.message.publishTime / 1_000_000n));
  const spanSeconds = (Number(frames[frames.length - 1]!.message.publishTime - frames[0]!.message.publishTime) / 1e9);
  expect(frames.length).toBeGreaterThan(images.length);
  expect(images.length).toBeLessThanOrEqual(Math.floor(spanSeconds * hz + 0.5) + 1);
  for (let index = 1; index < times.length; index++) expect(times[index]! - times[index - 1]!).toBeGreaterThanOrEqual(500 / hz);
}

for (const mode of ['0.4', '0.5'] as const) {
  describe(`webmon --record on the simulator as napari ${mode}`, () => {
    it('records every topic: channels, schemas, every value the relay published; the flight recorder answers same-origin only', async () => {
      const file = join(dir, `run-${mode}.mcap`);
      // The RawImage rate: 0.4 at the default (5 per second), 0.5 set on the command line.
      const rawImageHz = mode === '0.4' ? 5 : 2;
      const { proc, url } = await startWebmon(['--port', '0', '--simulate', mode, '--simulate-image', '64', '--record', file, ...(mode === '0.5' ? ['--simulate-plugin', '1', '--record-raw-image-hz', '2'] : [])]);
      try {
        const watch = watchEverything(url);
        const expected = mode === '0.4' ? ['napari.layers', 'napari.frame_time', 'napari.load_chunk', 'napari.image'] : ['napari.frame_time', 'napari.image', 'napari.data.my_plugin'];
        await eventually(() => (expected.every((topic) => (watch.seen.get(topic)?.size ?? 0) > 0) ? true : undefined), 60_000, `values on ${expected.join(', ')}`);

        // /api/status says it records.
        const status = (await (await fetch(`${url}api/status`)).json()) as { recording?: { path: string; droppedTotal: number }; flightRecorder?: { bytes: number } };
        expect(status.recording?.path).toBe(file);
        expect(status.recording?.droppedTotal).toBe(0);
        expect(status.flightRecorder?.bytes).toBeGreaterThan(0);

        // The flight recorder: refused without an Origin, or from another one; a valid MCAP from this one.
        const saveUrl = `${url}api/recording?seconds=30`;
        expect((await fetch(saveUrl, { method: 'POST' })).status).toBe(403);
        expect((await fetch(saveUrl, { method: 'POST', headers: { origin: 'http://evil.example' } })).status).toBe(403);
        expect((await fetch(`${url}api/recording?seconds=-1`, { method: 'POST', headers: { origin: url.replace(/\/$/, '') } })).status).toBe(400);
        const saved = await fetch(saveUrl, { method: 'POST', headers: { origin: url.replace(/\/$/, '') } });
        expect(saved.status).toBe(200);
        expect(saved.headers.get('content-disposition')).toMatch(/attachment; filename="webmon-.*\.mcap"/);
        const flight = await readIndexed(new Uint8Array(await saved.arrayBuffer()));
        for (const topic of expected) expect(flight.messages.some((entry) => entry.topic === topic), `${topic} in the flight recording`).toBe(true);
        checkImage(flight, 'napari.image', rawImageHz);

        if (mode === '0.4') {
          // The page header's control, in Chromium: "Save the last 20 s" downloads an MCAP file.
          const browser = await launchChromium();
          try {
            const page = await browser.newPage({ acceptDownloads: true });
            await page.goto(`${url}topics`);
            await page.locator('#webmon-save input[name="seconds"]').fill('20');
            const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.locator('#webmon-save button').click()]);
            expect(download.suggestedFilename()).toMatch(/^webmon-.*\.mcap$/);
            const fromPage = await readIndexed(await readFile((await download.path()) as string));
            expect(fromPage.messages.some((entry) => entry.topic === 'napari.frame_time')).toBe(true);
            await expect.poll(() => page.locator('#webmon-recording').textContent()).toMatch(/saved webmon-.*\.mcap/);
          } finally {
            await browser.close();
          }
        }

        watch.close();
        await proc.stop();
        const back = await readIndexed(await readFile(file));
        checkRecording(back, watch.seen, watch.topics);
        checkImage(back, 'napari.image', rawImageHz);
        expect(proc.output()).toMatch(/recording \S+ closed: \d+ messages/);
      } finally {
        await proc.stop();
      }
    });
  });
}

describe('webmon record (headless)', () => {
  it('records the simulator without serving pages and closes the file on SIGTERM', async () => {
    const file = join(dir, 'headless.mcap');
    const proc = startProcess(process.execPath, [CLI, 'record', file, '--simulate-image', '32']);
    try {
      await proc.waitFor(/webmon: recording the napari simulator to /, 90_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(proc.output()).not.toMatch(/webmon: serving/);
    } finally {
      // The chain stops in steps (webmon → simulator → napari_shutdown → the recording client closes its
      // file → the simulator exits): on a loaded machine that once took more than the usual 10 s of grace,
      // and the file was read while still being closed. Wait for it; a SIGKILL here would say so below.
      await proc.stop(60_000);
    }
    expect(await proc.exited(), proc.output()).toBe(0);
    expect(proc.output()).toMatch(/recording \S+ closed: \d+ messages/);
    const back = await readIndexed(await readFile(file));
    const topics = new Set(back.messages.map((entry) => entry.topic));
    for (const topic of ['napari.layers', 'napari.frame_time', 'napari.image', 'napari.image/image']) expect(topics.has(topic), topic).toBe(true);
  });
});

describe('recording options', () => {
  it('an uncreatable file is WEBMON_RECORD_FAILED (status 1) before any source is reached; usage errors are status 2', async () => {
    const missing = startProcess(process.execPath, [CLI, 'record', join(dir, 'no-such-folder', 'x.mcap'), '--connect', '127.0.0.1:9']);
    expect(await missing.exited()).toBe(1);
    expect(missing.stderr()).toMatch(/webmon error \[WEBMON_RECORD_FAILED\]: cannot record to .*no-such-folder/);
    // (`webmon replay`'s own usage errors and bad files: replay-cli.test.ts; `replay x.mcap` is a command now.)
    for (const args of [['record'], ['record', 'a.mcap', 'b.mcap'], ['--flight-recorder-bytes', 'lots'], ['replay', 'x.mcap', '--record', 'y.mcap']]) {
      const usage = startProcess(process.execPath, [CLI, ...args]);
      expect(await usage.exited(), args.join(' ')).toBe(2);
      expect(usage.stderr()).toMatch(/WEBMON_BAD_ARGUMENT/);
    }
  });
});
