/**
 * A client of napari's experimental monitor (napari 0.4.3–0.4.19, `NAPARI_MON`), speaking to its
 * SharedMemoryManager like napari's own Python clients do, but from Node.
 *
 * Connections (each authenticated; WIRE §2.8):
 * - one-shot `create` per typeid (the five names napari registers);
 * - the shared serving connection: `napari_data.copy()` reads (the whole dict per tick, so every key
 *   napari or a plugin shares arrives on one connection) and `client_messages.put` commands;
 * - a dedicated one for `napari_messages`: a blocking `get(True, timeout)` returns the moment napari
 *   puts a message (no polling interval), then pipelined `get_nowait` bursts drain a backlog fast;
 * - a dedicated one for `napari_shutdown.wait(timeout)`.
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode } from '@webmon/protocol';
import {
  ManagerClient,
  QueueEmptyError,
  ShmReaderError,
  ShmReaderErrorCode,
  toJsonData,
  type DictProxy,
  type EventProxy,
  type JsonData,
  type ManagerClientOptions,
  type PickleDecodeOptions,
  type PyEncodable,
  type PyValue,
  type QueueProxy,
  type ServingConnection,
} from '@webmon/shm-reader';
import { NapariError, NapariErrorCode } from '../errors.js';
import { parseNapariMessage, parsePoll, toNapariCommand, type NapariEvent, type Poll } from '../schemas.js';
import { parseNapariClientConfig } from './config.js';
import { FailedValue, NapariDataTracker, UNCHANGED, type DataEntryValue } from './data-tracker.js';
import { openNapariSharedList, type SharedListSource } from './shared-list.js';

export interface NapariClientOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** napari's manager port. Without it, `NAPARI_MON_CLIENT` (option `clientConfig` or the environment) is used. */
  port?: number;
  /** @default 'napari' */
  authkey?: string | Uint8Array;
  /** A `NAPARI_MON_CLIENT` value. @default process.env.NAPARI_MON_CLIENT when `port` is not given */
  clientConfig?: string;
  /** Read the older ShareableList `[frame, json, json]` with this name (default: from the config). */
  sharedListName?: string;
  /** Read the shared list when a name is known. @default true */
  readSharedList?: boolean;
  /** Pause between reads of `napari_data` (one `copy()` each), after each reply. @default 16 */
  pollIntervalMs?: number;
  /**
   * Also read `napari_data` as soon as a napari message arrives (napari sends `frame_time` every frame, and
   * writes `poll` in that same frame), so polls follow napari's frames without a short interval. A
   * message that arrives while a poll is in flight queues one more (any number of them share it).
   * `pollIntervalMs` keeps running as the fallback for when napari sends nothing. @default false
   */
  pollOnMessage?: boolean;
  /** Server-side timeout of each blocking `napari_messages.get`; bounds how long `close()` waits. @default 0.25 */
  messageWaitSeconds?: number;
  /** Most `get_nowait` calls in flight at once while draining a backlog. @default 64 */
  drainBatch?: number;
  /** Pause between reads of the ShareableList frame counter. @default 16 */
  sharedListIntervalMs?: number;
  /**
   * Limit of each step of connecting: the TCP connection, the handshake, and the manager's first answer
   * (a manager that shakes hands and then says nothing fails with `NAPARI_NOT_ANSWERING` after this long,
   * not after `callTimeoutMs`). @default 5000
   */
  connectTimeoutMs?: number;
  /** @default 30000 */
  callTimeoutMs?: number;
  /** Largest reply accepted. @default 268435456 (256 MiB) */
  maxFrameBytes?: number;
  /** Limits for decoding pickles (see docs/pickle.md). */
  decode?: PickleDecodeOptions;
}

export const NAPARI_DEFAULTS = {
  host: '127.0.0.1',
  authkey: 'napari',
  pollIntervalMs: 16,
  pollOnMessage: false,
  messageWaitSeconds: 0.25,
  drainBatch: 64,
  sharedListIntervalMs: 16,
  connectTimeoutMs: 5_000,
} as const;

/** The five typeids napari's monitor registers on its manager. */
export const NAPARI_TYPEIDS = ['napari_data', 'napari_messages', 'napari_shutdown', 'client_data', 'client_messages'] as const;

/**
 * Command names the client sends: public identifiers only. napari runs `getattr(commands, name)(args)`,
 * so a name like `__init__` or `_private` must never reach it, whatever validated it before.
 */
export const NAPARI_COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * `data`: a `napari_data` value (with `key`) or the dict as a whole (no `key`); `poll`: the `poll` key
 * (`key` is `'poll'`), which must also pass `parsePoll`.
 */
export type InvalidSource = 'message' | 'poll' | 'data' | 'shared-list';

/**
 * Something napari sent that we could not use. It is reported, counted, and the stream goes on. A
 * `napari_data` value that keeps failing the same way is reported once, not on every read.
 */
export interface InvalidItem {
  source: InvalidSource;
  /** The `napari_data` key (as a JSON object key) for sources `data` and `poll`. */
  key?: string;
  /** ProtocolError (schema), PickleError (undecodable item), or ShmReaderError. */
  error: Error;
  /** The value as converted to JSON, when it got that far. */
  value?: unknown;
}

export type ShutdownReason = 'napari' | 'connection-lost' | 'queue-shut-down' | 'closed';

export interface ShutdownInfo {
  reason: ShutdownReason;
  /** The transport error for `connection-lost`. */
  error?: ShmReaderError;
}

/** A frame of the older ShareableList variant: the counter and the parsed JSON slot. */
export interface SharedListFrame {
  frame: number;
  data: JsonData;
}

export interface NapariClientEvents {
  /** Every event of every `napari_messages` item, in order. `item` counts items from 0. */
  message: (event: NapariEvent, item: number) => void;
  /**
   * A `napari_data` key that is new or whose value changed (compared as JSON text), `poll` included.
   * Keys are JSON object keys: napari's int keys arrive as decimal strings.
   */
  data: (key: string, value: JsonData) => void;
  /** A `napari_data` key reported through `data` is gone. */
  dataRemoved: (key: string) => void;
  /** A new (changed) `poll` value of `napari_data`, validated with `parsePoll` (right after its `data`). */
  poll: (poll: Poll) => void;
  /** A new ShareableList frame (only with a shared list name). */
  frame: (frame: SharedListFrame) => void;
  invalid: (invalid: InvalidItem) => void;
  /** Exactly once: napari set `napari_shutdown`, the connection was lost, or `close()` was called. */
  shutdown: (info: ShutdownInfo) => void;
}

export interface NapariClientStats {
  /** `napari_messages` items received. */
  items: number;
  /** Events emitted from those items. */
  events: number;
  /** Reads of the whole `napari_data` / changed `poll` values emitted. */
  pollsFetched: number;
  pollsEmitted: number;
  /** `data` / `dataRemoved` events emitted. */
  dataEmitted: number;
  dataRemoved: number;
  /** Items reported through `invalid`. */
  invalid: number;
  framesEmitted: number;
}

type Listeners = { [K in keyof NapariClientEvents]: NapariClientEvents[K][] };

export class NapariClient {
  readonly stats: NapariClientStats = {
    items: 0,
    events: 0,
    pollsFetched: 0,
    pollsEmitted: 0,
    dataEmitted: 0,
    dataRemoved: 0,
    invalid: 0,
    framesEmitted: 0,
  };
  private readonly listeners: Listeners = { message: [], data: [], dataRemoved: [], poll: [], frame: [], invalid: [], shutdown: [] };
  private running = true;
  private shutdownInfo: ShutdownInfo | null = null;
  private readonly loops: Promise<void>[] = [];
  /** The last `napari_data.copy()` reply that decoded; null after a failed one (see `readData`). */
  private lastDataPayload: Buffer | null = null;
  /** Raw `get` replies of the last key-by-key read (see `readDataByKey`). */
  private keyPayloads = new Map<string, Buffer>();
  private readonly data = new NapariDataTracker({
    changed: (key, value) => this.dataChanged(key, value),
    removed: (key) => {
      this.stats.dataRemoved++;
      this.emit('dataRemoved', key);
    },
    failed: (key, error) =>
      this.reportInvalid({ source: key === 'poll' ? 'poll' : 'data', error, ...(key === undefined ? {} : { key }) }),
  });
  private pollTimer: NodeJS.Timeout | null = null;
  private sharedListTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private readonly shutdownWaiters: ((info: ShutdownInfo) => void)[] = [];

  private constructor(
    readonly manager: ManagerClient,
    readonly napariData: DictProxy,
    readonly napariMessages: QueueProxy,
    readonly napariShutdown: EventProxy,
    readonly clientData: DictProxy,
    readonly clientMessages: QueueProxy,
    private readonly messagesConnection: ServingConnection,
    private readonly options: Required<Pick<NapariClientOptions, 'pollIntervalMs' | 'pollOnMessage' | 'messageWaitSeconds' | 'drainBatch' | 'sharedListIntervalMs'>>,
    private readonly sharedList: SharedListSource | null,
  ) {}

  /**
   * Connects to napari's manager, looks up its five shared objects and starts streaming. Attach
   * listeners right after: nothing is emitted before the next turn of the event loop.
   */
  static async connect(options: NapariClientOptions = {}): Promise<NapariClient> {
    let port = options.port;
    let sharedListName = options.sharedListName;
    if (port === undefined) {
      const encoded = options.clientConfig ?? process.env['NAPARI_MON_CLIENT'];
      if (encoded === undefined) {
        throw new NapariError(NapariErrorCode.BAD_CLIENT_CONFIG, 'no port given and NAPARI_MON_CLIENT is not set');
      }
      const config = parseNapariClientConfig(encoded);
      port = config.serverPort;
      sharedListName ??= config.sharedListName;
    }
    const managerOptions = {
      host: options.host ?? NAPARI_DEFAULTS.host,
      port,
      authkey: options.authkey ?? NAPARI_DEFAULTS.authkey,
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs, handshakeTimeoutMs: options.connectTimeoutMs }),
      ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
      ...(options.decode === undefined ? {} : { decode: options.decode }),
      clientName: 'webmon-napari-client',
    };
    await checkAnswering(managerOptions, options.connectTimeoutMs ?? NAPARI_DEFAULTS.connectTimeoutMs);
    const manager = await ManagerClient.connect({
      ...managerOptions,
      ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
    });
    let sharedList: SharedListSource | null = null;
    try {
      const [napariData, napariMessages, napariShutdown, clientData, clientMessages] = await Promise.all([
        manager.dict('napari_data'),
        manager.queue('napari_messages'),
        manager.event('napari_shutdown'),
        manager.dict('client_data'),
        manager.queue('client_messages'),
      ]);
      const messagesConnection = await manager.openDedicated();
      if (sharedListName !== undefined && options.readSharedList !== false) sharedList = openNapariSharedList(sharedListName);
      const client = new NapariClient(
        manager,
        napariData,
        napariMessages,
        napariShutdown,
        clientData,
        clientMessages,
        messagesConnection,
        {
          pollIntervalMs: options.pollIntervalMs ?? NAPARI_DEFAULTS.pollIntervalMs,
          pollOnMessage: options.pollOnMessage ?? NAPARI_DEFAULTS.pollOnMessage,
          messageWaitSeconds: options.messageWaitSeconds ?? NAPARI_DEFAULTS.messageWaitSeconds,
          drainBatch: Math.max(1, options.drainBatch ?? NAPARI_DEFAULTS.drainBatch),
          sharedListIntervalMs: options.sharedListIntervalMs ?? NAPARI_DEFAULTS.sharedListIntervalMs,
        },
        sharedList,
      );
      // Start on the next tick so the caller can attach listeners first.
      setImmediate(() => client.start());
      return client;
    } catch (error) {
      sharedList?.close();
      await manager.close();
      throw error;
    }
  }

  on<K extends keyof NapariClientEvents>(event: K, listener: NapariClientEvents[K]): this {
    (this.listeners[event] as NapariClientEvents[K][]).push(listener);
    return this;
  }

  off<K extends keyof NapariClientEvents>(event: K, listener: NapariClientEvents[K]): this {
    const list = this.listeners[event] as NapariClientEvents[K][];
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
    return this;
  }

  /** Resolves when the client has shut down (for any reason). */
  whenShutdown(): Promise<ShutdownInfo> {
    if (this.shutdownInfo) return Promise.resolve(this.shutdownInfo);
    return new Promise((resolve) => this.shutdownWaiters.push(resolve));
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Sends a command: puts `{name: args}` on `client_messages` (napari calls the method `name`).
   * Rejects with ProtocolError `INVALID_MESSAGE` a name that is not a public identifier
   * (`NAPARI_COMMAND_NAME`) and anything `toNapariCommand` refuses (e.g. a bad argument).
   */
  async sendCommand(name: string, args: unknown): Promise<void> {
    if (!NAPARI_COMMAND_NAME.test(name)) {
      const message = 'command names are public identifiers: a letter, then up to 63 letters, digits or _';
      const shown = name.slice(0, 64);
      throw new ProtocolError(ProtocolErrorCode.INVALID_MESSAGE, `invalid napari command ${JSON.stringify(shown)}: ${message}`, {
        issues: [{ path: [shown], message }],
      });
    }
    const command = toNapariCommand(name, args);
    await this.clientMessages.put(command as PyEncodable);
  }

  /** `{show_grid: show}`: show or hide napari's octree tile grid. */
  showGrid(show: boolean): Promise<void> {
    return this.sendCommand('show_grid', show);
  }

  /** Stops streaming, releases napari's objects (decref) and closes every connection. */
  close(): Promise<void> {
    if (!this.closePromise) this.closePromise = this.stop({ reason: 'closed' });
    return this.closePromise;
  }

  // ---- loops ----

  private start(): void {
    if (!this.running) return;
    this.loops.push(this.messageLoop(), this.shutdownLoop());
    this.schedulePoll(0);
    if (this.sharedList) this.scheduleSharedList(0);
  }

  private async messageLoop(): Promise<void> {
    const connection = this.messagesConnection;
    const ident = this.napariMessages.ident;
    const wait = this.options.messageWaitSeconds;
    const waitLimitMs = wait * 1000 + this.manager.callTimeoutMs;
    try {
      while (this.running) {
        // Block on the server until a message arrives (or `wait` seconds pass).
        const first = await this.receiveItem(() => connection.callRaw(ident, 'get', [true, wait], undefined, { timeoutMs: waitLimitMs }));
        if (!first) continue;
        if (this.options.pollOnMessage) this.pollNow();
        // A message arrived: drain any backlog with a sliding window of pipelined get_nowait calls,
        // in order, until one says Empty. Each reply immediately triggers the next request, whose
        // segment also ACKs the reply: that keeps CPython's Nagle from holding the server's writes.
        const window: Promise<Buffer>[] = [];
        let size = 1;
        let issuing = true;
        const issue = (): void => {
          const call = connection.callRaw(ident, 'get_nowait');
          // If the connection dies, only the head of the window is awaited; mark the rest handled.
          call.catch(() => undefined);
          window.push(call);
        };
        issue();
        while (window.length > 0) {
          const got = await this.receiveItem(() => window.shift()!);
          if (got && this.options.pollOnMessage) this.pollNow();
          if (!got || !this.running) issuing = false;
          else size = Math.min(size * 2, this.options.drainBatch);
          while (issuing && window.length < size) issue();
        }
      }
    } catch (error) {
      this.fatal(error);
    }
  }

  /**
   * Awaits one queue reply and emits its events. Returns false for Empty. Transport errors propagate;
   * an item that cannot be decoded or validated is reported through `invalid` (it is already dequeued).
   */
  private async receiveItem(call: () => Promise<Buffer>): Promise<boolean> {
    const payload = await call();
    let value: PyValue;
    try {
      value = this.manager.interpretRaw(payload, 'napari_messages.get');
    } catch (error) {
      if (error instanceof QueueEmptyError) return false;
      if (error instanceof ShmReaderError && error.code === ShmReaderErrorCode.QUEUE_SHUT_DOWN) throw error;
      if (error instanceof ShmReaderError && error.code === ShmReaderErrorCode.REMOTE_ERROR) throw error;
      this.stats.items++;
      this.reportInvalid({ source: 'message', error: error as Error });
      return true;
    }
    const item = this.stats.items++;
    let json: JsonData | undefined;
    let events: NapariEvent[];
    try {
      // Bounded by the reply's size: a ~1 KB pickle of shared references must not expand to millions of values.
      json = toJsonData(value, { inputBytes: payload.length });
      events = parseNapariMessage(json);
    } catch (error) {
      this.reportInvalid({ source: 'message', error: error as Error, ...(json === undefined ? {} : { value: json }) });
      return true;
    }
    for (const event of events) {
      this.stats.events++;
      this.emit('message', event, item);
    }
    return true;
  }

  /**
   * Polls are one chain: either `pollTimer` is set or a poll is in flight, never both, so timed and
   * message-triggered polls never overlap or double up.
   */
  private pollInFlight = false;
  /** A message arrived while a poll was in flight: poll once more right after it. */
  private pollAgain = false;

  private schedulePoll(delayMs: number): void {
    if (!this.running) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.pollOnce();
    }, delayMs);
  }

  /** `pollOnMessage`: read `napari_data` now (or right after the read in flight). */
  private pollNow(): void {
    if (!this.running) return;
    if (this.pollInFlight) {
      this.pollAgain = true;
      return;
    }
    if (this.pollTimer) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
    void this.pollOnce();
  }

  private async pollOnce(): Promise<void> {
    this.pollInFlight = true;
    this.pollAgain = false;
    try {
      await this.readData();
    } catch (error) {
      this.pollInFlight = false;
      if (error instanceof ShmReaderError && isTransportError(error)) this.fatal(error);
      else {
        this.reportInvalid({ source: 'data', error: error as Error });
        this.schedulePoll(this.options.pollIntervalMs);
      }
      return;
    }
    this.pollInFlight = false;
    if (this.pollAgain) this.pollNow();
    else this.schedulePoll(this.options.pollIntervalMs);
  }

  /** Reads the whole `napari_data` in one call and emits what changed. */
  private async readData(): Promise<void> {
    const payload = await this.napariData.copyRaw();
    this.stats.pollsFetched++;
    // napari rewrites the same values every frame: identical reply bytes mean nothing changed, so
    // skip decoding entirely (a memcmp instead of an unpickle + conversion of every key).
    if (this.lastDataPayload?.equals(payload)) return;
    let entries: Iterable<readonly [PyValue, DataEntryValue]>;
    let inputBytes = payload.length;
    try {
      entries = dictEntries(this.manager.interpretRaw(payload, 'napari_data.copy'));
      this.lastDataPayload = payload;
      this.keyPayloads.clear();
    } catch (error) {
      if (error instanceof ShmReaderError && isTransportError(error)) throw error;
      // One value napari cannot pickle (or we cannot decode) spoils the whole copy. Its error reply
      // stays byte-identical while other keys change, so it must not be deduplicated: read key by key.
      this.lastDataPayload = null;
      ({ entries, inputBytes } = await this.readDataByKey());
    }
    this.data.update(entries, inputBytes);
  }

  /**
   * The slow path: `keys()`, then each value on its own, so a bad value costs only its own key. Each
   * reply is deduplicated by its bytes like the whole dict is on the fast path, so a bad value that
   * stays does not make every read convert every key again.
   */
  private async readDataByKey(): Promise<{ entries: Map<PyValue, DataEntryValue>; inputBytes: number }> {
    const keys = await this.napariData.keys();
    // Fresh per read: a "removed meanwhile" reply never matches a cached one.
    const missing = `<missing ${randomUUID()}>`;
    const payloads = new Map<string, Buffer>();
    // Bytes of the replies that will be converted: they bound what those values may expand to.
    let inputBytes = 0;
    const values = await Promise.all(
      keys.map(async (key): Promise<DataEntryValue> => {
        try {
          const payload = await this.napariData.callRaw('get', [key as PyEncodable, missing]);
          const id = cacheKey(key);
          if (id !== undefined) {
            payloads.set(id, payload);
            if (this.keyPayloads.get(id)?.equals(payload)) return UNCHANGED;
          }
          inputBytes += payload.length;
          return this.manager.interpretRaw(payload, 'napari_data.get');
        } catch (error) {
          if (error instanceof ShmReaderError && isTransportError(error)) throw error;
          return new FailedValue(error as Error);
        }
      }),
    );
    this.keyPayloads = payloads;
    const entries = new Map<PyValue, DataEntryValue>();
    keys.forEach((key, index) => {
      const value = values[index]!;
      if (value !== missing) entries.set(key, value); // removed between keys() and get()
    });
    return { entries, inputBytes };
  }

  private dataChanged(key: string, value: JsonData): void {
    this.stats.dataEmitted++;
    this.emit('data', key, value);
    if (key !== 'poll' || value === null) return; // null: napari has not polled yet
    let poll: Poll;
    try {
      poll = parsePoll(value);
    } catch (error) {
      this.reportInvalid({ source: 'poll', key, error: error as Error, value });
      return;
    }
    this.stats.pollsEmitted++;
    this.emit('poll', poll);
  }

  private async shutdownLoop(): Promise<void> {
    try {
      while (this.running) {
        // On a pooled connection of its own; 1 s server-side waits keep `close()` responsive.
        if (await this.napariShutdown.wait(1)) {
          await this.stop({ reason: 'napari' });
          return;
        }
      }
    } catch (error) {
      this.fatal(error);
    }
  }

  private scheduleSharedList(delayMs: number): void {
    if (!this.running || !this.sharedList) return;
    this.sharedListTimer = setTimeout(() => {
      this.sharedListTimer = null;
      this.readSharedList();
      this.scheduleSharedList(this.options.sharedListIntervalMs);
    }, delayMs);
  }

  private lastFrame = -1;

  private readSharedList(): void {
    const source = this.sharedList;
    if (!source) return;
    let frame: number;
    let text: string;
    try {
      frame = source.readFrame();
      if (frame === this.lastFrame) return;
      text = source.readJson();
    } catch (error) {
      this.reportInvalid({ source: 'shared-list', error: error as Error });
      return;
    }
    let data: JsonData;
    try {
      data = JSON.parse(text) as JsonData;
    } catch {
      // napari writes the JSON before the counter and without a lock: a torn read (WIRE §4.4).
      // Leave lastFrame unchanged so the next tick reads it again.
      return;
    }
    this.lastFrame = frame;
    this.stats.framesEmitted++;
    this.emit('frame', { frame, data });
  }

  // ---- shutdown ----

  private fatal(error: unknown): void {
    if (!this.running) return;
    if (error instanceof ShmReaderError && error.code === ShmReaderErrorCode.QUEUE_SHUT_DOWN) {
      void this.stop({ reason: 'queue-shut-down' });
      return;
    }
    const transport =
      error instanceof ShmReaderError
        ? error
        : new ShmReaderError(ShmReaderErrorCode.CONNECTION_CLOSED, `napari client failed: ${String(error)}`, { cause: error });
    void this.stop({ reason: 'connection-lost', error: transport });
  }

  private async stop(info: ShutdownInfo): Promise<void> {
    if (!this.running) {
      await this.closePromise;
      return;
    }
    this.running = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.sharedListTimer) clearTimeout(this.sharedListTimer);
    this.sharedList?.close();
    const finishing = (async () => {
      // The message loop finishes its current server-side get (≤ messageWaitSeconds) so no item that
      // napari already dequeued for us is lost. The shutdown waiter can be abandoned.
      if (info.reason === 'closed' || info.reason === 'napari') {
        await Promise.race([this.loops[0], delay(this.options.messageWaitSeconds * 1000 + 2_000)]);
      }
      await this.manager.close();
    })();
    this.closePromise ??= finishing;
    await finishing;
    this.shutdownInfo = info;
    this.emit('shutdown', info);
    for (const resolve of this.shutdownWaiters.splice(0)) resolve(info);
  }

  private reportInvalid(invalid: InvalidItem): void {
    this.stats.invalid++;
    this.emit('invalid', invalid);
  }

  private emit<K extends keyof NapariClientEvents>(event: K, ...args: Parameters<NapariClientEvents[K]>): void {
    for (const listener of [...(this.listeners[event] as ((...a: Parameters<NapariClientEvents[K]>) => void)[])]) {
      try {
        listener(...args);
      } catch (error) {
        // A throwing listener is the application's bug: surface it like EventEmitter would, but
        // without breaking our loops mid-item.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * Asks the manager `dummy` (what `BaseManager.connect()` asks) with the connect limit. Every later call
 * waits up to `callTimeoutMs` (30 s): a manager that completes the handshake and then never answers (a
 * napari frozen mid-crash, or something else on that port) would leave the user with nothing to read for
 * that long. The probe's one-shot connection is closed either way.
 */
async function checkAnswering(options: ManagerClientOptions, limitMs: number): Promise<void> {
  let probe: ManagerClient;
  try {
    probe = await ManagerClient.connect({ ...options, callTimeoutMs: limitMs });
  } catch (error) {
    if (error instanceof ShmReaderError && error.code === ShmReaderErrorCode.CALL_TIMEOUT) {
      throw new NapariError(
        NapariErrorCode.NOT_ANSWERING,
        `napari is not answering: its manager at ${options.host}:${options.port} accepted the connection and the handshake, then sent no reply within ${limitMs} ms (a frozen napari, or not napari's manager)`,
        { cause: error },
      );
    }
    throw error;
  }
  await probe.close();
}

function isTransportError(error: ShmReaderError): boolean {
  return (
    error.code === ShmReaderErrorCode.CONNECTION_CLOSED ||
    error.code === ShmReaderErrorCode.CONNECTION_REFUSED ||
    error.code === ShmReaderErrorCode.CONNECTION_TIMEOUT ||
    error.code === ShmReaderErrorCode.DISPOSED ||
    error.code === ShmReaderErrorCode.MALFORMED_FRAME ||
    error.code === ShmReaderErrorCode.FRAME_TOO_LARGE ||
    error.code === ShmReaderErrorCode.AUTH_FAILED ||
    error.code === ShmReaderErrorCode.CALL_TIMEOUT
  );
}

function dictEntries(value: PyValue): Map<PyValue, PyValue> {
  if (value instanceof Map) return value;
  throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, 'napari_data.copy: the reply is not a dict');
}

/** Identifies a plain dict key across reads (type-tagged: int 1 and str '1' are different dict keys). */
function cacheKey(key: PyValue): string | undefined {
  if (typeof key === 'string') return `s${key}`;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return `${typeof key}${String(key)}`;
  return undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}


