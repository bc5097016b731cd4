/**
 * The index of a recording as plain data, and the MCAP summary section made from it. A complete file's
 * index comes from its own summary; a file cut off by a crash gets one from a scan of its data section
 * (`scan.ts`); a damaged chunk is left out by making the summary again without it.
 */
import { McapRecordBuilder, type McapTypes } from '@mcap/core';

export interface RecordingIndex {
  /** Where the data section ends in the file: the summary made here starts at this offset. */
  cut: bigint;
  /** Message index records made in memory (for a chunk the crash left without its own), placed at `cut`. */
  extraMessageIndexes: Uint8Array;
  schemas: Map<number, McapTypes.Schema>;
  channels: Map<number, McapTypes.Channel>;
  chunkIndexes: McapTypes.ChunkIndex[];
  metadataIndexes: McapTypes.MetadataIndex[];
  /** Messages per channel id, when known. */
  channelMessageCounts: Map<number, bigint>;
}

/** The bytes that follow `index.cut`: extra message indexes, DataEnd, the summary section, Footer, magic. */
export function summaryTail(index: RecordingIndex): Uint8Array {
  const builder = new McapRecordBuilder();
  const prefix = index.extraMessageIndexes.byteLength;
  builder.writeDataEnd({ dataSectionCrc: 0 });
  const summaryStart = index.cut + BigInt(prefix) + BigInt(builder.length);
  for (const schema of index.schemas.values()) builder.writeSchema(schema);
  for (const channel of index.channels.values()) builder.writeChannel(channel);
  let messageCount = 0n;
  for (const count of index.channelMessageCounts.values()) messageCount += count;
  const times = index.chunkIndexes.filter((chunk) => chunk.messageEndTime !== 0n || chunk.messageStartTime !== 0n);
  builder.writeStatistics({
    messageCount,
    schemaCount: index.schemas.size,
    channelCount: index.channels.size,
    attachmentCount: 0,
    metadataCount: index.metadataIndexes.length,
    chunkCount: index.chunkIndexes.length,
    messageStartTime: times.reduce((min, chunk) => (chunk.messageStartTime < min ? chunk.messageStartTime : min), times[0]?.messageStartTime ?? 0n),
    messageEndTime: times.reduce((max, chunk) => (chunk.messageEndTime > max ? chunk.messageEndTime : max), 0n),
    channelMessageCounts: index.channelMessageCounts,
  });
  for (const chunk of index.chunkIndexes) builder.writeChunkIndex(chunk);
  for (const metadata of index.metadataIndexes) builder.writeMetadataIndex(metadata);
  builder.writeFooter({ summaryStart, summaryOffsetStart: 0n, summaryCrc: 0 });
  builder.writeMagic();
  const tail = new Uint8Array(prefix + builder.length);
  tail.set(index.extraMessageIndexes, 0);
  tail.set(builder.buffer.subarray(0, builder.length), prefix);
  return tail;
}
