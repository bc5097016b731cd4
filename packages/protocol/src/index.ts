// @webmon/protocol — the one definition of every message webmon sends or receives.

// Errors
export { ProtocolError, ProtocolErrorCode, isProtocolError } from './errors.js';
export type { ProtocolIssue } from './errors.js';

// JSON values
export { JsonValueSchema } from './json.js';
export type { JsonValue } from './json.js';

// The webmon.v1 browser protocol
export {
  AckMessageSchema,
  ClientMessageSchema,
  CloseCode,
  CommandMessageSchema,
  CommandNameSchema,
  DataItemSchema,
  DataMessageSchema,
  DeliveryModeSchema,
  ErrorMessageSchema,
  GapMessageSchema,
  HandledMessageSchema,
  HelloMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  PROTOCOL_VERSION,
  ProtocolLimits,
  ServerMessageSchema,
  SnapshotMessageSchema,
  StatusCodeSchema,
  StatusMessageSchema,
  SUBPROTOCOL,
  SubscribeMessageSchema,
  TopicInfoSchema,
  TopicNameSchema,
  TopicsMessageSchema,
  UnsubscribeMessageSchema,
  ViewMessageSchema,
  WireErrorCodeSchema,
  encodeClientMessage,
  encodeServerMessage,
  parseClientMessage,
  parseServerMessage,
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
  PingMessage,
  PongMessage,
  ServerMessage,
  SnapshotMessage,
  StatusCode,
  StatusMessage,
  SubscribeMessage,
  TopicInfo,
  TopicName,
  TopicsMessage,
  UnsubscribeMessage,
  ViewMessage,
  WireErrorCode,
} from './browser.js';

// Topics and schema ids
export { SchemaId } from './topics.js';

// Binary array frames
export {
  DTYPE_ITEM_SIZE,
  FRAME_MAGIC,
  FRAME_VERSION,
  FrameDTypeSchema,
  FrameHeaderSchema,
  FrameLimits,
  FrameViewSchema,
  NumericDTypeSchema,
  RecordFieldSchema,
  decodeFrame,
  encodeFrame,
  encodeFrameHeader,
  isFrame,
  typedArrayClassOf,
} from './frame.js';
export type {
  DecodeFrameOptions,
  DecodedFrame,
  FrameDType,
  FrameHeader,
  FrameInit,
  FrameTypedArray,
  FrameView,
  NumericDType,
  RecordField,
} from './frame.js';

// Numeric dtypes: the one table of numpy typestrs, item sizes and typed arrays
// (NumericDTypeSchema, NumericDType, DTYPE_ITEM_SIZE and typedArrayClassOf are exported with the frames above)
export { NUMERIC_DTYPES, dtypeFromNumpyKind, dtypeFromNumpyTypestr, numpyTypestrOf } from './dtypes.js';
export type { NumericDTypeInfo, NumericKind, NumericTypedArray, NumericTypedArrayClass, TypedArrayName } from './dtypes.js';

// Array views (1.3): what a page asks of an array topic, and reading a frame's values back
export { ArrayViewSchema, ViewDTypeSchema, ViewLimits, ViewRegionSchema, canonicalView, viewKey } from './views.js';
export type { ArrayView, CanonicalArrayView, ViewDType, ViewRegion } from './views.js';
export { frameValues } from './frame-values.js';
export { float16Bits, float16Value } from './float16.js';

// JSON Schema export
export { allJsonSchemas, jsonSchemaFileName, schemasById, toJsonSchema } from './json-schema.js';
