import type { DeliveryMode } from './browser.js';

/** Ids of the payload schemas that `TopicInfo.schema` names; each has a JSON Schema file in `schema/`. */
export const SchemaId = {
  napariPoll: 'webmon.v1/napari.poll',
  napariFrameTime: 'webmon.v1/napari.frame_time',
  napariLoadChunk: 'webmon.v1/napari.load_chunk',
  napariMessage: 'webmon.v1/napari.message',
  napariCommand: 'webmon.v1/napari.command',
  serverMessage: 'webmon.v1/server-message',
  clientMessage: 'webmon.v1/client-message',
  frameHeader: 'webmon.v1/frame-header',
} as const;
export type SchemaId = (typeof SchemaId)[keyof typeof SchemaId];

export interface TopicDefinition {
  readonly name: string;
  readonly mode: DeliveryMode;
  readonly schema: SchemaId;
}

/** The topics through which napari's monitor data reaches pages. */
export const NapariTopics = {
  /** The `poll` entry of `napari_data` (layer tile state), newest only. */
  layers: { name: 'napari.layers', mode: 'latest', schema: SchemaId.napariPoll },
  /** `frame_time` messages, in order. */
  frameTime: { name: 'napari.frame_time', mode: 'stream', schema: SchemaId.napariFrameTime },
  /** `load_chunk` messages, in order. */
  loadChunk: { name: 'napari.load_chunk', mode: 'stream', schema: SchemaId.napariLoadChunk },
  /** Every other `napari_messages` item, as `{name: value}` — carried, never dropped. */
  messages: { name: 'napari.messages', mode: 'stream', schema: SchemaId.napariMessage },
} as const satisfies Record<string, TopicDefinition>;
