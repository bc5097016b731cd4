/**
 * RingSource with real peers: a CPython `webmon_ring.RingWriter`, a real relay on port 0 and a real
 * relay client over WebSocket; discovery through a real napari manager (the simulator's).
 */
import { dirname } from 'node:path';
import { createRelay, RelayError, type Relay } from '@webmon/relay';
import { createRelayClient, type RelayClient } from '@webmon/relay/client';
import { RingError, ShmReaderError, ringWriterPythonPath } from '@webmon/shm-reader';
import type { DecodedFrame } from '@webmon/protocol';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { IMAGE_TOPIC, RingSource, frameDtypeOf, ringsFrom } from '../src/ring-source.js';
import { PYTHON, SIMULATOR, eventually, startProcess, type Proc } from './helpers.js';

const PYTHONPATH = dirname(ringWriterPythonPath());

/** A Python writer that publishes the records of `script` (Python statements using `ring`) on "go". */
function startWriter(body: string): Proc {
  const script = ['import sys, time', 'from webmon_ring import RingWriter', 'ring = RingWriter(slots=4, max_payload=1 << 16)', 'print("ring", ring.name, flush=True)', 'sys.stdin.readline()', body, 'print("published", flush=True)', 'sys.stdin.read()', 'ring.close()'].join('\n');
  return startProcess(PYTHON, ['-c', script], { env: { ...process.env, PYTHONPATH } });
}

let relay: Relay;
let client: RelayClient;
let frames: DecodedFrame[];
const procs: Proc[] = [];
const sources: RingSource[] = [];

beforeEach(async () => {
  relay = createRelay({ topics: [IMAGE_TOPIC] });
  const { url } = await relay.listen();
  frames = [];
  client = createRelayClient({ url, WebSocket: WebSocket as never });
  client.subscribe(IMAGE_TOPIC.name, (event) => {
    if (event.kind === 'frame') frames.push(event.frame);
  });
  await eventually(() => (client.state === 'open' ? true : undefined), 30_000, 'relay client open');
});

afterEach(async () => {
  for (const source of sources.splice(0)) await source.close();
  client?.close();
  await relay?.close();
  for (const proc of procs.splice(0)) await proc.stop();
});

function source(options: Partial<ConstructorParameters<typeof RingSource>[0]> = {}): RingSource {
  const created = new RingSource({ relay, logger: createLogger('error'), topics: [IMAGE_TOPIC.name], ...options });
  sources.push(created);
  return created;
}

describe('RingSource', () => {
  it('publishes each ring record as a binary frame: dtype, shape, metadata and the writer clock', async () => {
    const writer = startWriter(
      [
        'import array',
        'ring.publish(memoryview(array.array("f", [0.5 * i for i in range(12)])), {"contrast_limits": [0, 6]}, shape=(3, 4))',
        'time.sleep(0.3)',
        'ring.publish(memoryview(array.array("H", [1, 2, 3, 65535])), None, shape=(2, 2))',
      ].join('\n'),
    );
    procs.push(writer);
    const name = (await writer.waitFor(/ring (wmr_[0-9a-f]+)/))[1] ?? '';
    const rings = source();
    await rings.attach(IMAGE_TOPIC.name, name);
    const before = Date.now();
    writer.child.stdin?.write('go\n');
    await eventually(() => (frames.length >= 2 ? true : undefined), 30_000, 'two frames');
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
    expect(rings.stats[IMAGE_TOPIC.name]).toMatchObject({ ring: name, frames: 2, bytes: 48 + 8, unsupported: 0 });
  });

  it('skips and counts a record whose dtype has no frame type, and carries on', async () => {
    const writer = startWriter(['ring.publish(b"\\x00" * 16, {"bad": True}, dtype="|V8", shape=(2,))', 'time.sleep(0.3)', 'ring.publish(bytes(range(4)), None, dtype="|u1", shape=(4,))'].join('\n'));
    procs.push(writer);
    const name = (await writer.waitFor(/ring (wmr_[0-9a-f]+)/))[1] ?? '';
    const rings = source();
    await rings.attach(IMAGE_TOPIC.name, name);
    writer.child.stdin?.write('go\n');
    await eventually(() => (frames.length >= 1 ? true : undefined), 30_000, 'the uint8 frame');
    expect(frames[0]?.dtype).toBe('uint8');
    expect(frames).toHaveLength(1);
    expect(rings.stats[IMAGE_TOPIC.name]).toMatchObject({ frames: 1, unsupported: 1 });
  });

  it('refuses an undeclared topic and a ring that does not exist, with typed errors', async () => {
    const rings = source();
    await expect(rings.attach('napari.other', 'wmr_000000000000')).rejects.toSatisfy((error) => error instanceof RelayError && error.code === 'RELAY_UNKNOWN_TOPIC');
    await expect(rings.attach(IMAGE_TOPIC.name, 'wmr_000000000000')).rejects.toSatisfy((error) => error instanceof RingError && error.code === 'SHM_READER_NOT_FOUND');
    await expect(rings.attach(IMAGE_TOPIC.name, '../etc/passwd')).rejects.toSatisfy((error) => error instanceof ShmReaderError && error.code === 'SHM_READER_BAD_NAME');
    expect(rings.stats).toEqual({});
  });

  it("finds the ring a napari names in napari_data['webmon_rings'] (the simulator's image stream)", async () => {
    const simulator = startProcess(PYTHON, [SIMULATOR, '--seconds', '60', '--image-hz', '20', '--image-size', '64'], { env: { ...process.env, PYTHONPATH } });
    procs.push(simulator);
    const port = Number((await simulator.waitFor(/manager on 127\.0\.0\.1:(\d+)/))[1]);
    const ring = (await simulator.waitFor(/live image: 64x64 float32 at 20 Hz through ring (wmr_[0-9a-f]+)/))[1];
    const rings = source({ napari: { address: () => ({ host: '127.0.0.1', port }), authkey: 'napari' }, discoverMs: 200 });
    rings.start();
    await eventually(() => (frames.length >= 3 ? true : undefined), 60_000, 'frames from the simulator ring');
    expect(frames[0]?.shape).toEqual([64, 64]);
    expect(frames[0]?.dtype).toBe('float32');
    expect(frames[0]?.meta).toMatchObject({ contrast_limits: [0, 1.2], colormap: 'viridis' });
    expect(rings.stats[IMAGE_TOPIC.name]?.ring).toBe(ring);
  });
});

describe('ring helpers', () => {
  it('maps little-endian numpy dtypes to frame dtypes, and nothing else', () => {
    expect(frameDtypeOf('<f4')).toBe('float32');
    expect(frameDtypeOf('|u1')).toBe('uint8');
    expect(frameDtypeOf('<c16')).toBe('complex128');
    for (const dtype of ['>f4', '|V8', '<U4', '<M8[ns]', '']) expect(frameDtypeOf(dtype)).toBeUndefined();
  });

  it('reads {topic: name} from the decoded dict, ignoring other entries', () => {
    expect(ringsFrom(new Map<unknown, unknown>([['napari.image', 'wmr_1'], [1, 'x'], ['t', 2], ['u', '']]))).toEqual([['napari.image', 'wmr_1']]);
    expect(ringsFrom(null)).toEqual([]);
    expect(ringsFrom('wmr_1')).toEqual([]);
  });
});
