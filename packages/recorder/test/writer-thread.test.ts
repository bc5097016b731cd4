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

  it('copies each frame into a buffer the thread gave back once it was written, and the file holds every frame', async () => {
    const writer = await WriterThread.start(SETUP, undefined, undefined);
    const info = { name: 'camera', mode: 'latest', schema: 'webmon.v1/frame', binary: true } as const;
    const headerBytes = new Uint8Array(16).fill(32);
    for (let n = 0; n < 6; n++) {
      const data = new Uint8Array(1 << 20).fill(n);
      writer.add(frameRecord(info, { topic: 'camera', seq: n, time: Date.now(), dtype: 'uint8', shape: [1024, 1024] }, headerBytes, data));
      await writer.drain(0);
    }
    expect(writer.framesAllocated + writer.framesReused).toBe(6);
    expect(writer.framesReused).toBeGreaterThanOrEqual(4);
    const back = await readIndexed((await writer.end()) as Uint8Array);
    const frames = back.messages.filter((entry) => entry.topic === 'camera').map((entry) => entry.message.data);
    // A reused buffer holds the new frame, not the one before it.
    expect(frames.map((frame) => [frame.byteLength, frame[16], frame[frame.byteLength - 1]])).toEqual([...Array(6).keys()].map((n) => [16 + (1 << 20), n, n]));
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
