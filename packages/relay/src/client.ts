/**
 * @webmon/relay/client — the browser side of webmon.v1. Runs on the browser's `WebSocket`, or on any
 * constructor with the same shape (e.g. `ws` in Node, injected). No Node imports: this entry is bundled
 * for browsers. From `@webmon/protocol` it uses only modules without zod (the client's codec with its
 * hand-written checks, the frame decoder), so a page's bundle holds zod only if its `payloadValidators` do.
 */
import {
  ChunkAssembler,
  SUBPROTOCOL,
  decodeFrame,
  encodeClientMessage,
  isChunk,
  isFrame,
  parseServerMessage,
  type ArrayView,
  type DecodedFrame,
  type GapMessage,
  type HelloMessage,
  type JsonValue,
  type ServerMessage,
  type StatusMessage,
  type TimelineMessage,
  type TopicInfo,
  type TopicsMessage,
  type WireErrorCode,
} from '@webmon/protocol';
import { Acknowledger, versionAtLeast, type Defer } from './client-acks.js';
import { BulkLane } from './client-bulk.js';
import { invalidClientOption } from './client-options.js';
import { BACKOFF_DEFAULTS, type BackoffOptions, type ConnectionState } from './client-connection.js';

export type { Defer } from './client-acks.js';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Codes of the client's own errors (the `RELAY_CLIENT_` prefix); a `RelayClientError` may also carry a
 * `WireErrorCode` the server answered with (`NO_PUBLISHER`, `UNKNOWN_TOPIC`, …) or `TIMEOUT` when no
 * answer came in time. Stable: part of the public API, all listed in the README.
 */
export const RelayClientErrorCode = {
  /** An option is unusable: no `WebSocket` constructor given and none global. */
  INVALID_OPTIONS: 'RELAY_CLIENT_INVALID_OPTIONS',
  /** The connection closed before the answer came, or there was none. */
  DISCONNECTED: 'RELAY_CLIENT_DISCONNECTED',
  /** The server's message or a payload failed validation (it was dropped). */
  BAD_SERVER_MESSAGE: 'RELAY_CLIENT_BAD_SERVER_MESSAGE',
  /** The server closed with a code that retrying cannot fix (token, origin, protocol); no reconnect. */
  REJECTED: 'RELAY_CLIENT_REJECTED',
  /** `close()` was called: pending requests fail with it, and so do new ones. */
  DISPOSED: 'RELAY_CLIENT_DISPOSED',
  /**
   * (via `onError`) The bulk worker (`bulkWorker`) could not start, failed, or its connection closed for
   * good: its topics are taken on the page's own connection from then on.
   */
  BULK_WORKER_FAILED: 'RELAY_CLIENT_BULK_WORKER_FAILED',
} as const;

/** A local `RelayClientErrorCode` value, or the wire code the server answered with. */
export type RelayClientErrorCode = (typeof RelayClientErrorCode)[keyof typeof RelayClientErrorCode] | WireErrorCode;

export class RelayClientError extends Error {
  override name = 'RelayClientError';
  readonly code: RelayClientErrorCode;
  /** The topic concerned, when there is one. */
  readonly topic: string | undefined;

  constructor(code: RelayClientErrorCode, message: string, options?: { topic?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.topic = options?.topic;
  }
}

export function isRelayClientError(value: unknown): value is RelayClientError {
  return value instanceof RelayClientError;
}

// ---------------------------------------------------------------------------------------------
// The socket we need (browser WebSocket, or `ws`)
// ---------------------------------------------------------------------------------------------

export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

// ---------------------------------------------------------------------------------------------
// Typed topics
// ---------------------------------------------------------------------------------------------

/** Payload types by topic name; pass your own map as `createRelayClient<Map>`. Unlisted topics are JSON. */
export type TopicPayloadMap = Record<never, never>;

export type TopicPayload<Map, Name extends string> = Name extends keyof Map ? Map[Name] : JsonValue;

interface TopicEventBase {
  topic: string;
  seq: number;
  /** Publish time on the server, ms since the epoch. */
  time: number;
  /** True for values from the subscribe snapshot (latest value or replay window). */
  replay: boolean;
  /**
   * Holds this value's acknowledgement (credit-based delivery of `latest` topics) until the returned
   * function is called: `const done = event.defer(); requestAnimationFrame(() => { draw(); done(); })`.
   * Call it while the handler runs. Without it the value is acknowledged when the handler returns (or
   * its returned promise settles). On topics that are not acknowledged it returns a function that does nothing.
   */
  defer: Defer;
}

/** A JSON value of a topic. */
export interface TopicData<Payload> extends TopicEventBase {
  kind: 'data';
  payload: Payload;
}

/** A binary frame of a topic, decoded (data is a typed-array view). */
export interface TopicFrame extends TopicEventBase {
  kind: 'frame';
  frame: DecodedFrame;
}

export type TopicEvent<Payload> = TopicData<Payload> | TopicFrame;

/**
 * A subscriber. If it returns a promise, the value is acknowledged when that settles (see
 * `TopicEventBase.defer` to acknowledge later still); any other return value is ignored.
 */
export type TopicHandler<Payload> = (event: TopicEvent<Payload>) => unknown;

export type { BackoffOptions, ConnectionState } from './client-connection.js';

export interface RelayClientOptions {
  /** `ws://host:port/ws` (or `wss://`). */
  url: string;
  /** WebSocket constructor. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Sent as the subprotocol `webmon.token.<token>` (never in the URL, so it stays out of logs). */
  token?: string;
  /** Extra subprotocols offered after `webmon.v1`. @default [] */
  protocols?: readonly string[];
  backoff?: BackoffOptions;
  /** Reconnect after a drop. @default true */
  reconnect?: boolean;
  /** Time a command waits for its ack. @default 10000 */
  commandTimeoutMs?: number;
  /** Largest binary frame accepted. @default 1 GiB */
  maxFrameBytes?: number;
  /**
   * Credit window asked for every `latest` topic (protocol 1.2): the server keeps at most this many values
   * of a topic sent but not yet handled, and replaces the one waiting with each newer value — so a slow page
   * gets the newest value, not the oldest of a backlog. Each value is acknowledged when its handlers are done
   * (see `TopicEvent.defer`). 1 suits a page on this machine (an acknowledgement takes well under a
   * millisecond, and every extra value in flight adds one handling time to the age of what is shown); raise
   * it to 2–3 over a link whose round trip is long against a value's handling time. 0: never acknowledge
   * (the server sends as fast as the socket takes). Servers before 1.2 get no acknowledgements. @default 1
   */
  window?: number;
  /**
   * (Protocol 1.5) Ask the server to send big frames in chunks, so that its small messages (a
   * `frame_time`) are not held up behind megabytes of image: the client puts them back together (one copy
   * into the frame's own buffer) and hands handlers the same frames as ever, and confirms the bytes it
   * received so the server keeps little bulk data in flight. Servers before 1.5 are not asked. @default true
   */
  chunks?: boolean;
  /**
   * Checks by payload schema id (`TopicInfo.schema`): each returns the payload or throws; a payload that
   * fails is dropped and reported through `onError` (`BAD_SERVER_MESSAGE`). Topics whose schema has no
   * check are delivered as plain JSON. @default {}
   */
  payloadValidators?: Readonly<Record<string, (payload: unknown) => unknown>>;
  /**
   * The URL of this package's `bulk-worker.js` (served by you: `@webmon/relay/bulk-worker.js` is one
   * self-contained module). Binary topics (`TopicInfo.binary`) are then taken on a second connection to the
   * same server, opened by that script in a dedicated worker, while the page also takes a topic that is not
   * binary: their chunks are put together off the page's main thread, and each frame's bytes are moved to the
   * page (not copied), so the page's small messages do not wait behind megabytes. (A page of binary topics
   * alone keeps them on its connection: the worker's hop would only add to each frame's age.) Handlers get
   * the same events; a frame is acknowledged on the worker's connection when they are done with it. Needs
   * module workers (and `worker-src` for the script's origin in a Content-Security-Policy); if the worker
   * cannot start, its first connection is refused, or its connection closes for good, the topics move to
   * the page's connection and `onError` reports `RELAY_CLIENT_BULK_WORKER_FAILED`. Ignored where
   * there is no `Worker`, and with an injected `WebSocket` (the worker uses its own global one).
   * @default none: every topic on the page's connection
   */
  bulkWorker?: string | URL;
  /**
   * How long the bulk worker stays once it has no topic left (the page dropped its last topic that is not
   * binary, or its last binary one) before it is closed, its connection with it: each connection takes one
   * of the server's slots per address. The next binary topic it would take starts a new one. The wait keeps a
   * page that toggles a topic from opening a connection each time. @default 5000
   */
  bulkIdleMs?: number;
  /** Source of randomness for jitter (tests). @default Math.random */
  random?: () => number;
}

export interface SessionChange {
  previous: string;
  current: string;
}

export interface SubscribeOptions {
  /**
   * (Protocol 1.3) The array view wanted of a binary `latest` topic: frames arrive reduced to at most
   * `maxShape`, cropped to `region`, in `dtype`, and say so in `frame.view`. One view per topic and client:
   * the last one given (here or with `setView`) is used. A server before 1.3 sends whole frames.
   */
  view?: ArrayView;
  /**
   * This handler only borrows each frame of a binary topic: it keeps nothing of `frame.data`'s buffer
   * once it is done with the frame (returned, its promise settled, every `event.defer()` called). When every
   * handler of the topic borrows and the frame came through the bulk worker (`bulkWorker`), the client then
   * gives the buffer back to the worker: `frame.data`, and every view of its buffer, is detached on the page
   * from that moment. Why: a frame moved in from a worker is freed by the page's garbage collector, late
   * and all at once. Measured (webmon's `bench:image`, 4 MiB frames at 60 Hz), that was one sweep of 50–62 ms
   * on the page's main thread every ~8 s, and the page's small messages waited behind it. Given back, the
   * worker's thread frees them instead. Copy what you keep (or keep frames, and leave this unset). Frames on
   * the page's own connection are not detached. @default false
   */
  borrowFrames?: boolean;
}

export interface CommandOptions {
  timeoutMs?: number;
  /** The topic whose source should run the command (when a server has several sources). */
  topic?: string;
}

/** The server's topic list changed: topics declared or retired while it runs. */
export interface TopicsChange {
  added: readonly TopicInfo[];
  removed: readonly string[];
  /** The whole list after the change. */
  topics: readonly TopicInfo[];
}

export interface RelayClient<Map = TopicPayloadMap> {
  readonly state: ConnectionState;
  /** Session id of the current (or last) server. */
  readonly sessionId: string | undefined;
  /**
   * (Protocol 1.5) Where the recording the server replays is, while it replays one; `undefined` for a live
   * server, once the server dropped it (1.6 `notimeline`), and after the connection closed. While `state`
   * is `playing` the cursor moves on: see `timelineCursor`.
   */
  readonly timeline: TimelineMessage | undefined;
  /** Topics the server announced (kept current as topics are declared and retired). */
  readonly topics: readonly TopicInfo[];
  /**
   * Subscribes (now, and again after every reconnect). A topic the server has not announced yet is
   * subscribed as soon as it is. Returns the unsubscribe function.
   */
  subscribe<Name extends string>(topic: Name, handler: TopicHandler<TopicPayload<Map, Name>>, options?: SubscribeOptions): () => void;
  /**
   * (Protocol 1.3) Changes the array view of a topic (`undefined`: whole frames again), e.g. when the page
   * zooms; the server re-sends the topic's newest value in it. Resolves once the server took it (at once
   * while not connected, or with a server before 1.3: then frames stay whole); rejects with a
   * `RelayClientError` (`BAD_VIEW`, `RATE_LIMITED`, `RELAY_CLIENT_DISCONNECTED`).
   */
  setView(topic: string, view: ArrayView | undefined, options?: CommandOptions): Promise<void>;
  /** Sends a command; resolves with the ack's result, rejects with a `RelayClientError`. */
  command(name: string, args: JsonValue, options?: CommandOptions): Promise<JsonValue | undefined>;
  /** Round trip in ms. */
  ping(options?: CommandOptions): Promise<number>;
  onStatus(handler: (status: StatusMessage) => void): () => void;
  /** The server restarted (new session id): state built from the old session is stale. */
  onSessionChange(handler: (change: SessionChange) => void): () => void;
  /** (Protocol 1.5) The timeline changed (a replay played, paused, sought, changed speed or ended), or went (`undefined`). */
  onTimeline(handler: (timeline: TimelineMessage | undefined) => void): () => void;
  onGap(handler: (gap: GapMessage) => void): () => void;
  onHello(handler: (hello: HelloMessage) => void): () => void;
  /** Topics declared or retired after `hello` (also called with the whole list on every hello). */
  onTopics(handler: (change: TopicsChange) => void): () => void;
  onStateChange(handler: (state: ConnectionState) => void): () => void;
  /** Errors not tied to a request (unknown topic, bad server message, rejection). */
  onError(handler: (error: RelayClientError) => void): () => void;
  /** Closes for good: no reconnect; pending commands reject with `RELAY_CLIENT_DISPOSED`. */
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

const OPEN = 1;
/** Close codes after which reconnecting cannot help (see `CloseCode` in the protocol). */
const FATAL_CLOSE_CODES = new Set([1002, 1003, 1008, 4001, 4002, 4003, 4008]);
const TOKEN_PROTOCOL_PREFIX = 'webmon.token.';

type PayloadCheck = (payload: unknown) => unknown;

interface Pending {
  resolve: (value: JsonValue | undefined) => void;
  reject: (error: RelayClientError) => void;
  timer: ReturnType<typeof setTimeout>;
}

class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();
  add(handler: (value: T) => void): () => void {
    this.set.add(handler);
    return () => this.set.delete(handler);
  }
  emit(value: T): void {
    for (const handler of this.set) {
      try {
        handler(value);
      } catch (error) {
        // An app handler's bug must not break delivery to the others; surface it asynchronously.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

export type { TimelineMessage } from '@webmon/protocol';

/**
 * (Protocol 1.5) Where a timeline's cursor is at `now` (the server's clock; on one machine the page's
 * `Date.now()` is close enough): it moves at `speed` while playing and stops at `end`.
 */
export function timelineCursor(timeline: TimelineMessage, now: number = Date.now()): number {
  if (timeline.state !== 'playing') return timeline.cursor;
  return Math.min(timeline.end, Math.max(timeline.start, timeline.cursor + Math.max(0, now - timeline.time) * timeline.speed));
}

/** Creates a client and connects at once. */
export function createRelayClient<Map = TopicPayloadMap>(options: RelayClientOptions): RelayClient<Map> {
  return new Client<Map>(options);
}

class Client<Map> implements RelayClient<Map> {
  state: ConnectionState = 'connecting';
  sessionId: string | undefined;
  timeline: TimelineMessage | undefined;
  topics: readonly TopicInfo[] = [];
  private socket: WebSocketLike | undefined;
  private readonly handlers = new Map<string, Set<TopicHandler<never>>>();
  /** Per topic, the handlers that subscribed with `borrowFrames` (a frame is given back when all of a topic's do). */
  private readonly borrowers = new Map<string, Set<TopicHandler<never>>>();
  /** The array view asked for each topic that has one (sent with its subscription). */
  private readonly views = new Map<string, ArrayView>();
  /** The server speaks 1.3 or later: it takes views. */
  private viewsSupported = false;
  private readonly acks: Acknowledger;
  /** The bulk worker's lane (binary topics), once a binary topic is subscribed; its own acknowledger sends "handled" to it. */
  private bulk: BulkLane | undefined;
  /** A bulk worker may be started (`bulkWorker` given, no injected `WebSocket`, and none has failed yet). */
  private bulkWanted: boolean;
  /** Closes the bulk worker left without topics (`bulkIdleMs`), unless it gets one first. */
  private bulkIdleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly bulkAcks: Acknowledger;
  /** (1.5) Reassembles chunked frames; set while the server sends them (asked after its hello). */
  private assembler: ChunkAssembler | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly statusListeners = new Listeners<StatusMessage>();
  private readonly sessionListeners = new Listeners<SessionChange>();
  private readonly timelineListeners = new Listeners<TimelineMessage | undefined>();
  private readonly gapListeners = new Listeners<GapMessage>();
  private readonly helloListeners = new Listeners<HelloMessage>();
  private readonly topicsListeners = new Listeners<TopicsChange>();
  private readonly stateListeners = new Listeners<ConnectionState>();
  private readonly errorListeners = new Listeners<RelayClientError>();
  private readonly schemaOf = new Map<string, string>();
  /** The announced topics that are binary (kept beside `schemaOf`, so the bulk worker's choice looks up, not scans). */
  private readonly binaryTopics = new Set<string>();
  /** Binary frames still expected as part of a snapshot, per topic (they arrive in order after it). */
  private readonly replayFrames = new Map<string, number>();
  private attempt = 0;
  private nextId = 1;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private serverClosing = false;
  /**
   * True while a hello's listeners run: the wire subscriptions are rebuilt right after them from the
   * handlers then registered, so handlers added or removed meanwhile (a host remounting its pages on a new
   * session) send nothing of their own — each topic is subscribed once, and no unsubscribe is sent for a
   * subscription the new session does not have.
   */
  private greeting = false;
  private readonly WebSocketClass: WebSocketConstructor;

  constructor(private readonly options: RelayClientOptions) {
    const injected = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (injected === undefined) throw new RelayClientError(RelayClientErrorCode.INVALID_OPTIONS, 'no WebSocket constructor: pass options.WebSocket');
    this.WebSocketClass = injected;
    const invalid = invalidClientOption(options);
    if (invalid !== undefined) throw new RelayClientError(RelayClientErrorCode.INVALID_OPTIONS, invalid);
    const window = options.window ?? 1;
    this.acks = new Acknowledger(window, (topic, seq) => {
      if (this.isReady()) this.sendMessage({ type: 'handled', topic, seq });
    });
    this.bulkAcks = new Acknowledger(window, (topic, seq) => this.bulk?.handled(topic, seq));
    this.bulkWanted = options.bulkWorker !== undefined && options.WebSocket === undefined && typeof (globalThis as { Worker?: unknown }).Worker === 'function';
    this.connect();
  }

  /** Started with the first binary topic subscribed: a page without one opens no second connection. */
  private startBulk(): BulkLane | undefined {
    this.keepBulk();
    const script = this.options.bulkWorker;
    if (this.bulk !== undefined || !this.bulkWanted || script === undefined) return this.bulk;
    const { url, token, protocols, chunks, maxFrameBytes, backoff, reconnect, commandTimeoutMs, window = 1 } = this.options;
    const defined = Object.fromEntries(Object.entries({ token, protocols, chunks, maxFrameBytes, backoff, reconnect, commandTimeoutMs }).filter(([, value]) => value !== undefined));
    try {
      this.bulk = new BulkLane(script, { url, window, ...defined }, {
        frame: (frame, replay) => this.deliverBulkFrame(frame, replay),
        gap: (gap) => this.gapListeners.emit(gap),
        error: (code, message, topic) => this.emitError(new RelayClientError(code as RelayClientErrorCode, `bulk worker: ${message}`, topic === undefined ? undefined : { topic })),
        failed: (reason) => this.bulkFailed(reason),
      });
    } catch (error) {
      this.bulkWanted = false;
      this.emitError(new RelayClientError(RelayClientErrorCode.BULK_WORKER_FAILED, `the bulk worker did not start: ${(error as Error).message}; its topics stay on the page's connection`, { cause: error }));
    }
    return this.bulk;
  }

  /** The bulk worker has no topic left: closed after `bulkIdleMs` unless one comes first (`startBulk`). */
  private bulkMaybeIdle(): void {
    const lane = this.bulk;
    if (lane === undefined || lane.topics.size > 0 || this.bulkIdleTimer !== undefined) return;
    this.bulkIdleTimer = setTimeout(() => {
      this.bulkIdleTimer = undefined;
      if (this.bulk !== lane || lane.topics.size > 0) return;
      this.bulk = undefined;
      lane.close();
    }, this.options.bulkIdleMs ?? 5000);
  }

  private keepBulk(): void {
    if (this.bulkIdleTimer === undefined) return;
    clearTimeout(this.bulkIdleTimer);
    this.bulkIdleTimer = undefined;
  }

  /** The worker is gone: its topics come back to this connection (subscribed now when it is open). */
  private bulkFailed(reason: string): void {
    this.keepBulk();
    const lane = this.bulk;
    this.bulk = undefined;
    this.bulkWanted = false;
    this.emitError(new RelayClientError(RelayClientErrorCode.BULK_WORKER_FAILED, `${reason}; its topics move to the page's connection`));
    if (lane === undefined || this.state === 'closed') return;
    if (this.isReady() && !this.greeting) this.subscribeAnnounced([...lane.topics].filter((topic) => this.handlers.has(topic)));
  }

  private announce(topic: TopicInfo): void {
    this.schemaOf.set(topic.name, topic.schema);
    if (topic.binary === true) this.binaryTopics.add(topic.name);
    else this.binaryTopics.delete(topic.name);
  }

  /** The server announced `topic` as binary (`undefined`: not announced). */
  private binaryTopic(topic: string): boolean | undefined {
    return this.schemaOf.has(topic) ? this.binaryTopics.has(topic) : undefined;
  }

  /** The page takes an announced topic that is not binary: what the bulk worker is for. */
  private takesSmallTopic(): boolean {
    for (const topic of this.handlers.keys()) if (this.binaryTopic(topic) === false) return true;
    return false;
  }

  /**
   * A topic for the bulk worker: a binary one, while a worker is wanted and the page also takes an announced
   * topic that is not binary. The worker keeps small messages from waiting behind chunks on the page's main
   * thread; a page of binary topics alone has none to protect, and the hop to the worker only adds to a
   * frame's age (bench:image, full resolution: age p99 24.8 against 12.4 ms on one connection).
   */
  private isBulk(topic: string, takesSmall = this.takesSmallTopic()): boolean {
    return this.bulkWanted && this.binaryTopic(topic) === true && takesSmall;
  }

  /**
   * The page took its first topic that is not binary: its binary topics subscribed on this connection move
   * to the bulk worker (and back, `moveBinaryToPage`, when it drops its last such topic).
   */
  private moveBinaryToWorker(): void {
    if (!this.takesSmallTopic()) return;
    const moving = [...this.handlers.keys()].filter((topic) => this.isBulk(topic, true) && !this.bulk?.topics.has(topic));
    if (moving.length === 0) return;
    if (this.isReady()) this.sendMessage({ type: 'unsubscribe', topics: moving });
    for (const topic of moving) this.acks.restart(topic);
    this.sendSubscribe(moving);
  }

  /**
   * The page dropped its last topic that is not binary: its binary topics come back from the bulk worker to
   * this connection, where a frame is younger (the worker's two thread hops are for pages that have small
   * messages to protect). The worker stays for `bulkIdleMs`, in case the page takes a small topic again.
   */
  private moveBinaryToPage(): void {
    const lane = this.bulk;
    if (lane === undefined || lane.topics.size === 0 || this.takesSmallTopic()) return;
    const moving = [...lane.topics].filter((topic) => this.handlers.has(topic));
    for (const topic of [...lane.topics]) {
      this.bulkAcks.restart(topic);
      lane.unsubscribe(topic);
    }
    this.bulkMaybeIdle();
    // Not ready: the next hello subscribes them here (no small topic, so none is for the worker).
    if (moving.length > 0 && this.isReady() && !this.greeting) this.sendSubscribe(moving);
  }

  private deliverBulkFrame(frame: DecodedFrame, replay: boolean): void {
    // Handlers gone meanwhile: the empty dispatch still acknowledges, so the worker's topic does not stall.
    const handlers = this.bulk?.topics.has(frame.topic) ? [...(this.handlers.get(frame.topic) ?? [])] : [];
    const borrowers = this.borrowers.get(frame.topic);
    const { buffer } = frame.data;
    // Nobody keeps it (every handler borrows, or none is left): back to the worker once they are done.
    const giveBack = buffer instanceof ArrayBuffer && handlers.every((handler) => borrowers?.has(handler)) ? () => this.bulk?.giveBack(buffer) : undefined;
    this.bulkAcks.dispatch(handlers, { kind: 'frame' as const, topic: frame.topic, seq: frame.seq, time: frame.time, frame, replay }, true, giveBack);
  }

  subscribe<Name extends string>(topic: Name, handler: TopicHandler<TopicPayload<Map, Name>>, options: SubscribeOptions = {}): () => void {
    if (options.view !== undefined) {
      if (this.handlers.has(topic)) void this.setView(topic, options.view).catch(() => undefined); // reported through onError
      else this.views.set(topic, options.view);
    }
    let set = this.handlers.get(topic);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    const erased = handler as TopicHandler<never>;
    set.add(erased);
    // The same handler subscribed again: its newest options say whether it borrows.
    if (options.borrowFrames === true) {
      let borrowing = this.borrowers.get(topic);
      if (borrowing === undefined) this.borrowers.set(topic, (borrowing = new Set()));
      borrowing.add(erased);
    } else this.borrowers.get(topic)?.delete(erased);
    // Not announced yet: `topics` will bring it, and we subscribe then.
    if (first && this.isReady() && !this.greeting && this.schemaOf.has(topic)) this.sendSubscribe([topic]);
    if (first && !this.greeting && this.bulkWanted && this.binaryTopic(topic) === false) this.moveBinaryToWorker();
    return () => {
      const current = this.handlers.get(topic);
      if (!current?.delete(erased)) return;
      this.borrowers.get(topic)?.delete(erased);
      if (current.size > 0) return;
      this.handlers.delete(topic);
      this.borrowers.delete(topic);
      this.views.delete(topic);
      this.acks.restart(topic);
      if (this.bulk?.topics.has(topic)) {
        this.bulkAcks.restart(topic);
        this.bulk.unsubscribe(topic);
        this.bulkMaybeIdle();
        return;
      }
      if (this.isReady() && !this.greeting && this.schemaOf.has(topic)) this.sendMessage({ type: 'unsubscribe', topics: [topic] });
      if (this.binaryTopic(topic) === false) this.moveBinaryToPage();
    };
  }

  setView(topic: string, view: ArrayView | undefined, options: CommandOptions = {}): Promise<void> {
    if (view === undefined) this.views.delete(topic);
    else this.views.set(topic, view);
    if (this.bulk?.topics.has(topic)) {
      const lane = this.bulk;
      this.bulkAcks.restart(topic);
      return lane.setView(topic, view).catch((error: { code: string; message: string }) => {
        throw new RelayClientError(error.code as RelayClientErrorCode, error.message, { topic });
      });
    }
    // Not subscribed on the wire (yet): the view goes with the subscription.
    if (!this.isReady() || !this.viewsSupported || !this.handlers.has(topic) || !this.schemaOf.has(topic)) return Promise.resolve();
    const id = `v${this.nextId++}`;
    return this.request(id, () => {
      // Frames of the old view still on their way are not acknowledged on the new view's window (see `view`).
      this.acks.restart(topic);
      this.sendMessage({ type: 'view', id, topic, view: view ?? null });
    }, options.timeoutMs).then(() => undefined);
  }

  command(name: string, args: JsonValue, options: CommandOptions = {}): Promise<JsonValue | undefined> {
    const id = `q${this.nextId++}`;
    const { topic } = options;
    return this.request(id, () => this.sendMessage({ type: 'command', id, name, args, ...(topic === undefined ? {} : { topic }) }), options.timeoutMs);
  }

  async ping(options: CommandOptions = {}): Promise<number> {
    const id = `p${this.nextId++}`;
    const started = Date.now();
    await this.request(id, () => this.sendMessage({ type: 'ping', id, time: started }), options.timeoutMs);
    return Date.now() - started;
  }

  onStatus(handler: (status: StatusMessage) => void): () => void {
    return this.statusListeners.add(handler);
  }
  onSessionChange(handler: (change: SessionChange) => void): () => void {
    return this.sessionListeners.add(handler);
  }
  onTimeline(handler: (timeline: TimelineMessage | undefined) => void): () => void {
    return this.timelineListeners.add(handler);
  }
  onGap(handler: (gap: GapMessage) => void): () => void {
    return this.gapListeners.add(handler);
  }
  onHello(handler: (hello: HelloMessage) => void): () => void {
    return this.helloListeners.add(handler);
  }
  onTopics(handler: (change: TopicsChange) => void): () => void {
    return this.topicsListeners.add(handler);
  }
  onStateChange(handler: (state: ConnectionState) => void): () => void {
    return this.stateListeners.add(handler);
  }
  onError(handler: (error: RelayClientError) => void): () => void {
    return this.errorListeners.add(handler);
  }

  close(): void {
    if (this.state === 'closed') return;
    clearTimeout(this.reconnectTimer);
    this.keepBulk();
    this.bulk?.close();
    this.bulk = undefined;
    this.setState('closed');
    this.setTimeline(undefined);
    this.failPending(RelayClientErrorCode.DISPOSED, 'the client was closed');
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      this.detach(socket);
      socket.close(1000, 'client closing');
    }
  }

  // -------------------------------------------------------------------------------------------

  private isReady(): boolean {
    return this.state === 'open' && this.socket?.readyState === OPEN;
  }

  private request(id: string, send: () => void, timeoutMs = this.options.commandTimeoutMs ?? 10_000): Promise<JsonValue | undefined> {
    if (this.state === 'closed') return Promise.reject(new RelayClientError(RelayClientErrorCode.DISPOSED, 'the client was closed'));
    if (!this.isReady()) return Promise.reject(new RelayClientError(RelayClientErrorCode.DISCONNECTED, 'not connected'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RelayClientError('TIMEOUT', `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      send();
    });
  }

  private connect(): void {
    const protocols = [SUBPROTOCOL, ...(this.options.token ? [`${TOKEN_PROTOCOL_PREFIX}${this.options.token}`] : []), ...(this.options.protocols ?? [])];
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(this.options.url, protocols);
    } catch (error) {
      this.emitError(new RelayClientError(RelayClientErrorCode.REJECTED, `cannot open ${this.options.url}: ${(error as Error).message}`, { cause: error }));
      this.setState('closed');
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => this.receive(event.data);
    socket.onerror = () => undefined; // a close event follows; that is where we act
    socket.onclose = (event) => this.closed(socket, event.code, event.reason);
  }

  private detach(socket: WebSocketLike): void {
    socket.onmessage = null;
    socket.onclose = null;
    // Kept, as a no-op: closing a socket that is still connecting makes it report an error, and `ws` (Node)
    // throws one that has no listener, out of the event loop (an uncaught exception in the caller's process).
    socket.onerror = () => undefined;
    socket.onopen = null;
  }

  private closed(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.detach(socket);
    this.socket = undefined;
    this.assembler = undefined;
    this.replayFrames.clear();
    // A timeline belongs to its connection: a reconnect to a replaying server brings the new one after hello.
    this.setTimeline(undefined);
    this.failPending(RelayClientErrorCode.DISCONNECTED, `connection closed (${code}${reason ? ` ${reason}` : ''})`);
    if (this.state === 'closed') return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.emitError(new RelayClientError(RelayClientErrorCode.REJECTED, `the server refused the connection: ${code} ${reason}`));
      this.setState('closed');
      return;
    }
    if (this.options.reconnect === false) {
      this.setState('closed');
      return;
    }
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      if (this.state !== 'closed') this.connect();
    }, this.nextDelay());
  }

  /** Exponential backoff with jitter, so pages reconnecting after a restart do not arrive in lockstep. */
  private nextDelay(): number {
    const { initialMs = BACKOFF_DEFAULTS.initialMs, maxMs = BACKOFF_DEFAULTS.maxMs, factor = BACKOFF_DEFAULTS.factor, jitter = BACKOFF_DEFAULTS.jitter } = this.options.backoff ?? {};
    // A server that announced it is closing will not be back at once: start further along the curve.
    if (this.serverClosing && this.attempt < 2) this.attempt = 2;
    const base = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt += 1;
    const random = (this.options.random ?? Math.random)();
    return Math.round(base * (1 - jitter + jitter * random));
  }

  private failPending(code: RelayClientErrorCode, message: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new RelayClientError(code, message));
      this.pending.delete(id);
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.stateListeners.emit(state);
  }

  private emitError(error: RelayClientError): void {
    this.errorListeners.emit(error);
  }

  private sendMessage(message: Parameters<typeof encodeClientMessage>[0]): void {
    this.socket?.send(encodeClientMessage(message));
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') {
      this.receiveFrame(data);
      return;
    }
    let message: ServerMessage;
    try {
      message = parseServerMessage(data);
    } catch (error) {
      this.emitError(new RelayClientError(RelayClientErrorCode.BAD_SERVER_MESSAGE, (error as Error).message, { cause: error }));
      return;
    }
    switch (message.type) {
      case 'hello':
        this.hello(message);
        break;
      case 'topics':
        this.topicsChanged(message);
        break;
      case 'data':
        this.deliverJson(message.topic, message.seq, message.time, message.payload, false);
        break;
      case 'snapshot': {
        // A multi-item snapshot of a latest topic (1.5) is acknowledged once, by its newest item.
        const last = message.items.length - 1;
        message.items.forEach((item, index) => this.deliverJson(message.topic, item.seq, item.time, item.payload, true, index === last));
        if (message.binaryFrames) this.replayFrames.set(message.topic, message.binaryFrames);
        break;
      }
      case 'timeline':
        this.setTimeline(message);
        break;
      case 'notimeline':
        this.setTimeline(undefined);
        break;
      case 'gap':
        this.gapListeners.emit(message);
        break;
      case 'status':
        this.serverClosing = message.code === 'server.closing';
        this.statusListeners.emit(message);
        break;
      case 'ack':
        this.settle(message.id, undefined, message.result);
        break;
      case 'pong':
        this.settle(message.id, undefined, null);
        break;
      case 'error': {
        const error = new RelayClientError(message.code, message.message, message.topic === undefined ? undefined : { topic: message.topic });
        if (message.id === undefined || !this.settle(message.id, error)) this.emitError(error);
        break;
      }
    }
  }

  private settle(id: string, error: RelayClientError | undefined, result?: JsonValue): boolean {
    const pending = this.pending.get(id);
    if (pending === undefined) return false;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(result);
    return true;
  }

  private setTimeline(timeline: TimelineMessage | undefined): void {
    if (timeline === undefined && this.timeline === undefined) return;
    this.timeline = timeline;
    this.timelineListeners.emit(timeline);
  }

  /**
   * A hello starts a session: on a new connection, or (1.5) again on this one — then the server has dropped
   * our subscriptions and everything it had queued for us; frames of an old snapshot still expected are not.
   */
  private hello(message: HelloMessage): void {
    this.replayFrames.clear();
    const previous = this.sessionId;
    const previousTopics = this.topics.map((topic) => topic.name);
    this.sessionId = message.sessionId;
    this.topics = message.topics;
    this.schemaOf.clear();
    this.binaryTopics.clear();
    for (const topic of message.topics) this.announce(topic);
    this.attempt = 0;
    this.serverClosing = false;
    this.acks.connected(message.version, message.topics);
    this.bulkAcks.connected(message.version, message.topics);
    this.viewsSupported = versionAtLeast(message.version, 1, 3);
    // Chunks (1.5): asked before anything is subscribed, so even the snapshots' big frames come in chunks —
    // once per connection: a second hello on the same connection (a new session) keeps the count going.
    if (this.assembler === undefined && this.options.chunks !== false && versionAtLeast(message.version, 1, 5)) {
      this.assembler = new ChunkAssembler({ maxDataBytes: this.options.maxFrameBytes ?? 2 ** 30 });
      this.sendMessage({ type: 'received', bytes: 0 });
    }
    this.greeting = true;
    try {
      this.setState('open');
      this.helloListeners.emit(message);
      if (previous !== undefined && previous !== message.sessionId) this.sessionListeners.emit({ previous, current: message.sessionId });
      // After a reconnect the server may know fewer topics (a source went while we were away): say so.
      const now = new Set(message.topics.map((topic) => topic.name));
      const removed = previousTopics.filter((name) => !now.has(name));
      this.topicsListeners.emit({ added: message.topics, removed, topics: this.topics });
    } finally {
      this.greeting = false;
    }
    // Resubscribing brings the snapshot (latest value / replay window) of the new session.
    this.subscribeAnnounced([...this.handlers.keys()]);
  }

  private topicsChanged(message: TopicsMessage): void {
    const removed = new Set(message.removed);
    this.topics = [...this.topics.filter((topic) => !removed.has(topic.name) && !message.added.some((added) => added.name === topic.name)), ...message.added];
    for (const name of removed) {
      this.schemaOf.delete(name);
      this.binaryTopics.delete(name);
      this.replayFrames.delete(name);
    }
    for (const topic of message.added) this.announce(topic);
    this.acks.topicsChanged(message.added, message.removed);
    this.bulkAcks.topicsChanged(message.added, message.removed);
    this.topicsListeners.emit({ added: message.added, removed: message.removed, topics: this.topics });
    // Handlers stay registered for a retired topic: if it comes back, they get its new values.
    this.subscribeAnnounced(message.added.map((topic) => topic.name).filter((name) => this.handlers.has(name)));
    if (this.bulkWanted && message.added.some((topic) => topic.binary !== true && this.handlers.has(topic.name))) this.moveBinaryToWorker();
  }

  /** Subscribes to those of `names` the server has announced, in requests of at most 64 topics. */
  private subscribeAnnounced(names: readonly string[]): void {
    const topics = names.filter((name) => this.schemaOf.has(name));
    for (let start = 0; start < topics.length; start += 64) this.sendSubscribe(topics.slice(start, start + 64));
  }

  /**
   * A subscription starts: with the credit window when acknowledging (latest topics; the server ignores it
   * for streams), and a topic with a view in a request of its own, so a view the server refuses costs no
   * other topic its subscription.
   */
  private sendSubscribe(all: string[]): void {
    const topics: string[] = [];
    const takesSmall = this.bulkWanted && this.takesSmallTopic();
    for (const topic of all) {
      const lane = this.isBulk(topic, takesSmall) ? this.startBulk() : undefined;
      if (lane === undefined) topics.push(topic);
      else {
        this.bulkAcks.restart(topic);
        lane.subscribe(topic, this.views.get(topic));
      }
    }
    if (topics.length === 0) return;
    for (const topic of topics) this.acks.restart(topic);
    const window = this.acks.subscribeWindow;
    const plain = this.viewsSupported ? topics.filter((topic) => !this.views.has(topic)) : topics;
    if (plain.length > 0) this.sendMessage({ type: 'subscribe', topics: plain, ...(window === undefined ? {} : { window }) });
    if (plain.length === topics.length) return;
    for (const topic of topics) {
      const view = this.views.get(topic);
      if (view !== undefined) this.sendMessage({ type: 'subscribe', topics: [topic], ...(window === undefined ? {} : { window }), view });
    }
  }

  private deliverJson(topic: string, seq: number, time: number, payload: unknown, replay: boolean, acknowledge = true): void {
    const handlers = this.handlers.get(topic);
    if (handlers === undefined) return;
    const schema = this.schemaOf.get(topic);
    const check: PayloadCheck | undefined = schema === undefined ? undefined : this.options.payloadValidators?.[schema];
    let value = payload;
    if (check) {
      try {
        value = check(payload);
      } catch (error) {
        this.acks.dropped(topic, seq);
        this.emitError(new RelayClientError(RelayClientErrorCode.BAD_SERVER_MESSAGE, `payload of ${topic} #${seq}: ${(error as Error).message}`, { topic, cause: error }));
        return;
      }
    }
    this.acks.dispatch(handlers, { kind: 'data' as const, topic, seq, time, payload: value as never, replay }, acknowledge);
  }

  private receiveFrame(data: unknown): void {
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
      this.emitError(new RelayClientError(RelayClientErrorCode.BAD_SERVER_MESSAGE, 'unexpected binary message type (set binaryType to arraybuffer)'));
      return;
    }
    let frame: DecodedFrame;
    try {
      let bytes: ArrayBuffer | ArrayBufferView = data;
      if (this.assembler !== undefined && isChunk(data)) {
        const assembler = this.assembler;
        let whole: Uint8Array | undefined;
        try {
          whole = assembler.push(data);
        } finally {
          // Confirmed at once (even a chunk refused: its bytes arrived), before any handler runs: the server
          // sends the next chunk meanwhile.
          this.sendMessage({ type: 'received', bytes: assembler.received });
        }
        if (whole === undefined) return;
        bytes = whole;
      }
      if (!isFrame(bytes)) throw new Error('binary frame: not a webmon frame');
      frame = decodeFrame(bytes, { maxDataBytes: this.options.maxFrameBytes ?? 2 ** 30 });
    } catch (error) {
      // The decoder's messages say "binary frame" already.
      this.emitError(new RelayClientError(RelayClientErrorCode.BAD_SERVER_MESSAGE, (error as Error).message, { cause: error }));
      return;
    }
    const remaining = this.replayFrames.get(frame.topic) ?? 0;
    if (remaining > 0) {
      if (remaining === 1) this.replayFrames.delete(frame.topic);
      else this.replayFrames.set(frame.topic, remaining - 1);
    }
    const handlers = this.handlers.get(frame.topic);
    if (handlers === undefined) return;
    this.acks.dispatch(handlers, { kind: 'frame' as const, topic: frame.topic, seq: frame.seq, time: frame.time, frame, replay: remaining > 0 });
  }
}
