import { open } from 'node:fs/promises';
import { McapIndexedReader, McapStreamReader, type McapTypes } from '@mcap/core';
import { decompressHandlers } from '../src/index.js';

export interface ReadBack {
  channels: McapTypes.Channel[];
  schemas: McapTypes.Schema[];
  /** Messages per channel topic. */
  counts: Map<string, number>;
  messages: { topic: string; message: McapTypes.Message }[];
}

/** Reads a complete recording through its index (summary, chunk indexes), as a replay would. */
export async function readIndexed(source: string | Uint8Array): Promise<ReadBack> {
  const handle = typeof source === 'string' ? await open(source, 'r') : undefined;
  const readable =
    handle === undefined
      ? { size: async () => BigInt((source as Uint8Array).byteLength), read: async (offset: bigint, size: bigint) => (source as Uint8Array).subarray(Number(offset), Number(offset + size)) }
      : {
          size: async () => BigInt((await handle.stat()).size),
          read: async (offset: bigint, size: bigint) => {
            const buffer = new Uint8Array(Number(size));
            await handle.read(buffer, 0, buffer.length, Number(offset));
            return buffer;
          },
        };
  try {
    const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: await decompressHandlers() });
    const out: ReadBack = { channels: [...reader.channelsById.values()], schemas: [...reader.schemasById.values()], counts: new Map(), messages: [] };
    for await (const message of reader.readMessages()) {
      const topic = reader.channelsById.get(message.channelId)?.topic ?? '?';
      out.counts.set(topic, (out.counts.get(topic) ?? 0) + 1);
      out.messages.push({ topic, message });
    }
    return out;
  } finally {
    await handle?.close();
  }
}

/** Reads a file front to back with the stream reader: what is left of a recording cut off by a crash. */
export async function readStream(bytes: Uint8Array): Promise<{ counts: Map<string, number>; channels: Map<number, McapTypes.Channel>; complete: boolean }> {
  const reader = new McapStreamReader({ decompressHandlers: await decompressHandlers() });
  reader.append(bytes);
  const channels = new Map<number, McapTypes.Channel>();
  const counts = new Map<string, number>();
  let complete = false;
  for (let record; (record = reader.nextRecord()); ) {
    if (record.type === 'Channel') channels.set(record.id, record);
    if (record.type === 'Message') {
      const topic = channels.get(record.channelId)?.topic ?? '?';
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
    }
    if (record.type === 'Footer') complete = true;
  }
  return { counts, channels, complete };
}
