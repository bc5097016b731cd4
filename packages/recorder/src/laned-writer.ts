/**
 * An MCAP writer with two chunk lanes, built from `@mcap/core`'s record and chunk builders. `McapWriter`
 * puts every message into one chunk stream, so with an image stream every chunk holds a 4 MiB frame and
 * the few JSON values that arrived beside it: reading a minute of a small topic (a chart's history after a
 * seek) then means reading — and decompressing — a minute of frames. Here messages of at least `bulkBytes`
 * get chunks of their own, and the small ones share chunks of up to `chunkSize` bytes that close after
 * `maxChunkAgeNs` of log time, so a crash loses at most that much of them. Chunks of the two lanes overlap
 * in time, which MCAP allows and indexed readers merge. The file is otherwise what `McapWriter` writes:
 * chunks with message indexes, a summary repeating schemas and channels, statistics, chunk and metadata
 * indexes, summary offsets, a footer.
 */
import { crc32 } from './crc.js';
import { McapChunkBuilder, McapRecordBuilder, Opcode, type IWritable, type McapTypes } from '@mcap/core';
import { BULK_COMPRESSION_MUST_SAVE, type CompressChunk } from './compression.js';
import { MIN_RECORD_BYTES, PADDING_OPCODE } from './layout.js';

/** `@mcap/core`'s writable, with a gathered write when it has one (a file: one `writev` per frame chunk). */
export interface GatheringWritable extends IWritable {
  writev?(buffers: Uint8Array[]): Promise<void>;
  /** Padding wanted before `after` more bytes and then `piece` (see `RecordingWritable.paddingFor`). */
  paddingFor?(piece: Uint8Array, after: number): number;
}

const EMPTY = new Uint8Array(0);

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const both = new Uint8Array(a.byteLength + b.byteLength);
  both.set(a, 0);
  both.set(b, a.byteLength);
  return both;
}

/** A padding record of `bytes` bytes (`PADDING_OPCODE`), asked for by the writable's `paddingFor`. */
function paddingRecord(bytes: number): Uint8Array {
  if (bytes < MIN_RECORD_BYTES) throw new RangeError(`a padding record takes at least ${MIN_RECORD_BYTES} bytes, not ${bytes}`);
  const record = new Uint8Array(bytes);
  const view = new DataView(record.buffer);
  view.setUint8(0, PADDING_OPCODE);
  view.setBigUint64(1, BigInt(bytes - MIN_RECORD_BYTES), true);
  return record;
}

export interface LanedWriterOptions {
  writable: GatheringWritable;
  compressChunk: CompressChunk | undefined;
  /** Uncompressed bytes of small messages per chunk. */
  chunkSize: number;
  /** Messages of at least this many bytes get a chunk of their own. @default 64 KiB */
  bulkBytes?: number;
  /** A chunk of small messages is closed once it spans this much log time. @default 1 s */
  maxChunkAgeNs?: bigint;
}

const DEFAULT_BULK_BYTES = 64 * 1024;

/**
 * A message whose data may come in two pieces: `prefix` then `data` (a frame's webmon header, then its
 * array where the producer left it). Joined only for the small lane; a big message's pieces are written as
 * they are, so an array in shared memory is not copied to be put behind its header.
 */
export type PiecedMessage = McapTypes.Message & { prefix?: Uint8Array };
/** A message record before its data: opcode, length, channel id, sequence, log time, publish time. */
const MESSAGE_HEADER_BYTES = 1 + 8 + 2 + 4 + 8 + 8;
const utf8 = new TextEncoder();
const DEFAULT_MAX_CHUNK_AGE_NS = 1_000_000_000n;
/** Chunks of a channel stored without trying compression after a failed try: the first time, and at most. */
const MIN_UNTRIED_CHUNKS = 8;
const MAX_UNTRIED_CHUNKS = 64;

interface Lane {
  builder: McapChunkBuilder;
  /** Channels (and schemas) whose records this lane's current chunk already holds. */
  channels: Set<number>;
  schemas: Set<number>;
}

function newLane(): Lane {
  return { builder: new McapChunkBuilder({ useMessageIndex: true }), channels: new Set(), schemas: new Set() };
}

export class LanedMcapWriter {
  private readonly writable: GatheringWritable;
  private readonly compressChunk: CompressChunk | undefined;
  private readonly chunkSize: number;
  private readonly bulkBytes: number;
  private readonly maxChunkAgeNs: bigint;
  private readonly records = new McapRecordBuilder();
  private readonly small = newLane();
  private readonly bulk = newLane();
  private readonly schemas = new Map<number, McapTypes.Schema>();
  private readonly channels = new Map<number, McapTypes.Channel>();
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  /** Per channel: big chunks still to store untried, and how many the last failed try set. */
  private readonly bulkCompression = new Map<number, { skip: number; backoff: number }>();
  private readonly metadataIndexes: McapTypes.MetadataIndex[] = [];
  private readonly statistics: McapTypes.Statistics = {
    messageCount: 0n,
    schemaCount: 0,
    channelCount: 0,
    attachmentCount: 0,
    metadataCount: 0,
    chunkCount: 0,
    messageStartTime: 0n,
    messageEndTime: 0n,
    channelMessageCounts: new Map(),
  };

  constructor(options: LanedWriterOptions) {
    this.writable = options.writable;
    this.compressChunk = options.compressChunk;
    this.chunkSize = options.chunkSize;
    this.bulkBytes = options.bulkBytes ?? DEFAULT_BULK_BYTES;
    this.maxChunkAgeNs = options.maxChunkAgeNs ?? DEFAULT_MAX_CHUNK_AGE_NS;
  }

  async start(header: McapTypes.Header): Promise<void> {
    this.records.writeMagic();
    this.records.writeHeader(header);
    await this.flushRecords();
  }

  async registerSchema(info: Omit<McapTypes.Schema, 'id'>): Promise<number> {
    const id = this.schemas.size + 1;
    this.schemas.set(id, { ...info, id });
    this.statistics.schemaCount = this.schemas.size;
    return id;
  }

  async registerChannel(info: Omit<McapTypes.Channel, 'id'>): Promise<number> {
    const id = this.channels.size;
    this.channels.set(id, { ...info, id });
    this.statistics.channelCount = this.channels.size;
    return id;
  }

  async addMetadata(metadata: McapTypes.Metadata): Promise<void> {
    const offset = this.writable.position();
    const length = this.records.writeMetadata(metadata);
    this.metadataIndexes.push({ offset, length, name: metadata.name });
    this.statistics.metadataCount++;
    await this.flushRecords();
  }

  async addMessage(message: PiecedMessage): Promise<void> {
    const stats = this.statistics;
    if (stats.messageCount === 0n || message.logTime < stats.messageStartTime) stats.messageStartTime = message.logTime;
    if (stats.messageCount === 0n || message.logTime > stats.messageEndTime) stats.messageEndTime = message.logTime;
    stats.messageCount++;
    stats.channelMessageCounts.set(message.channelId, (stats.channelMessageCounts.get(message.channelId) ?? 0n) + 1n);

    const small = this.small.builder;
    if (small.numMessages > 0 && message.logTime - small.messageStartTime >= this.maxChunkAgeNs) await this.finishChunk(this.small);
    const prefix = message.prefix;
    if ((prefix?.byteLength ?? 0) + message.data.byteLength >= this.bulkBytes) {
      await this.writeBulkChunk(message);
      return;
    }
    this.define(this.small, message.channelId);
    small.addMessage(prefix === undefined ? message : { ...message, data: joined(prefix, message.data) });
    if (small.byteLength >= this.chunkSize) await this.finishChunk(this.small);
  }

  /**
   * A big message as a chunk of its own, written without copying the message: the chunk record's header,
   * the channel (and schema) records, the message record's header, the message's bytes (the frame the
   * writer thread was handed) and the chunk's message index go to the file in one gathered write; the
   * CRC runs over the pieces in turn. Only when compression is tried are the pieces joined (zstd wants one
   * buffer). A chunk builder would copy a 4 MiB frame three more times.
   */
  private async writeBulkChunk(message: PiecedMessage): Promise<void> {
    const lane = this.bulk;
    lane.builder.reset();
    lane.channels.clear();
    lane.schemas.clear();
    this.define(lane, message.channelId);
    const definitions = lane.builder.buffer; // the schema and channel records (small)
    lane.builder.reset();
    const { data } = message;
    const prefix = message.prefix ?? EMPTY;
    const head = new Uint8Array(MESSAGE_HEADER_BYTES + prefix.byteLength);
    head.set(prefix, MESSAGE_HEADER_BYTES);
    const headView = new DataView(head.buffer);
    headView.setUint8(0, Opcode.MESSAGE);
    headView.setBigUint64(1, BigInt(MESSAGE_HEADER_BYTES - 9 + prefix.byteLength + data.byteLength), true);
    headView.setUint16(9, message.channelId, true);
    headView.setUint32(11, message.sequence, true);
    headView.setBigUint64(15, message.logTime, true);
    headView.setBigUint64(23, message.publishTime, true);
    const pieces = [definitions, head, data];
    const uncompressedSize = definitions.byteLength + head.byteLength + data.byteLength;
    const uncompressedCrc = crc32(data, crc32(head, crc32(definitions)));
    const compressed = this.compressBulk(message.channelId, pieces);
    const compression = compressed?.compression ?? '';
    const body = compressed === undefined ? pieces : [compressed.compressedData];
    const bodyLength = compressed === undefined ? uncompressedSize : compressed.compressedData.byteLength;

    const name = utf8.encode(compression);
    const contentLength = 8 + 8 + 8 + 4 + 4 + name.byteLength + 8 + bodyLength;
    const header = new Uint8Array(9 + contentLength - bodyLength);
    const view = new DataView(header.buffer);
    view.setUint8(0, Opcode.CHUNK);
    view.setBigUint64(1, BigInt(contentLength), true);
    view.setBigUint64(9, message.logTime, true);
    view.setBigUint64(17, message.logTime, true);
    view.setBigUint64(25, BigInt(uncompressedSize), true);
    view.setUint32(33, uncompressedCrc, true);
    view.setUint32(37, name.byteLength, true);
    header.set(name, 41);
    view.setBigUint64(41 + name.byteLength, BigInt(bodyLength), true);

    const padding = compressed === undefined ? (this.writable.paddingFor?.(data, header.byteLength + definitions.byteLength + head.byteLength) ?? 0) : 0;
    const chunkStartOffset = this.writable.position() + BigInt(padding);
    const chunkLength = BigInt(header.byteLength + bodyLength);
    const messageIndexStart = chunkStartOffset + chunkLength;
    // Pending records were flushed by the previous call: the builder holds only this chunk's index.
    const messageIndexLength = this.records.writeMessageIndex({ channelId: message.channelId, records: [[message.logTime, BigInt(definitions.byteLength)]] });
    await this.writeAll([...(padding > 0 ? [paddingRecord(padding)] : []), header, ...body, this.records.buffer.subarray(0, this.records.length)]);
    this.records.reset();
    this.chunkIndexes.push({
      messageStartTime: message.logTime,
      messageEndTime: message.logTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets: new Map([[message.channelId, messageIndexStart]]),
      messageIndexLength,
      compression,
      compressedSize: BigInt(bodyLength),
      uncompressedSize: BigInt(uncompressedSize),
    });
    this.statistics.chunkCount++;
  }

  /**
   * zstd for a big message's chunk, only when it saves at least half (`BULK_COMPRESSION_MUST_SAVE`: below
   * that, compressing frames as they come costs more CPU than the bytes are worth), decided per channel:
   * after a try that saved too little (the compressor stored the chunk), the channel's next chunks are stored without trying — 8, then twice
   * as many after each further failed try, up to 64 (about 2 s of a 30 Hz stream) — so an image stream
   * of noisy floats costs no compression at all most of the time, and one whose content turns
   * compressible is compressed again within that many frames.
   */
  private compressBulk(channelId: number, pieces: Uint8Array[]): { compression: string; compressedData: Uint8Array } | undefined {
    if (this.compressChunk === undefined) return undefined;
    let state = this.bulkCompression.get(channelId);
    if (state === undefined) {
      state = { skip: 0, backoff: 0 };
      this.bulkCompression.set(channelId, state);
    }
    if (state.skip > 0) {
      state.skip -= 1;
      return undefined;
    }
    const result = this.compressChunk(pieces, BULK_COMPRESSION_MUST_SAVE);
    if (result !== undefined) {
      state.backoff = 0;
      return result;
    }
    state.backoff = Math.min(MAX_UNTRIED_CHUNKS, state.backoff === 0 ? MIN_UNTRIED_CHUNKS : state.backoff * 2);
    state.skip = state.backoff;
    return undefined;
  }

  /** One gathered write when the writable can (a file), else the pieces in order. */
  private async writeAll(pieces: Uint8Array[]): Promise<void> {
    if (this.writable.writev !== undefined) {
      await this.writable.writev(pieces);
      return;
    }
    for (const piece of pieces) if (piece.byteLength > 0) await this.writable.write(piece);
  }

  async end(): Promise<void> {
    await this.finishChunk(this.small);
    this.records.writeDataEnd({ dataSectionCrc: 0 });
    await this.flushRecords();

    // The summary: each group's place, for readers that want one group (summary offsets).
    const groups: McapTypes.SummaryOffset[] = [];
    const summaryStart = this.writable.position();
    const group = (opcode: number, write: () => bigint): void => {
      const groupStart = summaryStart + BigInt(this.records.length);
      const groupLength = write();
      if (groupLength > 0n) groups.push({ groupOpcode: opcode, groupStart, groupLength });
    };
    group(Opcode.SCHEMA, () => [...this.schemas.values()].reduce((sum, schema) => sum + this.records.writeSchema(schema), 0n));
    group(Opcode.CHANNEL, () => [...this.channels.values()].reduce((sum, channel) => sum + this.records.writeChannel(channel), 0n));
    group(Opcode.STATISTICS, () => this.records.writeStatistics(this.statistics));
    group(Opcode.METADATA_INDEX, () => this.metadataIndexes.reduce((sum, index) => sum + this.records.writeMetadataIndex(index), 0n));
    group(Opcode.CHUNK_INDEX, () => this.chunkIndexes.reduce((sum, index) => sum + this.records.writeChunkIndex(index), 0n));
    const summaryOffsetStart = summaryStart + BigInt(this.records.length);
    for (const offset of groups) this.records.writeSummaryOffset(offset);
    this.records.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: 0 });
    this.records.writeMagic();
    await this.flushRecords();
  }

  /** The schema and channel records a lane's chunk needs before its first message on a channel. */
  private define(lane: Lane, channelId: number): void {
    if (lane.channels.has(channelId)) return;
    const channel = this.channels.get(channelId);
    if (channel === undefined) throw new Error(`addMessage: no channel ${channelId} (register it first)`);
    if (channel.schemaId !== 0 && !lane.schemas.has(channel.schemaId)) {
      const schema = this.schemas.get(channel.schemaId);
      if (schema === undefined) throw new Error(`addMessage: channel ${channelId} names no registered schema ${channel.schemaId}`);
      lane.builder.addSchema(schema);
      lane.schemas.add(channel.schemaId);
    }
    lane.builder.addChannel(channel);
    lane.channels.add(channelId);
  }

  private async finishChunk(lane: Lane): Promise<void> {
    const { builder } = lane;
    if (builder.numMessages === 0) return;
    const data = builder.buffer;
    const uncompressedCrc = crc32(data);
    const { compression, compressedData } = this.compressChunk?.([data]) ?? { compression: '', compressedData: data };
    const chunkStartOffset = this.writable.position();
    const chunkLength = this.records.writeChunk({
      messageStartTime: builder.messageStartTime,
      messageEndTime: builder.messageEndTime,
      uncompressedSize: BigInt(data.byteLength),
      uncompressedCrc,
      compression,
      records: compressedData,
    });
    const messageIndexStart = chunkStartOffset + chunkLength;
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of builder.indices) {
      if (index.records.length === 0) continue;
      messageIndexOffsets.set(index.channelId, messageIndexStart + messageIndexLength);
      messageIndexLength += this.records.writeMessageIndex(index);
    }
    this.chunkIndexes.push({
      messageStartTime: builder.messageStartTime,
      messageEndTime: builder.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression,
      compressedSize: BigInt(compressedData.byteLength),
      uncompressedSize: BigInt(data.byteLength),
    });
    this.statistics.chunkCount++;
    builder.reset();
    // A new chunk must define its channels again (a reader may start at any chunk).
    lane.channels.clear();
    lane.schemas.clear();
    await this.flushRecords();
  }

  private async flushRecords(): Promise<void> {
    if (this.records.length === 0) return;
    await this.writable.write(this.records.buffer.subarray(0, this.records.length));
    this.records.reset();
  }
}
