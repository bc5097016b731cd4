/**
 * What a recording holds, decided in one place: the channels, schemas and message encodings of every
 * topic (the file layout in the README is this file in prose).
 *
 * - a JSON topic → channel `<topic>`, message encoding `json`, schema `<TopicInfo.schema>` in `jsonschema`
 *   encoding (the JSON Schema the source publishes for that id, or "any JSON value" when none is known);
 * - a binary topic → channel `<topic>`, message encoding `webmon.frame.v1`: each message is the webmon.v1
 *   binary frame as pages receive it (`WMF\x01`, u32 LE header length, JSON header, array data); its schema
 *   (`webmon.v1/frame`, `jsonschema`) is the JSON Schema of that header, with the byte layout in its description;
 * - a binary topic whose frames are 2-D mono images (uint8, uint16, float32, C order) → also channel
 *   `<topic>/image`, message encoding `json`, schema `foxglove.RawImage`: what Foxglove and Lichtblick show as an image.
 */
import { SchemaId, toJsonSchema, type FrameInit, type TopicInfo } from '@webmon/protocol';

export const FRAME_MESSAGE_ENCODING = 'webmon.frame.v1';
export const RAW_IMAGE_SCHEMA = 'foxglove.RawImage';
export const IMAGE_CHANNEL_SUFFIX = '/image';
/**
 * A recording's format, in a metadata record named `webmon` (`format`): raised when a change would make an
 * older reader misread a file, so that an older webmon refuses a newer file with a clear error instead.
 */
export const FORMAT_METADATA_NAME = 'webmon';
export const FILE_FORMAT_VERSION = 1;
/** Opcodes 0x80–0xFF are the MCAP spec's for private records, which readers skip. */
export const PRIVATE_OPCODES_FROM = 0x80;
/**
 * webmon's padding record, a private record of zeros: put before a frame's chunk so the frame lands in
 * the file where it can be written from its own memory (`direct-file-writable.ts`). Readers skip it;
 * indexed readers never reach it.
 */
export const PADDING_OPCODE = PRIVATE_OPCODES_FROM;
/** The smallest MCAP record: an opcode and a u64 length (a padding record is at least this long). */
export const MIN_RECORD_BYTES = 9;
/** MCAP header `profile`: empty (no ROS profile), the library string names webmon. */
export const LIBRARY = 'webmon recorder (@webmon/recorder)';

/** A topic's JSON Schema by its `TopicInfo.schema` id; `undefined` when the id is unknown. */
export type JsonSchemaLookup = (schemaId: string) => Record<string, unknown> | undefined;

export interface SchemaSpec {
  name: string;
  encoding: string;
  data: Uint8Array;
}

export interface ChannelSpec {
  topic: string;
  messageEncoding: string;
  schema: SchemaSpec;
  metadata: Map<string, string>;
}

const utf8 = new TextEncoder();
const GENERIC_IDS = new Set<string>(Object.values(SchemaId));

function jsonSchemaSpec(name: string, schema: Record<string, unknown>): SchemaSpec {
  return { name, encoding: 'jsonschema', data: utf8.encode(JSON.stringify(schema)) };
}

/** The generic ids from `@webmon/protocol`, then the host's lookup, then "any JSON value". */
export function schemaOf(id: string, lookup: JsonSchemaLookup | undefined): Record<string, unknown> {
  if (GENERIC_IDS.has(id)) return toJsonSchema(id as SchemaId);
  const found = lookup?.(id);
  if (found !== undefined) return found;
  return { ...toJsonSchema(SchemaId.json), title: id, description: `webmon topic schema ${id} (its JSON Schema was not known to the recorder: any JSON value)` };
}

const FRAME_LAYOUT =
  'A webmon.v1 binary array frame: bytes 0-3 "WMF" and version 0x01; bytes 4-7 the header length H (uint32, little-endian); ' +
  'then H bytes of UTF-8 JSON described by this schema (space-padded so that 8 + H is a multiple of 8); then header.byteLength ' +
  'bytes of array data, little-endian, C order unless header.order is "F", shaped by header.shape and typed by header.dtype.';

let frameSchema: SchemaSpec | undefined;

function frameSchemaSpec(): SchemaSpec {
  frameSchema ??= jsonSchemaSpec(SchemaId.frame, { ...toJsonSchema(SchemaId.frameHeader), title: SchemaId.frame, description: FRAME_LAYOUT });
  return frameSchema;
}

/** Foxglove's RawImage message in its JSON form (written from the field list Foxglove documents). */
const RAW_IMAGE_JSON_SCHEMA = {
  title: RAW_IMAGE_SCHEMA,
  description: 'A raw image',
  type: 'object',
  properties: {
    timestamp: {
      type: 'object',
      title: 'time',
      properties: { sec: { type: 'integer', minimum: 0 }, nsec: { type: 'integer', minimum: 0, maximum: 999_999_999 } },
    },
    frame_id: { type: 'string' },
    width: { type: 'integer', minimum: 0 },
    height: { type: 'integer', minimum: 0 },
    encoding: { type: 'string' },
    step: { type: 'integer', minimum: 0 },
    data: { type: 'string', contentEncoding: 'base64' },
  },
} as const;

let rawImageSchema: SchemaSpec | undefined;

export function channelOf(info: TopicInfo, lookup: JsonSchemaLookup | undefined): ChannelSpec {
  const metadata = new Map<string, string>([
    ['webmon.mode', info.mode],
    ['webmon.schema', info.schema],
    ['webmon.binary', info.binary === true ? 'true' : 'false'],
  ]);
  // How far back a page's chart looks on this topic: a replay gives late joiners the same window.
  if (info.replayMs !== undefined) metadata.set('webmon.replayMs', String(info.replayMs));
  if (info.binary === true) return { topic: info.name, messageEncoding: FRAME_MESSAGE_ENCODING, schema: frameSchemaSpec(), metadata };
  return { topic: info.name, messageEncoding: 'json', schema: jsonSchemaSpec(info.schema, schemaOf(info.schema, lookup)), metadata };
}

export function imageChannelOf(info: TopicInfo): ChannelSpec {
  rawImageSchema ??= jsonSchemaSpec(RAW_IMAGE_SCHEMA, RAW_IMAGE_JSON_SCHEMA);
  return { topic: `${info.name}${IMAGE_CHANNEL_SUFFIX}`, messageEncoding: 'json', schema: rawImageSchema, metadata: new Map([['webmon.source', info.name]]) };
}

/** The RawImage encoding of each dtype an image channel is written for, with its bytes per pixel. */
const IMAGE_ENCODINGS: Partial<Record<string, { encoding: string; itemSize: number }>> = {
  uint8: { encoding: 'mono8', itemSize: 1 },
  uint16: { encoding: 'mono16', itemSize: 2 },
  float32: { encoding: '32FC1', itemSize: 4 },
};

/** A 2-D mono image Foxglove can show: its size and encoding; else undefined. */
export function imageShapeOf(header: FrameInit): { width: number; height: number; encoding: string; itemSize: number } | undefined {
  const format = IMAGE_ENCODINGS[header.dtype];
  if (format === undefined || header.view !== undefined || header.order === 'F') return undefined;
  const shape = header.shape.length === 3 && header.shape[2] === 1 ? header.shape.slice(0, 2) : header.shape;
  if (shape.length !== 2) return undefined;
  const [height, width] = shape as [number, number];
  if (height === 0 || width === 0) return undefined;
  return { width, height, ...format };
}

/** Bytes of pixels encoded per base64 string: whole 3-byte groups, 64 KiB of text. */
const BASE64_SLICE_BYTES = 48 * 1024;

/**
 * The RawImage JSON message of an image frame; undefined when the frame is no 2-D mono image. Built in
 * one buffer of its final size (the base64 text written into it as Latin-1, which it is): no JSON string
 * of the whole message is made and encoded again, which for a 4 MiB frame is a 5.6 MB string.
 *
 * The pixels are encoded a slice at a time (`BASE64_SLICE_BYTES`). One string of the whole frame's base64
 * is 5.6 MB of fresh external memory per message: in the writer thread's profile `base64Slice` took
 * 6.5 ms per 4 MiB and the garbage collector ~3 ms more, though encoding alone takes ~0.8 ms where the
 * memory is warm. Strings of 64 KiB live and die in V8's young generation.
 */
export function rawImageMessage(
  topic: string,
  publishTime: bigint,
  header: FrameInit,
  data: Uint8Array,
  /** Where the message is built: a buffer of its own by default (not zero-filled: every byte is written). */
  allocate: (byteLength: number) => Uint8Array = (byteLength) => Buffer.allocUnsafeSlow(byteLength),
): Uint8Array | undefined {
  const image = imageShapeOf(header);
  if (image === undefined) return undefined;
  const source = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const pixels = Math.ceil(data.byteLength / 3) * 4;
  const sec = publishTime / 1_000_000_000n;
  const head = utf8.encode(
    `{"timestamp":{"sec":${sec},"nsec":${publishTime - sec * 1_000_000_000n}},"frame_id":${JSON.stringify(topic)},` +
      `"width":${image.width},"height":${image.height},"encoding":"${image.encoding}","step":${image.width * image.itemSize},"data":"`,
  );
  const tail = '"}';
  const message = allocate(head.byteLength + pixels + tail.length);
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  bytes.set(head, 0);
  let at = head.byteLength;
  // Whole groups of 3 bytes per slice, so the pieces' text joins up (only the last can end in '=').
  for (let start = 0; start < source.byteLength; start += BASE64_SLICE_BYTES) {
    at += bytes.write(source.toString('base64', start, Math.min(source.byteLength, start + BASE64_SLICE_BYTES)), at, 'latin1');
  }
  bytes.write(tail, at, 'latin1');
  return message;
}
