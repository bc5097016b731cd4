/**
 * The event loop's side of a writer thread (`writer-worker.ts`): hands values over in batches (one per
 * event-loop turn), copies each frame once into a buffer the thread then owns (the producer's buffer
 * stays with the relay for late joiners, so it cannot be transferred), and counts the bytes the thread
 * has not dealt with yet — the recorder's queue bound. A thread that fails or dies leaves a typed error
 * (`error`); nothing here ever waits on the thread while publishing.
 *
 * The thread sends each frame's buffer back once written (transferred with its progress report), and the
 * next frame of that size is copied into it: an image stream's copies then go into memory already
 * mapped, which costs a third of copying into a new buffer (see `frame-pool.ts`).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TopicInfo } from '@webmon/protocol';
import { RecorderError, RecorderErrorCode } from './errors.js';
import type { RecordingWritable } from './recording-writable.js';
import type { JsonSchemaLookup } from './layout.js';
import { FramePool } from './frame-pool.js';
import type { Recorded } from './record.js';
import { SHARED_COPY_ALIGNMENT, SharedRing, alignLike } from './shared-ring.js';
import type { FromWriter, ToWriter, WireItem, WriterSetup } from './writer-protocol.js';

type WorkerScript = { url: URL } | { code: string };

/**
 * The ring frames cross in (`shared-ring.ts`): 16 frames of a 1024² float32 stream, as much as the file
 * recorder's default queue bound. A frame stays in it until the disk has it (the file is written from the
 * ring, `direct-file-writable.ts`), so with a disk at its limit a 32 MiB ring was full a tenth of the time,
 * and those frames went in buffers of their own: new external memory, and more garbage collection.
 */
const RING_BYTES = 64 * 2 ** 20;
/** Room a ring slot keeps for moving the data to the alignment of its source (`alignLike`). */
const RING_ALIGN_SLACK = SHARED_COPY_ALIGNMENT;

/**
 * Frames at least this big whose array is in shared memory already (a ring reader's buffers) are not
 * copied: the thread reads, and the file is written from, where they are. Smaller ones go through the ring.
 */
const SHARED_FROM_BYTES = 2 ** 20;
/** Shared buffers the thread knows by id at once; the least recently used is forgotten past this. */
const SHARED_BUFFERS_KNOWN = 32;

/** Buffers the thread gave back (frames that went without the ring), kept for the next ones: at most this many bytes, and 3 of one size. */
const RETURNED_BUFFER_BYTES = 16 * 2 ** 20;
const RETURNED_PER_SIZE = 3;

/**
 * `writer-worker.js` beside this module once built. Run from the TypeScript sources (tests, tsx) it is
 * `writer-worker.ts`, loaded through tsx's hooks registered in the thread (tsx is a dev dependency; the
 * built package never takes this path) — as `@webmon/relay`'s view pool does.
 */
function workerScript(): WorkerScript {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./writer-worker.js', here) };
  const tsxApi = new URL('./dist/esm/api/index.mjs', pathToFileURL(createRequire(here).resolve('tsx/package.json'))).href;
  const worker = new URL('./writer-worker.ts', here).href;
  return { code: `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(worker)}); })` };
}

/** The bytes a record stands for in the queue bound (what the thread reports back when done with it). */
export function queuedBytesOf(record: Recorded): number {
  return record.kind === 'json' ? record.json.length : record.headerBytes.byteLength + record.data.byteLength;
}

export class WriterThread {
  /** Bytes handed over (or about to be) that the thread has not dealt with yet. */
  queuedBytes = 0;
  /** Bytes of the file so far, as the thread last said. */
  position = 0;
  /** Messages written, by channel topic, as the thread last said. */
  counts: ReadonlyMap<string, number> = new Map();
  error: RecorderError | undefined;

  private readonly worker: Worker;
  private pending: (WireItem | { kind: 'record'; topic: number; record: Recorded })[] = [];
  private pendingBytes = 0;
  private flushing = false;
  private readonly topicIds = new WeakMap<TopicInfo, number>();
  private nextTopic = 1;
  private forwardChain: Promise<void> = Promise.resolve();
  private readonly ready: Promise<void>;
  private readonly ended: Promise<Uint8Array | undefined>;
  private settleReady!: { resolve: () => void; reject: (error: RecorderError) => void };
  private settleEnded!: { resolve: (file: Uint8Array | undefined) => void; reject: (error: RecorderError) => void };
  private progressWaiters: (() => void)[] = [];
  private finished = false;
  private readonly buffers = new FramePool(RETURNED_BUFFER_BYTES, RETURNED_PER_SIZE);
  private readonly ring = new SharedRing(RING_BYTES);
  /** Frames that crossed in the shared ring. */
  framesInRing = 0;
  /** Frames read where the producer left them (in shared memory): no copy on the event loop. */
  framesShared = 0;
  /** Shared buffers the thread knows, by id, least recently used first; ids it is to forget. */
  private readonly sharedIds = new Map<SharedArrayBuffer, number>();
  private nextSharedId = 1;
  private forget: number[] = [];
  /** Producers' `release` of frames the thread reads in shared memory, until it says they are written. */
  private readonly heldShared = new Map<number, (() => void) | undefined>();
  private nextRef = 1;

  private constructor(
    setup: WriterSetup,
    private readonly forward: RecordingWritable | undefined,
    private readonly schemas: JsonSchemaLookup | undefined,
  ) {
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ended = new Promise((resolve, reject) => (this.settleEnded = { resolve, reject }));
    // Rejections are read by whoever awaits; unawaited ones must not surface as unhandled.
    this.ready.catch(() => undefined);
    this.ended.catch(() => undefined);
    const script = workerScript();
    const workerData: WriterSetup = { ...setup, ring: this.ring.buffer };
    this.worker = 'url' in script ? new Worker(script.url, { workerData }) : new Worker(script.code, { eval: true, workerData });
    this.worker.on('message', (message: FromWriter) => this.receive(message));
    this.worker.on('error', (error) => this.failed(new RecorderError(RecorderErrorCode.WORKER_FAILED, `the writer thread failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => {
      if (!this.finished) this.failed(new RecorderError(RecorderErrorCode.WORKER_FAILED, `the writer thread exited (code ${code}) before the file was complete`));
    });
  }

  /** Starts the thread; resolves once the file is open and its header written. */
  static async start(setup: WriterSetup, forward: RecordingWritable | undefined, schemas: JsonSchemaLookup | undefined): Promise<WriterThread> {
    const thread = new WriterThread(setup, forward, schemas);
    await thread.ready;
    return thread;
  }

  /** Frames copied into a buffer the thread gave back, and into a new one. */
  get framesReused(): number {
    return this.buffers.reused;
  }

  get framesAllocated(): number {
    return this.buffers.allocated;
  }

  /** Registers the topic's channel (it shows in the file even if it never publishes). */
  declare(info: TopicInfo): void {
    this.topicOf(info);
    this.schedule();
  }

  /** Queues a value; the caller has checked the queue bound. */
  add(record: Recorded): void {
    if (this.error !== undefined) {
      if (record.kind === 'frame') record.release?.();
      return;
    }
    const topic = this.topicOf(record.info);
    const bytes = queuedBytesOf(record);
    this.pending.push({ kind: 'record', topic, record });
    this.pendingBytes += bytes;
    this.queuedBytes += bytes;
    this.schedule();
  }

  /** Resolves when the thread has dealt with all but `bytes` of the queue (or has failed). */
  async drain(bytes: number): Promise<void> {
    while (this.queuedBytes > bytes && this.error === undefined) await new Promise<void>((resolve) => this.progressWaiters.push(resolve));
  }

  /**
   * A recording that runs for the process's life should not keep the process alive by itself (as a file
   * handle would not): the thread is unreferenced until `end()`, which references it again so the process
   * stays up until the file is complete.
   */
  unref(): void {
    this.worker.unref();
  }

  /** Hands over what is queued, then the summary and index; resolves with the file for a `memory` target. */
  async end(): Promise<Uint8Array | undefined> {
    if (this.error !== undefined) throw this.error;
    this.worker.ref();
    this.flush();
    this.post({ type: 'end' });
    const file = await this.ended;
    await this.forwardChain;
    return file;
  }

  /** Stops the thread without finishing the file. */
  async terminate(): Promise<void> {
    this.finished = true;
    await this.worker.terminate();
    this.letGoOfShared();
  }

  private topicOf(info: TopicInfo): number {
    let topic = this.topicIds.get(info);
    if (topic === undefined) {
      topic = this.nextTopic++;
      this.topicIds.set(info, topic);
      this.pending.push({ kind: 'declare', topic, info, schema: this.schemas?.(info.schema) });
    }
    return topic;
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  /** One message per event-loop turn; each frame copied here, once, into the shared ring (else into a buffer the thread gets by transfer). */
  private flush(): void {
    this.flushing = false;
    if (this.error !== undefined) {
      // The file has failed: what waits is never written, and frames kept for it go back to their producers.
      for (const item of this.pending.splice(0)) if (item.kind === 'record' && item.record.kind === 'frame') item.record.release?.();
      this.pendingBytes = 0;
      this.letGoOfShared();
      return;
    }
    if (this.pending.length === 0) return;
    const transfer: ArrayBuffer[] = [];
    const items: WireItem[] = this.pending.map((item) => {
      if (item.kind !== 'record') return item;
      const { record, topic } = item;
      if (record.kind === 'json') return { kind: 'json', topic, seq: record.seq, logTime: record.logTime, publishTime: record.publishTime, json: record.json };
      const length = record.headerBytes.byteLength + record.data.byteLength;
      const fields = { kind: 'frame', topic, seq: record.seq, logTime: record.logTime, publishTime: record.publishTime, header: record.header, headerLength: record.headerBytes.byteLength } as const;
      // No copy at all when the array is in shared memory already: the thread reads it there, and the
      // producer gets it back once it is written. (The header is small; `slice` so only it is cloned.)
      if (record.data.buffer instanceof SharedArrayBuffer && record.data.byteLength >= SHARED_FROM_BYTES) {
        const ref = this.nextRef++;
        this.heldShared.set(ref, record.release);
        this.framesShared += 1;
        return { ...fields, headerBytes: record.headerBytes.slice(), shared: { ...this.sharedIdOf(record.data.buffer), offset: record.data.byteOffset, length: record.data.byteLength, ref } };
      }
      // The one copy of the frame on this side: header and data into the ring, the data placed 8-byte
      // aligned as it is in its own buffer (V8 copies into a SharedArrayBuffer word by word otherwise, 7×
      // slower), the header just before it…
      const slot = this.ring.reserve(length + RING_ALIGN_SLACK);
      if (slot !== undefined) {
        const headerLength = record.headerBytes.byteLength;
        const dataOffset = alignLike(slot.offset + headerLength, record.data.byteOffset);
        this.ring.bytes.set(record.headerBytes, dataOffset - headerLength);
        this.ring.bytes.set(record.data, dataOffset);
        record.release?.();
        this.framesInRing += 1;
        return { ...fields, ring: { offset: dataOffset - headerLength, length, end: slot.end } };
      }
      // …or, when it has no room, into one buffer, then transferred.
      const message = this.buffers.take(length);
      message.set(record.headerBytes, 0);
      message.set(record.data, record.headerBytes.byteLength);
      record.release?.();
      transfer.push(message.buffer as ArrayBuffer);
      return { ...fields, message };
    });
    const bytes = this.pendingBytes;
    const forget = this.forget;
    this.pending = [];
    this.pendingBytes = 0;
    this.forget = [];
    this.post({ type: 'items', items, bytes, forget }, transfer);
  }

  /** The id the thread knows `buffer` by, and the buffer itself when the thread does not know it yet. */
  private sharedIdOf(buffer: SharedArrayBuffer): { id: number; buffer?: SharedArrayBuffer } {
    const known = this.sharedIds.get(buffer);
    if (known !== undefined) {
      // Most recently used last.
      this.sharedIds.delete(buffer);
      this.sharedIds.set(buffer, known);
      return { id: known };
    }
    if (this.sharedIds.size >= SHARED_BUFFERS_KNOWN) {
      const [oldest, oldestId] = this.sharedIds.entries().next().value as [SharedArrayBuffer, number];
      this.sharedIds.delete(oldest);
      this.forget.push(oldestId);
    }
    const id = this.nextSharedId++;
    this.sharedIds.set(buffer, id);
    return { id, buffer };
  }

  /** Hands back every frame still kept for the thread (the file is complete, or has failed). */
  private letGoOfShared(): void {
    const releases = [...this.heldShared.values()];
    this.heldShared.clear();
    for (const release of releases) release?.();
  }

  private post(message: ToWriter, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private receive(message: FromWriter): void {
    switch (message.type) {
      case 'ready':
        this.settleReady.resolve();
        return;
      case 'progress':
        this.queuedBytes -= message.bytes;
        this.position = message.position;
        this.counts = new Map(message.counts);
        for (const buffer of message.buffers) this.buffers.release(new Uint8Array(buffer));
        this.ring.release(message.ringEnd);
        for (const ref of message.sharedDone) {
          const release = this.heldShared.get(ref);
          this.heldShared.delete(ref);
          release?.();
        }
        for (const wake of this.progressWaiters.splice(0)) wake();
        return;
      case 'write': {
        const { id, data } = message;
        const forward = this.forward as RecordingWritable;
        this.forwardChain = this.forwardChain.then(
          () => forward.write(data),
        ).then(
          () => this.post({ type: 'written', id }),
          (error: unknown) => this.post({ type: 'written', id, error: (error as Error).message ?? String(error) }),
        );
        return;
      }
      case 'ended':
        this.finished = true;
        this.queuedBytes = 0;
        this.position = message.position;
        this.counts = new Map(message.counts);
        this.letGoOfShared();
        this.settleEnded.resolve(message.file);
        return;
      case 'failed':
        this.failed(new RecorderError(message.code, message.message));
        return;
    }
  }

  private failed(error: RecorderError): void {
    if (this.error !== undefined || this.finished) return;
    this.error = error;
    this.finished = true;
    this.pending = [];
    this.queuedBytes = 0;
    this.settleReady.reject(error);
    this.settleEnded.reject(error);
    for (const wake of this.progressWaiters.splice(0)) wake();
    // The thread is stopped: nothing reads the frames it was given any more.
    void this.worker.terminate().finally(() => this.letGoOfShared());
  }
}
