import { spawnSync } from 'node:child_process';
import { ProtocolError } from '@webmon/protocol';
import type { NapariEvent, Poll } from '../../src/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { NdArray, NumpyDType, ShmReaderError, pyTuple, toJsonData, type JsonData } from '@webmon/shm-reader';
import {
  NapariClient,
  encodeNapariClientConfig,
  parseNapariClientConfig,
  type InvalidItem,
  type ShutdownInfo,
  type SharedListFrame,
} from '../../src/node.js';
import { NapariFixture, interpreterMatrix } from '@webmon/test-python';

const { all, heavy } = interpreterMatrix();
console.log(`napari client tests: all cases on CPython ${all.map((i) => i.version).join(', ')}; heavy cases on ${heavy.map((i) => i.version).join(', ')}`);

/** Collects everything a client emits. */
function record(client: NapariClient) {
  const seen = {
    messages: [] as { event: NapariEvent; item: number }[],
    polls: [] as Poll[],
    data: [] as { key: string; value: JsonData }[],
    removed: [] as string[],
    frames: [] as SharedListFrame[],
    invalid: [] as InvalidItem[],
    shutdowns: [] as ShutdownInfo[],
  };
  client.on('message', (event, item) => seen.messages.push({ event, item }));
  client.on('poll', (poll) => seen.polls.push(poll));
  client.on('data', (key, value) => seen.data.push({ key, value }));
  client.on('dataRemoved', (key) => seen.removed.push(key));
  client.on('frame', (frame) => seen.frames.push(frame));
  client.on('invalid', (invalid) => seen.invalid.push(invalid));
  client.on('shutdown', (info) => seen.shutdowns.push(info));
  return seen;
}

/** The values emitted through `data` for one key, in order. */
function valuesOf(seen: ReturnType<typeof record>, key: string): JsonData[] {
  return seen.data.filter((d) => d.key === key).map((d) => d.value);
}

/** Lets the client read napari_data `reads` more times. */
async function moreReads(client: NapariClient, reads = 5): Promise<void> {
  const fetched = client.stats.pollsFetched;
  await until(() => client.stats.pollsFetched >= fetched + reads, `${reads} more napari_data reads`);
}

/** The fields the fixture adds to frame_time messages. */
function frameField<T>(event: NapariEvent, key: 'seq' | 'pad'): T {
  if (event.kind !== 'frame_time') throw new Error(`expected frame_time, got ${event.kind}`);
  return (event.data as Record<string, unknown>)[key] as T;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const fixtures: NapariFixture[] = [];
const clients: NapariClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

async function start(python: string, env: Record<string, string> = {}): Promise<NapariFixture> {
  const fixture = await NapariFixture.start(python, env);
  fixtures.push(fixture);
  return fixture;
}

async function connect(options: Parameters<typeof NapariClient.connect>[0]): Promise<NapariClient> {
  const client = await NapariClient.connect(options);
  clients.push(client);
  return client;
}

describe('NAPARI_MON_CLIENT', () => {
  it('parses napari’s base64 JSON and round-trips our encoder', () => {
    const env = Buffer.from(JSON.stringify({ shared_list_name: 'psm_2230f139', server_port: 40123 })).toString('base64');
    expect(parseNapariClientConfig(env)).toEqual({ serverPort: 40123, sharedListName: 'psm_2230f139' });
    expect(parseNapariClientConfig(encodeNapariClientConfig({ serverPort: 9 }))).toEqual({ serverPort: 9 });
  });

  it.each([
    ['empty', ''],
    ['not base64', 'not base64!'],
    ['base64 of non-JSON', Buffer.from('{oops').toString('base64')],
    ['an array', Buffer.from('[1]').toString('base64')],
    ['no port', Buffer.from('{}').toString('base64')],
    ['port 0', Buffer.from('{"server_port":0}').toString('base64')],
    ['port too big', Buffer.from('{"server_port":70000}').toString('base64')],
    ['port as string', Buffer.from('{"server_port":"123"}').toString('base64')],
    ['a name escaping /dev/shm', Buffer.from('{"server_port":1,"shared_list_name":"../etc/passwd"}').toString('base64')],
  ])('rejects %s with NAPARI_BAD_CLIENT_CONFIG', (_label, value) => {
    expect(() => parseNapariClientConfig(value)).toThrow(expect.objectContaining({ code: 'NAPARI_BAD_CLIENT_CONFIG' }));
  });

  it('connect() without a port or config fails with NAPARI_BAD_CLIENT_CONFIG', async () => {
    const saved = process.env['NAPARI_MON_CLIENT'];
    delete process.env['NAPARI_MON_CLIENT'];
    try {
      await expect(NapariClient.connect({})).rejects.toMatchObject({ code: 'NAPARI_BAD_CLIENT_CONFIG' });
      await expect(NapariClient.connect({ clientConfig: 'garbage!' })).rejects.toMatchObject({ code: 'NAPARI_BAD_CLIENT_CONFIG' });
    } finally {
      if (saved !== undefined) process.env['NAPARI_MON_CLIENT'] = saved;
    }
  });
});

describe('toJsonData', () => {
  it('converts the pickle value model the way json.dumps would', () => {
    const value = new Map<unknown, unknown>([
      [140245342, pyTuple(1, 'two')],
      [2n ** 70n, new Uint8Array([0, 1, 255])],
      ['big', 2n ** 64n],
      [true, new Set([3])],
      [null, -5n],
    ]);
    expect(toJsonData(value as never)).toEqual({
      '140245342': [1, 'two'],
      '1180591620717411303424': 'AAH/',
      big: '18446744073709551616',
      true: [3],
      null: -5,
    });
  });

  it('lays out C and Fortran ndarrays as nested arrays in index order', () => {
    const c = new NdArray(new NumpyDType('i', 8), [2, 2], 'C', new BigInt64Array([1n, 2n, 3n, 4n]));
    const f = new NdArray(new NumpyDType('f', 8), [2, 3], 'F', new Float64Array([1, 4, 2, 5, 3, 6]));
    const b = new NdArray(new NumpyDType('b', 1), [2], 'C', new Uint8Array([1, 0]));
    expect(toJsonData(c)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(toJsonData(f)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(toJsonData(b)).toEqual([true, false]);
  });
});

describe.each(all)('napari client against CPython $version', (interpreter) => {
  it('streams messages, polls (deduplicated), sends commands and sees napari shut down', async () => {
    const server = await start(interpreter.path);
    const client = await connect({ clientConfig: server.info.NAPARI_MON_CLIENT, pollIntervalMs: 5 });
    const seen = record(client);

    await server.command('put_messages', { count: 50 });
    await until(() => seen.messages.length >= 50, '50 messages');
    expect(seen.messages.map((m) => frameField<number>(m.event, 'seq'))).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(seen.messages.every((m) => m.event.kind === 'frame_time')).toBe(true);

    // napari keys layers by int id: they arrive as decimal strings.
    await server.command('set_poll', { value: { layers: { '140245342': {} } } });
    await until(() => seen.polls.length >= 1, 'first poll');
    expect(Object.keys(seen.polls[0]!.layers)).toEqual(['140245342']);
    // Re-setting the same value must not emit again, however often we poll.
    await server.command('set_poll', { value: { layers: { '140245342': {} } } });
    const fetched = client.stats.pollsFetched;
    await until(() => client.stats.pollsFetched >= fetched + 5, 'more poll fetches');
    expect(seen.polls).toHaveLength(1);
    await server.command('set_poll', { value: { layers: { '140245342': {}, '7': {} } } });
    await until(() => seen.polls.length >= 2, 'second poll');
    expect(Object.keys(seen.polls[1]!.layers).sort()).toEqual(['140245342', '7']);

    // Commands arrive on the Python side as dicts.
    await client.showGrid(true);
    await client.sendCommand('custom_command', { value: 42, names: ['fred', 'joe'] });
    await expect(client.sendCommand('not an identifier', 1)).rejects.toMatchObject({ code: 'PROTOCOL_INVALID_MESSAGE' });
    await expect(client.sendCommand('show_grid', 'yes')).rejects.toMatchObject({ code: 'PROTOCOL_INVALID_MESSAGE' });
    const drained = await server.command('drain_client', { count: 2, timeout: 10 });
    expect(drained['items']).toEqual([{ show_grid: true }, { custom_command: { value: 42, names: ['fred', 'joe'] } }]);

    // An invalid item is reported and counted, and the stream goes on.
    await server.command('put_raw', { value: { frame_time: { time: 'not a number', delta_ms: 1 } } });
    await server.command('put_raw', { value: ['not', 'a', 'dict'] });
    await server.command('put_messages', { count: 1, start: 50 });
    await until(() => seen.messages.length >= 51, 'message after invalid ones');
    expect(seen.invalid.map((i) => i.source)).toEqual(['message', 'message']);
    expect(seen.invalid[0]!.error).toMatchObject({ code: 'PROTOCOL_INVALID_MESSAGE' });
    expect(client.stats.invalid).toBe(2);
    expect(client.stats.items).toBe(53);

    // An unknown message name is carried, not dropped.
    await server.command('put_raw', { value: { plugin_event: { anything: [1, 2] } } });
    await until(() => seen.messages.length >= 52, 'unknown message');
    expect(seen.messages[51]!.event).toEqual({ kind: 'unknown', name: 'plugin_event', value: { anything: [1, 2] } });

    await server.command('set_shutdown');
    await until(() => seen.shutdowns.length >= 1, 'shutdown');
    await client.close();
    expect(seen.shutdowns).toEqual([{ reason: 'napari' }]);
  });

  it('passes every napari_data key through: added within a second, once per change, removed', async () => {
    const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port }); // the default 16 ms between reads
    const seen = record(client);
    await server.command('set_poll', { value: { layers: {} } });
    await until(() => seen.polls.length === 1, 'the first poll');
    expect(seen.data).toEqual([{ key: 'poll', value: { layers: {} } }]);

    // A key a plugin adds mid-run arrives within a second.
    const rings = { 'napari.image': 'wm_ring_1' };
    await server.command('set_data', { value: { webmon_rings: rings } });
    await until(() => valuesOf(seen, 'webmon_rings').length === 1, 'webmon_rings', 1_000);
    expect(valuesOf(seen, 'webmon_rings')).toEqual([rings]);

    // Rewriting the same values (napari does, every frame) emits nothing, however often we read.
    await server.command('set_data', { value: { webmon_rings: rings, poll: { layers: {} } } });
    await moreReads(client);
    expect(seen.data).toHaveLength(2);
    expect(seen.polls).toHaveLength(1);

    // Each change once.
    for (const n of [1, 2, 3]) {
      await server.command('set_data', { value: { counter: n } });
      await until(() => valuesOf(seen, 'counter').at(-1) === n, `counter ${n}`);
      await moreReads(client, 2);
    }
    expect(valuesOf(seen, 'counter')).toEqual([1, 2, 3]);
    expect(valuesOf(seen, 'webmon_rings')).toHaveLength(1);

    // An int key arrives as its decimal string.
    await server.command('set_data_int_key', { key: 140245342, value: 'by id' });
    await until(() => valuesOf(seen, '140245342').length === 1, 'the int key');

    await server.command('del_data', { key: 'counter' });
    await until(() => seen.removed.length === 1, 'dataRemoved');
    expect(seen.removed).toEqual(['counter']);
    await server.command('set_data', { value: { counter: 3 } });
    await until(() => valuesOf(seen, 'counter').length === 4, 'counter back');
    expect(seen.invalid).toEqual([]);
    expect(client.stats).toMatchObject({ dataEmitted: seen.data.length, dataRemoved: 1, pollsEmitted: 1 });
  });

  it('reports a value it cannot use, with its key, once, while the other keys keep flowing', async () => {
    const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port, pollIntervalMs: 5 });
    const seen = record(client);
    const good = async (n: number): Promise<void> => {
      await server.command('set_data', { value: { good: n } });
      await until(() => valuesOf(seen, 'good').at(-1) === n, `good ${n}`);
    };
    await good(1);

    // Not plain data: napari cannot pickle it, so `copy()` fails as a whole and the client reads key by key.
    await server.command('set_data_unpicklable', { key: 'lock' });
    await until(() => seen.invalid.length === 1, 'the unpicklable value reported');
    expect(seen.invalid[0]).toMatchObject({ source: 'data', key: 'lock', error: { code: 'SHM_READER_REMOTE_ERROR' } });
    await good(2);

    // Oversized: 100^4 values as a tree (a few hundred bytes as a pickle), and nesting deeper than 512.
    await server.command('set_data_laughs', { key: 'laughs', width: 100, levels: 4 });
    await server.command('set_data_deep', { key: 'deep', depth: 600 });
    await until(() => seen.invalid.length === 3, 'the oversized values reported');
    expect(seen.invalid.slice(1).map((i) => [i.source, i.key, (i.error as ShmReaderError).code]).sort()).toEqual([
      ['data', 'deep', 'SHM_READER_PICKLE_LIMIT'],
      ['data', 'laughs', 'SHM_READER_PICKLE_LIMIT'],
    ]);
    await good(3);
    await good(4);

    // Reported once while they keep failing, not on every read.
    await moreReads(client, 10);
    expect(seen.invalid).toHaveLength(3);
    expect(client.stats.invalid).toBe(3);
    expect(seen.data.map((d) => d.key)).toEqual(['good', 'good', 'good', 'good']);

    // A fixed value is emitted; a key that never had a value goes without dataRemoved.
    await server.command('set_data', { value: { deep: 'fixed' } });
    await until(() => valuesOf(seen, 'deep').length === 1, 'the fixed value');
    await server.command('del_data', { key: 'lock' });
    await server.command('del_data', { key: 'laughs' });
    await good(5);
    await server.command('del_data', { key: 'deep' });
    await until(() => seen.removed.length === 1, 'dataRemoved');
    expect(seen.removed).toEqual(['deep']);
    expect(seen.invalid).toHaveLength(3);
  });

  if (interpreter.minor >= 9) {
    it('reads the older ShareableList frame counter and JSON slot', async () => {
      const server = await start(interpreter.path);
      expect(server.info.shared_list_name).toMatch(/^psm_/);
      const client = await connect({ clientConfig: server.info.NAPARI_MON_CLIENT, sharedListIntervalMs: 5 });
      const seen = record(client);
      await server.command('shared_list', { value: { layers: { '1': { frame: 1 } } } });
      await until(() => seen.frames.length >= 1, 'frame 1');
      const second = await server.command('shared_list', { value: { layers: { '1': { frame: 2 } } } });
      await until(() => seen.frames.some((f) => f.frame === second['frame']), 'frame 2');
      expect(seen.frames.at(-1)).toEqual({ frame: second['frame'], data: { layers: { '1': { frame: 2 } } } });
    });
  }

  if (interpreter.minor >= 13) {
    it('ends with queue-shut-down when napari_messages is shut down (3.13 Queue.shutdown)', async () => {
      const server = await start(interpreter.path);
      const client = await connect({ port: server.port });
      const seen = record(client);
      await server.command('put_messages', { count: 3 });
      await server.command('queue_shutdown');
      await until(() => seen.shutdowns.length >= 1, 'shutdown');
      expect(seen.messages).toHaveLength(3);
      expect(seen.shutdowns).toEqual([{ reason: 'queue-shut-down' }]);
    });
  }

  if (interpreter === all[0]) {
    // (Every interpreter's handshake failure is covered in connection/manager tests.)
    it('wrong authkey: AUTH_FAILED', async () => {
      const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
      const error = await NapariClient.connect({ port: server.port, authkey: 'not-napari' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ShmReaderError);
      expect((error as ShmReaderError).code).toBe('SHM_READER_AUTH_FAILED');
    });
  }
});

describe('commands and message kinds', () => {
  const newest = all[all.length - 1]!;

  it.each(['__init__', '_private', '__class__', '9lives', 'a'.repeat(65), 'show_grid\n', 'with space', ''])(
    'refuses command name %j, and nothing reaches client_messages',
    async (name) => {
      const server = await start(newest.path, { FIXTURE_SHARED_LIST: '0' });
      const client = await connect({ port: server.port });
      const error = await client.sendCommand(name, true).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'PROTOCOL_INVALID_MESSAGE' });
      // The queue is FIFO: if the refused one had gone out, it would come before this one.
      await client.sendCommand('a'.repeat(64), 1);
      const drained = await server.command('drain_client', { count: 1, timeout: 10 });
      expect(drained['items']).toEqual([{ ['a'.repeat(64)]: 1 }]);
    },
  );

  it('emits a message kind first seen late in a session like any other', async () => {
    const server = await start(newest.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port });
    const seen = record(client);
    await server.command('put_messages', { count: 2_000 });
    await until(() => seen.messages.length === 2_000, 'a long session of frame_time');
    await server.command('put_raw', { value: { layer_added: { name: 'cells', id: 7 } } });
    await server.command('put_messages', { count: 1, start: 2_000 });
    await server.command('put_raw', { value: { layer_added: { name: 'nuclei', id: 8 }, layer_removed: { id: 7 } } });
    await until(() => seen.messages.length === 2_004, 'the new kinds');
    expect(seen.messages.slice(2_000)).toEqual([
      { item: 2_000, event: { kind: 'unknown', name: 'layer_added', value: { name: 'cells', id: 7 } } },
      { item: 2_001, event: expect.objectContaining({ kind: 'frame_time' }) },
      { item: 2_002, event: { kind: 'unknown', name: 'layer_added', value: { name: 'nuclei', id: 8 } } },
      { item: 2_002, event: { kind: 'unknown', name: 'layer_removed', value: { id: 7 } } },
    ]);
    expect(seen.invalid).toEqual([]);
  });
});

describe.each(heavy)('napari client heavy cases on CPython $version', (interpreter) => {
  it('delivers 10,000 messages in order with no loss', async () => {
    const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port });
    const seen = record(client);
    const count = 10_000;
    await server.command('put_messages', { count });
    await until(() => seen.messages.length >= count, `${count} messages`, 120_000);
    const seqs = seen.messages.map((m) => frameField<number>(m.event, 'seq'));
    expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(seen.messages.map((m) => m.item)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(seen.invalid).toHaveLength(0);
  });

  it('carries messages and polls from 100 B to 8 MiB', async () => {
    const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port, pollIntervalMs: 5 });
    const seen = record(client);
    const sizes = [100, 20_000, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024];
    for (const [index, size] of sizes.entries()) {
      await server.command('put_messages', { count: 1, start: index, pad: size });
    }
    await until(() => seen.messages.length >= sizes.length, 'large messages', 120_000);
    expect(seen.messages.map((m) => frameField<string>(m.event, 'pad').length)).toEqual(sizes);
    // Polls shaped like napari's (seen tiles) up to 1 MiB: 8 MiB of tiles would exceed NapariLimits.maxSeenTiles.
    for (const size of [1000, 64 * 1024, 1024 * 1024]) {
      const before = seen.polls.length;
      await server.command('set_poll_sized', { bytes: size });
      await until(() => seen.polls.length > before, `poll of ${size} bytes`, 120_000);
      const layer = Object.values(seen.polls.at(-1)!.layers)[0]!;
      expect(layer.tile_state!.seen.length).toBe(Math.max(1, Math.floor(size / 8)));
    }
    // An 8 MiB poll: napari's loose schema keeps extra fields.
    const before = seen.polls.length;
    await server.command('set_poll', { value: { layers: {}, blob: 'y'.repeat(8 * 1024 * 1024) } });
    await until(() => seen.polls.length > before, 'poll of 8 MiB', 120_000);
    expect((seen.polls.at(-1) as Record<string, unknown>)['blob']).toHaveLength(8 * 1024 * 1024);
    expect(seen.invalid).toHaveLength(0);
  }, 180_000);

  it('reports a server killed mid-stream as connection-lost, once, with a typed error', async () => {
    const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port });
    const seen = record(client);
    void server.command('stream', { count: 100_000, hz: 5000 }).catch(() => undefined);
    await until(() => seen.messages.length >= 200, 'streaming');
    server.killManager();
    const info = await client.whenShutdown();
    expect(info.reason).toBe('connection-lost');
    expect(info.error).toBeInstanceOf(ShmReaderError);
    expect(['SHM_READER_CONNECTION_CLOSED', 'SHM_READER_MALFORMED_FRAME']).toContain(info.error!.code);
    await client.close();
    expect(seen.shutdowns).toHaveLength(1);
    // Sequence numbers received before the kill are still in order with no gap.
    const seqs = seen.messages.map((m) => frameField<number>(m.event, 'seq'));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
  });
});

const numpyInterpreters = all.filter((i) => i.minor >= 9 && spawnSync(i.path, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0);
describe('pollOnMessage', () => {
  it.each(heavy.map((i) => [i.version, i.path] as const))('fetches poll right after each napari message on %s', async (_version, python) => {
    const server = await start(python, { FIXTURE_SHARED_LIST: '0' });
    await server.command('set_poll', { value: { layers: { '1': {} } } });
    // An interval far longer than the test: any later poll can only come from a message.
    const client = await connect({ port: server.port, pollIntervalMs: 600_000, pollOnMessage: true });
    const seen = record(client);
    await until(() => seen.polls.length === 1, 'the first poll');
    for (let round = 2; round <= 4; round++) {
      await server.command('set_poll', { value: { layers: { [String(round)]: {} } } });
      await server.command('put_messages', { count: 1, start: round });
      await until(() => seen.polls.length === round, `poll ${round} after message ${round}`);
      expect(Object.keys(seen.polls[round - 1]!.layers)).toEqual([String(round)]);
    }
    // A burst: never more polls than messages, and once it is over the polls stop (no runaway chain).
    const before = client.stats.pollsFetched;
    await server.command('put_messages', { count: 200, start: 100 });
    await until(() => seen.messages.length === 203, 'the burst');
    await until(() => client.stats.pollsFetched > before, 'a poll after the burst');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const settled = client.stats.pollsFetched;
    expect(settled - before).toBeLessThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.stats.pollsFetched).toBe(settled);
    expect(seen.invalid).toEqual([]);
  });

  it('is off by default: messages alone do not trigger polls', async () => {
    const server = await start(heavy[heavy.length - 1]!.path, { FIXTURE_SHARED_LIST: '0' });
    const client = await connect({ port: server.port, pollIntervalMs: 600_000 });
    const seen = record(client);
    await until(() => client.stats.pollsFetched === 1, 'the first poll');
    await server.command('put_messages', { count: 20 });
    await until(() => seen.messages.length === 20, 'the messages');
    expect(client.stats.pollsFetched).toBe(1);
  });
});

describe('numpy in the poll', () => {
  it('converts napari’s int64 seen (N×2) and float64 corners to nested arrays', async () => {
    let ran = false;
    for (const interpreter of numpyInterpreters) {
      const server = await start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
      if (!server.info.numpy) continue;
      ran = true;
      console.log(`numpy poll test on CPython ${interpreter.version}`);
      const client = await connect({ port: server.port, pollIntervalMs: 5 });
      const seen = record(client);
      const tileConfig = { base_shape: [4096, 4096], image_shape: [1024, 1024], shape_in_tiles: [4, 4], tile_size: 256, level_index: 2 };
      await server.command('set_poll_numpy', {
        layer_id: 140245342123,
        seen: [0, 0, 0, 1, 3, 2],
        corners: [
          [0, 0],
          [512.5, 1024],
        ],
        tile_config: tileConfig,
      });
      await until(() => seen.polls.length >= 1, 'numpy poll');
      expect(seen.invalid).toHaveLength(0);
      expect(seen.polls[0]).toEqual({
        layers: {
          '140245342123': {
            tile_state: {
              seen: [
                [0, 0],
                [0, 1],
                [3, 2],
              ],
              corners: [
                [0, 0],
                [512.5, 1024],
              ],
            },
            tile_config: tileConfig,
          },
        },
      });
      break;
    }
    expect(ran, 'no interpreter with numpy found (python3.11 should have it)').toBe(true);
  });
});
