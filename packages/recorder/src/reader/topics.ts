/**
 * A recording's channels as relay topics: the inverse of `layout.ts`. webmon's own channels carry their
 * topic's delivery mode and schema id in the channel metadata; a JSON channel from another tool replays as a
 * `latest` topic of generic JSON. The `foxglove.RawImage` channels webmon adds beside image topics are a
 * second copy of those frames for Foxglove, not topics of their own.
 */
import { SchemaId, TopicNameSchema, type TopicInfo } from '@webmon/protocol';
import type { McapTypes } from '@mcap/core';
import { FRAME_MESSAGE_ENCODING } from '../layout.js';

export interface ChannelTopics {
  /** One per topic name (a topic declared again with other options keeps its newest declaration). */
  topics: TopicInfo[];
  /** Topic name of every replayable channel. */
  topicOf: Map<number, string>;
  /** Channels that are no topic webmon can serve (foreign encodings, bad names), by topic and encoding. */
  unknown: string[];
}

function modeOf(metadata: ReadonlyMap<string, string>): 'latest' | 'stream' {
  return metadata.get('webmon.mode') === 'stream' ? 'stream' : 'latest';
}

export function topicsOfChannels(channels: ReadonlyMap<number, McapTypes.Channel>): ChannelTopics {
  const byName = new Map<string, TopicInfo>();
  const topicOf = new Map<number, string>();
  const unknown: string[] = [];
  for (const channel of [...channels.values()].sort((a, b) => a.id - b.id)) {
    const { metadata } = channel;
    if (metadata.has('webmon.source')) continue; // a RawImage copy of a frame topic
    const binary = channel.messageEncoding === FRAME_MESSAGE_ENCODING;
    if ((!binary && channel.messageEncoding !== 'json') || !TopicNameSchema.safeParse(channel.topic).success) {
      unknown.push(`${channel.topic} (${channel.messageEncoding})`);
      continue;
    }
    const replayMs = Number(metadata.get('webmon.replayMs'));
    const info: TopicInfo = {
      name: channel.topic,
      mode: modeOf(metadata),
      schema: metadata.get('webmon.schema') ?? (binary ? SchemaId.frame : SchemaId.json),
      ...(binary ? { binary: true } : {}),
      ...(Number.isFinite(replayMs) && replayMs > 0 ? { replayMs } : {}),
    };
    byName.set(info.name, info);
    topicOf.set(channel.id, info.name);
  }
  return { topics: [...byName.values()], topicOf, unknown };
}
