import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShmReaderError } from '../src/errors.js';
import {
  ManagerClient,
  PythonExceptionError,
  QueueEmptyError,
  QueueShutDownError,
  RemoteError,
  type DictProxy,
  type EventProxy,
  type QueueProxy,
} from '../src/manager/index.js';
import { NdArray, PyTuple, encodePickle, type PyValue } from '../src/pickle/index.js';
import { findPythons, hasNumpy } from './pickle-helpers.js';
import { encodeFrame } from '../src/connection/index.js';
import { fakeManager } from './helpers/fake-servers.js';
import { NapariFixture, interpreterMatrix } from '@webmon/test-python';

const { all, heavy } = interpreterMatrix();
console.log(`manager tests: all cases on CPython ${all.map((i) => i.version).join(', ')}; heavy cases on ${heavy.map((i) => i.version).join(', ')}`);

function refcountOf(debugInfo: string, ident: string): number {
  const match = new RegExp(`${ident}:\\s+refcount=(\\d+)`).exec(debugInfo);
  return match ? Number(match[1]) : 0;
}

describe.each(all)('manager client against CPython $version', (interpreter) => {
  let server: NapariFixture;
  let client: ManagerClient;
  let data: DictProxy;
  let messages: QueueProxy;
  let clientMessages: QueueProxy;
  let shutdown: EventProxy;

  beforeAll(async () => {
    server = await NapariFixture.start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    client = await ManagerClient.connect({ port: server.port, authkey: 'napari' });
    [data, messages, clientMessages, shutdown] = await Promise.all([
      client.dict('napari_data'),
      client.queue('napari_messages'),
      client.queue('client_messages'),
      client.event('napari_shutdown'),
    ]);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('creates the napari objects with their exposed methods', () => {
    expect(data.exposed).toEqual(['clear', 'copy', 'fromkeys', 'get', 'items', 'keys', 'pop', 'popitem', 'setdefault', 'update', 'values']);
    expect(messages.exposed).toContain('get_nowait');
    expect(messages.exposed.includes('shutdown')).toBe(interpreter.minor >= 13);
    expect(shutdown.exposed).toEqual(['clear', 'isSet', 'is_set', 'set', 'wait']);
    expect(data.ident).toMatch(/^[0-9a-f]+$/);
  });

  it('dict: update, get, getItem, keys/items/values, size, pop, with int keys and Python errors', async () => {
    await data.update(new Map<number | string, string | number>([[140245342, 'layer'], ['answer', 42]]));
    expect(await data.get(140245342)).toBe('layer');
    expect(await data.get('nope')).toBeNull();
    expect(await data.get('nope', 'fallback')).toBe('fallback');
    await data.set('set-key', [1, 2, 3]);
    expect(await data.getItem('set-key')).toEqual([1, 2, 3]);
    expect(await data.hasKey('set-key')).toBe(true);
    expect(await data.hasKey('absent')).toBe(false);
    const missing = await data.getItem('absent').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PythonExceptionError);
    expect((missing as PythonExceptionError).qualifiedName).toBe('builtins.KeyError');
    const keys = await data.keys();
    expect(keys).toEqual(expect.arrayContaining([140245342, 'answer', 'set-key']));
    expect(await data.size()).toBe(keys.length);
    const items = await data.items();
    const pair = items.find((item) => Array.isArray(item) && item[0] === 'answer') as PyTuple;
    expect(pair).toBeInstanceOf(PyTuple);
    expect(pair[1]).toBe(42);
    expect(await data.values()).toContain('layer');
    expect(await data.pop('answer')).toBe(42);
    const popError = await data.pop('answer').catch((e: unknown) => e);
    expect(popError).toMatchObject({ code: 'SHM_READER_PYTHON_EXCEPTION', module: 'builtins', pythonName: 'KeyError', args: ['answer'] });
    expect(await data.pop('answer', 'default')).toBe('default');
  });

  it('queue: put, get_nowait, qsize/empty, Empty as QUEUE_EMPTY, blocking get with timeout', async () => {
    await clientMessages.put({ show_grid: true });
    expect(await clientMessages.qsize()).toBe(1);
    expect(await clientMessages.empty()).toBe(false);
    expect(await clientMessages.getNowait()).toEqual(new Map([['show_grid', true]]));
    const empty = await clientMessages.getNowait().catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(QueueEmptyError);
    expect(empty).toBeInstanceOf(PythonExceptionError);
    expect(empty).toMatchObject({ code: 'SHM_READER_QUEUE_EMPTY', pythonName: 'Empty' });
    await expect(clientMessages.get(true, 0.05)).rejects.toMatchObject({ code: 'SHM_READER_QUEUE_EMPTY' });
  });

  it('a blocking get runs on its own connection and never holds up other calls', async () => {
    const blocked = clientMessages.get(true, 20);
    const started = Date.now();
    for (let i = 0; i < 20; i++) expect(await data.get('set-key')).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeLessThan(15_000);
    await clientMessages.put('wake up');
    expect(await blocked).toBe('wake up');
  });

  it('event: is_set, set, clear, wait(timeout) on its own connection', async () => {
    expect(await shutdown.isSet()).toBe(false);
    expect(await shutdown.wait(0.05)).toBe(false);
    const waiting = shutdown.wait(20);
    await shutdown.set();
    expect(await waiting).toBe(true);
    expect(await shutdown.isSet()).toBe(true);
    await shutdown.clear();
    expect(await shutdown.isSet()).toBe(false);
  });

  it('pipelines many calls on one connection and keeps replies in order', async () => {
    await data.update({ a: 1, b: 'two', c: null });
    const keys = Array.from({ length: 300 }, (_, i) => ['a', 'b', 'c', 'zz'][i % 4]!);
    const values = await Promise.all(keys.map((key) => data.get(key)));
    expect(values).toEqual(keys.map((key) => ({ a: 1, b: 'two', c: null, zz: null })[key]));
  });

  it('calls any method by name, and maps #TRACEBACK / #UNSERIALIZABLE to REMOTE_ERROR', async () => {
    expect(await data.call('setdefault', ['by-name', 7])).toBe(7);
    expect(await data.str()).toContain('by-name');
    const notExposed = await data.call('__len__').catch((e: unknown) => e);
    expect(notExposed).toBeInstanceOf(RemoteError);
    expect(notExposed).toMatchObject({ code: 'SHM_READER_REMOTE_ERROR', kind: '#TRACEBACK' });
    expect((notExposed as RemoteError).remoteTraceback).toContain('AttributeError');
    const unpicklable = await messages.getValue().catch((e: unknown) => e);
    expect(unpicklable).toMatchObject({ code: 'SHM_READER_REMOTE_ERROR', kind: '#UNSERIALIZABLE' });
    const unknownType = await client.create('no_such_typeid').catch((e: unknown) => e);
    expect(unknownType).toMatchObject({ code: 'SHM_READER_REMOTE_ERROR' });
    expect((unknownType as RemoteError).remoteTraceback).toContain('KeyError');
    const whole = await data.getValue();
    expect(whole).toBeInstanceOf(Map);
  });

  it('server functions: number_of_objects, debug_info, list_segments, incref/decref', async () => {
    const before = await client.debugInfo();
    expect(refcountOf(before, data.ident)).toBeGreaterThanOrEqual(2); // the fixture's proxy + our create
    expect(await client.numberOfObjects()).toBeGreaterThanOrEqual(5);
    await client.incref(data.ident);
    expect(refcountOf(await client.debugInfo(), data.ident)).toBe(refcountOf(before, data.ident) + 1);
    await client.decref(data.ident);
    expect(refcountOf(await client.debugInfo(), data.ident)).toBe(refcountOf(before, data.ident));
    if (interpreter.minor >= 9) {
      expect(Array.isArray(await client.listSegments())).toBe(true);
    } else {
      // 3.8 fixture is a plain BaseManager: no list_segments.
      await expect(client.listSegments()).rejects.toMatchObject({ code: 'SHM_READER_REMOTE_ERROR' });
    }
  });

  it('Queue.shutdown: 3.13+ ends the queue with QUEUE_SHUT_DOWN; older servers refuse it', async () => {
    const scratch = await client.queue('client_messages');
    if (interpreter.minor >= 13) {
      await scratch.put('last');
      await scratch.shutdown();
      expect(await scratch.getNowait()).toBe('last');
      const error = await scratch.getNowait().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueShutDownError);
      expect(error).toMatchObject({ code: 'SHM_READER_QUEUE_SHUT_DOWN' });
    } else {
      await expect(scratch.shutdown()).rejects.toMatchObject({ code: 'SHM_READER_REMOTE_ERROR' });
    }
  });

  it('close() releases every reference it took and refuses later calls', async () => {
    const other = await ManagerClient.connect({ port: server.port, authkey: 'napari' });
    const base = refcountOf(await other.debugInfo(), data.ident);
    const second = await ManagerClient.connect({ port: server.port, authkey: 'napari' });
    const proxy = await second.dict('napari_data');
    await second.incref(proxy.ident);
    expect(refcountOf(await other.debugInfo(), data.ident)).toBe(base + 2);
    await second.close();
    expect(refcountOf(await other.debugInfo(), data.ident)).toBe(base);
    await expect(proxy.get('a')).rejects.toMatchObject({ code: 'SHM_READER_DISPOSED' });
    await other.close();
  });

  it('wrong authkey: AUTH_FAILED', async () => {
    const error = await ManagerClient.connect({ port: server.port, authkey: 'wrong' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShmReaderError);
    expect((error as ShmReaderError).code).toBe('SHM_READER_AUTH_FAILED');
  });
});

describe.each(heavy)('large payloads against CPython $version', (interpreter) => {
  let server: NapariFixture;
  let client: ManagerClient;
  beforeAll(async () => {
    server = await NapariFixture.start(interpreter.path, { FIXTURE_SHARED_LIST: '0' });
    client = await ManagerClient.connect({ port: server.port, authkey: 'napari', maxFrameBytes: 64 * 1024 * 1024 });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it.each([100, 16 * 1024, 20_000, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024])('round-trips a %i-byte str and bytes through dict and queue', async (size) => {
    const data = await client.dict('napari_data');
    const queue = await client.queue('client_messages');
    const text = 'ab'.repeat(size / 2);
    await data.set(`text-${size}`, text);
    expect(await data.get(`text-${size}`)).toBe(text);
    const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
    await queue.put(bytes);
    const back = await queue.getNowait();
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    await data.pop(`text-${size}`);
  });

  it('FRAME_TOO_LARGE for a reply above maxFrameBytes, other connections unaffected', async () => {
    const small = await ManagerClient.connect({ port: server.port, authkey: 'napari', maxFrameBytes: 1024 * 1024 });
    const data = await small.dict('napari_data');
    const bigWriter = await client.dict('napari_data');
    await bigWriter.set('big', 'x'.repeat(2 * 1024 * 1024));
    await expect(data.get('big')).rejects.toMatchObject({ code: 'SHM_READER_FRAME_TOO_LARGE' });
    // The poisoned serving connection is replaced by a new one on the next call.
    expect(await data.get('missing')).toBeNull();
    await bigWriter.pop('big');
    await small.close();
  });
});

describe('manager client against bad peers', () => {
  it('CALL_TIMEOUT when a server authenticates but never answers, without hanging', async () => {
    const silent = await fakeManager('napari', () => undefined);
    try {
      await expect(ManagerClient.connect({ port: silent.port, authkey: 'napari', callTimeoutMs: 300 })).rejects.toMatchObject({ code: 'SHM_READER_CALL_TIMEOUT' });
    } finally {
      await silent.close();
    }
  });

  it('MALFORMED_REPLY when the reply is a valid pickle of the wrong shape', async () => {
    const odd = await fakeManager('napari', (socket) => socket.write(encodeFrame(encodePickle(['just', 'three', 'items']))));
    try {
      await expect(ManagerClient.connect({ port: odd.port, authkey: 'napari' })).rejects.toMatchObject({ code: 'SHM_READER_MALFORMED_REPLY' });
    } finally {
      await odd.close();
    }
  });
});

// napari's poll carries numpy arrays, which replies hand over as views of their frame (decodePickleTakingOwnership).
describe('numpy replies', () => {
  const python = findPythons().find(hasNumpy);
  let server: NapariFixture;
  let client: ManagerClient;
  beforeAll(async () => {
    if (!python) throw new Error('no CPython 3.8+ with numpy under ~/.pyenv/versions');
    server = await NapariFixture.start(python.path, { FIXTURE_SHARED_LIST: '0' });
    client = await ManagerClient.connect({ port: server.port, authkey: 'napari' });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  const seenOf = (value: PyValue): BigInt64Array => {
    const layer = ((value as Map<PyValue, PyValue>).get('layers') as Map<PyValue, PyValue>).get(140245342) as Map<PyValue, PyValue>;
    const seen = (layer.get('tile_state') as Map<PyValue, PyValue>).get('seen') as NdArray;
    expect(seen).toBeInstanceOf(NdArray);
    return seen.data as BigInt64Array;
  };
  const expectedSeen = (tiles: number): BigInt64Array => {
    const out = new BigInt64Array(tiles * 2);
    for (let i = 0; i < tiles; i++) {
      out[2 * i] = BigInt(Math.floor(i / 1000));
      out[2 * i + 1] = BigInt(i % 1000);
    }
    return out;
  };

  it.each([1024, 64 * 1024, 1024 * 1024])("get('poll') of %i bytes: exact int64 data, still exact after the next replies", async (bytes) => {
    const data = await client.dict('napari_data');
    await server.command('set_poll_sized', { bytes, numpy: true });
    const first = seenOf(await data.get('poll'));
    const tiles = bytes / 16;
    expect(first).toEqual(expectedSeen(tiles));
    expect(first.byteOffset % 8).toBe(0);
    // Replies of other sizes pass through the same read buffers and frame reader meanwhile.
    for (const other of [1024, 64 * 1024, 300_000]) {
      await server.command('set_poll_sized', { bytes: other, numpy: true });
      expect(seenOf(await data.get('poll'))).toEqual(expectedSeen(other / 16));
      expect(await data.getRaw('poll')).toBeInstanceOf(Buffer);
    }
    expect(first).toEqual(expectedSeen(tiles));
  });
});
