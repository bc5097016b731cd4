/**
 * Rebuilds the index of a recording that has none (cut off by a crash: no summary, no footer) or whose
 * summary is unreadable, from its data section: the file is walked record by record reading only record
 * headers (a chunk's 9-byte prefix and its own header, never its data), so a 1 GiB file costs a few
 * thousand small reads. A chunk's data is decompressed only when it introduces a channel not yet known, or
 * when the crash left it without its message indexes (they are made in memory). Everything after the last
 * whole record is the cut: what is before it replays.
 */
import { McapRecordBuilder, McapStreamReader, Opcode, type McapTypes } from '@mcap/core';
import { PRIVATE_OPCODES_FROM } from '../layout.js';
import { MAX_READ_BYTES, type Readable } from './readable.js';
import type { RecordingIndex } from './summary.js';

export type Decompress = (chunk: McapTypes.ChunkIndex, records: Uint8Array) => Uint8Array;

export interface ScanResult {
  index: RecordingIndex;
  /** Byte offset where the readable data ends (the file's size when nothing was cut off). */
  cutAt: bigint;
  /** True when the data section did not end with a summary (the file was cut off, or damaged mid-way). */
  truncated: boolean;
  /** Chunks that could not be read (unknown compression, damaged data): left out of the index. */
  skippedChunks: number;
  /** Messages the file holds outside chunks (an unchunked file): not replayable through an index. */
  unchunkedMessages: number;
}

const MAGIC_BYTES = 8n;
const RECORD_PREFIX = 9n;
/** Opcodes that start the summary: the data section ends before them. */
const SUMMARY_OPCODES = new Set<number>([Opcode.DATA_END, Opcode.FOOTER, Opcode.CHUNK_INDEX, Opcode.STATISTICS, Opcode.SUMMARY_OFFSET, Opcode.METADATA_INDEX, Opcode.ATTACHMENT_INDEX]);

function u64(view: DataView, at: number): bigint {
  return view.getBigUint64(at, true);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Opcodes whose records the scan keeps (what the summary needs); messages are found by their framing alone. */
const DEFINITIONS = new Set<number>([Opcode.SCHEMA, Opcode.CHANNEL, Opcode.METADATA]);

/**
 * Schema, Channel and Metadata records out of some whole records (top level, or a chunk's content). Only
 * those are handed to the stream reader: given a chunk's messages, it would refuse those on channels an
 * earlier chunk defined.
 */
function parseRecords(bytes: Uint8Array): McapTypes.TypedMcapRecord[] {
  const view = viewOf(bytes);
  const reader = new McapStreamReader({ noMagicPrefix: true, validateCrcs: false });
  for (let at = 0; at + 9 <= bytes.byteLength; ) {
    const end = at + 9 + Number(u64(view, at + 1));
    if (end > bytes.byteLength) break;
    if (DEFINITIONS.has(view.getUint8(at))) reader.append(bytes.subarray(at, end));
    at = end;
  }
  const out: McapTypes.TypedMcapRecord[] = [];
  for (let record; (record = reader.nextRecord()); ) out.push(record);
  return out;
}

/** Message index records for a chunk's messages, found by walking its uncompressed records. */
function messageIndexesOf(records: Uint8Array): Map<number, [bigint, bigint][]> {
  const view = viewOf(records);
  const byChannel = new Map<number, [bigint, bigint][]>();
  let at = 0;
  while (at + 9 <= records.byteLength) {
    const opcode = view.getUint8(at);
    const length = Number(u64(view, at + 1));
    if (at + 9 + length > records.byteLength) break;
    if (opcode === Opcode.MESSAGE && length >= 22) {
      const channelId = view.getUint16(at + 9, true);
      const logTime = u64(view, at + 9 + 6);
      let list = byChannel.get(channelId);
      if (list === undefined) byChannel.set(channelId, (list = []));
      list.push([logTime, BigInt(at)]);
    }
    at += 9 + length;
  }
  return byChannel;
}

export async function scanRecording(readable: Readable, size: bigint, decompress: Decompress): Promise<ScanResult> {
  const schemas = new Map<number, McapTypes.Schema>();
  const channels = new Map<number, McapTypes.Channel>();
  const chunkIndexes: McapTypes.ChunkIndex[] = [];
  const metadataIndexes: McapTypes.MetadataIndex[] = [];
  const channelMessageCounts = new Map<number, bigint>();
  const extra = new McapRecordBuilder();
  /** Chunks whose message indexes the crash cut off, with where their own would have started. */
  const needingIndexes: McapTypes.ChunkIndex[] = [];
  let skippedChunks = 0;
  let unchunkedMessages = 0;

  const learn = (records: McapTypes.TypedMcapRecord[]): void => {
    for (const record of records) {
      if (record.type === 'Schema') schemas.set(record.id, record);
      else if (record.type === 'Channel') channels.set(record.id, record);
    }
  };
  /** Messages per channel in each chunk (from its message indexes), summed over the chunks kept. */
  const chunkCounts = new Map<McapTypes.ChunkIndex, Map<number, bigint>>();
  const count = (chunk: McapTypes.ChunkIndex, channelId: number, n: bigint): void => {
    let counts = chunkCounts.get(chunk);
    if (counts === undefined) chunkCounts.set(chunk, (counts = new Map()));
    counts.set(channelId, (counts.get(channelId) ?? 0n) + n);
  };

  let at = MAGIC_BYTES;
  /** Why the walk stopped: the summary began (the data section is whole), the file ended, or damage. */
  let ending: 'summary' | 'end' | 'damage' = 'end';
  let current: McapTypes.ChunkIndex | undefined;
  while (at + RECORD_PREFIX <= size) {
    const prefix = viewOf(await readable.read(at, RECORD_PREFIX));
    const opcode = prefix.getUint8(0);
    const length = u64(prefix, 1);
    const end = at + RECORD_PREFIX + length;
    if (end > size) break; // cut off in the middle of this record
    if (SUMMARY_OPCODES.has(opcode)) {
      ending = 'summary'; // the data section is whole; only its summary was unreadable
      break;
    }
    if (opcode !== Opcode.MESSAGE_INDEX && current !== undefined) {
      // The chunk before had no message indexes of its own.
      if (current.messageIndexOffsets.size === 0) needingIndexes.push(current);
      current = undefined;
    }
    if (opcode === Opcode.CHUNK) {
      const head = viewOf(await readable.read(at + RECORD_PREFIX, length < 64n ? length : 64n));
      const compressionLength = head.getUint32(28, true);
      if (32 + compressionLength + 8 > head.byteLength) throw new RangeError(`chunk at ${at}: a compression name of ${compressionLength} bytes`);
      const compression = new TextDecoder().decode(new Uint8Array(head.buffer, head.byteOffset + 32, compressionLength));
      const compressedSize = u64(head, 32 + compressionLength);
      current = {
        messageStartTime: u64(head, 0),
        messageEndTime: u64(head, 8),
        chunkStartOffset: at,
        chunkLength: end - at,
        messageIndexOffsets: new Map(),
        messageIndexLength: 0n,
        compression,
        compressedSize,
        uncompressedSize: u64(head, 16),
      };
      chunkIndexes.push(current);
    } else if (opcode === Opcode.MESSAGE_INDEX && current !== undefined) {
      const head = viewOf(await readable.read(at + RECORD_PREFIX, 6n));
      const channelId = head.getUint16(0, true);
      current.messageIndexOffsets.set(channelId, at);
      current.messageIndexLength += end - at;
      count(current, channelId, BigInt(head.getUint32(2, true)) / 16n);
    } else if (opcode === Opcode.SCHEMA || opcode === Opcode.CHANNEL || opcode === Opcode.METADATA) {
      if (end - at > BigInt(MAX_READ_BYTES)) throw new RangeError(`record at ${at} claims ${length} bytes`);
      const records = parseRecords(await readable.read(at, end - at));
      learn(records);
      for (const record of records) if (record.type === 'Metadata') metadataIndexes.push({ offset: at, length: end - at, name: record.name });
    } else if (opcode === Opcode.MESSAGE) {
      unchunkedMessages++;
    } else if (opcode >= PRIVATE_OPCODES_FROM) {
      // A private record (webmon's padding before a frame's chunk, or another writer's): skipped.
    } else if (opcode === 0 || opcode > Opcode.MAX) {
      // Not a record webmon or any MCAP writer makes: damage. What follows cannot be trusted.
      ending = 'damage';
      break;
    }
    at = end;
  }
  if (current !== undefined && ending === 'end' && current.messageIndexOffsets.size > 0) {
    // The crash may have cut the last chunk's message indexes part way: make them all again from the chunk.
    chunkCounts.delete(current);
    current.messageIndexOffsets.clear();
    current.messageIndexLength = 0n;
  }
  if (current !== undefined && current.messageIndexOffsets.size === 0) needingIndexes.push(current);
  const cutAt = at;

  // Channels only a chunk's content defines, and message indexes the crash cut off: from the chunk itself.
  const unreadable = new Set<McapTypes.ChunkIndex>();
  for (const chunk of chunkIndexes) {
    const needsIndexes = needingIndexes.includes(chunk);
    const introducesChannel = [...chunk.messageIndexOffsets.keys()].some((id) => !channels.has(id));
    if (!needsIndexes && !introducesChannel && channels.size > 0) continue;
    let records: Uint8Array;
    try {
      if (chunk.chunkLength > BigInt(MAX_READ_BYTES)) throw new RangeError('chunk too large');
      const bytes = await readable.read(chunk.chunkStartOffset, chunk.chunkLength);
      const headerBytes = BigInt(RECORD_PREFIX) + 8n + 8n + 8n + 4n + 4n + BigInt(new TextEncoder().encode(chunk.compression).length) + 8n;
      records = decompress(chunk, bytes.subarray(Number(headerBytes)));
      learn(parseRecords(records));
    } catch {
      unreadable.add(chunk);
      continue;
    }
    if (!needsIndexes) continue;
    const first = extra.length;
    for (const [channelId, entries] of messageIndexesOf(records)) {
      chunk.messageIndexOffsets.set(channelId, cutAt + BigInt(extra.length));
      extra.writeMessageIndex({ channelId, records: entries });
      count(chunk, channelId, BigInt(entries.length));
    }
    chunk.messageIndexLength = BigInt(extra.length - first);
    if (chunk.messageIndexOffsets.size === 0) {
      // No messages at all: the indexed reader accepts that only with zero times.
      chunk.messageStartTime = 0n;
      chunk.messageEndTime = 0n;
    }
  }
  skippedChunks = unreadable.size;
  for (const [chunk, counts] of chunkCounts) {
    if (unreadable.has(chunk)) continue;
    for (const [channelId, n] of counts) channelMessageCounts.set(channelId, (channelMessageCounts.get(channelId) ?? 0n) + n);
  }
  const index: RecordingIndex = {
    cut: cutAt,
    extraMessageIndexes: extra.buffer.slice(0, extra.length),
    schemas,
    channels,
    chunkIndexes: chunkIndexes.filter((chunk) => !unreadable.has(chunk)),
    metadataIndexes,
    channelMessageCounts,
  };
  return { index, cutAt, truncated: ending !== 'summary', skippedChunks, unchunkedMessages };
}
