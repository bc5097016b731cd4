/**
 * A CPython writer at full speed against the Node reader (fs and, when the addon is built, mmap):
 * every accepted record must pass a pattern check and a CRC-32 computed by the writer, and every
 * sequence number must be either delivered or counted as skipped. Plus exact overrun counting and
 * zero-copy views that can tell when the writer has overwritten them.
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { RingReader, type RingRecord } from '../src/ring/index.js';
import { nativeAddon } from '../src/shm/native.js';
import { PythonWriter } from './fixtures/ring/spawn-writer.js';

const STRESS_SECONDS = Number(process.env['RING_STRESS_SECONDS'] ?? 3);
const accessModes: ('fs' | 'mmap')[] = nativeAddon() ? ['fs', 'mmap'] : ['fs'];
const writers: PythonWriter[] = [];
const readers: RingReader[] = [];

afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  for (const writer of writers.splice(0)) {
    writer.kill();
    await writer.exited;
  }
});

/** Every u64 word of a pattern record holds its sequence number; the metadata carries the writer's CRC-32. */
function verify(record: RingRecord): boolean {
  const meta = record.meta as { i: number; words: number; crc: number } | undefined;
  if (!meta || meta.i !== record.seq || record.bytes.byteLength !== meta.words * 8) return false;
  if (crc32(record.bytes) !== meta.crc) return false;
  const words = new Uint32Array(record.bytes.buffer, record.bytes.byteOffset, record.bytes.byteLength / 4);
  for (let i = 0; i < words.length; i += 2) if (words[i] !== record.seq || words[i + 1] !== 0) return false;
  return true;
}

describe.each(accessModes)('torn-read stress (%s)', (access) => {
  it(`accepts only whole records for ${STRESS_SECONDS} s of a full-speed writer and accounts for every sequence number`, async () => {
    const writer = await PythonWriter.start('python3', {
      mode: 'pattern',
      slots: 2, // the writer laps the reader constantly
      max_payload: 256 * 1024,
      seconds: STRESS_SECONDS,
      wait_go: true,
      checksum: access === 'mmap',
    });
    writers.push(writer);
    const reader = await RingReader.open(writer.hello.name, { access, start: 'next' });
    readers.push(reader);
    expect(reader.mapped).toBe(access === 'mmap');
    let done: number | undefined;
    void writer.done().then((last) => (done = last));
    writer.send('go');
    let bad = 0;
    let lastSeq = 0;
    let outOfOrder = 0;
    const check = (record: RingRecord): void => {
      if (!verify(record)) bad++;
      if (record.seq <= lastSeq) outOfOrder++;
      lastSeq = record.seq;
    };
    let spins = 0;
    while (done === undefined) {
      const record = reader.read();
      if (record) check(record);
      // Now and then fall behind on purpose, so the writer laps this reader even on a starved machine.
      if (record && record.seq % 16 === 0) await sleep(5);
      else if (!record || ++spins % 32 === 0) await yieldToLoop();
    }
    for (let record = reader.read(); record; record = reader.read()) check(record);
    const { received, overrun, torn, corrupt, checksumFailures } = reader.stats;
    console.log(`[ring stress ${access}] ${done} records written, ${received} accepted, ${overrun} skipped (${torn} torn reads caught)`);
    expect(bad).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(corrupt + checksumFailures).toBe(0);
    expect(received).toBeGreaterThan(0);
    expect(overrun).toBeGreaterThan(0); // otherwise this run did not stress anything
    expect(received + overrun).toBe(done);
  });
});

describe('overrun counting', () => {
  it('counts exactly the records a slow reader missed, and policy "latest" counts superseded ones', async () => {
    const writer = await PythonWriter.start('python3', { mode: 'pattern', slots: 4, count: 0, max_payload: 1024 });
    writers.push(writer);
    await writer.done();
    const reader = await RingReader.open(writer.hello.name, { start: 'next', access: 'fs' });
    readers.push(reader);
    writer.send('publish 50');
    expect(await writer.done()).toBe(50);
    const seqs: number[] = [];
    for (let record = reader.read(); record; record = reader.read()) {
      expect(verify(record)).toBe(true);
      seqs.push(record.seq);
    }
    expect(seqs).toEqual([47, 48, 49, 50]);
    expect(reader.stats).toMatchObject({ received: 4, overrun: 46, torn: 0 });

    writer.send('publish 3');
    await writer.done();
    expect([reader.read()?.seq, reader.read()?.seq, reader.read()?.seq, reader.read()]).toEqual([51, 52, 53, undefined]);
    expect(reader.stats.overrun).toBe(46);

    const latest = await RingReader.open(writer.hello.name, { start: 'next', policy: 'latest' });
    readers.push(latest);
    writer.send('publish 3');
    await writer.done();
    expect(latest.read()?.seq).toBe(56);
    expect(latest.read()).toBeUndefined();
    expect(latest.stats).toMatchObject({ received: 1, superseded: 2, overrun: 0 });
  });
});

describe('buffer pool', () => {
  it('reuses the buffer of a released record for the next copy, and never one still in use', async () => {
    const writer = await PythonWriter.start('python3', { mode: 'pattern', slots: 8, count: 4, max_payload: 4096 });
    writers.push(writer);
    await writer.done();
    const reader = await RingReader.open(writer.hello.name, { start: 'oldest', access: 'fs' });
    readers.push(reader);
    const first = reader.read()!;
    const second = reader.read()!;
    expect(second.bytes.buffer).not.toBe(first.bytes.buffer); // first was not released
    first.release();
    first.release(); // idempotent: the buffer must not enter the pool twice
    const third = reader.read()!;
    const fourth = reader.read()!;
    expect(third.bytes.buffer).toBe(first.bytes.buffer);
    expect(fourth.bytes.buffer).not.toBe(first.bytes.buffer);
    for (const record of [second, third, fourth]) expect(verify(record)).toBe(true);
  });

  it('with sharedMemory, copies records into SharedArrayBuffers (another thread reads them there) and reuses those', async () => {
    const writer = await PythonWriter.start('python3', { mode: 'pattern', slots: 8, count: 4, max_payload: 4096 });
    writers.push(writer);
    await writer.done();
    const reader = await RingReader.open(writer.hello.name, { start: 'oldest', access: 'fs', sharedMemory: true });
    readers.push(reader);
    const first = reader.read()!;
    const second = reader.read()!;
    expect(first.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(verify(first)).toBe(true);
    first.release();
    // As in the test above: the third record fits where the first was.
    const third = reader.read()!;
    expect(third.bytes.buffer).toBe(first.bytes.buffer);
    expect([verify(second), verify(third)]).toEqual([true, true]);
    expect(reader.stats.pooledCopies).toBe(1);
  });
});

if (nativeAddon()) {
  describe('zero-copy views (mmap)', () => {
    it('hand out views into shared memory that report when the writer has overwritten them', async () => {
      const writer = await PythonWriter.start('python3', { mode: 'pattern', slots: 2, count: 1, max_payload: 4096 });
      writers.push(writer);
      await writer.done();
      const reader = await RingReader.open(writer.hello.name, { start: 'oldest', copy: false, access: 'mmap' });
      readers.push(reader);
      const record = reader.read()!;
      expect(record.zeroCopy).toBe(true);
      expect(verify(record)).toBe(true);
      expect(record.isCurrent()).toBe(true);
      writer.send('publish 2'); // record 3 reuses record 1's slot
      await writer.done();
      expect(record.isCurrent()).toBe(false);
      expect(new BigUint64Array(record.bytes.buffer, record.bytes.byteOffset, 1)[0]).toBe(3n); // it was live memory
      expect([reader.read()?.seq, reader.read()?.seq]).toEqual([2, 3]);
    });
  });
}
