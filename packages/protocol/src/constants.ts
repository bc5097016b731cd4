import type { NumericDType } from './dtypes.js';

/**
 * The protocol's constants and value lists, with no zod: the zod schemas (`browser.ts`) build their enums
 * and patterns from these, and so do the hand-written checks (`fast-check.ts`) that a browser bundle uses
 * instead of zod. One list per fact, two readers.
 */

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
 * 1.4: area resampling — `resample: 'area'` in a view (optional; absent: `'block'`, the 1.3 behaviour) and
 * in a view frame's header when the frame was resampled that way. A server answers only what was asked
 * (a view without `resample` gets 1.3 frames, described by `step` alone); an older server strips the
 * unknown field and sends 1.3 frames, whose header has no `resample`: a page places a frame by its header,
 * never by what it asked, so it needs no version check for this.
 * 1.5: replay — the server message `timeline` (where a replayed recording is, sent only by a server that
 * replays one), a second `hello` on an open connection (a new session: drop state, subscribe again),
 * `replayMs` on `latest` JSON topics (the snapshot holds the values of that window, oldest first) and the
 * wire code `NOT_LIVE`. A 1.4 client reports `timeline` as a bad server message and goes on (see the README).
 * Also 1.5: chunked frames (`chunks.ts`) — the client message `received` and binary chunk messages ("WMC").
 * A client asks for chunks (its first `received`) only when the server's `hello` says 1.5 or later, and
 * then reassembles chunks and still takes whole frames; a client that never asks (1.4 and older) gets
 * whole frames, as before. Acknowledgements (`handled`) and views are per frame, as before.
 * 1.6: the server message `notimeline` (a server that had a timeline dropped it: the client forgets its
 * timeline). A 1.5 client reports it as a bad server message and goes on, keeping its timeline until its
 * session or connection ends (see the README).
 */
export const PROTOCOL_VERSION = '1.6.0';

/** (1.5) Where a replay is: running, held, or at the end of the recording. */
export const TIMELINE_STATES = ['playing', 'paused', 'ended'] as const;

/** (1.5) Replay speeds a timeline may have (a factor of the recording's own pace). */
export const TimelineLimits = {
  minSpeed: 0.25,
  maxSpeed: 8,
} as const;

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

/** (1.5) How a server sends big frames to a client that asked for chunks (`chunks.ts`); a server may choose others. */
export const ChunkDefaults = {
  /**
   * Frames of more than this many bytes go in chunks of at most this many (and the chunk header), to a
   * client that takes only bulk data. Each chunk costs the page a message and a confirmation from its main
   * thread. Measured (bench:image, 800² uint16 views of a 60 Hz image, 1.28 MB each), page Hz: 128 KiB
   * chunks in a 512 KiB window 32–37 (7 runs), 1 MiB in 4 MiB 34–39 (3), the frame in one chunk 39–43 (6).
   */
  chunkBytes: 8 * 1024 * 1024,
  /**
   * Bytes sent in chunks and not yet confirmed (`received`) per client that takes only bulk data: beyond,
   * the server waits. One chunk: a 1024² float32 frame (4 MiB and its header) leaves whole, in one chunk,
   * and is confirmed before the page's handler runs. The first small message after `smallTrafficMs` without
   * any waits behind at most this much (~100 ms at the ~85 MB/s a headless Chromium reads here); the next
   * ones get the window below.
   */
  bulkWindowBytes: 8 * 1024 * 1024,
  /**
   * The window while small messages flow to the same client (sent in the last `smallTrafficMs`): what a
   * `frame_time` waits behind then; it leaves as one chunk at a time (each chunk costs the page a message
   * from its main thread, and those, not the confirmations' round trips, held its small messages up). Smaller windows cost bulk throughput
   * (measured: a 1024² float32 image page 16 → 12 Hz), so the big window serves a client that takes only
   * bulk data.
   */
  bulkWindowBesideSmallBytes: 128 * 1024,
  /**
   * How long after a small message a client counts as taking small messages. Long enough that a topic of
   * one message a second keeps the small window (each of its messages would otherwise wait behind a
   * whole frame), short enough that a page that only shows an image soon gets whole frames.
   */
  smallTrafficMs: 2_000,
} as const;

/** Bounds of a binary frame (layout in `frame.ts`). */
export const FrameLimits = {
  maxHeaderBytes: 65_536,
  maxNdim: 32,
  maxFields: 1_024,
  /** Default upper bound of one frame's data when decoding (callers may lower or raise it). */
  maxDataBytes: 2 ** 30,
} as const;

/** Bounds of an array view (protocol 1.3, `views.ts`). */
export const ViewLimits = {
  /** Largest edge of `maxShape`: beyond any screen, so a bigger request is a mistake, not a wish. */
  maxEdge: 16_384,
  /** Largest region coordinate (source pixels along one axis). */
  maxCoordinate: 2 ** 31 - 1,
} as const;

/**
 * The dtypes a view can be sent in, a subset of the one dtype table (`NUMERIC_DTYPE_NAMES` in `dtypes.ts`):
 * `float32` as it is, `float16` (half the bytes; exact to about 3 decimal digits), `uint8` / `uint16` (a
 * quarter / half the bytes: values scaled onto codes, with `scale` and `offset` in the header).
 */
export const VIEW_DTYPES = ['float32', 'float16', 'uint8', 'uint16'] as const satisfies readonly NumericDType[];

/**
 * (1.4) How a view reduces the source (`ArrayView.resample`): `block` (default, 1.3): the mean of
 * step × step blocks, a whole-number step, so the view may be up to half of `maxShape` along an axis (1024
 * rows on an 800-pixel canvas arrive as 512); `area`: an area-weighted (box) mean that fills `maxShape`
 * along the limiting axis whatever the ratio.
 */
export const VIEW_RESAMPLES = ['block', 'area'] as const;

/** Characters of a topic name (1–`maxTopicLength` of them). */
export const TOPIC_NAME_PATTERN = /^[A-Za-z0-9_.:/-]+$/;
export const TOPIC_NAME_RULE = 'letters, digits and _ . : / -';

/**
 * Command names are public identifiers: a letter, then letters, digits or `_`. Sources commonly map a
 * name onto a method (Python `getattr(self, name)(args)`), so nothing starting with `_` — no
 * dunder, no private method — is a command anywhere.
 */
export const COMMAND_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const COMMAND_NAME_RULE = 'a public identifier (a letter, then letters, digits or _; at most 64)';

/**
 * `latest`: state; only the newest value matters, a late joiner gets it at once.
 * `stream`: events; in order, bounded per-client queue, gaps reported, optional replay window.
 */
export const DELIVERY_MODES = ['latest', 'stream'] as const;

/** Error codes sent to a peer in an `error` envelope (and as close reasons). Stable. */
export const WIRE_ERROR_CODES = [
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
  /**
   * (1.5) The server replays a recording: there is no live source to run a command. Sent only by a
   * server that replays, in answer to a `command`.
   */
  'NOT_LIVE',
] as const;

/** State of a data source behind the server, and server lifecycle. Stable codes. */
export const STATUS_CODES = [
  /** The server runs; no source has connected yet. */
  'source.waiting',
  'source.connected',
  /** The source was connected and is gone (its program quit or crashed). */
  'source.disconnected',
  /** The server is shutting down; clients should not reconnect at once. */
  'server.closing',
] as const;

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
