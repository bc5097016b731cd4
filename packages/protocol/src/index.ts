// @webmon/protocol — the one definition of every message webmon sends or receives.
//
// Each module below either uses zod (the schemas, the server's side) or does not (constants, the frame
// decoder, the client's codec with its hand-written checks). With `sideEffects: false` and one file per
// module in dist/, a bundler keeps only the modules a page uses: a client that reads the wire gets no zod.

// Errors
export { ProtocolError, ProtocolErrorCode, isProtocolError } from './errors.js';
export type { ProtocolIssue } from './errors.js';

// JSON values
export { JsonValueSchema } from './json.js';
export type { JsonValue } from './json.js';

// The webmon.v1 browser protocol: constants (no zod), the schemas and the server's codec (zod), the
// client's codec (no zod: hand-written checks with the schemas' verdict)
export { ChunkDefaults, CloseCode, PROTOCOL_VERSION, ProtocolLimits, SUBPROTOCOL, TIMELINE_STATES, TimelineLimits } from './constants.js';
export { encodeClientMessage, parseServerMessage } from './client-codec.js';
export {
  AckMessageSchema,
  ClientMessageSchema,
  CommandMessageSchema,
  CommandNameSchema,
  DataItemSchema,
  DataMessageSchema,
  DeliveryModeSchema,
  ErrorMessageSchema,
  GapMessageSchema,
  HandledMessageSchema,
  HelloMessageSchema,
  NoTimelineMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  ReceivedMessageSchema,
  ServerMessageSchema,
  SnapshotMessageSchema,
  StatusCodeSchema,
  StatusMessageSchema,
  SubscribeMessageSchema,
  TimelineMessageSchema,
  TopicInfoSchema,
  TopicNameSchema,
  TopicsMessageSchema,
  UnsubscribeMessageSchema,
  ViewMessageSchema,
  WireErrorCodeSchema,
  encodeServerMessage,
  parseClientMessage,
} from './browser.js';
export type {
  AckMessage,
  ClientMessage,
  CommandMessage,
  CommandName,
  DataItem,
  DataMessage,
  DeliveryMode,
  ErrorMessage,
  GapMessage,
  HandledMessage,
  HelloMessage,
  NoTimelineMessage,
  PingMessage,
  PongMessage,
  ReceivedMessage,
  ServerMessage,
  SnapshotMessage,
  StatusCode,
  StatusMessage,
  SubscribeMessage,
  TimelineMessage,
  TopicInfo,
  TopicName,
  TopicsMessage,
  UnsubscribeMessage,
  ViewMessage,
  WireErrorCode,
} from './browser.js';

// Topics and schema ids
export { SchemaId } from './topics.js';

// Binary array frames: the decoder (no zod), the header schema and the encoder (zod)
export { DTYPE_ITEM_SIZE, FRAME_MAGIC, FRAME_VERSION, FrameLimits, decodeFrame, isFrame, typedArrayClassOf } from './frame.js';
export type { DecodeFrameOptions, DecodedFrame, FrameTypedArray } from './frame.js';
export { FrameDTypeSchema, FrameHeaderSchema, FrameViewSchema, NumericDTypeSchema, RecordFieldSchema } from './frame-schema.js';
export type { FrameDType, FrameHeader, FrameView, NumericDType, RecordField } from './frame-schema.js';
export { encodeFrame, encodeFrameHeader } from './frame-encode.js';
export type { FrameInit } from './frame-encode.js';

// Chunked frames (1.5): a big frame cut into chunks, and their reassembly (no zod)
export { CHUNK_HEADER_BYTES, CHUNK_MAGIC, CHUNK_VERSION, ChunkAssembler, decodeChunkHeader, encodeChunkHeader, isChunk } from './chunks.js';
export type { ChunkAssemblerOptions, ChunkHeader } from './chunks.js';

// Numeric dtypes: the one table of numpy typestrs, item sizes and typed arrays
// (NumericDTypeSchema, NumericDType, DTYPE_ITEM_SIZE and typedArrayClassOf are exported with the frames above)
export { NUMERIC_DTYPES, dtypeFromNumpyKind, dtypeFromNumpyTypestr, numpyTypestrOf } from './dtypes.js';
export type { NumericDTypeInfo, NumericKind, NumericTypedArray, NumericTypedArrayClass, TypedArrayName } from './dtypes.js';

// JSON Schema export
export { allJsonSchemas, jsonSchemaFileName, schemasById, toJsonSchema } from './json-schema.js';

// Array views (1.3): what a page asks of an array topic (schemas: zod; the key, float16 and reading values
// back: no zod, so a page can use them without bundling the schemas)
export { VIEW_DTYPES, VIEW_RESAMPLES, ViewLimits } from './constants.js';
export { ArrayViewSchema, ViewDTypeSchema, ViewRegionSchema, ViewResampleSchema } from './views.js';
export type { ArrayView, ViewDType, ViewRegion, ViewResample } from './views.js';
export { canonicalView, viewKey } from './view-key.js';
export type { CanonicalArrayView } from './view-key.js';
export { frameValues } from './frame-values.js';
export { float16Bits, float16Value } from './float16.js';
