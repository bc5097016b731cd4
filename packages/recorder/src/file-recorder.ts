/**
 * Records every topic of a relay to an MCAP file while the relay serves.
 *
 * Invariant: recording never holds up publishing. The tap only hands a value to the writer thread
 * (`writer-thread.ts`: encoding, compression and the file writes happen there, off the event loop), and
 * the bytes the thread has not dealt with yet are bounded by `maxQueuedBytes`. When the disk (or the
 * compressor) is slower than the data, new values are dropped and counted per topic instead of queued.
 */
import type { ChunkCompression } from './compression.js';
import { RecorderError, RecorderErrorCode, isRecorderError } from './errors.js';
import type { RecordingWritable } from './recording-writable.js';
import type { JsonSchemaLookup } from './layout.js';
import { frameRecord, jsonRecord } from './record.js';
import type { Tappable } from './tap.js';
import { WriterThread } from './writer-thread.js';

export interface RecordingOptions {
  /** The topics' JSON Schemas by `TopicInfo.schema` id, beyond `@webmon/protocol`'s generic ones. */
  schemas?: JsonSchemaLookup;
  /** Chunk compression. @default 'zstd' */
  compression?: ChunkCompression;
  /** zstd level (1 fastest … 19 smallest). @default 1 */
  compressionLevel?: number;
  /** Bytes of messages per chunk before it is compressed and written. @default 1 MiB */
  chunkSize?: number;
  /** Also write a `foxglove.RawImage` channel (`<topic>/image`) for 2-D mono image frames. @default true */
  images?: boolean;
  /**
   * Most `foxglove.RawImage` messages per second on each `<topic>/image` channel, by the frames' own clock
   * (the binary channel keeps every frame). The RawImage copy is base64 text, the costliest part of
   * recording an image stream and a third more bytes than the frame: written for Foxglove's eyes, it
   * need not be written at the stream's full rate. 0 writes none; a rate above the source's keeps every
   * frame (`Infinity` does so whatever the rate). @default 5
   */
  rawImageHz?: number;
}

export interface FileRecorderOptions extends RecordingOptions {
  /** The file to write (replaced if it exists). Give this or `writable`. */
  path?: string;
  /** Where to write instead of a file (a test's slow disk, a socket). */
  writable?: RecordingWritable;
  /** Most bytes of values waiting for the disk; beyond it new values are dropped and counted. @default 64 MiB */
  maxQueuedBytes?: number;
  /**
   * Most of one core's time the writer thread (encoding, compression, writes) may take, averaged over
   * about a second: beyond it the thread pauses, the queue fills and values are dropped, so a recording
   * cannot take the CPU the live pages (and the source) need. @default 0.5
   */
  maxCpuShare?: number;
  /**
   * Write the file with `O_DIRECT` where the platform and filesystem allow it (Linux), so an image
   * stream's gigabytes go to the disk without costing the page cache's kernel time; `false` writes
   * through the page cache. @default true
   */
  directIo?: boolean;
}

export interface FileRecorderStats {
  path: string | undefined;
  /** Messages written into the file, all channels. */
  messages: number;
  /** Bytes handed to the disk so far (chunks are written when full, and at close). */
  bytesWritten: number;
  /** Bytes of values waiting to be written. */
  queuedBytes: number;
  /** Values dropped because the queue was full, by topic. */
  dropped: Record<string, number>;
  droppedTotal: number;
  /** Why recording stopped early (a write error, the writer thread died), if it did. */
  error: string | undefined;
  /** The code of that error: `RECORDER_WRITE_FAILED`, `RECORDER_WORKER_FAILED`. */
  errorCode: RecorderErrorCode | undefined;
  closed: boolean;
  /**
   * Frames whose array was in shared memory already (a ring reader's `sharedMemory`): the writer thread
   * read it there and the file was written from it, with no copy on the event loop.
   */
  framesShared: number;
  /** Frames copied for the writer thread into the ring both threads share (any other frame). */
  framesInRing: number;
  /** Frames that did not fit the ring, copied into a buffer the thread gave back, and into a new one. */
  framesReused: number;
  framesAllocated: number;
}

export interface FileRecorder {
  stats(): FileRecorderStats;
  /** Messages written so far by channel topic (the `/image` channels included). */
  counts(): ReadonlyMap<string, number>;
  /** Stops recording, writes what is queued, then the summary and index; resolves when the file is complete. */
  close(): Promise<void>;
}

const DEFAULTS = { compression: 'zstd', compressionLevel: 1, chunkSize: 2 ** 20, maxQueuedBytes: 64 * 2 ** 20, images: true, rawImageHz: 5, maxCpuShare: 0.5 } as const;

export function checkRecordingOptions(options: RecordingOptions): void {
  const level = options.compressionLevel ?? DEFAULTS.compressionLevel;
  if (!Number.isInteger(level) || level < 1 || level > 19) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `compressionLevel must be an integer 1-19, got ${level}`);
  const chunkSize = options.chunkSize ?? DEFAULTS.chunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `chunkSize must be an integer of at least 1024 bytes, got ${chunkSize}`);
  const compression = options.compression ?? DEFAULTS.compression;
  if (compression !== 'zstd' && compression !== 'none') throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `compression must be 'zstd' or 'none', got ${String(compression)}`);
  const rawImageHz = options.rawImageHz ?? DEFAULTS.rawImageHz;
  if (typeof rawImageHz !== 'number' || !(rawImageHz >= 0)) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `rawImageHz must be a number >= 0 (0: no RawImage channel), got ${String(rawImageHz)}`);
}

/** The `rawImageHz` a writer thread uses: 0 when RawImage channels are off altogether (`images: false`). */
export function rawImageHzOf(options: RecordingOptions): number {
  return (options.images ?? DEFAULTS.images) ? (options.rawImageHz ?? DEFAULTS.rawImageHz) : 0;
}

/** Creates the file, writes its header and starts recording every topic of `relay`. */
export async function recordToFile(relay: Tappable, options: FileRecorderOptions): Promise<FileRecorder> {
  checkRecordingOptions(options);
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes;
  if (!Number.isFinite(maxQueuedBytes) || maxQueuedBytes <= 0) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `maxQueuedBytes must be positive, got ${maxQueuedBytes}`);
  const maxCpuShare = options.maxCpuShare ?? DEFAULTS.maxCpuShare;
  if (!(maxCpuShare > 0 && maxCpuShare <= 1)) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `maxCpuShare must be in (0, 1], got ${maxCpuShare}`);
  if ((options.path === undefined) === (options.writable === undefined)) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, 'give exactly one of path and writable');
  let writer: WriterThread;
  try {
    writer = await WriterThread.start(
      {
        target: options.path === undefined ? 'forward' : 'file',
        ...(options.path === undefined ? {} : { path: options.path }),
        directIo: options.directIo ?? true,
        compression: options.compression ?? DEFAULTS.compression,
        compressionLevel: options.compressionLevel ?? DEFAULTS.compressionLevel,
        chunkSize: options.chunkSize ?? DEFAULTS.chunkSize,
        rawImageHz: rawImageHzOf(options),
        maxCpuShare,
      },
      options.writable,
      options.schemas,
    );
  } catch (error) {
    await options.writable?.close?.().catch(() => undefined);
    if (isRecorderError(error) && error.code === RecorderErrorCode.OPEN_FAILED) throw error;
    throw new RecorderError((error as RecorderError).code ?? RecorderErrorCode.WRITE_FAILED, `cannot write ${options.path ?? 'the recording'}: ${(error as Error).message}`, { cause: error });
  }
  writer.unref();
  return new Recorder(relay, writer, options.writable, options.path, maxQueuedBytes);
}

class Recorder implements FileRecorder {
  private readonly dropped = new Map<string, number>();
  private droppedTotal = 0;
  private closed = false;
  private closeError: RecorderError | undefined;
  private readonly untap: () => void;

  constructor(
    relay: Tappable,
    private readonly writer: WriterThread,
    private readonly writable: RecordingWritable | undefined,
    private readonly path: string | undefined,
    private readonly maxQueuedBytes: number,
  ) {
    this.untap = relay.tap({
      declared: (info) => {
        if (this.writer.error === undefined) this.writer.declare(info);
      },
      json: (info, seq, time, payloadJson) => {
        if (this.admit(info.name, payloadJson.length)) this.writer.add(jsonRecord(info, seq, time, payloadJson));
      },
      frame: (info, header, headerBytes, data, keep) => {
        // Kept (not copied) until the writer copies it on the next turn, once, into its ring.
        if (this.admit(info.name, headerBytes.length + data.byteLength)) this.writer.add(frameRecord(info, header, headerBytes, data, keep()));
      },
    });
  }

  stats(): FileRecorderStats {
    const error = this.closeError ?? this.writer.error;
    return {
      path: this.path,
      messages: [...this.writer.counts.values()].reduce((sum, count) => sum + count, 0),
      bytesWritten: this.writer.position,
      queuedBytes: this.writer.queuedBytes,
      dropped: Object.fromEntries(this.dropped),
      droppedTotal: this.droppedTotal,
      error: error?.message,
      errorCode: error?.code,
      closed: this.closed,
      framesShared: this.writer.framesShared,
      framesInRing: this.writer.framesInRing,
      framesReused: this.writer.framesReused,
      framesAllocated: this.writer.framesAllocated,
    };
  }

  counts(): ReadonlyMap<string, number> {
    return this.writer.counts;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.untap();
    try {
      await this.writer.end();
    } catch (error) {
      this.closeError = isRecorderError(error) ? error : new RecorderError(RecorderErrorCode.WRITE_FAILED, (error as Error).message, { cause: error });
    } finally {
      await this.writable?.close?.().catch(() => undefined);
    }
    const error = this.closeError;
    if (error !== undefined) throw new RecorderError(error.code, `recording ${this.path ?? ''} stopped: ${error.message}`, { cause: error });
  }

  /** Room for `bytes` more, else the value is dropped and counted (a failed writer takes nothing). */
  private admit(topic: string, bytes: number): boolean {
    if (this.writer.error !== undefined) return false;
    if (this.writer.queuedBytes + bytes <= this.maxQueuedBytes) return true;
    this.dropped.set(topic, (this.dropped.get(topic) ?? 0) + 1);
    this.droppedTotal += 1;
    return false;
  }
}
