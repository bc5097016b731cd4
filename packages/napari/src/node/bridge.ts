/**
 * napari's monitor → relay topics: the one place where napari meets webmon's generic core.
 *
 * Everything napari (or a plugin, or a script) shares is passed through, named by `napariTopicNames`:
 * `poll` → `<prefix>.layers`, every other `napari_data` key → a `latest` topic of its own, every message
 * kind → a `stream` topic of its own, declared on the relay the first time it appears (pages learn of it
 * at once, with no restart). Rings named in `napari_data['webmon_rings']` are read through the same
 * client (no second connection) and published as binary topics. `<prefix>.info` says what this napari
 * can do, so pages and commands never ask it for what it cannot run.
 *
 * One retry policy: while waiting (or with `stay`, after napari left), connect again with backoff.
 */
import { RelayCommandError, type Relay } from '@webmon/relay';
import { isProtocolError, type JsonValue } from '@webmon/protocol';
import { NapariError, NapariErrorCode } from '../errors.js';
import { NapariInfoSchema, toNapariCommand, type NapariEvent, type NapariInfo, type Poll } from '../schemas.js';
import { DEFAULT_NAPARI_PREFIX, NapariSchemaId, napariTopicNames, type NapariTopicNames } from '../topics.js';
import { napariPayloadValidators } from '../validators.js';
import { NapariClient, type InvalidItem, type NapariClientOptions, type ShutdownInfo } from './client.js';
import { silentLogger, type BridgeLogger } from './logger.js';
import { RingTopics, ringsFrom, type RingTopicStats } from './ring-topics.js';

export interface NapariAddress {
  host: string;
  port: number;
}

export interface NapariBridgeOptions {
  relay: Relay;
  /** napari's manager (from `NAPARI_MON_CLIENT`, or given by hand). */
  address: NapariAddress;
  /** @default 'napari' */
  authkey?: string;
  /** Topic prefix of this source; a second napari window needs another. @default 'napari' */
  prefix?: string;
  /** How to name napari in messages (e.g. 'the napari simulator'). @default 'napari' */
  label?: string;
  /** Keep retrying after napari goes away (and before it first comes). @default false */
  stay?: boolean;
  /**
   * What the app does when this source ends (without `stay`), logged after why it ended: `napari shut down;
   * exiting`. Asked at that moment, since it may depend on the app's other sources. @default () => 'exiting'
   */
  ending?: () => string;
  /** Milliseconds of `stream` history replayed to a page that opens late. @default 10000 */
  replayMs?: number;
  /**
   * Milliseconds of history of the JSON `latest` topics `info` and `data.<key>` sent to a page that opens
   * late (protocol 1.5: their snapshot holds that window), so a chart of them starts with it. Not `layers`:
   * napari polls at its frame rate, so a minute would be thousands of tile-state polls that the viewer
   * would apply one by one on every page open (and every seek of a replay) to show only the last. @default 0
   */
  latestReplayMs?: number;
  /** Pause between reads of `napari_data`. @default 16 */
  pollIntervalMs?: number;
  /** Extra client options (timeouts, limits). */
  client?: Omit<NapariClientOptions, 'host' | 'port' | 'authkey' | 'pollIntervalMs'>;
  logger?: BridgeLogger;
}

export type NapariBridgeState = 'waiting' | 'connected' | 'disconnected';

/** Counters since start, for rates and `/api/status`. */
export interface NapariBridgeCounters {
  polls: number;
  frameTimes: number;
  loadChunks: number;
  otherMessages: number;
  dataValues: number;
  invalid: number;
  commands: number;
  refusedCommands: number;
}

/** napari's `napari_data` key a plugin sets to `{topic name: ring name}`. */
export const RINGS_KEY = 'webmon_rings';
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5_000;
const RING_RETRY_MS = 1_000;
const INVALID_LOG_EVERY_MS = 5_000;

const SUMMARY = {
  waiting: 'waiting for napari',
  octree: 'napari 0.4 with an octree layer: tile data, and show_grid runs',
  none:
    'this napari sends no tile data: napari 0.5 and later removed octree (and run no commands); ' +
    'napari 0.4.3–0.4.19 sends tiles for image layers when started with NAPARI_OCTREE=1',
} as const;

export class NapariBridge {
  state: NapariBridgeState = 'waiting';
  readonly counters: NapariBridgeCounters = { polls: 0, frameTimes: 0, loadChunks: 0, otherMessages: 0, dataValues: 0, invalid: 0, commands: 0, refusedCommands: 0 };
  readonly prefix: string;
  readonly names: NapariTopicNames;
  /** Resolves when napari has gone for good (never with `stay`). */
  readonly ended: Promise<ShutdownInfo>;
  private endedResolve!: (info: ShutdownInfo) => void;
  private client: NapariClient | undefined;
  private address: NapariAddress;
  private stopped = false;
  /**
   * Set by `lost()`: napari is gone although its manager may still answer. No retry goes back to that
   * manager (it would report an orphan as connected); only `retarget` points the bridge elsewhere.
   */
  private orphaned = false;
  /** The client `lost()` let go of, still closing; `close()` waits for it. */
  private letGo: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private lastInvalidLog = 0;
  private info: NapariInfo = { octree: false, commands: [], summary: SUMMARY.waiting };
  private readonly dataTopics = new Set<string>();
  private readonly messageTopics = new Set<string>();
  private readonly rings: RingTopics;
  private wantedRings: [string, string][] = [];
  private ringTimer: NodeJS.Timeout | undefined;
  private readonly logger: BridgeLogger;
  private readonly label: string;
  private readonly ending: () => string;
  private readonly replayMs: number;
  /** `replayMs` of the JSON latest topics, in the form `declareTopic` takes (absent when 0). */
  private readonly latestHistory: { replayMs?: number };

  constructor(private readonly options: NapariBridgeOptions) {
    this.prefix = options.prefix ?? DEFAULT_NAPARI_PREFIX;
    try {
      this.names = napariTopicNames(this.prefix);
    } catch (error) {
      throw new NapariError(NapariErrorCode.INVALID_OPTIONS, (error as Error).message, { cause: error });
    }
    this.address = options.address;
    this.label = options.label ?? 'napari';
    this.ending = options.ending ?? (() => 'exiting');
    this.logger = options.logger ?? silentLogger;
    this.replayMs = options.replayMs ?? 10_000;
    this.latestHistory = options.latestReplayMs ? { replayMs: options.latestReplayMs } : {};
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
    this.rings = new RingTopics(options.relay, this.logger);
    const { relay } = options;
    // The built-in pages' topics exist from the start, so a page opened before napari comes waits on them.
    relay.declareTopic({ name: this.names.layers, mode: 'latest', schema: NapariSchemaId.poll });
    relay.declareTopic({ name: this.names.frameTime, mode: 'stream', schema: NapariSchemaId.frameTime, replayMs: this.replayMs });
    relay.declareTopic({ name: this.names.loadChunk, mode: 'stream', schema: NapariSchemaId.loadChunk, replayMs: this.replayMs });
    relay.declareTopic({ name: this.names.info, mode: 'latest', schema: NapariSchemaId.info, validate: napariPayloadValidators[NapariSchemaId.info], ...this.latestHistory });
    this.publishInfo(this.info);
    relay.setStatus('source.waiting', { source: this.prefix, message: `waiting for ${this.label}` });
  }

  get target(): NapariAddress {
    return this.address;
  }

  /** What this napari can do now (also on `<prefix>.info`). */
  get capabilities(): NapariInfo {
    return this.info;
  }

  get ringStats(): Record<string, RingTopicStats> {
    return this.rings.stats;
  }

  /** True for the topics of this source (`<prefix>.…`): commands for them come here. */
  owns(topic: string): boolean {
    return topic.startsWith(`${this.prefix}.`);
  }

  /**
   * Connects. Without `stay`, a failed first connection rejects (the client's `ShmReaderError`); with
   * it, the bridge keeps waiting and retrying.
   */
  async start(): Promise<void> {
    if (this.stopped) throw new NapariError(NapariErrorCode.DISPOSED, 'the bridge was closed: create a new one');
    try {
      await this.connect();
    } catch (error) {
      if (!this.options.stay) throw error;
      this.logger.warn(`${this.label} is not reachable at ${this.address.host}:${this.address.port} (${(error as Error).message}); retrying`);
      this.scheduleRetry();
    }
  }

  /** Points a waiting bridge at another manager (a napari that restarted on a new port). */
  retarget(address: NapariAddress): void {
    this.address = address;
    this.orphaned = false;
    if (this.client === undefined && !this.stopped) {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryDelay = RETRY_MIN_MS;
      this.scheduleRetry(0);
    }
  }

  /**
   * Runs a page's command on napari, if napari can run it. Throws `RelayCommandError`: `NO_PUBLISHER`
   * while napari is away, `UNKNOWN_COMMAND` for what this napari cannot run (napari 0.4 has only
   * `show_grid`, and only for octree layers; napari ≥ 0.5 has none), `BAD_COMMAND_ARGS` for a bad argument.
   */
  async command(name: string, args: JsonValue): Promise<undefined> {
    const client = this.client;
    if (client === undefined || !client.isRunning) throw new RelayCommandError('NO_PUBLISHER', `${this.label} is not connected`);
    if (!this.info.commands.includes(name)) {
      this.counters.refusedCommands++;
      const why = name === 'show_grid' ? 'show_grid needs an octree layer, and this napari has none' : `${this.label} runs no command "${name}"`;
      throw new RelayCommandError('UNKNOWN_COMMAND', `${why} (${this.info.summary})`);
    }
    try {
      toNapariCommand(name, args);
      await client.sendCommand(name, args);
    } catch (error) {
      if (isProtocolError(error)) throw new RelayCommandError('BAD_COMMAND_ARGS', error.message, { cause: error });
      throw new RelayCommandError('COMMAND_FAILED', `could not pass ${name} to ${this.label}: ${(error as Error).message}`, { cause: error });
    }
    this.counters.commands++;
    this.logger.debug(`command ${name} ${JSON.stringify(args)} → ${this.label}`);
    return undefined;
  }

  /**
   * Tells the bridge that its napari is gone although the manager may still answer: napari died hard
   * (SIGKILL, a crash in its Qt or OpenGL code) and its manager's server process, a child of napari,
   * outlived it, so the connection never drops and napari's shutdown event never comes. The app sees
   * it (webmon's parent process changed) and says why in `reason`. It ends like napari's own shutdown:
   * without `stay`, `ended` resolves (with reason `napari`); with `stay`, the bridge goes back to
   * `waiting` for a napari handed over with `retarget`, and does not retry the orphaned manager.
   */
  lost(reason: string): void {
    if (this.stopped || this.orphaned) return;
    this.orphaned = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) this.letGo = client.close().catch(() => undefined);
    // The rings' writers lived in napari: stop looking for them.
    this.wantedRings = [];
    void this.discoverRings();
    const { host, port } = this.address;
    // Connected: the crash case, worth a warning. Not connected: napari had already left (or never
    // came), and this only stops the retries to its old address.
    const why = client === undefined ? `${this.label} is gone (${reason})` : `${this.label} is gone (${reason}); its manager at ${host}:${port} may live on without it`;
    const say = (message: string): void => (client === undefined ? this.logger.info(message) : this.logger.warn(message));
    this.setInfo(false, SUMMARY.waiting);
    if (this.options.stay) {
      this.state = 'waiting';
      this.options.relay.setStatus('source.waiting', { source: this.prefix, message: why });
      say(`${why}; --stay: serving on and waiting for a new napari to hand over`);
    } else {
      this.state = 'disconnected';
      this.options.relay.setStatus('source.disconnected', { source: this.prefix, message: why });
      say(`${why}; ${this.ending()}`);
      this.endedResolve({ reason: 'napari' });
    }
  }

  /** Stops: closes the client and the rings, retires every topic this source declared. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.rings.close();
    const client = this.client;
    this.client = undefined;
    await Promise.all([client?.close(), this.letGo]);
    const { relay } = this.options;
    for (const topic of [this.names.layers, this.names.frameTime, this.names.loadChunk, this.names.info, ...this.dataTopics, ...this.messageTopics]) relay.retireTopic(topic);
  }

  // -------------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const { host, port } = this.address;
    const client = await NapariClient.connect({
      connectTimeoutMs: 5_000,
      ...this.options.client,
      host,
      port,
      authkey: this.options.authkey ?? 'napari',
      ...(this.options.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.options.pollIntervalMs }),
    });
    if (this.stopped || this.orphaned) {
      await client.close();
      return;
    }
    this.client = client;
    this.retryDelay = RETRY_MIN_MS;
    client.on('poll', (poll) => this.onPoll(poll));
    client.on('data', (key, value) => this.onData(key, value));
    client.on('dataRemoved', (key) => this.onDataRemoved(key));
    client.on('message', (event) => this.onMessage(event));
    client.on('invalid', (invalid) => this.onInvalid(invalid));
    client.on('shutdown', (info) => this.onShutdown(client, info));
    this.state = 'connected';
    this.setInfo(false);
    this.options.relay.setStatus('source.connected', { source: this.prefix, message: `${this.label} at ${host}:${port}` });
    this.logger.info(`connected to ${this.label} at ${host}:${port}${this.prefix === DEFAULT_NAPARI_PREFIX ? '' : ` (topics ${this.prefix}.*)`}`);
  }

  private onPoll(poll: Poll): void {
    this.counters.polls++;
    this.options.relay.publish(this.names.layers, poll);
    let octree = false;
    for (const id in poll.layers) {
      const layer = poll.layers[id];
      if (layer?.tile_config !== undefined && layer.tile_state !== undefined) octree = true;
    }
    if (octree !== this.info.octree) this.setInfo(octree);
  }

  private onData(key: string, value: unknown): void {
    if (key === 'poll') return; // `poll` event: validated, on `<prefix>.layers`
    this.counters.dataValues++;
    const topic = this.names.data(key);
    if (!this.dataTopics.has(topic)) {
      this.options.relay.declareTopic({ name: topic, mode: 'latest', ...this.latestHistory });
      this.dataTopics.add(topic);
    }
    this.options.relay.publish(topic, value);
    if (key === RINGS_KEY) {
      this.wantedRings = ringsFrom(value);
      void this.discoverRings();
    }
  }

  private onDataRemoved(key: string): void {
    const topic = this.names.data(key);
    if (this.dataTopics.delete(topic)) this.options.relay.retireTopic(topic);
    if (key === RINGS_KEY) {
      this.wantedRings = [];
      void this.discoverRings();
    }
  }

  private onMessage(event: NapariEvent): void {
    const { relay } = this.options;
    switch (event.kind) {
      case 'frame_time':
        this.counters.frameTimes++;
        relay.publish(this.names.frameTime, event.data);
        break;
      case 'load_chunk':
        this.counters.loadChunks++;
        relay.publish(this.names.loadChunk, event.data);
        break;
      case 'unknown': {
        this.counters.otherMessages++;
        const topic = this.names.message(event.name);
        if (!this.messageTopics.has(topic)) {
          relay.declareTopic({ name: topic, mode: 'stream', replayMs: this.replayMs });
          this.messageTopics.add(topic);
        }
        relay.publish(topic, event.value);
        break;
      }
    }
  }

  private onInvalid(invalid: InvalidItem): void {
    this.counters.invalid++;
    // A misbehaving peer can send garbage at 60 Hz: say so, but at most every few seconds.
    const now = Date.now();
    if (now - this.lastInvalidLog < INVALID_LOG_EVERY_MS) return;
    this.lastInvalidLog = now;
    const where = invalid.key === undefined ? invalid.source : `${invalid.source} ${JSON.stringify(invalid.key)}`;
    this.logger.warn(`ignored an invalid ${where} from ${this.label}: ${invalid.error.message} (${this.counters.invalid} so far)`);
  }

  private onShutdown(client: NapariClient, info: ShutdownInfo): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopped) return;
    const why =
      info.reason === 'napari' ? `${this.label} shut down` : info.reason === 'connection-lost' ? `lost ${this.label} (${info.error?.message ?? 'connection closed'})` : `${this.label} stopped (${info.reason})`;
    this.state = 'disconnected';
    this.setInfo(false, SUMMARY.waiting);
    this.options.relay.setStatus('source.disconnected', { source: this.prefix, message: why });
    if (this.options.stay) {
      this.logger.info(`${why}; --stay: serving on and waiting for napari to come back`);
      this.scheduleRetry();
    } else {
      this.logger.info(`${why}; ${this.ending()}`);
      this.endedResolve(info);
    }
  }

  private setInfo(octree: boolean, summary: string = octree ? SUMMARY.octree : SUMMARY.none): void {
    this.info = NapariInfoSchema.parse({ octree, commands: octree ? ['show_grid'] : [], summary });
    this.publishInfo(this.info);
  }

  private publishInfo(info: NapariInfo): void {
    this.options.relay.publish(this.names.info, info);
  }

  /** Opens the rings napari names and drops the ones it no longer names; retries failures every second. */
  private async discoverRings(): Promise<void> {
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
    if (this.stopped) return;
    const wanted = new Map(this.wantedRings.map(([name, ring]) => [this.names.ring(name), ring]));
    for (const topic of this.rings.topics) if (!wanted.has(topic)) this.rings.detach(topic);
    let missing = false;
    for (const [topic, ring] of wanted) {
      if (this.rings.ringOf(topic) === ring) continue;
      try {
        await this.rings.attach(topic, ring);
      } catch (error) {
        // Stopped meanwhile: the ring's producer may be gone with napari, and there is nothing to say.
        if (this.stopped) return;
        missing = true;
        this.rings.warnOnce(`open:${topic}:${ring}`, `cannot open ring ${ring} for ${topic}: ${(error as Error).message}`);
      }
    }
    // A ring that closed (or failed to open) while napari still names it is looked for again.
    if (!this.stopped && (missing || wanted.size > 0)) {
      this.ringTimer = setTimeout(() => void this.discoverRings(), RING_RETRY_MS);
      this.ringTimer.unref();
    }
  }

  private scheduleRetry(delay = this.retryDelay): void {
    if (this.stopped || this.orphaned) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.logger.debug(`retry ${this.address.host}:${this.address.port}: ${(error as Error).message}`);
        this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
        this.scheduleRetry();
      });
    }, delay);
    this.retryTimer.unref();
  }
}

/** Creates a bridge; call `start()` to connect. */
export function createNapariBridge(options: NapariBridgeOptions): NapariBridge {
  return new NapariBridge(options);
}
