/**
 * Opens a recording for replay: its topics, its time span, its messages in log-time order from any point,
 * and the state at any instant — all through the MCAP index (`@mcap/core`'s indexed reader), never by
 * reading the file from the start. A file without a usable index (cut off by a crash, or a damaged summary)
 * gets one from a scan of its record headers; a damaged chunk met while reading is left out of the index
 * and counted, and reading goes on after it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { McapIndexedReader, MCAP_MAGIC, type McapTypes } from '@mcap/core';
import { crc32 } from '../crc.js';
import { decodeFrame, type DecodedFrame, type JsonValue, type TopicInfo } from '@webmon/protocol';
import { decompressHandlers } from '../compression.js';
import { RecorderError, RecorderErrorCode } from '../errors.js';
import { FILE_FORMAT_VERSION, FORMAT_METADATA_NAME } from '../layout.js';
import { FileReadable, SplicedReadable, type Readable } from './readable.js';
import { scanRecording } from './scan.js';
import { summaryTail, type RecordingIndex } from './summary.js';
import { topicsOfChannels, type ChannelTopics } from './topics.js';

interface MessageBase {
  topic: string;
  info: TopicInfo;
  /** The relay's sequence number when it was recorded. */
  seq: number;
  /** webmon's receive time, ns since the epoch (what the file is indexed by). */
  logTime: bigint;
  /** The source's time stamp, ns since the epoch. */
  publishTime: bigint;
}

export interface RecordedJsonMessage extends MessageBase {
  kind: 'json';
  payload: JsonValue;
}

export interface RecordedFrameMessage extends MessageBase {
  kind: 'frame';
  /** The frame as pages receive it: header fields and the array data. */
  frame: DecodedFrame;
}

export type RecordedMessage = RecordedJsonMessage | RecordedFrameMessage;

export interface ReadOptions {
  /** First log time (ns), inclusive. @default the start */
  start?: bigint;
  /** Last log time (ns), inclusive. @default the end */
  end?: bigint;
  /** Only these topics. @default every topic */
  topics?: readonly string[];
  /** Newest first. @default false */
  reverse?: boolean;
}

/** What was wrong with the file and what was done about it. */
export interface RecordingProblems {
  /** The file has no summary (cut off by a crash): its index was rebuilt from its records. */
  truncated: boolean;
  /** Where the readable data ends, in bytes, when the file was cut off or damaged mid-way. */
  cutAt: number | undefined;
  /** The index was rebuilt (no summary, or an unreadable one). */
  indexRebuilt: boolean;
  /** Chunks left out because they could not be read (damaged, unknown compression). */
  skippedChunks: number;
  /** Messages that were not valid JSON / webmon frames: skipped. */
  badMessages: number;
  /** Channels that are not webmon topics (other encodings): not replayed. */
  unknownChannels: readonly string[];
}

export interface Recording {
  readonly path: string;
  readonly topics: readonly TopicInfo[];
  /** Log times (ns) of the first and last message; both 0n for a recording without messages. */
  readonly startTime: bigint;
  readonly endTime: bigint;
  /** Messages in the index (replayable topics and their Foxglove image copies). */
  readonly messageCount: number;
  readonly problems: RecordingProblems;
  /** Messages in log-time order (or reverse) through the index. */
  messages(options?: ReadOptions): AsyncGenerator<RecordedMessage, void, void>;
  /**
   * What a page would hold at `cursor`: each `latest` topic's value as of then (JSON topics with a
   * `replayMs`: the values of that window before it, at least the newest), each `stream` topic's window of
   * `replayMs` before it. Oldest first.
   */
  stateAt(cursor: bigint): Promise<RecordedMessage[]>;
  close(): Promise<void>;
}

export interface OpenRecordingOptions {
  /** Checks the CRC of every chunk read (damage is found and skipped). @default true */
  validateCrcs?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MS = 1_000_000n;

async function readFormat(reader: McapIndexedReader): Promise<number | undefined> {
  for await (const record of reader.readMetadata({ name: FORMAT_METADATA_NAME })) {
    const format = Number(record.metadata.get('format'));
    if (Number.isInteger(format)) return format;
  }
  return undefined;
}

function indexOfReader(reader: McapIndexedReader): RecordingIndex {
  return {
    cut: reader.dataEndOffset,
    extraMessageIndexes: new Uint8Array(0),
    schemas: new Map(reader.schemasById),
    channels: new Map(reader.channelsById),
    chunkIndexes: [...reader.chunkIndexes],
    metadataIndexes: [...reader.metadataIndexes],
    channelMessageCounts: new Map(reader.statistics?.channelMessageCounts ?? []),
  };
}

/** Opens `path` for replay. Throws `RecorderError` (`RECORDER_OPEN_FAILED`, `_NOT_MCAP`, `_NEWER_FORMAT`, `_UNSUPPORTED_FILE`, `_CORRUPT_FILE`). */
export async function openRecording(path: string, options: OpenRecordingOptions = {}): Promise<Recording> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new RecorderError(RecorderErrorCode.OPEN_FAILED, `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await RecordingFile.open(path, handle, options);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class RecordingFile implements Recording {
  readonly path: string;
  readonly topics: readonly TopicInfo[];
  readonly problems: RecordingProblems;
  private readonly handle: FileHandle;
  private readonly file: FileReadable;
  private readonly handlers: McapTypes.DecompressHandlers;
  private readonly validateCrcs: boolean;
  private readonly mapping: ChannelTopics;
  private readonly infoByName: Map<string, TopicInfo>;
  private index: RecordingIndex;
  private reader: McapIndexedReader;
  /** What `reader` reads: the file, or the file with a summary made in memory. */
  private readable: Readable;

  private constructor(
    path: string,
    handle: FileHandle,
    file: FileReadable,
    handlers: McapTypes.DecompressHandlers,
    validateCrcs: boolean,
    index: RecordingIndex,
    reader: McapIndexedReader,
    readable: Readable,
    problems: RecordingProblems,
  ) {
    this.path = path;
    this.handle = handle;
    this.file = file;
    this.handlers = handlers;
    this.validateCrcs = validateCrcs;
    this.index = index;
    this.reader = reader;
    this.readable = readable;
    this.mapping = topicsOfChannels(reader.channelsById);
    this.topics = this.mapping.topics;
    this.infoByName = new Map(this.topics.map((info) => [info.name, info]));
    this.problems = { ...problems, unknownChannels: this.mapping.unknown };
  }

  static async open(path: string, handle: FileHandle, options: OpenRecordingOptions): Promise<RecordingFile> {
    const size = BigInt((await handle.stat()).size);
    const file = new FileReadable(handle, size);
    const magic = size >= BigInt(MCAP_MAGIC.length) ? await file.read(0n, BigInt(MCAP_MAGIC.length)) : new Uint8Array(0);
    if (magic.length < MCAP_MAGIC.length || MCAP_MAGIC.some((byte, i) => magic[i] !== byte)) {
      throw new RecorderError(RecorderErrorCode.NOT_MCAP, `${path} is not an MCAP file (it does not start with the MCAP magic bytes)`);
    }
    const handlers = await decompressHandlers();
    const problems: RecordingProblems = { truncated: false, cutAt: undefined, indexRebuilt: false, skippedChunks: 0, badMessages: 0, unknownChannels: [] };
    let reader: McapIndexedReader;
    let readable: Readable = file;
    let index: RecordingIndex;
    try {
      reader = await McapIndexedReader.Initialize({ readable: file, decompressHandlers: handlers });
      index = indexOfReader(reader);
    } catch (indexError) {
      // No summary (a crash) or an unreadable one: make the index from the records themselves.
      let scan;
      try {
        scan = await scanRecording(file, size, (chunk, records) => decompressChunk(handlers, chunk, records));
      } catch (error) {
        throw new RecorderError(RecorderErrorCode.CORRUPT_FILE, `${path}: no usable index (${(indexError as Error).message}) and its records cannot be read (${(error as Error).message})`, { cause: error });
      }
      if (scan.index.chunkIndexes.length === 0 && scan.unchunkedMessages > 0) {
        throw new RecorderError(RecorderErrorCode.UNSUPPORTED_FILE, `${path} holds ${scan.unchunkedMessages} messages outside chunks and no index: only chunked MCAP files can be replayed`);
      }
      index = scan.index;
      problems.truncated = scan.truncated;
      problems.cutAt = scan.cutAt < size ? Number(scan.cutAt) : undefined;
      problems.indexRebuilt = true;
      problems.skippedChunks = scan.skippedChunks;
      try {
        readable = new SplicedReadable(file, index.cut, summaryTail(index));
        reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: handlers });
      } catch (error) {
        throw new RecorderError(RecorderErrorCode.CORRUPT_FILE, `${path}: the index rebuilt from its records does not read (${(error as Error).message})`, { cause: error });
      }
    }
    if (reader.chunkIndexes.length === 0 && (reader.statistics?.messageCount ?? 0n) > 0n) {
      throw new RecorderError(RecorderErrorCode.UNSUPPORTED_FILE, `${path} has messages but no chunk index: only chunked MCAP files can be replayed`);
    }
    const format = await readFormat(reader).catch(() => undefined);
    if (format !== undefined && format > FILE_FORMAT_VERSION) {
      throw new RecorderError(RecorderErrorCode.NEWER_FORMAT, `${path} was written in webmon recording format ${format}; this webmon reads format ${FILE_FORMAT_VERSION} (update webmon)`);
    }
    return new RecordingFile(path, handle, file, handlers, options.validateCrcs ?? true, index, reader, readable, problems);
  }

  get startTime(): bigint {
    return this.reader.statistics?.messageStartTime ?? this.index.chunkIndexes.reduce((min, chunk) => (chunk.messageStartTime < min ? chunk.messageStartTime : min), this.index.chunkIndexes[0]?.messageStartTime ?? 0n);
  }

  get endTime(): bigint {
    return this.reader.statistics?.messageEndTime ?? this.index.chunkIndexes.reduce((max, chunk) => (chunk.messageEndTime > max ? chunk.messageEndTime : max), 0n);
  }

  get messageCount(): number {
    return Number(this.reader.statistics?.messageCount ?? 0n);
  }

  async *messages(options: ReadOptions = {}): AsyncGenerator<RecordedMessage, void, void> {
    const topics = (options.topics ?? this.topics.map((info) => info.name)).filter((name) => this.infoByName.has(name));
    if (topics.length === 0) return;
    const reverse = options.reverse ?? false;
    let start = options.start;
    let end = options.end;
    /** The log time of the last message handed out, and how many were handed out at exactly that time. */
    let last: bigint | undefined;
    let atLast = 0;
    for (;;) {
      let skip = atLast;
      const resumeAt = last;
      try {
        for await (const message of this.reader.readMessages({ topics, ...(start === undefined ? {} : { startTime: start }), ...(end === undefined ? {} : { endTime: end }), reverse, validateCrcs: this.validateCrcs })) {
          if (resumeAt !== undefined && message.logTime === resumeAt && skip > 0) {
            skip--;
            continue;
          }
          if (message.logTime !== last) {
            last = message.logTime;
            atLast = 0;
          }
          atLast++;
          const decoded = this.decode(message);
          if (decoded !== undefined) yield decoded;
        }
        return;
      } catch (error) {
        if (!(await this.skipDamagedChunk(last ?? (reverse ? end : start), reverse))) {
          if (error instanceof RecorderError) throw error;
          throw new RecorderError(RecorderErrorCode.CORRUPT_FILE, `${this.path}: ${(error as Error).message}`, { cause: error });
        }
        // Go on from where it stopped, without the damaged chunk.
        if (last !== undefined) {
          if (reverse) end = last;
          else start = last;
        }
      }
    }
  }

  async stateAt(cursor: bigint): Promise<RecordedMessage[]> {
    const windowed = this.topics.filter((info) => !info.binary && (info.replayMs ?? 0) > 0);
    const longest = windowed.reduce((max, info) => Math.max(max, info.replayMs ?? 0), 0);
    const found: RecordedMessage[] = [];
    const seen = new Set<string>();
    if (windowed.length > 0) {
      const from = cursor - BigInt(Math.ceil(longest)) * MS;
      for await (const message of this.messages({ start: from < 0n ? 0n : from, end: cursor, topics: windowed.map((info) => info.name) })) {
        if (message.logTime < cursor - BigInt(Math.ceil(message.info.replayMs ?? 0)) * MS) continue;
        found.push(message);
        seen.add(message.topic);
      }
    }
    // Latest topics with nothing in their window: their newest value before the cursor, found backwards.
    for (const info of this.topics) {
      if (info.mode !== 'latest' || seen.has(info.name)) continue;
      for await (const message of this.messages({ end: cursor, topics: [info.name], reverse: true })) {
        found.push(message);
        break;
      }
    }
    return found.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private decode(message: McapTypes.Message): RecordedMessage | undefined {
    const topic = this.mapping.topicOf.get(message.channelId);
    const info = topic === undefined ? undefined : this.infoByName.get(topic);
    if (topic === undefined || info === undefined) return undefined;
    const base = { topic, info, seq: message.sequence, logTime: message.logTime, publishTime: message.publishTime };
    try {
      if (info.binary === true) return { ...base, kind: 'frame', frame: decodeFrame(message.data) };
      return { ...base, kind: 'json', payload: JSON.parse(utf8.decode(message.data)) as JsonValue };
    } catch {
      this.problems.badMessages++;
      return undefined;
    }
  }

  /**
   * After a read failed near `near`: checks the chunks that reading would have met next, in order, and
   * leaves the first damaged one out of the index. False when none is damaged (the failure was elsewhere).
   */
  private async skipDamagedChunk(near: bigint | undefined, reverse: boolean): Promise<boolean> {
    const candidates = this.index.chunkIndexes
      .filter((chunk) => near === undefined || (reverse ? chunk.messageStartTime <= near : chunk.messageEndTime >= near))
      .sort((a, b) => (reverse ? Number(b.messageEndTime - a.messageEndTime) : Number(a.messageStartTime - b.messageStartTime)))
      .slice(0, 64);
    for (const chunk of candidates) {
      if (await this.chunkReads(chunk)) continue;
      this.problems.skippedChunks++;
      this.index = { ...this.index, chunkIndexes: this.index.chunkIndexes.filter((other) => other !== chunk) };
      this.readable = new SplicedReadable(this.file, this.index.cut, summaryTail(this.index));
      this.reader = await McapIndexedReader.Initialize({ readable: this.readable, decompressHandlers: this.handlers });
      return true;
    }
    return false;
  }

  /** True when a chunk's data decompresses to its size and CRC, and its message indexes parse and point inside it. */
  private async chunkReads(chunk: McapTypes.ChunkIndex): Promise<boolean> {
    try {
      const bytes = await this.file.read(chunk.chunkStartOffset, chunk.chunkLength);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (view.getUint8(0) !== 0x06) return false;
      const crc = view.getUint32(9 + 24, true);
      const nameLength = view.getUint32(9 + 28, true);
      const records = decompressChunk(this.handlers, chunk, bytes.subarray(9 + 32 + nameLength + 8));
      if (BigInt(records.byteLength) !== chunk.uncompressedSize) return false;
      if (this.validateCrcs && crc !== 0 && crc32(records) !== crc) return false;
      if (chunk.messageIndexOffsets.size === 0) return true;
      const first = [...chunk.messageIndexOffsets.values()].reduce((min, offset) => (offset < min ? offset : min));
      const indexes = await this.readable.read(first, chunk.messageIndexLength);
      const indexView = new DataView(indexes.buffer, indexes.byteOffset, indexes.byteLength);
      for (let at = 0; at < indexes.byteLength; ) {
        if (at + 15 > indexes.byteLength || indexView.getUint8(at) !== 0x07) return false;
        const length = Number(indexView.getBigUint64(at + 1, true));
        const entries = indexView.getUint32(at + 11, true);
        if (entries + 6 !== length || at + 9 + length > indexes.byteLength) return false;
        for (let entry = at + 15; entry < at + 15 + entries; entry += 16) {
          if (indexView.getBigUint64(entry + 8, true) >= chunk.uncompressedSize) return false;
        }
        at += 9 + length;
      }
      return true;
    } catch {
      return false;
    }
  }
}

function decompressChunk(handlers: McapTypes.DecompressHandlers, chunk: McapTypes.ChunkIndex, records: Uint8Array): Uint8Array {
  if (chunk.compression === '') return records;
  const handler = handlers[chunk.compression];
  if (handler === undefined) throw new Error(`unsupported chunk compression ${JSON.stringify(chunk.compression)}`);
  return handler(records, chunk.uncompressedSize);
}
