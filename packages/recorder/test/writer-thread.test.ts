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
