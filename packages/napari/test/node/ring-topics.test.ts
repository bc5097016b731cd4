/**
 * RingTopics with real peers: a CPython `webmon_ring.RingWriter`, a real relay on port 0 and a real
 * relay client over WebSocket.
 */
import { dirname } from 'node:path';
import type { DecodedFrame } from '@webmon/protocol';
import { RingError, ShmReaderError, ringWriterPythonPath } from '@webmon/shm-reader';
import { findInterpreters } from '@webmon/test-python';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RingTopics, ringsFrom, silentLogger } from '../../src/node.js';
import { eventually, relayPair, startChild, type Child, type RelayPair } from './helpers.js';

const PYTHONPATH = dirname(ringWriterPythonPath());
const PYTHON = findInterpreters().at(-1)?.path ?? 'python3';
const TOPIC = 'napari.image';

/** A Python writer that publishes the records of `body` (statements using `ring`) on "go". */
function startWriter(body: string): Child {
  const script = ['import sys, time', 'from webmon_ring import RingWriter', 'ring = RingWriter(slots=4, max_payload=1 << 16)', 'print("ring", ring.name, flush=True)', 'sys.stdin.readline()', body, 'print("published", flush=True)', 'sys.stdin.read()', 'ring.close()'].join('\n');
  return startChild(PYTHON, ['-c', script], { ...process.env, PYTHONPATH });
}

let pair: RelayPair;
let frames: DecodedFrame[];
const children: Child[] = [];
const rings: RingTopics[] = [];

beforeEach(async () => {
  pair = await relayPair();
  frames = [];
  // Subscribed before the topic exists: the client subscribes as soon as the ring declares it.
  pair.client.subscribe(TOPIC, (event) => {
    if (event.kind === 'frame') frames.push(event.frame);
  });
});

afterEach(async () => {
  for (const ringTopics of rings.splice(0)) ringTopics.close();
  await pair.close();
  for (const child of children.splice(0)) await child.stop();
});

function topics(): RingTopics {
  const created = new RingTopics(pair.relay, silentLogger);
  rings.push(created);
  return created;
}

/** A writer running `lines`, its ring attached on TOPIC and announced to the client, then told to go. */
async function publishing(lines: string[]): Promise<RingTopics> {
  const writer = startWriter(lines.join('\n'));
  children.push(writer);
  const name = (await writer.waitFor(/ring (wmr_[0-9a-f]+)/))[1] ?? '';
  const ringTopics = topics();
  await ringTopics.attach(TOPIC, name);
  await eventually(() => pair.client.topics.some((topic) => topic.name === TOPIC), 10_000, 'the topic announced');
  writer.send('go');
  return ringTopics;
}

describe('RingTopics', () => {
  it('declares the topic when the ring opens and publishes each record: dtype, shape, metadata and the writer clock', async () => {
    const writer = startWriter(
      [
        'import array',
        'ring.publish(memoryview(array.array("f", [0.5 * i for i in range(12)])), {"contrast_limits": [0, 6]}, shape=(3, 4))',
        'time.sleep(0.3)',
        'ring.publish(memoryview(array.array("H", [1, 2, 3, 65535])), None, shape=(2, 2))',
      ].join('\n'),
    );
    children.push(writer);
    const name = (await writer.waitFor(/ring (wmr_[0-9a-f]+)/))[1] ?? '';
    const ringTopics = topics();
    expect(pair.relay.hasTopic(TOPIC)).toBe(false);
    await ringTopics.attach(TOPIC, name);
    expect(pair.relay.topics.find((topic) => topic.name === TOPIC)).toMatchObject({ mode: 'latest', binary: true, schema: 'webmon.v1/frame' });
    await eventually(() => pair.client.topics.some((topic) => topic.name === TOPIC), 10_000, 'the topic announced');
    const before = Date.now();
    writer.send('go');
    await eventually(() => frames.length >= 2, 30_000, 'two frames');
    const [first, second] = frames as [DecodedFrame, DecodedFrame];
    expect(first.dtype).toBe('float32');
    expect(first.shape).toEqual([3, 4]);
    expect([...(first.data as Float32Array)]).toEqual(Array.from({ length: 12 }, (_, i) => 0.5 * i));
    expect(first.meta).toEqual({ contrast_limits: [0, 6] });
    // The frame's time is the writer's publish time (wall clock), not the relay's.
    expect(first.time).toBeGreaterThan(before - 1_000);
    expect(first.time).toBeLessThanOrEqual(Date.now());
    expect(second.dtype).toBe('uint16');
    expect([...(second.data as Uint16Array)]).toEqual([1, 2, 3, 65535]);
    expect(second.meta).toBeUndefined();
    expect(ringTopics.stats[TOPIC]).toMatchObject({ ring: name, frames: 2, bytes: 48 + 8, unsupported: 0 });
    // Detaching retires the topic.
    ringTopics.detach(TOPIC);
    expect(pair.relay.hasTopic(TOPIC)).toBe(false);
  });

  it('copies records into the buffers the relay hands back, not a new one each, and every page frame is the record it was', async () => {
    // 40 records of 64 KiB, each every value its index: a buffer reused too early would show another index.
    const ringTopics = await publishing(['import array', 'for i in range(40):', '    ring.publish(memoryview(array.array("I", [i]) * 16384), {"i": i}, shape=(16384,))', '    time.sleep(0.01)']);
    await eventually(() => frames.some((frame) => (frame.meta as { i: number }).i === 39), 30_000, 'the last record');
    for (const frame of frames) {
      const { i } = frame.meta as { i: number };
      expect((frame.data as Uint32Array).every((value) => value === i)).toBe(true);
    }
    const { frames: published, reusedBuffers } = ringTopics.stats[TOPIC]!;
    expect(published).toBeGreaterThanOrEqual(20);
    // The first few records need new buffers (the relay holds the newest, the page's socket one more);
    // after that they come back as fast as they go out.
    expect(reusedBuffers).toBeGreaterThanOrEqual(published - 8);
  });

  it('publishes frames in shared memory, so the view threads and the recorder thread read them where they are', async () => {
    const shared: boolean[] = [];
    const untap = pair.relay.tap({ frame: (_info, _header, _headerBytes, data) => void shared.push(data.buffer instanceof SharedArrayBuffer) });
    await publishing(['import array', 'for i in range(5):', '    ring.publish(memoryview(array.array("I", [i]) * 1024), {"i": i}, shape=(1024,))', '    time.sleep(0.01)']);
    await eventually(() => shared.length >= 3, 30_000, 'three frames tapped');
    untap();
    expect(shared.every(Boolean)).toBe(true);
  });

  it('lets the event loop run between records when the writer publishes faster than they are read', async () => {
    // Back to back for 3 s: a record is almost always ready, which once kept the loop reading (no socket
    // written) because a ready record resolves as a microtask.
    const ringTopics = await publishing(['payload = bytes(1 << 16)', 'end = time.monotonic() + 3', 'while time.monotonic() < end:', '    ring.publish(payload, None, dtype="|u1", shape=(1 << 16,))']);
    let turns = 0;
    let mostInOneTurn = 0;
    let last = 0;
    const started = Date.now();
    while (Date.now() - started < 2_000) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
      const published = ringTopics.stats[TOPIC]?.frames ?? 0;
      mostInOneTurn = Math.max(mostInOneTurn, published - last);
      last = published;
    }
    expect(last, 'records were read').toBeGreaterThan(50);
    expect(turns).toBeGreaterThan(50);
    expect(mostInOneTurn).toBeLessThanOrEqual(2);
    // and what was read reached the page
    await eventually(() => frames.length >= 10, 30_000, 'frames at the page');
  });

  it('skips and counts a record whose dtype has no frame type, and carries on', async () => {
    const ringTopics = await publishing(['ring.publish(b"\\x00" * 16, {"bad": True}, dtype="|V8", shape=(2,))', 'time.sleep(0.3)', 'ring.publish(bytes(range(4)), None, dtype="|u1", shape=(4,))']);
    await eventually(() => frames.length >= 1, 30_000, 'the uint8 frame');
    expect(frames[0]?.dtype).toBe('uint8');
    expect(frames).toHaveLength(1);
    expect(ringTopics.stats[TOPIC]).toMatchObject({ frames: 1, unsupported: 1 });
  });

  it('refuses a ring that does not exist or a bad name with typed errors, and declares nothing', async () => {
    const ringTopics = topics();
    await expect(ringTopics.attach(TOPIC, 'wmr_000000000000')).rejects.toSatisfy((error) => error instanceof RingError && /NOT_FOUND/.test(error.code));
    await expect(ringTopics.attach(TOPIC, '../etc/passwd')).rejects.toSatisfy((error) => error instanceof ShmReaderError && /BAD_NAME/.test(error.code));
    expect(ringTopics.stats).toEqual({});
    expect(pair.relay.hasTopic(TOPIC)).toBe(false);
  });
});

describe('ringsFrom', () => {
  it('reads {name: ring} from the converted dict, ignoring other entries', () => {
    expect(ringsFrom({ 'napari.image': 'wmr_1', t: 2, u: '' })).toEqual([['napari.image', 'wmr_1']]);
    expect(ringsFrom(new Map<unknown, unknown>([['napari.image', 'wmr_1'], [1, 'x']]))).toEqual([['napari.image', 'wmr_1']]);
    expect(ringsFrom(null)).toEqual([]);
    expect(ringsFrom('wmr_1')).toEqual([]);
    expect(ringsFrom(['wmr_1'])).toEqual([]);
  });
});
