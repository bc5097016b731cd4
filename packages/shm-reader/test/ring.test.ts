/**
 * Real CPython writers (python/webmon_ring.py, every installed 3.8+) against the Node RingReader:
 * values and metadata round-trip, and the ring's lifecycle (close, normal exit, kill, stall, recreate).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RingError, RingReader, type RingEvent, type RingRecord } from '../src/ring/index.js';
import { nativeAddon } from '../src/shm/native.js';
import { PYTHON_MODULE_DIR, PythonWriter, ringInterpreters } from './fixtures/ring/spawn-writer.js';

const interpreters = ringInterpreters();
const newest = interpreters[interpreters.length - 1]!;
const accessModes: ('fs' | 'mmap')[] = nativeAddon() ? ['fs', 'mmap'] : ['fs'];
const writers: PythonWriter[] = [];
const readers: RingReader[] = [];

async function startWriter(python: string, config: Parameters<typeof PythonWriter.start>[1]): Promise<PythonWriter> {
  const writer = await PythonWriter.start(python, config);
  writers.push(writer);
  return writer;
}

async function openReader(name: string, options: Parameters<typeof RingReader.open>[1] = {}): Promise<RingReader> {
  const reader = await RingReader.open(name, options);
  readers.push(reader);
  return reader;
}

async function take(reader: RingReader, count: number): Promise<RingRecord[]> {
  const records: RingRecord[] = [];
  while (records.length < count) {
    const record = await reader.next();
    if (!record) break;
    records.push(record);
  }
  return records;
}

afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  for (const writer of writers.splice(0)) {
    writer.kill();
    await writer.exited;
  }
});

function checkPattern(record: RingRecord): void {
  const meta = record.meta as { i: number; words: number };
  expect(meta.i).toBe(record.seq);
  expect(record.dtype).toBe('<u8');
  expect(record.shape).toEqual([meta.words]);
  const words = record.data as BigUint64Array;
  expect(words).toBeInstanceOf(BigUint64Array);
  expect(words.length).toBe(meta.words);
  expect(words.every((w) => w === BigInt(record.seq))).toBe(true);
}

describe.each(interpreters)('CPython $version writer', ({ path }) => {
  it('delivers every record in order with sequence, timestamps, dtype, shape and metadata', async () => {
    const writer = await startWriter(path, { mode: 'pattern', count: 40, slots: 64, max_payload: 4096 });
    expect(await writer.done()).toBe(40);
    for (const access of accessModes) {
      const reader = await openReader(writer.hello.name, { start: 'oldest', access });
      expect(reader.mapped).toBe(access === 'mmap');
      const before = process.hrtime.bigint();
      const records = await take(reader, 40);
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      for (const record of records) {
        checkPattern(record);
        expect(record.monoNs).toBeLessThanOrEqual(before); // same CLOCK_MONOTONIC as process.hrtime
        expect(Number(record.timeNs / 1_000_000n)).toBeGreaterThan(Date.now() - 600_000);
        expect(record.zeroCopy).toBe(false);
      }
      expect(reader.stats).toMatchObject({ received: 40, overrun: 0, torn: 0 });
      expect(reader.header.writerPid).toBe(writer.hello.pid);
    }
  });

  it('publishes bytes, bytearray, memoryviews and array.array without numpy', async () => {
    const writer = await startWriter(path, { mode: 'buffers', count: 6 });
    const reader = await openReader(writer.hello.name, { start: 'oldest' });
    await writer.done();
    const byLabel = new Map((await take(reader, 6)).map((r) => [(r.meta as { label: string }).label, r]));
    expect(Buffer.from(byLabel.get('bytes')!.bytes).toString()).toBe('hello bytes');
    expect(byLabel.get('bytes')!.dtype).toBe('|u1');
    expect(Array.from(byLabel.get('bytearray')!.bytes)).toEqual([0, 1, 2]);
    const f32 = byLabel.get('mv-f32')!;
    expect(f32.dtype).toBe('<f4');
    expect(f32.shape).toEqual([3]);
    expect(Array.from(f32.data as Float32Array)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(byLabel.get('array-i32')!.data as Int32Array)).toEqual([1, -2, 3]);
    expect(Buffer.from(byLabel.get('strided')!.bytes).toString()).toBe('02468');
    expect(byLabel.get('empty')!.bytes.byteLength).toBe(0);
    expect((byLabel.get('bytes')!.meta as { unicode: string }).unicode).toBe('héllo ☃');
  });
});

describe('numpy arrays (python3 with numpy)', () => {
  it('keeps dtype and shape, makes arrays C-contiguous and little-endian', async () => {
    const writer = await startWriter('python3', { mode: 'numpy', count: 9, slots: 16 });
    const reader = await openReader(writer.hello.name, { start: 'oldest' });
    await writer.done();
    const records = await take(reader, 9);
    const byLabel = new Map(records.map((r) => [(r.meta as { label: string }).label, r]));
    const values = (label: string): unknown => (byLabel.get(label)!.meta as { values: unknown }).values;
    const f32 = byLabel.get('f32')!;
    expect([f32.dtype, f32.shape]).toEqual(['<f4', [3, 4]]);
    expect(Array.from(f32.data as Float32Array)).toEqual((values('f32') as number[][]).flat());
    const i64 = byLabel.get('i64')!;
    expect(i64.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(i64.data as BigInt64Array)).toEqual([-(2n ** 62n), 2n ** 62n + BigInt(i64.seq)]);
    expect(byLabel.get('f8be')!.dtype).toBe('<f8');
    expect(Array.from(byLabel.get('f8be')!.data as Float64Array)).toEqual(values('f8be'));
    const t = byLabel.get('i16T')!;
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.data as Int16Array)).toEqual((values('i16T') as number[][]).flat());
    expect(Array.from(byLabel.get('bool')!.data as Uint8Array)).toEqual([1, 0, 1]);
    expect(Array.from(byLabel.get('c64')!.data as Float32Array)).toEqual((values('c64') as number[][]).flat());
    expect(byLabel.get('0d')!.shape).toEqual([]);
    expect(Array.from(byLabel.get('0d')!.data as Float64Array)).toEqual([2.5]);
    expect(byLabel.get('empty')!.shape).toEqual([0, 3]);
    expect(byLabel.get('empty')!.bytes.byteLength).toBe(0);
  });
});

describe('Python writer API', () => {
  const runPython = (python: string, code: string): string =>
    execFileSync(python, ['-c', code], { env: { ...process.env, PYTHONPATH: PYTHON_MODULE_DIR }, encoding: 'utf8', timeout: 30_000 });

  it.each(interpreters)('refuses what does not fit, and publish after close ($version)', ({ path }) => {
    const out = runPython(
      path,
      `
import json, webmon_ring
w = webmon_ring.RingWriter(max_payload=64, max_meta=16, slots=2, heartbeat=0)
errors = []
for call in (lambda: w.publish(b"x" * 129), lambda: w.publish(b"", {"k": "x" * 20}), lambda: w.publish(b"", dtype="<" + "f" * 20),
             lambda: w.publish(b"", shape=(1,) * 9)):
    try:
        call()
    except ValueError as e:
        errors.append("ValueError")
ok = w.publish(b"y" * 64, {"k": 1})
w.close(); w.close()
try:
    w.publish(b"")
except webmon_ring.RingClosedError:
    errors.append("RingClosedError")
print(json.dumps({"errors": errors, "seq": ok}))
`,
    );
    expect(JSON.parse(out)).toEqual({ errors: ['ValueError', 'ValueError', 'ValueError', 'ValueError', 'RingClosedError'], seq: 1 });
  });

  it('track=False: a killed writer leaves the block behind (the documented trade-off)', async () => {
    const child = spawn(newest.path, ['-c', 'import webmon_ring, time; w = webmon_ring.RingWriter(track=False, heartbeat=0); print(w.name, flush=True); time.sleep(60)'], {
      env: { ...process.env, PYTHONPATH: PYTHON_MODULE_DIR },
    });
    const name = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // what a tracker would have needed to unlink it
    try {
      expect(existsSync(`/dev/shm/${name}`)).toBe(true);
    } finally {
      // Clean up the way Python would (this test's leftover, not something the reader does).
      runPython(newest.path, `from multiprocessing import shared_memory, resource_tracker\nm = shared_memory.SharedMemory("${name}")\nm.close(); m.unlink()`);
    }
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });
});

describe('wake-up', () => {
  it('sleeps on the writer\'s notification socket instead of polling, and is woken by each record', async () => {
    const writer = await startWriter(newest.path, { mode: 'pattern', count: 1, heartbeat: 0 });
    await writer.done();
    // With the socket, the only timer left is the liveness check (60 s here): a reader that were not woken
    // by the socket would miss the test timeout.
    const reader = await openReader(writer.hello.name, { start: 'next', livenessIntervalMs: 60_000 });
    for (let i = 2; i <= 4; i++) {
      const pending = reader.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      writer.send('publish 1');
      expect((await pending)?.seq).toBe(i);
      expect(reader.wakeMode).toBe('notify');
    }
    writer.send('close');
    expect(await reader.next()).toBeUndefined(); // the socket's end wakes it to see the closed ring
  }, 30_000);

  it('falls back to adaptive polling when the writer has no socket', async () => {
    const writer = await startWriter(newest.path, { mode: 'pattern', count: 1, notify: false });
    await writer.done();
    const reader = await openReader(writer.hello.name, { start: 'next' });
    const pending = reader.next();
    writer.send('publish 1');
    expect((await pending)?.seq).toBe(2);
    expect(reader.wakeMode).toBe('poll');
    expect(reader.header.notify).toBe(0);
  });
});

describe('lifecycle', () => {
  it('ends iteration when the writer closes, and the writer (not Node) unlinks the block', async () => {
    const writer = await startWriter(newest.path, { mode: 'pattern', count: 3 });
    const events: RingEvent[] = [];
    const reader = await openReader(writer.hello.name, { start: 'oldest', onEvent: (e) => events.push(e), livenessIntervalMs: 20 });
    await writer.done();
    const path = `/dev/shm/${writer.hello.name}`;
    expect(existsSync(path)).toBe(true);
    writer.send('close');
    const seqs: number[] = [];
    for await (const record of reader) seqs.push(record.seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect(events.map((e) => e.type)).toEqual(['closed']);
    expect(reader.isClosed).toBe(true);
    expect(await writer.exited).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('never unlinks: closing readers leaves the block to its writer', async () => {
    const writer = await startWriter(newest.path, { mode: 'pattern', count: 2 });
    await writer.done();
    const path = `/dev/shm/${writer.hello.name}`;
    for (let i = 0; i < 3; i++) {
      const reader = await openReader(writer.hello.name, { start: 'oldest' });
      expect((await take(reader, 2)).length).toBe(2);
      reader.close();
      expect(() => reader.read()).toThrow(expect.objectContaining({ code: 'SHM_READER_DISPOSED' }));
    }
    expect(existsSync(path)).toBe(true);
    writer.send('publish 1');
    expect(await writer.done()).toBe(3); // the writer still works on the same block
    expect(existsSync(path)).toBe(true);
  });

  it('an interpreter that simply exits unlinks its ring (atexit)', async () => {
    const writer = await startWriter(interpreters[0]!.path, { mode: 'pattern', count: 1 });
    await writer.done();
    const path = `/dev/shm/${writer.hello.name}`;
    writer.send('exit');
    expect(await writer.exited).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(writer.stderr.join('')).not.toMatch(/leaked|Traceback/);
  });

  it('a killed writer: the reader drains what is left, then reports RING_WRITER_DEAD; the tracker cleans up', async () => {
    const writer = await startWriter(newest.path, { mode: 'pattern', count: 5, slots: 8 });
    const events: RingEvent[] = [];
    const reader = await openReader(writer.hello.name, { start: 'oldest', livenessIntervalMs: 20, onEvent: (e) => events.push(e) });
    await writer.done();
    writer.kill('SIGKILL');
    await writer.exited;
    const seqs: number[] = [];
    let failure: unknown;
    try {
      for (;;) {
        const record = await reader.next();
        if (!record) break;
        seqs.push(record.seq);
      }
    } catch (error) {
      failure = error;
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(failure).toBeInstanceOf(RingError);
    expect(failure).toMatchObject({ code: 'SHM_READER_RING_WRITER_DEAD', reason: 'pid-gone' });
    expect(events.some((e) => e.type === 'writer-dead')).toBe(true);
    // Python's resource tracker outlives the writer briefly, then unlinks the block it registered.
    const path = `/dev/shm/${writer.hello.name}`;
    for (let i = 0; i < 200 && existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(path)).toBe(false);
  });

  it('a stalled writer (alive pid, stale heartbeat) is reported dead with reason heartbeat-stale', async () => {
    const writer = await startWriter(newest.path, { mode: 'pattern', count: 1, heartbeat: 0.1 });
    await writer.done();
    const reader = await openReader(writer.hello.name, { start: 'next', livenessIntervalMs: 20, staleAfterMs: 1500 });
    expect(reader.checkWriter()).toBe('alive');
    writer.kill('SIGSTOP');
    try {
      await expect(reader.next()).rejects.toMatchObject({ code: 'SHM_READER_RING_WRITER_DEAD', reason: 'heartbeat-stale' });
    } finally {
      writer.kill('SIGCONT');
    }
  });

  it('follows a ring recreated under the same name by a restarted writer', async () => {
    const name = `wmr_test_${process.pid}_${Date.now() % 100000}`;
    const first = await startWriter(newest.path, { name, mode: 'pattern', count: 2 });
    const events: RingEvent[] = [];
    const reader = await openReader(name, { start: 'oldest', livenessIntervalMs: 20, onWriterDead: 'wait', onEvent: (e) => events.push(e) });
    await first.done();
    expect((await take(reader, 2)).map((r) => r.seq)).toEqual([1, 2]);
    const oldGeneration = reader.header.generation;
    first.kill('SIGKILL');
    await first.exited;
    const second = await startWriter(interpreters[0]!.path, { name, replace: true, mode: 'pattern', count: 3 });
    await second.done();
    const records = await take(reader, 3);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    records.forEach(checkPattern);
    expect(reader.header.generation).not.toBe(oldGeneration);
    expect(reader.header.writerPid).toBe(second.hello.pid);
    expect(reader.stats.recreated).toBe(1);
    expect(events.map((e) => e.type)).toContain('recreated');
  });

  it('with followRecreate: false a replaced ring is an error (RING_RECREATED)', async () => {
    const name = `wmr_test_${process.pid}_${(Date.now() % 100000) + 1}`;
    const first = await startWriter(newest.path, { name, mode: 'pattern', count: 1 });
    await first.done();
    const reader = await openReader(name, { start: 'next', livenessIntervalMs: 20, followRecreate: false });
    const second = await startWriter(newest.path, { name, replace: true, mode: 'pattern', count: 1 });
    await second.done();
    await expect(reader.next()).rejects.toMatchObject({ code: 'SHM_READER_RING_RECREATED' });
  });
});
