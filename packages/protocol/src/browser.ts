/**
 * The webmon.v1 browser protocol: JSON text frames in both directions plus binary array frames
 * from server to client (`frame.ts`). Every message is a tagged object with a literal `type`.
 */
import { z } from 'zod';
import {
  COMMAND_NAME_PATTERN,
  COMMAND_NAME_RULE,
  DELIVERY_MODES,
  ProtocolLimits,
  STATUS_CODES,
  SUBPROTOCOL,
  TIMELINE_STATES,
  TimelineLimits,
  TOPIC_NAME_PATTERN,
  TOPIC_NAME_RULE,
  WIRE_ERROR_CODES,
} from './constants.js';
import { parseJsonText } from './json-text.js';
import { ProtocolError } from './errors.js';
import { JsonValueSchema } from './json.js';
import { ArrayViewSchema } from './views.js';

export const TopicNameSchema = z
  .string()
  .min(1)
  .max(ProtocolLimits.maxTopicLength)
  .regex(TOPIC_NAME_PATTERN, TOPIC_NAME_RULE);
export type TopicName = z.infer<typeof TopicNameSchema>;

/** `latest` or `stream` (see `DELIVERY_MODES`). */
export const DeliveryModeSchema = z.enum(DELIVERY_MODES);
export type DeliveryMode = z.infer<typeof DeliveryModeSchema>;

export const TopicInfoSchema = z.object({
  name: TopicNameSchema,
  mode: DeliveryModeSchema,
  /** Id of the payload's schema (see `schemaIds`), so a client knows how to read it. */
  schema: z.string().min(1).max(256),
  /** Payloads travel as binary frames rather than JSON. */
  binary: z.boolean().optional(),
  /**
   * Milliseconds of history sent to a late joiner (0 = none): the replay window of a `stream` topic, or
   * (1.5) of a JSON `latest` topic, whose snapshot then holds the values of that window, oldest first, the
   * newest being the current value (so a chart opened late shows the window before now). Binary `latest`
   * topics send only their newest value.
   */
  replayMs: z.number().min(0).optional(),
});
export type TopicInfo = z.infer<typeof TopicInfoSchema>;

/** A public identifier (see `COMMAND_NAME_PATTERN`: nothing starting with `_` is a command anywhere). */
export const CommandNameSchema = z.string().regex(COMMAND_NAME_PATTERN, COMMAND_NAME_RULE);
export type CommandName = z.infer<typeof CommandNameSchema>;

const RequestIdSchema = z.string().min(1).max(ProtocolLimits.maxRequestIdLength);
const SeqSchema = z.int().min(0);
/** Milliseconds since the epoch. */
const TimeSchema = z.number().min(0);

// ---------------------------------------------------------------------------------------------
// Server → client
// ---------------------------------------------------------------------------------------------

export const HelloMessageSchema = z.object({
  type: z.literal('hello'),
  protocol: z.literal(SUBPROTOCOL),
  version: z.string(),
  /**
   * Changes whenever the server restarts: a client that sees a new id must drop its state. (1.5) A server
   * may send another `hello` on an open connection: a new session on that connection (e.g. a replay that
   * seeks). Everything of the old session is dropped on both sides — subscriptions too: the client
   * subscribes again and gets the new session's snapshots. Messages of the old session sent before it
   * may still arrive first; they belong to the old session.
   */
  sessionId: z.string().min(1).max(128),
  topics: z.array(TopicInfoSchema),
  /** Server time when the hello was sent (ms since the epoch). */
  time: TimeSchema,
});
export type HelloMessage = z.infer<typeof HelloMessageSchema>;

/**
 * Topics declared or retired after `hello` (a source published a key for the first time, a source
 * went away). A client keeps its topic list current from these; subscriptions to retired topics end.
 */
export const TopicsMessageSchema = z.object({
  type: z.literal('topics'),
  added: z.array(TopicInfoSchema),
  removed: z.array(TopicNameSchema),
  time: TimeSchema,
});
export type TopicsMessage = z.infer<typeof TopicsMessageSchema>;

/** One published value of a topic. */
export const DataItemSchema = z.object({
  seq: SeqSchema,
  time: TimeSchema,
  payload: JsonValueSchema,
});
export type DataItem = z.infer<typeof DataItemSchema>;

export const DataMessageSchema = z.object({
  type: z.literal('data'),
  topic: TopicNameSchema,
  seq: SeqSchema,
  time: TimeSchema,
  payload: JsonValueSchema,
});
export type DataMessage = z.infer<typeof DataMessageSchema>;

/**
 * What a late joiner gets on subscribe: the latest value (`latest`), or the replay window (`stream`),
 * oldest first. Binary topics send their snapshot as binary frames after this envelope (`binaryFrames`).
 */
export const SnapshotMessageSchema = z.object({
  type: z.literal('snapshot'),
  topic: TopicNameSchema,
  items: z.array(DataItemSchema),
  binaryFrames: z.int().min(0).optional(),
});
export type SnapshotMessage = z.infer<typeof SnapshotMessageSchema>;

/** Messages of a `stream` topic were dropped for this client (it read too slowly). */
export const GapMessageSchema = z.object({
  type: z.literal('gap'),
  topic: TopicNameSchema,
  /** How many messages were dropped. */
  dropped: z.int().min(1),
  /** First and last dropped sequence numbers. */
  fromSeq: SeqSchema,
  toSeq: SeqSchema,
});
export type GapMessage = z.infer<typeof GapMessageSchema>;

export const AckMessageSchema = z.object({
  type: z.literal('ack'),
  id: RequestIdSchema,
  result: JsonValueSchema.optional(),
});
export type AckMessage = z.infer<typeof AckMessageSchema>;

/** Error codes sent to a peer in an `error` envelope (and as close reasons). Stable; listed in `WIRE_ERROR_CODES`. */
export const WireErrorCodeSchema = z.enum(WIRE_ERROR_CODES);
export type WireErrorCode = z.infer<typeof WireErrorCodeSchema>;

export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  /** The request this answers, when it answers one. */
  id: RequestIdSchema.optional(),
  code: WireErrorCodeSchema,
  message: z.string().max(4096),
  topic: TopicNameSchema.optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

/** State of a data source behind the server, and server lifecycle. Stable; listed in `STATUS_CODES`. */
export const StatusCodeSchema = z.enum(STATUS_CODES);
export type StatusCode = z.infer<typeof StatusCodeSchema>;

export const StatusMessageSchema = z.object({
  type: z.literal('status'),
  code: StatusCodeSchema,
  /** Which source this is about (its topic prefix). */
  source: z.string().max(128).optional(),
  message: z.string().max(4096).optional(),
  time: TimeSchema,
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

export const PongMessageSchema = z.object({
  type: z.literal('pong'),
  id: RequestIdSchema,
  /** The client's time from the ping, echoed. */
  clientTime: z.number(),
  time: TimeSchema,
});
export type PongMessage = z.infer<typeof PongMessageSchema>;

/** Milliseconds on the recording's clock (since the epoch). */
const RecordingTimeSchema = z.number().min(0);

/**
 * (1.5) Where a replayed recording is. Sent only by a server that replays one: to each client right after
 * `hello`, and to all on every change (play, pause, seek, speed, end). While `playing`, a client
 * extrapolates the cursor: `min(end, cursor + (now − time) × speed)`, with `now` on the server's clock
 * (`time` and `pong.time` give the offset). Cursor, start and end are on the recording's clock.
 */
export const TimelineMessageSchema = z.object({
  type: z.literal('timeline'),
  state: z.enum(TIMELINE_STATES),
  cursor: RecordingTimeSchema,
  start: RecordingTimeSchema,
  end: RecordingTimeSchema,
  speed: z.number().min(TimelineLimits.minSpeed).max(TimelineLimits.maxSpeed),
  /** Server time when sent (ms since the epoch). */
  time: TimeSchema,
});
export type TimelineMessage = z.infer<typeof TimelineMessageSchema>;

/**
 * (1.6) The timeline is gone: the server no longer replays a recording (it stopped, or went live). Sent to
 * every client when a server that had a timeline drops it; the client forgets its timeline (one that has
 * none has nothing to forget).
 */
export const NoTimelineMessageSchema = z.object({
  type: z.literal('notimeline'),
  /** Server time when sent (ms since the epoch). */
  time: TimeSchema,
});
export type NoTimelineMessage = z.infer<typeof NoTimelineMessageSchema>;

export const ServerMessageSchema = z.discriminatedUnion('type', [
  HelloMessageSchema,
  TopicsMessageSchema,
  DataMessageSchema,
  SnapshotMessageSchema,
  GapMessageSchema,
  AckMessageSchema,
  ErrorMessageSchema,
  StatusMessageSchema,
  PongMessageSchema,
  TimelineMessageSchema,
  NoTimelineMessageSchema,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

// ---------------------------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------------------------

export const SubscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  id: RequestIdSchema.optional(),
  topics: z.array(TopicNameSchema).min(1).max(ProtocolLimits.maxTopicsPerRequest),
  /**
   * (1.2) Credit-based delivery: the client promises to acknowledge (`handled`) every value of the
   * `latest` topics in this request, and the server keeps at most `window` of them sent but
   * unacknowledged per topic, replacing the one waiting with each newer value. Absent: no acknowledgements,
   * the server sends as fast as the socket takes (1.1 behaviour). Ignored for `stream` topics.
   */
  window: z.int().min(1).max(ProtocolLimits.maxWindow).optional(),
  /**
   * (1.3) The array view wanted of every topic in this request (each must be a binary `latest` topic): its
   * frames then arrive reduced to at most `maxShape`, cropped to `region`, in `dtype`. Absent: whole frames.
   */
  view: ArrayViewSchema.optional(),
});
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;

export const UnsubscribeMessageSchema = z.object({
  type: z.literal('unsubscribe'),
  id: RequestIdSchema.optional(),
  topics: z.array(TopicNameSchema).min(1).max(ProtocolLimits.maxTopicsPerRequest),
});
export type UnsubscribeMessage = z.infer<typeof UnsubscribeMessageSchema>;

/** A command for a source, answered by ack or error. */
export const CommandMessageSchema = z.object({
  type: z.literal('command'),
  id: RequestIdSchema,
  name: CommandNameSchema,
  args: JsonValueSchema,
  /** The topic whose source should run it (when several sources take commands). */
  topic: TopicNameSchema.optional(),
});
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

export const PingMessageSchema = z.object({
  type: z.literal('ping'),
  id: RequestIdSchema,
  /** Client clock, echoed in the pong so the client can measure the round trip. */
  time: z.number(),
});
export type PingMessage = z.infer<typeof PingMessageSchema>;

/**
 * (1.2) Acknowledges the values of a `latest` topic subscribed with a `window`: the client has handled
 * (e.g. drawn) the value numbered `seq` — data, snapshot item or binary frame, all carry their topic and
 * seq — and every earlier one of that topic. Cumulative, so a client that skipped a value acknowledges
 * only the newest it handled; a stale or repeated one is ignored, one the server never sent is `BAD_ACK`.
 */
export const HandledMessageSchema = z.object({
  type: z.literal('handled'),
  topic: TopicNameSchema,
  seq: SeqSchema,
});
export type HandledMessage = z.infer<typeof HandledMessageSchema>;

/**
 * (1.3) Changes the array view of a subscribed binary `latest` topic (`null`: whole frames again), e.g.
 * when the page zooms. The server answers `ack` (with `id`) or `BAD_VIEW`, and sends the topic's newest
 * value again in the new view; values of the old view still on their way arrive first, and each frame's
 * header says which view it is. Acknowledgements start over with the new view: the re-sent value carries
 * the same seq as the value sent before, and is acknowledged again.
 */
export const ViewMessageSchema = z.object({
  type: z.literal('view'),
  id: RequestIdSchema.optional(),
  topic: TopicNameSchema,
  view: ArrayViewSchema.nullable(),
});
export type ViewMessage = z.infer<typeof ViewMessageSchema>;

/**
 * (1.5) Chunked frames (`chunks.ts`): the bytes of frames received in chunks on this connection so far
 * (after the chunks' headers), sent after each chunk. The first, `bytes: 0`, asks the server to send big
 * frames in chunks; a client sends it only when the server's `hello` says 1.5 or later, and handles whole
 * frames too (those sent before it was read, small ones). Cumulative: a value not above the last one
 * changes nothing; one above what was sent counts as all of it. A server of 1.4 or older answers it
 * `BAD_MESSAGE` — that is why the client waits for `hello`.
 */
export const ReceivedMessageSchema = z.object({
  type: z.literal('received'),
  bytes: z.int().min(0),
});
export type ReceivedMessage = z.infer<typeof ReceivedMessageSchema>;

export const ClientMessageSchema = z.discriminatedUnion('type', [
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  CommandMessageSchema,
  PingMessageSchema,
  HandledMessageSchema,
  ViewMessageSchema,
  ReceivedMessageSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

// ---------------------------------------------------------------------------------------------
// The server's side: what it reads and writes, validated by the schemas above. (A client reads and
// writes with `client-codec.ts`, whose hand-written checks keep zod out of browser bundles.)
// ---------------------------------------------------------------------------------------------

/** Parses a text frame from a client. Throws `ProtocolError` (`INVALID_JSON` / `INVALID_MESSAGE`). */
export function parseClientMessage(text: string): ClientMessage {
  const result = ClientMessageSchema.safeParse(parseJsonText(text));
  if (!result.success) throw ProtocolError.fromZod('client message', result.error);
  return result.data;
}

/** Serialises a message after validating it: a bug on our side is caught here, not in the peer. */
export function encodeServerMessage(message: ServerMessage): string {
  const result = ServerMessageSchema.safeParse(message);
  if (!result.success) throw ProtocolError.fromZod('server message', result.error);
  return JSON.stringify(result.data);
}
