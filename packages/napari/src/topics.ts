/**
 * How napari's monitor maps onto webmon topics. One table for the names the built-in pages rely on,
 * one rule for everything else napari (or a plugin) shares, so a key or message kind nobody has seen
 * before still gets a predictable topic.
 */
import type { DeliveryMode } from '@webmon/protocol';

/** Ids of napari's payload schemas, announced in `TopicInfo.schema` (JSON Schema files in `schema/`). */
export const NapariSchemaId = {
  poll: 'webmon.v1/napari.poll',
  frameTime: 'webmon.v1/napari.frame_time',
  loadChunk: 'webmon.v1/napari.load_chunk',
  message: 'webmon.v1/napari.message',
  command: 'webmon.v1/napari.command',
  info: 'webmon.v1/napari.info',
} as const;
export type NapariSchemaId = (typeof NapariSchemaId)[keyof typeof NapariSchemaId];

/** The default topic prefix of a napari source; a second napari window gets another (`napari2`). */
export const DEFAULT_NAPARI_PREFIX = 'napari';

export interface NapariTopicDefinition {
  readonly name: string;
  readonly mode: DeliveryMode;
  readonly schema: string;
}

/** The topics the built-in pages use, for the default prefix. */
export const NapariTopics = {
  /** The `poll` entry of `napari_data` (layer tile state), newest only. */
  layers: { name: 'napari.layers', mode: 'latest', schema: NapariSchemaId.poll },
  /** `frame_time` messages, in order. */
  frameTime: { name: 'napari.frame_time', mode: 'stream', schema: NapariSchemaId.frameTime },
  /** `load_chunk` messages, in order. */
  loadChunk: { name: 'napari.load_chunk', mode: 'stream', schema: NapariSchemaId.loadChunk },
  /** What this napari can do (octree data present, commands it runs), newest only. */
  info: { name: 'napari.info', mode: 'latest', schema: NapariSchemaId.info },
  /** The image a plugin publishes through a shared-memory ring named `napari.image`. */
  image: { name: 'napari.image', mode: 'latest', schema: 'webmon.v1/frame' },
} as const satisfies Record<string, NapariTopicDefinition>;

/** Topic names (after the prefix) the bridge uses for JSON topics; rings that ask for them go under `ring.`. */
const RESERVED_TAILS = new Set(['layers', 'frame_time', 'load_chunk', 'info']);

/** Longest topic name the protocol accepts (`ProtocolLimits.maxTopicLength`). */
const MAX_TOPIC_LENGTH = 128;
const PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** Checks a source prefix: a letter, then letters, digits, `_` or `-` (at most 32). */
export function isNapariPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix);
}

/** Where each kind of napari data goes, for one source prefix. */
export interface NapariTopicNames {
  /** `napari_data['poll']` → `<prefix>.layers`. */
  readonly layers: string;
  readonly frameTime: string;
  readonly loadChunk: string;
  readonly info: string;
  /** Any other `napari_data` key → `<prefix>.data.<key>` (latest). */
  data(key: string): string;
  /** A message kind: `frame_time` / `load_chunk` as above, any other → `<prefix>.message.<kind>` (stream). */
  message(kind: string): string;
  /**
   * A ring named in `napari_data['webmon_rings']` → `<prefix>.<name>` (a leading `napari.` dropped), or
   * `<prefix>.ring.<name>` when that would take the name of one of the source's JSON topics.
   */
  ring(name: string): string;
}

/** The topic names of the napari source with this prefix. */
export function napariTopicNames(prefix: string = DEFAULT_NAPARI_PREFIX): NapariTopicNames {
  if (!isNapariPrefix(prefix)) throw new TypeError(`invalid napari topic prefix ${JSON.stringify(prefix)}: a letter, then letters, digits, _ or - (at most 32)`);
  return {
    layers: `${prefix}.layers`,
    frameTime: `${prefix}.frame_time`,
    loadChunk: `${prefix}.load_chunk`,
    info: `${prefix}.info`,
    data: (key) => topicName(`${prefix}.data.`, key),
    message: (kind) => (kind === 'frame_time' ? `${prefix}.frame_time` : kind === 'load_chunk' ? `${prefix}.load_chunk` : topicName(`${prefix}.message.`, kind)),
    ring: (name) => {
      const tail = name.startsWith(`${DEFAULT_NAPARI_PREFIX}.`) ? name.slice(DEFAULT_NAPARI_PREFIX.length + 1) : name;
      // A ring must not take the name of a JSON topic of the same source (`layers`, `info`, `data.*`, …).
      return RESERVED_TAILS.has(tail) || /^(data|message|ring)\./.test(tail) ? topicName(`${prefix}.ring.`, tail) : topicName(`${prefix}.`, tail);
    },
  };
}

/**
 * `head` + a safe form of a name Python chose: characters a topic may not hold become `_`, and a name
 * that would make the topic too long (or that had to be changed) keeps its start plus a short hash of
 * the original, so two different keys never share a topic.
 */
function topicName(head: string, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  const room = MAX_TOPIC_LENGTH - head.length;
  if (safe === name && safe.length > 0 && safe.length <= room) return head + safe;
  const hash = fnv1a(name);
  return `${head}${safe.slice(0, Math.max(0, room - hash.length - 1))}_${hash}`;
}

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits: stable across runs and processes. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
