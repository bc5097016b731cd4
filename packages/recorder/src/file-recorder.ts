/**
 * Records every topic of a relay to an MCAP file while the relay serves.
 *
 * Invariant: recording never holds up publishing. The tap only copies a value into a queue (bounded by
 * `maxQueuedBytes`); a pump writes the queue out between event-loop turns. When the disk (or the
 * compressor) is slower than the data, new values are dropped and counted per topic instead of queued.
 */
import type { TopicInfo } from '@webmon/protocol';
import { chunkCompressor, type ChunkCompression } from './compression.js';
import { RecorderError, RecorderErrorCode } from './errors.js';
import { openFileWritable, type RecordingWritable } from './file-writable.js';
import type { JsonSchemaLookup } from './layout.js';
import { McapSession } from './mcap-session.js';
import { frameRecord, jsonRecord, type Recorded } from './record.js';
import type { Tappable } from './tap.js';

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
}

export interface FileRecorderOptions extends RecordingOptions {
  /** The file to write (replaced if it exists). Give this or `writable`. */
  path?: string;
  /** Where to write instead of a file (a test's slow disk, a socket). */
  writable?: RecordingWritable;
  /** Most bytes of values waiting for the disk; beyond it new values are dropped and counted. @default 64 MiB */
  maxQueuedBytes?: number;
  /**
   * Most of the process's time the writer (encoding, compression) may take, averaged over about a second:
   * beyond it the writer pauses, its queue fills and values are dropped, so the live stream keeps its
   * rate when compression is slower than the data. @default 0.25
   */
  maxCpuShare?: number;
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
  /** Why recording stopped early (a write error), if it did. */
  error: string | undefined;
  closed: boolean;
}

export interface FileRecorder {
  stats(): FileRecorderStats;
  /** Messages written so far by channel topic (the `/image` channels included). */
  counts(): ReadonlyMap<string, number>;
  /** Stops recording, writes what is queued, then the summary and index; resolves when the file is complete. */
  close(): Promise<void>;
}

const DEFAULTS = { compression: 'zstd', compressionLevel: 1, chunkSize: 2 ** 20, maxQueuedBytes: 64 * 2 ** 20, images: true, maxCpuShare: 0.25 } as const;
/** The writer's time budget may run this far ahead (ms): one big chunk is compressed without a pause. */
const CPU_BURST_MS = 250;
/** The pump gives the event loop back after this much work, so pages keep their rates. */
const SLICE_MS = 8;

type Item = { kind: 'declare'; info: TopicInfo } | { kind: 'value'; record: Recorded };

export function checkRecordingOptions(options: RecordingOptions): void {
  const level = options.compressionLevel ?? DEFAULTS.compressionLevel;
  if (!Number.isInteger(level) || level < 1 || level > 19) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `compressionLevel must be an integer 1-19, got ${level}`);
  const chunkSize = options.chunkSize ?? DEFAULTS.chunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `chunkSize must be an integer of at least 1024 bytes, got ${chunkSize}`);
  const compression = options.compression ?? DEFAULTS.compression;
  if (compression !== 'zstd' && compression !== 'none') throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `compression must be 'zstd' or 'none', got ${String(compression)}`);
}

/** Creates the file, writes its header and starts recording every topic of `relay`. */
export async function recordToFile(relay: Tappable, options: FileRecorderOptions): Promise<FileRecorder> {
  checkRecordingOptions(options);
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes;
  if (!Number.isFinite(maxQueuedBytes) || maxQueuedBytes <= 0) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `maxQueuedBytes must be positive, got ${maxQueuedBytes}`);
  const maxCpuShare = options.maxCpuShare ?? DEFAULTS.maxCpuShare;
  if (!(maxCpuShare > 0 && maxCpuShare <= 1)) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, `maxCpuShare must be in (0, 1], got ${maxCpuShare}`);
  if ((options.path === undefined) === (options.writable === undefined)) throw new RecorderError(RecorderErrorCode.INVALID_OPTIONS, 'give exactly one of path and writable');
  const compressChunk = await chunkCompressor(options.compression ?? DEFAULTS.compression, options.compressionLevel ?? DEFAULTS.compressionLevel);
  const writable = options.writable ?? (await openFileWritable(options.path as string));
  const session = new McapSession({ writable, schemas: options.schemas, compressChunk, chunkSize: options.chunkSize ?? DEFAULTS.chunkSize, images: options.images ?? DEFAULTS.images });
  try {
    await session.start();
  } catch (error) {
    await writable.close?.().catch(() => undefined);
    throw new RecorderError(RecorderErrorCode.WRITE_FAILED, `cannot write ${options.path ?? 'the recording'}: ${(error as Error).message}`, { cause: error });
  }
  return new Recorder(relay, session, writable, options.path, maxQueuedBytes, maxCpuShare);
}

class Recorder implements FileRecorder {
  private readonly queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly dropped = new Map<string, number>();
  private droppedTotal = 0;
  private error: string | undefined;
  private closed = false;
  private pumping: Promise<void> | undefined;
  /** The writer's time budget (ms): earns maxCpuShare ms per ms of wall time, spends the ms it works. */
  private cpuTokens = CPU_BURST_MS;
  private cpuTokensAt = performance.now();
  private readonly untap: () => void;

  constructor(
    relay: Tappable,
    private readonly session: McapSession,
    private readonly writable: RecordingWritable,
    private readonly path: string | undefined,
    private readonly maxQueuedBytes: number,
    private readonly maxCpuShare: number,
  ) {
    this.untap = relay.tap({
      declared: (info) => this.push({ kind: 'declare', info }, 0),
      json: (info, seq, time, payloadJson) => {
        if (this.admit(info.name, payloadJson.length)) this.push({ kind: 'value', record: jsonRecord(info, seq, time, payloadJson) }, payloadJson.length);
      },
      frame: (info, header, headerBytes, data) => {
        const bytes = headerBytes.length + data.byteLength;
        if (this.admit(info.name, bytes)) this.push({ kind: 'value', record: frameRecord(info, header, headerBytes, data) }, bytes);
      },
    });
  }

  stats(): FileRecorderStats {
    return {
      path: this.path,
      messages: [...this.session.counts.values()].reduce((sum, count) => sum + count, 0),
      bytesWritten: Number(this.writable.position()),
      queuedBytes: this.queuedBytes,
      dropped: Object.fromEntries(this.dropped),
      droppedTotal: this.droppedTotal,
      error: this.error,
      closed: this.closed,
    };
  }

  counts(): ReadonlyMap<string, number> {
    return this.session.counts;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.untap();
    await this.pumping;
    try {
      if (this.error === undefined) await this.session.end();
    } catch (error) {
      this.error = (error as Error).message;
    } finally {
      await this.writable.close?.().catch(() => undefined);
    }
    if (this.error !== undefined) throw new RecorderError(RecorderErrorCode.WRITE_FAILED, `recording ${this.path ?? ''} stopped: ${this.error}`);
  }

  /** Room for `bytes` more, else the value is dropped and counted. */
  private admit(topic: string, bytes: number): boolean {
    if (this.error !== undefined) return false;
    if (this.queuedBytes + bytes <= this.maxQueuedBytes) return true;
    this.dropped.set(topic, (this.dropped.get(topic) ?? 0) + 1);
    this.droppedTotal += 1;
    return false;
  }

  private push(item: Item, bytes: number): void {
    if (this.error !== undefined) return;
    this.queue.push(item);
    this.queuedBytes += bytes;
    // The pump clears `pumping` itself when it finds the queue empty, in the same turn: no value can land
    // between its last look and the flag going down.
    this.pumping ??= this.pump();
  }

  private async pump(): Promise<void> {
    let sliceStart = performance.now();
    while (this.head < this.queue.length) {
      const item = this.queue[this.head] as Item;
      this.queue[this.head] = undefined as unknown as Item;
      this.head += 1;
      const workStart = performance.now();
      try {
        if (item.kind === 'declare') await this.session.declare(item.info);
        else await this.session.write(item.record);
      } catch (error) {
        // The file is unusable from here (a full disk, a closed handle): stop recording, keep serving.
        this.error = (error as Error).message;
        this.queue.length = 0;
        this.head = 0;
        this.queuedBytes = 0;
        this.untap();
        this.pumping = undefined;
        return;
      }
      if (item.kind === 'value') this.queuedBytes -= item.record.kind === 'json' ? item.record.json.length : item.record.headerBytes.length + item.record.data.byteLength;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      const now = performance.now();
      this.cpuTokens = Math.min(CPU_BURST_MS, this.cpuTokens + (now - this.cpuTokensAt) * this.maxCpuShare) - (now - workStart);
      this.cpuTokensAt = now;
      if (this.cpuTokens < 0) {
        // Over its share: pause until the budget is back (meanwhile the queue fills and drops count).
        await new Promise((resolve) => setTimeout(resolve, -this.cpuTokens / this.maxCpuShare));
        sliceStart = performance.now();
      } else if (now - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    this.queue.length = 0;
    this.head = 0;
    this.pumping = undefined;
  }
}
