/**
 * The relay server: one `ws` server (noServer) that either attaches to the app's `http.Server` at a path
 * or listens on its own. Publishing is a plain function call; each page gets what it subscribed to,
 * within its own memory budget (see `peer.ts`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  ChunkDefaults,
  CloseCode,
  PROTOCOL_VERSION,
  ProtocolErrorCode,
  SUBPROTOCOL,
  canonicalView,
  encodeFrameHeader,
  encodeServerMessage,
  isProtocolError,
  parseClientMessage,
  viewKey,
  type ArrayView,
  type ClientMessage,
  type CommandMessage,
  type FrameInit,
  type HandledMessage,
  type JsonValue,
  type ServerMessage,
  type StatusCode,
  type TimelineMessage,
  type TopicInfo,
  type ViewMessage,
  type WireErrorCode,
  TopicInfoSchema,
  TopicNameSchema,
} from '@webmon/protocol';
import { RelayCommandError, RelayError, RelayErrorCode } from './errors.js';
import { Peer, type BufferPool, type PeerBudget, type PeerStats, type ViewSource } from './peer.js';
import {
  TOKEN_PATTERN,
  TOKEN_PROTOCOL_PREFIX,
  hostAllowed,
  isLoopbackAddress,
  offeredToken,
  requestTarget,
  originAllowed,
  tokensEqual,
  type OriginPolicy,
} from './security.js';
import type { Entry, FrameEntry, JsonEntry } from './entries.js';
import { FrameHold } from './frame-hold.js';
import { Topic, type RelayTopicOptions } from './topic.js';
import { TokenBucket } from './token-bucket.js';
import { clipRegion, imageGeometry } from './view-math.js';
import type { PeerView } from './view-slots.js';
import { ViewMaker, type ViewStats } from './views.js';
import { ViewPool, defaultViewWorkers } from './view-pool.js';
import { Opcode, frameHeader, textFrame } from './ws-frame.js';

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** Which command names pass: any valid name, a list, or a predicate. */
export type CommandAllowlist = 'any' | readonly string[] | ((name: string) => boolean);

export interface RelayClientInfo {
  /** Connection id, unique within the session. */
  id: string;
  origin: string | undefined;
  remoteAddress: string | undefined;
}

/** Who sent a command, and to which topic's source it is addressed. */
export interface CommandContext extends RelayClientInfo {
  /** The topic the page addressed the command to (a declared topic), if it named one. */
  topic: string | undefined;
}

/**
 * Handles a page's command. Return the ack's result (any JSON value, or nothing); throw a
 * `RelayCommandError` to choose the wire error (e.g. `NO_PUBLISHER`), anything else becomes `COMMAND_FAILED`.
 */
export type CommandHandler = (name: string, args: JsonValue, context: CommandContext) => unknown;

/**
 * Checks a command before the handler sees it (the name already is a public identifier). Throw a
 * `RelayCommandError` to choose the wire code (`UNKNOWN_COMMAND`, `BAD_COMMAND_ARGS`); anything else
 * thrown becomes `BAD_COMMAND_ARGS`.
 */
export type CommandValidator = (name: string, args: JsonValue, topic: string | undefined) => void;

export interface RelayOptions {
  /** Topics announced in `hello`; more can be declared (and retired) while the relay runs. @default [] */
  topics?: readonly RelayTopicOptions[];
  /** Checks every command before the handler runs. @default none (any public identifier, any JSON args) */
  validateCommand?: CommandValidator;
  /** Attach to this server's `upgrade` event instead of listening alone. */
  server?: HttpServer;
  /** URL path of the WebSocket endpoint. @default '/ws' */
  path?: string;
  /** Standalone only: address to bind. Non-loopback requires `token`. @default '127.0.0.1' */
  host?: string;
  /** Standalone only. @default 0 (any free port) */
  port?: number;
  /** Shared secret a client must present (subprotocol `webmon.token.<token>` or `?token=`); 16–256 of `A-Za-z0-9._~-`. */
  token?: string;
  /** Origins allowed to connect: `'same-origin'`, a list of exact origins, or `'*'`. @default 'same-origin' */
  allowedOrigins?: OriginPolicy;
  /** Refuse clients that send no `Origin` (browsers always send one; Node clients usually do not). @default false */
  requireOrigin?: boolean;
  /** Extra Host names accepted on loopback connections besides localhost / 127.x / [::1]. @default [] */
  allowedHosts?: readonly string[];
  /** Largest message a client may send, bytes (larger: close 1009). @default 65536 */
  maxPayload?: number;
  /** Open connections at most. @default 64 */
  maxConnections?: number;
  /**
   * Open connections from one remote address at most (close 4029 beyond), so one host cannot take every
   * slot. Every local process shares 127.0.0.1, so on loopback this is a cap for all local pages together:
   * raise it if one user opens more tabs than this. @default 16
   */
  maxConnectionsPerAddress?: number;
  /**
   * Admits a WebSocket request that offers no token, e.g. by the session cookie the app's HTTP server set
   * after checking the token. Only asked when `token` is set. @default none
   */
  authorizeRequest?: (request: IncomingMessage) => boolean;
  /** Bytes in flight to one client above which its data is parked. @default 1 MiB */
  highWaterMark?: number;
  /** Bytes in flight at which a parked client is resumed. @default 256 KiB */
  lowWaterMark?: number;
  /** Parked stream messages per client; beyond, the oldest are dropped and a gap is reported. @default 4096 */
  maxQueuedMessages?: number;
  /** Parked stream bytes per client. @default 4 MiB */
  maxQueuedBytes?: number;
  /** Hard ceiling of bytes one client may hold (in flight + parked); beyond, it is disconnected. @default 64 MiB */
  maxBufferedBytes?: number;
  /**
   * (1.5) To a client that asked for chunks: binary frames of more than 16 KiB leave in chunks of at most
   * this many bytes, so small messages go between them (while small messages flow to the client, chunks are
   * `bulkWindowBesideSmallBytes`, one in flight). @default 8 MiB (`ChunkDefaults.chunkBytes`)
   */
  chunkBytes?: number;
  /**
   * (1.5) Bytes sent in chunks to one client and not yet confirmed by it (`received`) beyond which no chunk
   * leaves: what a small message may wait behind, bulk data in the kernel's and the browser's buffers.
   * @default 8 MiB (`ChunkDefaults.bulkWindowBytes`)
   */
  bulkWindowBytes?: number;
  /**
   * (1.5) The bulk window while small messages (JSON values, frames sent whole) flow to the same client —
   * sent to it within the last 2 s (`ChunkDefaults.smallTrafficMs`): then a small message waits behind this much bulk data at most, and
   * it leaves as one chunk at a time. Larger than `bulkWindowBytes`: that one always.
   * @default 128 KiB (`ChunkDefaults.bulkWindowBesideSmallBytes`)
   */
  bulkWindowBesideSmallBytes?: number;
  /**
   * Ceiling of bytes held for all clients together (in flight + parked); beyond, the client holding most
   * is cut off (its socket is destroyed: close 1006), so stalled pages cannot add up their budgets.
   * @default 256 MiB
   */
  maxTotalBufferedBytes?: number;
  /**
   * Snapshot bytes (replay windows, latest values) per client, as a byte bucket. The first snapshot of each
   * topic on a connection is free (a page must get its view); a repeated subscribe is served only while the
   * bucket is not empty (its size is charged in full, into debt), else that topic gets `RATE_LIMITED` and
   * stays unsubscribed — so subscribe/unsubscribe in a loop cannot turn small messages into megabytes.
   * @default { perSecond: 65536, burst: 262144 }
   */
  snapshotRate?: RateLimit;
  /** Interval of WebSocket pings; a peer that missed one pong is dropped. 0 disables. @default 30000 */
  heartbeatMs?: number;
  /** Commands per client. @default { perSecond: 10, burst: 20 } */
  commandRate?: RateLimit;
  /** All messages per client. @default { perSecond: 200, burst: 400 } */
  messageRate?: RateLimit;
  /** Invalid messages per client before it is closed with 4008. @default { perSecond: 1, burst: 10 } */
  invalidMessageRate?: RateLimit;
  /**
   * View changes (`view` messages) per client: each may cost a view computation of the topic's newest
   * value, so a page zooming in a loop cannot keep the relay busy computing. Beyond: `RATE_LIMITED`, the
   * view stays as it was. @default { perSecond: 20, burst: 40 }
   */
  viewRate?: RateLimit;
  /**
   * Threads array views are computed on (`worker_threads`), so that computing them does not hold up the
   * relay's event loop (every other topic and page). They start at the first view a page asks for; 0
   * computes views on the event loop, as 1.3 did. If a thread cannot start, views are computed inline
   * (`stats().views.pool` says so). @default 1 per spare core, at most 4; 1 on a machine of ≤ 2 cores
   */
  viewWorkers?: number;
  /** Commands the relay passes to the handler. @default 'any' */
  allowedCommands?: CommandAllowlist;
  /** Time the command handler gets before the page receives `TIMEOUT`. @default 10000 */
  commandTimeoutMs?: number;
  /** Commands in progress per client. @default 16 */
  maxPendingCommands?: number;
  /** Session id sent in `hello`. @default a random UUID */
  sessionId?: string;
}

export interface RelayAddress {
  host: string;
  port: number;
  /** `ws://host:port/path` */
  url: string;
}

export interface RelayStats {
  sessionId: string;
  connections: number;
  /** Bytes held for all clients together (in flight + parked), bounded by `maxTotalBufferedBytes`. */
  bufferedBytes: number;
  clients: PeerStats[];
  /** Array views computed, shared and sent whole, and the time they took (protocol 1.3). */
  views: ViewStats;
}

/** Details of a status broadcast. */
export interface StatusDetails {
  source?: string;
  message?: string;
}

/** What a tap (`relay.tap`) is told; every method is optional. */
export interface RelayTap {
  declared?(info: TopicInfo): void;
  retired?(name: string): void;
  /** A JSON value as published: its JSON text (not parsed again) and the relay's time stamp (ms). */
  json?(info: TopicInfo, seq: number, time: number, payloadJson: string): void;
  /**
   * A binary frame: its header as sent (`header.time` is the source's clock when it gave one), the encoded
   * webmon frame header and the data (the producer's bytes, not a copy: read-only). `data` may be read
   * during the call; to read it later without copying, call `keep()` now and the function it returns once
   * done — the producer may reuse the buffer after that (see `publishFrame`'s `release`).
   */
  frame?(info: TopicInfo, header: FrameInit, headerBytes: Uint8Array, data: Uint8Array, keep: () => () => void): void;
}

/**
 * (Protocol 1.5) Where a replayed recording is: the `timeline` message without its `type`. `time` is the
 * relay's clock at which `cursor` held (default: when `setTimeline` was called).
 */
export type RelayTimeline = Omit<TimelineMessage, 'type' | 'time'> & { time?: number };

/** Options of one `publish`. */
export interface PublishOptions {
  /**
   * The value's time stamp (ms since the epoch), e.g. its recorded time when a recording is replayed.
   * @default Date.now()
   */
  time?: number;
}

/** A frame's description; the relay fills in topic, seq and (unless given) time. */
export type FrameDescription = Omit<FrameInit, 'topic' | 'seq' | 'time'> & { time?: number };

export interface Relay {
  /** The current session's id (changed by `restartSession`). */
  readonly sessionId: string;
  /** (Protocol 1.5) The timeline of the recording being replayed, if any (see `setTimeline`). */
  readonly timeline: TimelineMessage | undefined;
  /** The topics declared now. */
  readonly topics: readonly TopicInfo[];
  /**
   * Declares a topic while running and announces it to every page (`topics` message). Declaring a
   * topic again with the same options does nothing; with other options it throws `RELAY_TOPIC_CONFLICT`.
   */
  declareTopic(options: RelayTopicOptions): void;
  /** Retires a topic: announced to every page, its subscriptions end, its history is dropped. False if unknown. */
  retireTopic(name: string): boolean;
  hasTopic(name: string): boolean;
  /** Standalone mode: binds `host:port`. Throws `RELAY_TOKEN_REQUIRED` for a non-loopback host without a token. */
  listen(): Promise<RelayAddress>;
  /** Where the relay listens (its own or the app's server), once listening. */
  address(): RelayAddress | undefined;
  /** Publishes a JSON value on a JSON topic; returns its sequence number. */
  publish(topic: string, payload: unknown, options?: PublishOptions): number;
  /**
   * Publishes a binary frame; `data` is referenced, not copied — do not modify it afterwards. With
   * `release`, the producer wants the buffer back: the relay calls it (once, never synchronously from
   * here) when nothing it holds reads `data` any more — not the topic's newest value, no page's parked
   * value or unfinished write, no view being computed from it, no tap that kept it — and the producer may
   * then reuse the buffer (a pool instead of a new buffer per frame: no garbage for V8 to collect).
   * Without `release` the relay keeps references and the garbage collector frees the buffer. When this
   * throws for its arguments (`RELAY_UNKNOWN_TOPIC`, `RELAY_WRONG_TOPIC_KIND`, `RELAY_BAD_PAYLOAD`), it
   * does so before anything holds `data`: `release` is never called and the buffer is the producer's again.
   */
  publishFrame(topic: string, frame: FrameDescription, data: ArrayBufferView, release?: () => void): number;
  /** Broadcasts a status; new clients receive the last one of each source after `hello`. */
  setStatus(code: StatusCode, details?: StatusDetails): void;
  /**
   * Sets (or clears) the handler of page commands. Without one, commands get `NO_PUBLISHER`. A handler
   * that throws `RelayCommandError('NOT_LIVE', …)` refuses commands while a recording is replayed.
   */
  onCommand(handler: CommandHandler | undefined): void;
  /**
   * (Protocol 1.5) Starts a new session on the open connections, without reconnecting (a replay that
   * seeks): a new session id; every topic's values dropped (latest value, replay window, views; seq numbers
   * go on); every page's subscriptions, parked and queued values and credit windows dropped; then a new
   * `hello` (the topics declared now), the timeline if there is one, and the last status of each source go
   * to every page — which subscribes again and gets the snapshots of the new session. What was already
   * written to a socket arrives before the new `hello`. Returns the new session id.
   */
  restartSession(): string;
  /**
   * (Protocol 1.5) Sets the timeline of the recording being replayed and sends it to every page (and to
   * every page that connects later, after its `hello`). `undefined` drops it and (protocol 1.6) sends
   * `notimeline` to every page, whose client forgets its timeline (a 1.5 client reports a bad server
   * message and keeps it until its connection or session ends). While there is a timeline, the relay's
   * clock — which decides what a late joiner's replay window holds — is the timeline's cursor, not the wall
   * clock.
   */
  setTimeline(timeline: RelayTimeline | undefined): void;
  stats(): RelayStats;
  /**
   * Sees every topic declared or retired and every value published, in process (a recorder): the topics
   * already declared are reported at once. Listeners run synchronously on the publishing path, so they
   * must be quick. A frame's `data` is the producer's buffer: a tap must not modify it, and keeps it
   * past the call only with `keep` (the producer may reuse it otherwise).
   * A listener that throws is removed, so a broken tap cannot break publishing. Returns the remover.
   */
  tap(listener: RelayTap): () => void;
  /**
   * Calls `listener` for every client that connects, once the relay admitted it and sent it its `hello`
   * (a replay that waits for its first page). Refused handshakes are not reported. A listener that throws
   * is removed. Returns the remover.
   */
  onConnect(listener: (client: RelayClientInfo) => void): () => void;
  /** Tells clients `server.closing`, closes every connection (1001) and, standalone, the server. */
  close(): Promise<void>;
}

const DEFAULTS = {
  path: '/ws',
  host: '127.0.0.1',
  port: 0,
  maxPayload: 64 * 1024,
  maxConnections: 64,
  maxConnectionsPerAddress: 16,
  maxTotalBufferedBytes: 256 * 2 ** 20,
  snapshotRate: { perSecond: 64 * 1024, burst: 256 * 1024 },
  highWaterMark: 2 ** 20,
  lowWaterMark: 256 * 1024,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 4 * 2 ** 20,
  maxBufferedBytes: 64 * 2 ** 20,
  heartbeatMs: 30_000,
  commandRate: { perSecond: 10, burst: 20 },
  messageRate: { perSecond: 200, burst: 400 },
  invalidMessageRate: { perSecond: 1, burst: 10 },
  viewRate: { perSecond: 20, burst: 40 },
  commandTimeoutMs: 10_000,
  maxPendingCommands: 16,
} as const;

/** A rejected handshake is closed at once; a peer that ignores the close frame is cut after this. */
const REJECT_GRACE_MS = 2_000;
const MAX_ERROR_MESSAGE = 1_000;

interface Connection {
  peer: Peer;
  info: RelayClientInfo;
  messages: TokenBucket;
  commands: TokenBucket;
  invalid: TokenBucket;
  /** Bytes of repeated snapshots (see `snapshotRate`). */
  snapshots: TokenBucket;
  /** View changes (see `viewRate`). */
  viewChanges: TokenBucket;
  /** Topics this connection already got a snapshot of (its first one per topic is free). */
  snapshotted: Set<string>;
  /** The remote address as counted against `maxConnectionsPerAddress`. */
  address: string;
  pendingCommands: number;
}

interface Rejection {
  closeCode: number;
  reason: WireErrorCode;
}

function fail(message: string): never {
  throw new RelayError(RelayErrorCode.INVALID_OPTIONS, message);
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) fail(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  return value;
}

function isHostLoopback(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

/** Creates a relay. Standalone: call `listen()`. Attached (`server` given): it serves as soon as the app's server does. */
export function createRelay(options: RelayOptions): Relay {
  return new RelayServer(options);
}

class RelayServer implements Relay {
  sessionId: string;
  timeline: TimelineMessage | undefined;
  private readonly topicsByName = new Map<string, Topic>();
  private readonly subscribers = new Map<string, Set<Peer>>();
  private readonly connections = new Map<WebSocket, Connection>();
  private readonly wss: WebSocketServer;
  private readonly server: HttpServer;
  private readonly standalone: boolean;
  private readonly path: string;
  private readonly budget: PeerBudget;
  private readonly pool: BufferPool;
  /** Open connections per remote address. */
  private readonly perAddress = new Map<string, number>();
  private readonly token: string | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private commandHandler: CommandHandler | undefined;
  /** The last status of each source (key: `source`, or '' for none), for pages that connect later. */
  private readonly lastStatus = new Map<string, string>();
  private nextPeerId = 1;
  private readonly viewMaker: ViewMaker;
  private listening = false;
  private closed = false;
  private readonly options: RelayOptions;
  private taps: RelayTap[] = [];
  private connectListeners: ((client: RelayClientInfo) => void)[] = [];

  constructor(options: RelayOptions) {
    this.options = options;
    this.sessionId = options.sessionId ?? randomUUID();
    this.path = options.path ?? DEFAULTS.path;
    if (!this.path.startsWith('/')) fail(`path must start with "/", got ${this.path}`);
    if (options.token !== undefined && !TOKEN_PATTERN.test(options.token)) {
      fail('token must be 16–256 characters of A-Z a-z 0-9 . _ ~ - (it travels in a subprotocol header)');
    }
    this.token = options.token;
    if (options.allowedOrigins === '*' && options.token === undefined) {
      fail("allowedOrigins '*' lets any web page read the stream: it needs a token");
    }
    this.budget = {
      highWaterMark: positive('highWaterMark', options.highWaterMark ?? DEFAULTS.highWaterMark),
      lowWaterMark: positive('lowWaterMark', options.lowWaterMark ?? DEFAULTS.lowWaterMark, true),
      maxQueuedMessages: positive('maxQueuedMessages', options.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages),
      maxQueuedBytes: positive('maxQueuedBytes', options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes),
      maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes),
      chunkBytes: positive('chunkBytes', options.chunkBytes ?? ChunkDefaults.chunkBytes),
      bulkWindowBytes: positive('bulkWindowBytes', options.bulkWindowBytes ?? ChunkDefaults.bulkWindowBytes),
      bulkWindowBesideSmallBytes: positive('bulkWindowBesideSmallBytes', options.bulkWindowBesideSmallBytes ?? ChunkDefaults.bulkWindowBesideSmallBytes),
    };
    if (!Number.isInteger(this.budget.chunkBytes) || this.budget.chunkBytes > 2 ** 30) fail('chunkBytes must be a whole number of bytes up to 1 GiB');
    if (this.budget.lowWaterMark > this.budget.highWaterMark) fail('lowWaterMark must not exceed highWaterMark');
    if (this.budget.maxBufferedBytes < this.budget.highWaterMark + this.budget.maxQueuedBytes) {
      fail('maxBufferedBytes must be at least highWaterMark + maxQueuedBytes');
    }
    this.pool = { bytes: 0, maxBytes: positive('maxTotalBufferedBytes', options.maxTotalBufferedBytes ?? DEFAULTS.maxTotalBufferedBytes) };
    positive('maxConnectionsPerAddress', options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress);
    positive('heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs, true);
    const viewWorkers = options.viewWorkers ?? defaultViewWorkers();
    if (!Number.isInteger(viewWorkers)) fail(`viewWorkers must be a whole number, got ${viewWorkers}`);
    this.viewMaker = new ViewMaker(new ViewPool(positive('viewWorkers', viewWorkers, true)));

    for (const topicOptions of options.topics ?? []) {
      if (this.topicsByName.has(topicOptions.name)) fail(`topic ${topicOptions.name} is declared twice`);
      this.addTopic(topicOptions);
    }

    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: positive('maxPayload', options.maxPayload ?? DEFAULTS.maxPayload),
      perMessageDeflate: false,
      clientTracking: false,
      // Without webmon.v1 the handshake still completes (echoing a harmless offered protocol, as a client
      // that offered some fails the handshake otherwise), so the close code 4002 can say why.
      handleProtocols: (protocols) => {
        if (protocols.has(SUBPROTOCOL)) return SUBPROTOCOL;
        for (const protocol of protocols) if (!protocol.startsWith(TOKEN_PROTOCOL_PREFIX)) return protocol;
        return false;
      },
    });

    this.standalone = options.server === undefined;
    this.server = options.server ?? createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end(`webmon relay: connect a WebSocket to ${this.path}\n`);
    });
    if (!this.standalone && this.server.listening) this.checkBinding(this.server.address());
    this.server.on('upgrade', this.handleUpgrade);

    const heartbeatMs = options.heartbeatMs ?? DEFAULTS.heartbeatMs;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
      this.heartbeat.unref();
    }
  }

  async listen(): Promise<RelayAddress> {
    if (this.closed) throw new RelayError(RelayErrorCode.DISPOSED, 'the relay is closed');
    if (!this.standalone || this.listening) {
      throw new RelayError(RelayErrorCode.ALREADY_LISTENING, this.standalone ? 'listen() was already called' : 'attached to an app server: listen on that server instead');
    }
    const host = this.options.host ?? DEFAULTS.host;
    if (!isHostLoopback(host) && this.token === undefined) {
      throw new RelayError(RelayErrorCode.TOKEN_REQUIRED, `binding ${host} exposes the stream beyond this machine: set a token (generateToken())`);
    }
    this.listening = true;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? DEFAULTS.port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.address();
    if (address === undefined) throw new RelayError(RelayErrorCode.DISPOSED, 'the server closed while starting');
    return address;
  }

  get topics(): readonly TopicInfo[] {
    return [...this.topicsByName.values()].map((topic) => topic.info);
  }

  hasTopic(name: string): boolean {
    return this.topicsByName.has(name);
  }

  declareTopic(options: RelayTopicOptions): void {
    if (this.closed) throw new RelayError(RelayErrorCode.DISPOSED, 'the relay is closed');
    const existing = this.topicsByName.get(options.name);
    if (existing !== undefined) {
      if (existing.sameAs(options)) return;
      throw new RelayError(RelayErrorCode.TOPIC_CONFLICT, `topic ${options.name} is already declared with other options (${JSON.stringify(existing.info)})`);
    }
    const topic = this.addTopic(options);
    this.broadcast(encodeServerMessage({ type: 'topics', added: [topic.info], removed: [], time: Date.now() }));
    for (const tap of this.taps) this.tell(tap, () => tap.declared?.(topic.info));
  }

  retireTopic(name: string): boolean {
    const topic = this.topicsByName.get(name);
    if (topic === undefined || this.closed) return false;
    this.topicsByName.delete(name);
    topic.clear(); // its newest value goes back to its producer once the pages have it
    for (const peer of this.subscribers.get(name) ?? []) {
      peer.subscriptions.delete(name);
      peer.forget(name);
    }
    this.subscribers.delete(name);
    // Declared again later, it is another topic: its first snapshot is free again.
    for (const connection of this.connections.values()) connection.snapshotted.delete(name);
    this.broadcast(encodeServerMessage({ type: 'topics', added: [], removed: [name], time: Date.now() }));
    for (const tap of this.taps) this.tell(tap, () => tap.retired?.(name));
    return true;
  }

  tap(listener: RelayTap): () => void {
    this.taps = [...this.taps, listener];
    for (const topic of this.topicsByName.values()) this.tell(listener, () => listener.declared?.(topic.info));
    return () => {
      this.taps = this.taps.filter((tap) => tap !== listener);
    };
  }

  onConnect(listener: (client: RelayClientInfo) => void): () => void {
    this.connectListeners = [...this.connectListeners, listener];
    return () => {
      this.connectListeners = this.connectListeners.filter((other) => other !== listener);
    };
  }

  /** Runs one tap callback; a tap that throws is removed (see \`tap\`). */
  private tell(tap: RelayTap, call: () => void): void {
    try {
      call();
    } catch {
      this.taps = this.taps.filter((other) => other !== tap);
    }
  }

  /** Validates a topic's public description through the same schema the client uses, then adds it. */
  private addTopic(options: RelayTopicOptions): Topic {
    const topic = new Topic(options);
    const checked = TopicInfoSchema.safeParse(topic.info);
    if (!checked.success) throw new RelayError(RelayErrorCode.INVALID_OPTIONS, `invalid topic ${JSON.stringify(options.name)}: ${checked.error.issues[0]?.message ?? 'schema mismatch'}`);
    this.topicsByName.set(options.name, topic);
    this.subscribers.set(options.name, new Set());
    return topic;
  }

  private broadcast(message: string): void {
    for (const { peer } of this.connections.values()) peer.sendControl(message);
  }

  address(): RelayAddress | undefined {
    const info = this.server.address();
    if (info === null || typeof info === 'string') return undefined;
    const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
    return { host: info.address, port: info.port, url: `ws://${host}:${info.port}${this.path}` };
  }

  publish(topicName: string, payload: unknown, options: PublishOptions = {}): number {
    const topic = this.topicFor(topicName, false);
    let payloadJson: string | undefined;
    try {
      payloadJson = JSON.stringify(payload);
    } catch (error) {
      throw new RelayError(RelayErrorCode.BAD_PAYLOAD, `payload of ${topicName} is not JSON-serialisable: ${(error as Error).message}`, { cause: error });
    }
    if (payloadJson === undefined) throw new RelayError(RelayErrorCode.BAD_PAYLOAD, `payload of ${topicName} is not a JSON value`);
    if (topic.validate !== undefined) {
      try {
        topic.validate(payload);
      } catch (error) {
        throw new RelayError(RelayErrorCode.BAD_PAYLOAD, `payload of ${topicName} refused: ${(error as Error).message}`, { cause: error });
      }
    }
    const time = options.time ?? Date.now();
    if (!Number.isFinite(time) || time < 0) throw new RelayError(RelayErrorCode.BAD_PAYLOAD, `time of ${topicName} must be a finite number >= 0, got ${time}`);
    const seq = topic.nextSeq();
    // Serialised and framed once for every peer.
    const frame = textFrame(`{"type":"data","topic":${JSON.stringify(topicName)},"seq":${seq},"time":${time},"payload":${payloadJson}}`);
    const entry: JsonEntry = { kind: 'json', topic: topicName, seq, time, payloadJson, frame, bytes: frame.length };
    this.fanOut(topic, entry);
    for (const tap of this.taps) if (tap.json !== undefined) this.tell(tap, () => tap.json?.(topic.info, seq, time, payloadJson));
    return seq;
  }

  publishFrame(topicName: string, frame: FrameDescription, data: ArrayBufferView, release?: () => void): number {
    const topic = this.topicFor(topicName, true);
    const seq = topic.nextSeq();
    const time = frame.time ?? Date.now();
    let header: Uint8Array;
    try {
      header = encodeFrameHeader({ ...frame, topic: topicName, seq, time }, data.byteLength);
    } catch (error) {
      throw new RelayError(RelayErrorCode.BAD_PAYLOAD, `frame of ${topicName}: ${(error as Error).message}`, { cause: error });
    }
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength); // a view, not a copy
    const wsHeader = frameHeader(Opcode.BINARY, header.length + bytes.length);
    const prefix = Buffer.concat([wsHeader, header]);
    const init: FrameInit = { ...frame, topic: topicName, seq, time };
    // `release` is called after this returns: the hold below is the publisher's own until then.
    const hold = release === undefined ? undefined : new FrameHold(() => queueMicrotask(() => callSafely(release)));
    const entry: FrameEntry = { kind: 'frame', topic: topicName, seq, time, prefix, data: bytes, bytes: prefix.length + bytes.length, header: init, ...(hold === undefined ? {} : { hold }) };
    try {
      this.fanOut(topic, entry);
      for (const tap of this.taps) if (tap.frame !== undefined) this.tell(tap, () => tap.frame?.(topic.info, init, header, bytes, () => keepFrame(hold)));
    } finally {
      hold?.letGo();
    }
    return seq;
  }

  setStatus(code: StatusCode, details: StatusDetails = {}): void {
    const message = encodeServerMessage({ type: 'status', code, ...details, time: Date.now() });
    this.lastStatus.set(details.source ?? '', message);
    this.broadcast(message);
  }

  onCommand(handler: CommandHandler | undefined): void {
    this.commandHandler = handler;
  }

  stats(): RelayStats {
    return {
      sessionId: this.sessionId,
      connections: this.connections.size,
      bufferedBytes: this.pool.bytes,
      clients: [...this.connections.values()].map(({ peer }) => peer.stats()),
      views: this.viewMaker.stats,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.server.off('upgrade', this.handleUpgrade);
    const closing = encodeServerMessage({ type: 'status', code: 'server.closing', time: Date.now() });
    const gone: Promise<void>[] = [];
    for (const [ws, { peer }] of this.connections) {
      gone.push(new Promise((resolve) => ws.once('close', () => resolve())));
      peer.sendControl(closing);
      peer.close(CloseCode.GOING_AWAY, 'server.closing', 1_000);
    }
    await Promise.all(gone);
    await this.viewMaker.close();
    this.wss.close();
    if (this.standalone && this.listening) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Publishing
  // -------------------------------------------------------------------------------------------

  private topicFor(name: string, binary: boolean): Topic {
    if (this.closed) throw new RelayError(RelayErrorCode.DISPOSED, 'the relay is closed');
    const topic = this.topicsByName.get(name);
    if (topic === undefined) throw new RelayError(RelayErrorCode.UNKNOWN_TOPIC, `topic ${name} was not declared`);
    if (topic.binary !== binary) {
      throw new RelayError(RelayErrorCode.WRONG_TOPIC_KIND, `topic ${name} is ${topic.binary ? 'binary: use publishFrame' : 'JSON: use publish'}`);
    }
    return topic;
  }

  private fanOut(topic: Topic, entry: Entry): void {
    topic.record(entry);
    const peers = this.subscribers.get(entry.topic);
    if (peers === undefined) return;
    if (entry.kind === 'frame' && topic.mode === 'latest') {
      // The views of the new value are started now (one per distinct view), while the pages still hold
      // the previous one: ready, or nearly, when their acknowledgements come (see `ViewMaker.ahead`).
      const views = new Map<string, PeerView>();
      for (const peer of peers) {
        const view = peer.viewOf(entry.topic);
        if (view !== undefined) views.set(view.key, view);
      }
      if (views.size > 0 || topic.viewSlots.size > 0) this.viewMaker.ahead(topic, entry, views);
    }
    for (const peer of peers) peer.deliver(entry, topic.mode);
  }

  // -------------------------------------------------------------------------------------------
  // Connections
  // -------------------------------------------------------------------------------------------

  private readonly handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (requestTarget(request.url)?.pathname !== this.path) {
      // Another upgrade listener of the app may own this path; answer only if nobody else can.
      if (this.standalone || this.server.listenerCount('upgrade') === 1) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      return;
    }
    socket.on('error', () => socket.destroy());
    const rejection = this.vet(request);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (rejection) this.reject(ws, rejection);
      else this.accept(ws, request, socket);
    });
  };

  /** Every reason to refuse a handshake. Rejected sockets are opened and closed with a code, so a browser can tell why. */
  private vet(request: IncomingMessage): Rejection | undefined {
    const offered = new Set(
      (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim()).filter(Boolean),
    );
    if (!offered.has(SUBPROTOCOL)) return { closeCode: CloseCode.UNSUPPORTED_PROTOCOL, reason: 'UNSUPPORTED_PROTOCOL' };
    if (!originAllowed(request, this.options.allowedOrigins ?? 'same-origin', this.options.requireOrigin ?? false)
      || !hostAllowed(request, this.options.allowedHosts ?? [])) {
      return { closeCode: CloseCode.FORBIDDEN_ORIGIN, reason: 'FORBIDDEN_ORIGIN' };
    }
    if (this.token === undefined) {
      // An app server bound to a public address without a token: serve loopback peers only.
      if (!isLoopbackAddress(request.socket.localAddress)) return { closeCode: CloseCode.UNAUTHORIZED, reason: 'UNAUTHORIZED' };
    } else {
      const offeredValue = offeredToken(request, offered);
      const authorized = offeredValue === undefined
        ? this.options.authorizeRequest?.(request) === true
        : tokensEqual(offeredValue, this.token);
      if (!authorized) return { closeCode: CloseCode.UNAUTHORIZED, reason: 'UNAUTHORIZED' };
    }
    if (this.connections.size >= (this.options.maxConnections ?? DEFAULTS.maxConnections)
      || (this.perAddress.get(addressKey(request.socket.remoteAddress)) ?? 0) >= (this.options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress)) {
      return { closeCode: CloseCode.TOO_MANY_CONNECTIONS, reason: 'TOO_MANY_CONNECTIONS' };
    }
    if (this.closed) return { closeCode: CloseCode.GOING_AWAY, reason: 'INTERNAL' };
    return undefined;
  }

  private reject(ws: WebSocket, rejection: Rejection): void {
    ws.on('error', () => undefined);
    ws.close(rejection.closeCode, rejection.reason);
    setTimeout(() => ws.terminate(), REJECT_GRACE_MS).unref();
  }

  private accept(ws: WebSocket, request: IncomingMessage, socket: Duplex): void {
    const id = `c${this.nextPeerId++}`;
    const evict = (over: Peer): void => {
      over.detach();
      over.close(CloseCode.TRY_AGAIN_LATER, 'TOO_LARGE', REJECT_GRACE_MS);
    };
    const peer = new Peer(ws, socket, id, this.budget, evict, this.pool, this.relievePool, this.viewSource);
    const rate = (limit: RateLimit) => new TokenBucket(limit.perSecond, limit.burst);
    const address = addressKey(request.socket.remoteAddress);
    const connection: Connection = {
      peer,
      info: { id, origin: request.headers.origin, remoteAddress: request.socket.remoteAddress },
      messages: rate(this.options.messageRate ?? DEFAULTS.messageRate),
      commands: rate(this.options.commandRate ?? DEFAULTS.commandRate),
      invalid: rate(this.options.invalidMessageRate ?? DEFAULTS.invalidMessageRate),
      snapshots: rate(this.options.snapshotRate ?? DEFAULTS.snapshotRate),
      viewChanges: rate(this.options.viewRate ?? DEFAULTS.viewRate),
      snapshotted: new Set(),
      address,
      pendingCommands: 0,
    };
    this.connections.set(ws, connection);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    ws.on('error', () => undefined); // ws closes the socket itself (e.g. 1009 for maxPayload)
    ws.on('pong', () => {
      peer.alive = true;
    });
    ws.on('message', (data, isBinary) => this.receive(connection, data, isBinary));
    ws.on('close', () => {
      this.connections.delete(ws);
      peer.detach();
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      for (const topic of peer.subscriptions) this.subscribers.get(topic)?.delete(peer);
      peer.subscriptions.clear();
    });
    this.greet(peer);
    for (const listener of this.connectListeners) {
      try {
        listener(connection.info);
      } catch {
        this.connectListeners = this.connectListeners.filter((other) => other !== listener);
      }
    }
  }

  /** What a page gets when its session starts: hello, the timeline if any, the last status of each source. */
  private greet(peer: Peer): void {
    peer.sendControl(encodeServerMessage(this.hello()));
    if (this.timeline !== undefined) peer.sendControl(encodeServerMessage(this.timeline));
    for (const status of this.lastStatus.values()) peer.sendControl(status);
  }

  restartSession(): string {
    if (this.closed) throw new RelayError(RelayErrorCode.DISPOSED, 'the relay is closed');
    this.sessionId = randomUUID();
    for (const topic of this.topicsByName.values()) topic.clear();
    for (const peers of this.subscribers.values()) peers.clear();
    for (const connection of this.connections.values()) {
      connection.peer.reset();
      // A new session's first snapshots are free again, as on a new connection.
      connection.snapshotted.clear();
      this.greet(connection.peer);
    }
    return this.sessionId;
  }

  setTimeline(timeline: RelayTimeline | undefined): void {
    if (timeline === undefined) {
      if (this.timeline === undefined) return;
      this.timeline = undefined;
      // Pages that got the timeline would show it until their session ends: tell them it is gone (1.6).
      this.broadcast(encodeServerMessage({ type: 'notimeline', time: Date.now() }));
      return;
    }
    const { state, cursor, start, end, speed } = timeline;
    const message: TimelineMessage = { type: 'timeline', state, cursor, start, end, speed, time: timeline.time ?? Date.now() };
    let encoded: string;
    try {
      encoded = encodeServerMessage(message);
    } catch (error) {
      throw new RelayError(RelayErrorCode.INVALID_OPTIONS, `invalid timeline: ${(error as Error).message}`, { cause: error });
    }
    this.timeline = message;
    this.broadcast(encoded);
  }

  /**
   * The relay's clock: the wall clock, or while a recording is replayed the timeline's cursor (extrapolated
   * while it plays), so a late joiner's replay window is the window before the cursor.
   */
  private now(): number {
    const timeline = this.timeline;
    const wall = Date.now();
    if (timeline === undefined) return wall;
    if (timeline.state !== 'playing') return timeline.cursor;
    return Math.min(timeline.end, timeline.cursor + (wall - timeline.time) * timeline.speed);
  }

  /** The pool of held bytes is over its limit: disconnect the clients holding most until it is not. */
  private readonly relievePool = (): void => {
    while (this.pool.bytes > this.pool.maxBytes) {
      let biggest: Peer | undefined;
      for (const { peer } of this.connections.values()) {
        if (!peer.isDetached && (biggest === undefined || peer.heldBytes > biggest.heldBytes)) biggest = peer;
      }
      if (biggest === undefined) return;
      biggest.detach();
      // Cut at once: its buffers are what we need back, and a stalled client would not read a close frame
      // queued behind them anyway.
      biggest.ws.terminate();
    }
  };

  private hello(): ServerMessage {
    return { type: 'hello', protocol: SUBPROTOCOL, version: PROTOCOL_VERSION, sessionId: this.sessionId, topics: [...this.topics], time: Date.now() };
  }

  private beat(): void {
    for (const [ws, { peer }] of this.connections) {
      if (!peer.alive) {
        ws.terminate();
        continue;
      }
      peer.alive = false;
      ws.ping();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Client messages
  // -------------------------------------------------------------------------------------------

  private receive(connection: Connection, data: RawData, isBinary: boolean): void {
    const { peer } = connection;
    if (isBinary) {
      if (this.rateLimited(connection)) return;
      this.invalid(connection, 'UNEXPECTED_BINARY', 'clients send text frames only');
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    let message: ClientMessage;
    try {
      message = parseClientMessage(text);
    } catch (error) {
      if (this.rateLimited(connection)) return;
      // A request whose only fault is its view is refused as a view (the page learns which topic it was).
      const viewFault = isProtocolError(error) && error.issues.length > 0 && error.issues.every((issue) => issue.path[0] === 'view');
      const code: WireErrorCode = viewFault ? 'BAD_VIEW' : isProtocolError(error) && error.code === ProtocolErrorCode.INVALID_JSON ? 'BAD_JSON' : 'BAD_MESSAGE';
      const topic = viewFault ? viewTopicOf(text) : undefined;
      this.invalid(connection, code, (error as Error).message, { id: requestIdOf(text), ...(topic === undefined ? {} : { topic }) });
      return;
    }
    // Acknowledgements are paced by the relay itself (at most one per value it sent), so a valid one does
    // not spend the message rate: a page with a few latest topics at 60 Hz would exceed it with acks alone,
    // and an ack refused would stall its topic for good. Everything else is charged first.
    if (message.type === 'handled') {
      this.handled(connection, message);
      return;
    }
    // Receipts of chunks (1.5) are paced by the chunks, like acknowledgements: one that confirms new bytes is
    // free; a repeat is charged.
    if (message.type === 'received') {
      if (peer.received(message.bytes) === 'stale') this.rateLimited(connection);
      return;
    }
    if (this.rateLimited(connection)) return;
    switch (message.type) {
      case 'subscribe':
        this.subscribe(connection, message.topics, message.id, message.window, message.view);
        break;
      case 'view':
        this.changeView(connection, message);
        break;
      case 'unsubscribe':
        for (const name of message.topics) {
          peer.subscriptions.delete(name);
          this.subscribers.get(name)?.delete(peer);
          peer.forget(name);
        }
        if (message.id !== undefined) this.send(peer, { type: 'ack', id: message.id });
        break;
      case 'ping':
        this.send(peer, { type: 'pong', id: message.id, clientTime: message.time, time: Date.now() });
        break;
      case 'command':
        void this.command(connection, message);
        break;
    }
  }

  /** Takes a token of the message rate; when there is none, answers `RATE_LIMITED` (and counts it as abuse). */
  private rateLimited(connection: Connection): boolean {
    if (connection.messages.take()) return false;
    // A flood counts as abuse too: a client that keeps it up is closed with 4008.
    this.invalid(connection, 'RATE_LIMITED', 'too many messages');
    return true;
  }

  private invalid(connection: Connection, code: WireErrorCode, message: string, extra: { id?: string | undefined; topic?: string } = {}): void {
    if (!connection.invalid.take()) {
      connection.peer.close(CloseCode.PROTOCOL_ABUSE, code, REJECT_GRACE_MS);
      return;
    }
    this.sendError(connection.peer, code, message, extra);
  }

  /**
   * An acknowledgement (protocol 1.2). A stale one (a repeat, one that settled late, one from before a
   * resubscribe or for a topic without window) is ignored but charged like any message. One for a value
   * this subscription never sent means the page's acks cannot be trusted: it gets `BAD_ACK` and from then
   * on unacknowledged delivery (see `Peer.distrust`) — its connection stays, as for any peer mistake.
   */
  private handled(connection: Connection, { topic, seq }: HandledMessage): void {
    const outcome = connection.peer.acknowledge(topic, seq);
    if (outcome === 'ok' || this.rateLimited(connection)) return;
    if (outcome === 'bogus') {
      connection.peer.distrust();
      this.invalid(connection, 'BAD_ACK', `acknowledged ${topic} #${seq}, which was never sent to this page: acknowledgements are ignored from now on`, { topic });
    }
  }

  private subscribe(connection: Connection, names: readonly string[], id: string | undefined, window: number | undefined, view: ArrayView | undefined): void {
    const { peer } = connection;
    const now = this.now();
    const subscribed: string[] = [];
    const unknown: string[] = [];
    const limited: string[] = [];
    const refused: string[] = [];
    const wanted = view === undefined ? undefined : peerView(view);
    for (const name of names) {
      const topic = this.topicsByName.get(name);
      if (topic === undefined) {
        unknown.push(name);
        this.sendError(peer, 'UNKNOWN_TOPIC', `no topic ${name}`, { topic: name });
        continue;
      }
      const problem = wanted === undefined ? undefined : viewProblem(topic, wanted);
      if (problem !== undefined) {
        refused.push(name);
        this.sendError(peer, 'BAD_VIEW', problem, { topic: name });
        continue;
      }
      if (peer.subscriptions.has(name)) {
        subscribed.push(name);
        continue;
      }
      const entries = topic.snapshot(now);
      // A repeated snapshot is paid from the client's byte budget (see `snapshotRate`); the first is free.
      // What is paid is what it is sent: the view's bytes when it asked for one.
      const bytes = entries.reduce((sum, entry) => sum + (wanted !== undefined && entry.kind === 'frame' ? this.viewSource.bytes(entry, wanted) : entry.bytes), 0);
      if (connection.snapshotted.has(name) && bytes > 0 && !connection.snapshots.spend(bytes)) {
        limited.push(name);
        this.sendError(peer, 'RATE_LIMITED', `subscribed to ${name} again too often: its snapshot is not sent again yet; retry later`, { topic: name });
        continue;
      }
      connection.snapshotted.add(name);
      subscribed.push(name);
      peer.subscriptions.add(name);
      this.subscribers.get(name)?.add(peer);
      if (wanted !== undefined) peer.useView(name, wanted); // the snapshot comes in the view already
      // Credits: the snapshot's values (the newest one, or a JSON topic's window) are the first in flight.
      if (window !== undefined && topic.mode === 'latest') peer.openWindow(name, window, topic.peekSeq(), entries.map((entry) => entry.seq));
      this.sendSnapshot(peer, topic, entries);
    }
    if (id !== undefined) {
      this.send(peer, { type: 'ack', id, result: { subscribed, unknown, ...(limited.length > 0 ? { limited } : {}), ...(refused.length > 0 ? { refused } : {}) } });
    }
  }

  /**
   * A page changes (or drops, `view: null`) the array view of a topic it is subscribed to. Refused views
   * change nothing (`BAD_VIEW`); an accepted one is acknowledged and the topic's newest value follows in it.
   */
  private changeView(connection: Connection, { id, topic: name, view }: ViewMessage): void {
    const { peer } = connection;
    const extra = { id, topic: name };
    if (!connection.viewChanges.take()) {
      this.sendError(peer, 'RATE_LIMITED', `too many view changes of ${name}; the view stays as it was`, extra);
      return;
    }
    const topic = this.topicsByName.get(name);
    if (topic === undefined || !peer.subscriptions.has(name)) {
      this.sendError(peer, 'BAD_VIEW', `not subscribed to ${name}: subscribe (with the view) first`, extra);
      return;
    }
    const wanted = view === null ? undefined : peerView(view);
    const problem = wanted === undefined ? undefined : viewProblem(topic, wanted);
    if (problem !== undefined) {
      this.sendError(peer, 'BAD_VIEW', problem, extra);
      return;
    }
    if (id !== undefined) this.send(peer, { type: 'ack', id });
    if (topic.mode === 'latest' && topic.binary) peer.setView(name, wanted, topic.latest, topic.peekSeq());
  }

  /** A peer's frames in its view: from the topic's cache while it is the topic's newest value. */
  private readonly viewSource: ViewSource = {
    resolve: (entry, view, ready) => this.viewMaker.resolve(this.topicsByName.get(entry.topic), entry, view, ready),
    bytes: (entry, view) => this.viewMaker.bytes(this.topicsByName.get(entry.topic), entry, view),
    sooner: (entry, view, after) => this.viewMaker.sooner(this.topicsByName.get(entry.topic), entry, view, after),
  };

  /** The late joiner's view, sent before any live message of the topic can reach it. */
  private sendSnapshot(peer: Peer, topic: Topic, entries: readonly Entry[]): void {
    const name = JSON.stringify(topic.info.name);
    if (!topic.binary) {
      // Built from the stored payload JSON so a replay window is not serialised again.
      const items = entries
        .map((entry) => `{"seq":${entry.seq},"time":${entry.time},"payload":${(entry as JsonEntry).payloadJson}}`)
        .join(',');
      peer.sendControl(`{"type":"snapshot","topic":${name},"items":[${items}]}`);
      return;
    }
    peer.sendControl(`{"type":"snapshot","topic":${name},"items":[],"binaryFrames":${entries.length}}`);
    for (const entry of entries) peer.sendNow(entry);
  }

  private async command(connection: Connection, message: CommandMessage): Promise<void> {
    const { peer } = connection;
    const { id, name, args, topic } = message;
    if (!connection.commands.take() || connection.pendingCommands >= (this.options.maxPendingCommands ?? DEFAULTS.maxPendingCommands)) {
      this.sendError(peer, 'RATE_LIMITED', `too many commands; slow down`, { id });
      return;
    }
    if (!this.commandAllowed(name)) {
      this.sendError(peer, 'UNKNOWN_COMMAND', `command ${name} is not allowed`, { id });
      return;
    }
    if (topic !== undefined && !this.topicsByName.has(topic)) {
      this.sendError(peer, 'UNKNOWN_TOPIC', `command ${name} names topic ${topic}, which is not declared`, { id, topic });
      return;
    }
    if (this.options.validateCommand !== undefined) {
      try {
        this.options.validateCommand(name, args, topic);
      } catch (error) {
        const code: WireErrorCode = error instanceof RelayCommandError && error.code === 'UNKNOWN_COMMAND' ? 'UNKNOWN_COMMAND' : 'BAD_COMMAND_ARGS';
        this.sendError(peer, code, (error as Error).message, { id });
        return;
      }
    }
    const handler = this.commandHandler;
    if (handler === undefined) {
      this.sendError(peer, 'NO_PUBLISHER', 'no publisher takes commands right now', { id });
      return;
    }
    connection.pendingCommands += 1;
    const timeoutMs = this.options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => handler(name, args, { ...connection.info, topic })),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new RelayCommandError('TIMEOUT', `command ${name} got no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const ack: ServerMessage = result === undefined ? { type: 'ack', id } : { type: 'ack', id, result: result as JsonValue };
      let encoded: string;
      try {
        encoded = encodeServerMessage(ack);
      } catch {
        this.sendError(peer, 'INTERNAL', `the result of ${name} is not a JSON value`, { id });
        return;
      }
      peer.sendControl(encoded);
    } catch (error) {
      const code: WireErrorCode = error instanceof RelayCommandError ? error.code : 'COMMAND_FAILED';
      this.sendError(peer, code, error instanceof Error ? error.message : String(error), { id });
    } finally {
      clearTimeout(timer);
      connection.pendingCommands -= 1;
    }
  }

  private commandAllowed(name: string): boolean {
    const allowed = this.options.allowedCommands ?? 'any';
    if (allowed === 'any') return true;
    if (typeof allowed === 'function') return allowed(name);
    return allowed.includes(name);
  }

  private send(peer: Peer, message: ServerMessage): void {
    peer.sendControl(encodeServerMessage(message));
  }

  private sendError(peer: Peer, code: WireErrorCode, message: string, extra: { id?: string | undefined; topic?: string } = {}): void {
    this.send(peer, {
      type: 'error',
      code,
      message: message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message,
      ...(extra.id !== undefined ? { id: extra.id } : {}),
      ...(extra.topic !== undefined ? { topic: extra.topic } : {}),
    });
  }

  private checkBinding(address: AddressInfo | string | null): void {
    if (address === null || typeof address === 'string') return;
    if (!isLoopbackAddress(address.address) && this.token === undefined) {
      throw new RelayError(RelayErrorCode.TOKEN_REQUIRED, `the app server listens on ${address.address}: set a token (generateToken())`);
    }
  }
}

/** An address as counted per remote host (IPv4-mapped IPv6 and plain IPv4 are one host). */
function addressKey(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function peerView(view: ArrayView): PeerView {
  return { key: viewKey(view), view: canonicalView(view) };
}

/**
 * Why a view cannot be had of `topic`, or undefined: views are of binary `latest` topics, and a region
 * must meet the array the topic holds now (a region partly outside is clipped; one that misses it is a
 * page's mistake). Arrays that are not images are sent whole, so any view of them is accepted.
 */
function viewProblem(topic: Topic, { view }: PeerView): string | undefined {
  if (!topic.binary || topic.mode !== 'latest') return `${topic.info.name} is a ${topic.binary ? 'binary' : 'JSON'} ${topic.mode} topic: views are of binary latest topics`;
  const latest = topic.latest;
  if (view.region === undefined || latest === undefined || latest.kind !== 'frame') return undefined;
  const { shape, dtype, order } = latest.header;
  const geometry = imageGeometry(shape, dtype, order);
  if (geometry === undefined || clipRegion(view.region, geometry.height, geometry.width) !== undefined) return undefined;
  const { y0, x0, y1, x1 } = view.region;
  return `region [${y0}:${y1}, ${x0}:${x1}] misses the array of ${topic.info.name} (${shape.join(' × ')})`;
}

/** The topic a refused view was for: the `view` message's, or a subscribe's only topic. */
function viewTopicOf(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { topic, topics } = value as { topic?: unknown; topics?: unknown };
    const name = typeof topic === 'string' ? topic : Array.isArray(topics) && topics.length === 1 ? topics[0] : undefined;
    return TopicNameSchema.safeParse(name).success ? (name as string) : undefined;
  } catch {
    return undefined;
  }
}

/** The `id` of a message that failed validation, so the error can still answer the right request. */
function requestIdOf(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'id' in value) {
      const id = (value as { id: unknown }).id;
      if (typeof id === 'string' && id.length > 0 && id.length <= 64) return id;
    }
  } catch {
    // not JSON: no id to echo
  }
  return undefined;
}

/** A tap's `keep`: a hold on the frame's buffer until the function returned is called (once). */
function keepFrame(hold: FrameHold | undefined): () => void {
  if (hold === undefined) return () => undefined;
  hold.take();
  let kept = true;
  return () => {
    if (!kept) return;
    kept = false;
    hold.letGo();
  };
}

/** A producer's `release` that throws must not take the relay down (it runs from a microtask). */
function callSafely(release: () => void): void {
  try {
    release();
  } catch {
    // the producer's bug; its buffer is simply not reused
  }
}
