/**
 * The writer thread (`writer-thread.ts` starts it): owns one MCAP file's `McapWriter`, so encoding, the
 * RawImage base64, chunk compression and the file writes all happen off the relay's event loop. It takes
 * values in the order they were published and reports what it has dealt with, which is how the event
 * loop's queue bound (and so its drop counts) sees a thread that falls behind.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { TopicInfo } from '@webmon/protocol';
import { chunkCompressor } from './compression.js';
import { RecorderErrorCode } from './errors.js';
import { MemoryWritable, openFileWritable } from './file-writable.js';
import type { RecordingWritable } from './recording-writable.js';
import { McapSession } from './mcap-session.js';
import type { FromWriter, ToWriter, WireItem, WriterSetup } from './writer-protocol.js';

if (parentPort === null) throw new Error('writer-worker.js runs as a worker thread of @webmon/recorder');
const port = parentPort;
const setup = workerData as WriterSetup;

/** The thread's time budget may run this far ahead (ms): one big chunk is compressed without a pause. */
const CPU_BURST_MS = 250;
/** Progress is reported at least this often while busy (ms), so the queue bound sees the thread keep up. */
const REPORT_MS = 20;

const send = (message: FromWriter, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// Writes forwarded to the event loop's writable wait here for their answer.
const forwarded = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextWrite = 1;
const work: ToWriter[] = [];
let wake: (() => void) | undefined;

port.on('message', (message: ToWriter) => {
  if (message.type === 'written') {
    const waiting = forwarded.get(message.id);
    forwarded.delete(message.id);
    if (message.error === undefined) waiting?.resolve();
    else waiting?.reject(new Error(message.error));
    return;
  }
  work.push(message);
  wake?.();
});

function forwardWritable(): RecordingWritable {
  let position = 0n;
  return {
    position: () => position,
    write: (buffer) =>
      new Promise<void>((resolve, reject) => {
        const id = nextWrite++;
        forwarded.set(id, {
          resolve: () => {
            position += BigInt(buffer.byteLength);
            resolve();
          },
          reject,
        });
        // The writer reuses its buffers: the event loop gets a copy of its own (not `slice`: a view on a Buffer).
        const data = new Uint8Array(buffer);
        send({ type: 'write', id, data }, [data.buffer as ArrayBuffer]);
      }),
  };
}

function fail(code: RecorderErrorCode, error: unknown): never {
  send({ type: 'failed', code, message: (error as Error).message ?? String(error) });
  port.close();
  // Nothing more happens in this thread: the event loop stops recording and keeps serving.
  throw new StopThread();
}

class StopThread extends Error {}

async function main(): Promise<void> {
  let writable: RecordingWritable;
  const memory = setup.target === 'memory' ? new MemoryWritable() : undefined;
  try {
    writable = memory ?? (setup.target === 'file' ? await openFileWritable(setup.path as string, { direct: setup.directIo ?? true, ...(setup.ring === undefined ? {} : { inPlace: [setup.ring] }) }) : forwardWritable());
  } catch (error) {
    fail(RecorderErrorCode.OPEN_FAILED, error);
  }
  const schemas = new Map<string, Record<string, unknown>>();
  const topics = new Map<number, TopicInfo>();
  const session = new McapSession({
    writable,
    schemas: (id) => schemas.get(id),
    compressChunk: await chunkCompressor(setup.compression, setup.compressionLevel),
    chunkSize: setup.chunkSize,
    rawImageHz: setup.rawImageHz,
  });
  try {
    await session.start();
  } catch (error) {
    await writable.close?.().catch(() => undefined);
    fail(RecorderErrorCode.WRITE_FAILED, error);
  }
  send({ type: 'ready' });

  let cpuTokens = CPU_BURST_MS;
  let cpuTokensAt = performance.now();
  let doneBytes = 0;
  let reportedAt = performance.now();
  let doneBuffers: ArrayBuffer[] = [];
  let ringEnd = 0;
  /** Shared buffers frames are read from where they are (`SharedFrame`), by id; refs of those written. */
  const sharedBuffers = new Map<number, SharedArrayBuffer>();
  let sharedDone: number[] = [];
  /** Ring frames the file writes from where they are: their space is released in order once written. */
  let inPlaceWrites: Promise<void> = Promise.resolve();
  let reportSoon: ReturnType<typeof setImmediate> | undefined;
  const report = () => {
    const buffers = doneBuffers;
    const done = sharedDone;
    doneBuffers = [];
    sharedDone = [];
    send({ type: 'progress', bytes: doneBytes, position: Number(writable.position()), counts: [...session.counts], buffers, ringEnd, sharedDone: done }, buffers);
    doneBytes = 0;
    reportedAt = performance.now();
  };

  /**
   * Runs `done` once the pieces handed to the file so far are written (now, when the writable copies them;
   * else when its writes from where they are end, in order), and reports soon after.
   */
  const onceWritten = (done: () => void): void => {
    const written = writable.whenWritten?.();
    if (written === undefined) {
      done();
      return;
    }
    inPlaceWrites = inPlaceWrites
      .then(() => written)
      .then(() => {
        done();
        reportSoon ??= setImmediate(() => {
          reportSoon = undefined;
          report();
        });
      });
  };

  const write = async (item: WireItem) => {
    if (item.kind === 'declare') {
      topics.set(item.topic, item.info);
      if (item.schema !== undefined) schemas.set(item.info.schema, item.schema);
      await session.declare(item.info);
      return;
    }
    const info = topics.get(item.topic) as TopicInfo;
    if (item.kind === 'json') {
      await session.write({ kind: 'json', info, seq: item.seq, logTime: item.logTime, publishTime: item.publishTime, json: item.json, bytes: item.json.length });
      doneBytes += item.json.length;
      return;
    }
    if (item.shared !== undefined) {
      const { id, buffer, offset, length, ref } = item.shared;
      if (buffer !== undefined) {
        sharedBuffers.set(id, buffer);
        await writable.adopt?.(buffer);
      }
      const data = new Uint8Array(sharedBuffers.get(id) as SharedArrayBuffer, offset, length);
      const bytes = item.headerBytes.byteLength + length;
      await session.write({ kind: 'frame', info, seq: item.seq, logTime: item.logTime, publishTime: item.publishTime, header: item.header, headerBytes: item.headerBytes, data, bytes });
      doneBytes += bytes;
      // The producer's buffer goes back once the file no longer reads it (as the ring's space, below).
      onceWritten(() => sharedDone.push(ref));
      return;
    }
    const { headerLength } = item;
    // A frame in the shared ring is read where it is.
    const message = item.ring === undefined ? item.message : new Uint8Array(setup.ring as SharedArrayBuffer, item.ring.offset, item.ring.length);
    const headerBytes = message.subarray(0, headerLength);
    const data = message.subarray(headerLength);
    await session.write({ kind: 'frame', info, seq: item.seq, logTime: item.logTime, publishTime: item.publishTime, header: item.header, headerBytes, data, bytes: message.byteLength });
    doneBytes += message.byteLength;
    // Written (every writable has copied it, or written it from where it is once `whenWritten` resolves):
    // the event loop may use its memory again.
    if (item.ring !== undefined) {
      const { end } = item.ring;
      onceWritten(() => (ringEnd = end));
    } else if (message.byteOffset === 0 && message.byteLength === message.buffer.byteLength) doneBuffers.push(message.buffer as ArrayBuffer);
  };

  for (;;) {
    const message = work.shift();
    if (message === undefined) {
      if (doneBytes > 0) report();
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      continue;
    }
    if (message.type === 'end') break;
    if (message.type !== 'items') continue;
    for (const item of message.items) {
      const workStart = performance.now();
      const waitedBefore = writable.waitedMs?.() ?? 0;
      try {
        await write(item);
      } catch (error) {
        await writable.close?.().catch(() => undefined);
        fail(RecorderErrorCode.WRITE_FAILED, error);
      }
      const now = performance.now();
      // Time spent waiting for the disk is not the thread's CPU: a slow disk shows as a full queue instead.
      const worked = now - workStart - ((writable.waitedMs?.() ?? 0) - waitedBefore);
      cpuTokens = Math.min(CPU_BURST_MS, cpuTokens + (now - cpuTokensAt) * setup.maxCpuShare) - worked;
      cpuTokensAt = now;
      if (now - reportedAt > REPORT_MS) report();
      // Over its share of a core: pause (meanwhile the event loop's queue fills and drops are counted).
      if (cpuTokens < 0) await new Promise((resolve) => setTimeout(resolve, -cpuTokens / setup.maxCpuShare));
    }
    // After the items: they may use a buffer the event loop has since stopped naming.
    for (const id of message.forget) {
      const buffer = sharedBuffers.get(id);
      sharedBuffers.delete(id);
      if (buffer !== undefined) writable.forget?.(buffer);
    }
  }
  try {
    await session.end();
    await writable.close?.();
  } catch (error) {
    await writable.close?.().catch(() => undefined);
    fail(RecorderErrorCode.WRITE_FAILED, error);
  }
  const file = memory?.bytes();
  send({ type: 'ended', position: Number(writable.position()), counts: [...session.counts], ...(file === undefined ? {} : { file }) }, file === undefined ? [] : [file.buffer as ArrayBuffer]);
  port.close();
}

main().catch((error: unknown) => {
  if (error instanceof StopThread) return;
  send({ type: 'failed', code: RecorderErrorCode.WORKER_FAILED, message: (error as Error).message ?? String(error) });
  port.close();
});
