// @webmon/napari — napari's monitor as webmon sees it: schemas, types and topic names (this entry,
// runtime-neutral: pages and widgets import it), and in `@webmon/napari/node` the monitor client and
// the bridge that maps a napari onto relay topics.

// napari's monitor data
export {
  FrameTimeSchema,
  KnownCommandArgs,
  LayerDataSchema,
  LayerIdSchema,
  LoadChunkSchema,
  NapariCommandSchema,
  NapariEventSchema,
  NapariInfoSchema,
  NapariMessageSchema,
  PointSchema,
  PollSchema,
  ShapeSchema,
  ShowGridCommandSchema,
  TileConfigSchema,
  TileIndexSchema,
  TileStateSchema,
  parseNapariMessage,
  MESSAGE_BATCH_KEY,
  parsePoll,
  toNapariCommand,
} from './schemas.js';
export type {
  FrameTime,
  KnownCommandName,
  LayerData,
  LayerId,
  LoadChunk,
  NapariCommand,
  NapariEvent,
  NapariInfo,
  NapariMessage,
  Point,
  Poll,
  Shape,
  ShowGridCommand,
  TileConfig,
  TileIndex,
  TileState,
} from './schemas.js';
export { NapariLimits } from './limits.js';

// Topics
export { DEFAULT_NAPARI_PREFIX, NapariSchemaId, NapariTopics, isNapariPrefix, napariTopicNames } from './topics.js';
export type { NapariTopicDefinition, NapariTopicNames } from './topics.js';

// Payload checks for the relay and its client
export { napariPayloadValidators } from './validators.js';
export type { PayloadValidator } from './validators.js';

// Typed payloads of the default-prefix topics (for `createRelayClient<NapariTopicPayloads>`, page contexts)
export type { NapariTopicPayloads } from './payloads.js';

// Errors
export { NapariError, NapariErrorCode, isNapariError } from './errors.js';

// JSON Schema export
export { napariJsonSchemas, napariSchemasById } from './json-schema.js';
