import { createHash, pbkdf2, randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RecorderErrorCode } from '../src/index.js';
import { frameRecord, jsonRecord } from '../src/record.js';
import { WriterThread } from '../src/writer-thread.js';
import { readIndexed } from './helpers.js';

const SETUP = { target: 'memory', compression: 'zstd', compressionLevel: 1, chunkSize: 2 ** 20, rawImageHz: 5, maxCpuShare: 1 } as const;

describe('WriterThread', () => {
  it('writes what it is handed, in order, and gives the file back', async () => {
    const writer = await WriterThread.start(SETUP, undefined, undefined);
    const info = { name: 'ticks', mode: 'stream', schema: 'webmon.v1/json' } as const;
    for (let n = 0; n < 300; n++) writer.add(jsonRecord(info, n, Date.now(), JSON.stringify({ n })));
    const back = await readIndexed((await writer.end()) as Uint8Array);
    expect(back.messages.map((entry) => entry.message.sequence)).toEqual([...Array(300).keys()]);
    expect(writer.counts.get('ticks')).toBe(300);
    expect(writer.queuedBytes).toBe(0);
  });

  it('frames cross in the shared ring, its space used again once read; a frame too big for it goes in a buffer of its own', async () => {
    const writer = await WriterThread.start(SETUP, undefined, undefined);
    const info = { name: 'camera', mode: 'latest', schema: 'webmon.v1/frame', binary: true } as const;
    const headerBytes = new Uint8Array(16).fill(32);
    // 72 MiB of 1 MiB frames through a 64 MiB ring: it wraps, and a reused place holds the new frame.
    const sizes = [...Array(72).fill(1 << 20), 40 << 20, 1 << 20];
    for (const [n, size] of sizes.entries()) {
      const data = new Uint8Array(size).fill(n);
      writer.add(frameRecord(info, { topic: 'camera', seq: n, time: Date.now(), dtype: 'uint8', shape: [size] }, headerBytes, data));
      await writer.drain(0);
    }
    expect(writer.framesInRing).toBe(73);
    expect(writer.framesAllocated + writer.framesReused).toBe(1);
    const back = await readIndexed((await writer.end()) as Uint8Array);
    const frames = back.messages.filter((entry) => entry.topic === 'camera').map((entry) => entry.message.data);
    expect(frames.map((frame) => [frame.byteLength, frame[16], frame[frame.byteLength - 1]])).toEqual(sizes.map((size, n) => [16 + size, n, n]));
  });

  it('frames in shared memory are written from where they are, and handed back only once on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webmon-shared-frames-'));
    try {
      const writer = await WriterThread.start({ ...SETUP, target: 'file', path: join(dir, 'shared.mcap'), directIo: true }, undefined, undefined);
      const info = { name: 'camera', mode: 'latest', schema: 'webmon.v1/frame', binary: true } as const;
      const headerBytes = new Uint8Array(24).fill(32);
      const size = 2 ** 20 + 4100;
      // A producer that scribbles over a buffer the moment it gets it back: a frame handed back before its
      // bytes are on disk shows in the file as 0xee or another frame. Random bytes: frames are stored, not
      // compressed (the thread tries zstd and gives up), so they are written from shared memory.
      const free: Uint8Array[] = [];
      let made = 0;
      let handedBack = 0;
      const frames = 90;
      const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
      const expected: string[] = [];
      // Now and then libuv's pool (which the file's writes use) is kept busy a while, so writes wait to
      // start: a frame handed back when its write was only queued is then scribbled over before it is read.
      const busyPool = () => Promise.all([...Array(4)].map(() => new Promise((resolve) => pbkdf2('webmon', 'salt', 200_000, 32, 'sha256', resolve))));
      const busy: Promise<unknown>[] = [];
      for (let n = 0; n < frames; n++) {
        if (n % 15 === 0) busy.push(busyPool());
        // The first 40 frames each in a buffer of its own (more than the thread keeps known: some are
        // forgotten and named again later), then 3 buffers go round.
        if (n >= 40) await expect.poll(() => free.length > 0 || made < 43, { timeout: 10_000, interval: 1 }).toBe(true);
        const data = n >= 40 && free.length > 0 ? (free.shift() as Uint8Array) : (made++, new Uint8Array(new SharedArrayBuffer(size + 64), 64, size));
        randomFillSync(data);
        expected.push(sha(data));
        const release = () => {
          handedBack += 1;
          data.fill(0xee);
          free.push(data);
        };
        writer.add(frameRecord(info, { topic: 'camera', seq: n, time: Date.now(), dtype: 'uint8', shape: [size] }, headerBytes, data, release));
      }
      await writer.end();
      await Promise.all(busy);
      expect(writer.framesShared).toBe(frames);
      expect(writer.framesInRing).toBe(0);
      expect(handedBack).toBe(frames);
      const back = await readIndexed(join(dir, 'shared.mcap'));
      const written = back.messages.filter((entry) => entry.topic === 'camera').map((entry) => entry.message.data);
      expect(written.map((frame) => frame.byteLength)).toEqual(Array(frames).fill(24 + size));
      expect(written.map((frame) => sha(frame.subarray(24)))).toEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a thread that dies is RECORDER_WORKER_FAILED, and the event loop goes on without waiting on it', async () => {
    const writer = await WriterThread.start(SETUP, undefined, undefined);
    const info = { name: 'ticks', mode: 'stream', schema: 'webmon.v1/json' } as const;
    writer.add(jsonRecord(info, 0, Date.now(), '0'));
    // The thread itself, ended from outside (as a crash would end it), not through the writer's own close.
    await (writer as unknown as { worker: Worker }).worker.terminate();
    await expect.poll(() => writer.error?.code, { timeout: 10_000 }).toBe(RecorderErrorCode.WORKER_FAILED);
    expect(writer.error?.message).toMatch(/exited/);
    await expect(writer.end()).rejects.toMatchObject({ code: RecorderErrorCode.WORKER_FAILED });
    // Nothing waits on a dead thread: more values are simply not taken.
    writer.add(jsonRecord(info, 1, Date.now(), '1'));
    expect(writer.queuedBytes).toBe(0);
  });
});
