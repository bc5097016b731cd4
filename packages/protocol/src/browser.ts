/**
 * The webmon.v1 browser protocol: JSON text frames in both directions plus binary array frames
 * from server to client (`frame.ts`). Every message is a tagged object with a literal `type`.
 */
import { z } from 'zod';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { JsonValueSchema } from './json.js';
import { ArrayViewSchema } from './views.js';

/** The WebSocket subprotocol negotiated on connect. A breaking change gets a new string. */
export const SUBPROTOCOL = 'webmon.v1';
/**
 * Version of the message definitions within `webmon.v1` (semver). Compatibility rule: a minor version
 * only adds (new optional fields, new message types a peer may ignore); a breaking change gets a new
 * subprotocol string. 1.1: `topics` (topics declared and retired while the server runs) and an
 * optional `topic` on `command` (which source should run it). 1.2: credit-based delivery of `latest`
 * topics — `window` on `subscribe`, the client message `handled`, the wire code `BAD_ACK` (sent only to
 * a client that acknowledges). A 1.2 client acknowledges only when the server's `hello` says 1.2 or later.
 * 1.3: array views — `view` on `subscribe`, the client message `view`, `view` in a binary frame's header,
 * the wire code `BAD_VIEW` (sent only to a client that asks for a view). A client asks for views only when
 * the server's `hello` says 1.3 or later; one that asks none gets whole frames, as before.
 */
export const PROTOCOL_VERSION = '1.3.0';

export const ProtocolLimits = {
  /** Longest topic name. */
  maxTopicLength: 128,
  /** Topics in one subscribe/unsubscribe. */
  maxTopicsPerRequest: 64,
  /** Length of a request id chosen by the client. */
  maxRequestIdLength: 64,
  /** Largest credit window (`subscribe.window`): values of one `latest` topic in flight, unacknowledged. */
  maxWindow: 16,
} as const;

export const TopicNameSchema = z
  .string()
  .min(1)
  .max(ProtocolLimits.maxTopicLength)
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'letters, digits and _ . : / -');
export type TopicName = z.infer<typeof TopicNameSchema>;

/**
 * `latest`: state; only the newest value matters, a late joiner gets it at once.
 * `stream`: events; in order, bounded per-client queue, gaps reported, optional replay window.
 */
export const DeliveryModeSchema = z.enum(['latest', 'stream']);
export type DeliveryMode = z.infer<typeof DeliveryModeSchema>;

export const TopicInfoSchema = z.object({
  name: TopicNameSchema,
  mode: DeliveryModeSchema,
  /** Id of the payload's schema (see `schemaIds`), so a client knows how to read it. */
  schema: z.string().min(1).max(256),
  /** Payloads travel as binary frames rather than JSON. */
  binary: z.boolean().optional(),
  /** `stream` topics: milliseconds of history replayed to a late joiner (0 = none). */
  replayMs: z.number().min(0).optional(),
});
export type TopicInfo = z.infer<typeof TopicInfoSchema>;

/**
 * Command names are public identifiers: a letter, then letters, digits or `_`. Sources commonly map a
 * name onto a method (Python `getattr(self, name)(args)`), so nothing starting with `_` — no
 * dunder, no private method — is a command anywhere.
 */
export const CommandNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a public identifier (a letter, then letters, digits or _; at most 64)');
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
  /** Changes whenever the server restarts: a client that sees a new id must drop its state. */
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

/** Error codes sent to a peer in an `error` envelope (and as close reasons). Stable. */
export const WireErrorCodeSchema = z.enum([
  /** The text frame was not JSON. */
  'BAD_JSON',
  /** JSON that is not a valid client message. */
  'BAD_MESSAGE',
  /** A binary frame from a client, where only the server sends them. */
  'UNEXPECTED_BINARY',
  'UNKNOWN_TOPIC',
  'UNKNOWN_COMMAND',
  /** A command whose argument does not match its schema. */
  'BAD_COMMAND_ARGS',
  'RATE_LIMITED',
  /** No publisher takes commands right now (e.g. its source is not connected). */
  'NO_PUBLISHER',
  /** The publisher tried and failed. */
  'COMMAND_FAILED',
  'TIMEOUT',
  'TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN_ORIGIN',
  'TOO_MANY_CONNECTIONS',
  'UNSUPPORTED_PROTOCOL',
  'INTERNAL',
  /**
   * (1.2) A `handled` message acknowledged a value the server never sent on that subscription (a seq
   * ahead of what was sent, or one that was skipped): the server stops trusting that connection's
   * acknowledgements. Only a client that acknowledges can get it.
   */
  'BAD_ACK',
  /**
   * (1.3) A view request was refused (`subscribe.view` or `view`): malformed (outside `ViewLimits`, a
   * region with y1 ≤ y0), for a topic that is not a binary `latest` topic, not subscribed, or a region
   * that misses the array. Nothing changed: that topic's subscription (or its view) is as before, and the
   * request's other topics are served. Only a client that asks for views can get it.
   */
  'BAD_VIEW',
]);
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

/** State of a data source behind the server, and server lifecycle. Stable codes. */
export const StatusCodeSchema = z.enum([
  /** The server runs; no source has connected yet. */
  'source.waiting',
  'source.connected',
  /** The source was connected and is gone (its program quit or crashed). */
  'source.disconnected',
  /** The server is shutting down; clients should not reconnect at once. */
  'server.closing',
]);
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

export const ClientMessageSchema = z.discriminatedUnion('type', [
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  CommandMessageSchema,
  PingMessageSchema,
  HandledMessageSchema,
  ViewMessageSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/** WebSocket close codes used by webmon (4000–4999 are application codes). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  /** Missing or wrong token. */
  UNAUTHORIZED: 4001,
  /** The client did not offer `webmon.v1`. */
  UNSUPPORTED_PROTOCOL: 4002,
  /** The page's Origin is not allowed. */
  FORBIDDEN_ORIGIN: 4003,
  /** Too many connections. */
  TOO_MANY_CONNECTIONS: 4029,
  /** The client broke the protocol repeatedly (e.g. a flood of invalid messages). */
  PROTOCOL_ABUSE: 4008,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

// ---------------------------------------------------------------------------------------------
// Parsing (never cast wire data)
// ---------------------------------------------------------------------------------------------

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(ProtocolErrorCode.INVALID_JSON, `not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Parses a text frame from a client. Throws `ProtocolError` (`INVALID_JSON` / `INVALID_MESSAGE`). */
export function parseClientMessage(text: string): ClientMessage {
  const result = ClientMessageSchema.safeParse(parseJsonText(text));
  if (!result.success) throw ProtocolError.fromZod('client message', result.error);
  return result.data;
}

/** Parses a text frame from the server. Throws `ProtocolError` (`INVALID_JSON` / `INVALID_MESSAGE`). */
export function parseServerMessage(text: string): ServerMessage {
  const result = ServerMessageSchema.safeParse(parseJsonText(text));
  if (!result.success) throw ProtocolError.fromZod('server message', result.error);
  return result.data;
}

/** Serialises a message after validating it: a bug on our side is caught here, not in the peer. */
export function encodeServerMessage(message: ServerMessage): string {
  const result = ServerMessageSchema.safeParse(message);
  if (!result.success) throw ProtocolError.fromZod('server message', result.error);
  return JSON.stringify(result.data);
}

export function encodeClientMessage(message: ClientMessage): string {
  const result = ClientMessageSchema.safeParse(message);
  if (!result.success) throw ProtocolError.fromZod('client message', result.error);
  return JSON.stringify(result.data);
}
