/**
 * A client of a CPython `multiprocessing.managers` server (BaseManager, SyncManager,
 * SharedMemoryManager): server functions over one-shot connections, method calls over pipelined
 * serving connections, and a pool of dedicated connections for calls that block.
 */
import { Connection, CONNECTION_DEFAULTS, type ConnectOptions } from '../connection/index.js';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import type { PickleDecodeOptions, PyEncodable, PyValue } from '../pickle/index.js';
import { DictProxy, EventProxy, Proxy, QueueProxy } from './proxies.js';
import type { CreatedObject } from './proxy-client.js';
import { encodeRequest, interpretOwnedReply, interpretReply, type Kwargs } from './reply.js';
import { ServingConnection, type CallOptions } from './serving-connection.js';

export interface ManagerClientOptions extends ConnectOptions {
  /** Default time limit of a call that does not block by design. 0 = none. @default 30000 */
  callTimeoutMs?: number;
  /** Name sent with `accept_connection` (the server names its thread after it). @default 'node-client' */
  clientName?: string;
  /** Limits for decoding replies (see docs/pickle.md). @default the codec's defaults */
  decode?: PickleDecodeOptions;
}

export const MANAGER_DEFAULTS = {
  callTimeoutMs: 30_000,
  clientName: 'node-client',
} as const;

export class ManagerClient {
  private shared: Promise<ServingConnection> | null = null;
  private sharedReady: ServingConnection | null = null;
  private readonly idle: ServingConnection[] = [];
  private readonly open = new Set<ServingConnection>();
  /** References this client holds (create + incref − decref), released by `close`. */
  private readonly refs = new Map<string, number>();
  private closing: Promise<void> | null = null;
  private readonly connectOptions: ConnectOptions;
  readonly callTimeoutMs: number;
  readonly clientName: string;

  private constructor(private readonly options: ManagerClientOptions) {
    this.connectOptions = {
      host: options.host ?? CONNECTION_DEFAULTS.host,
      port: options.port,
      authkey: options.authkey,
      connectTimeoutMs: options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? CONNECTION_DEFAULTS.handshakeTimeoutMs,
      maxFrameBytes: options.maxFrameBytes ?? CONNECTION_DEFAULTS.maxFrameBytes,
    };
    this.callTimeoutMs = options.callTimeoutMs ?? MANAGER_DEFAULTS.callTimeoutMs;
    this.clientName = options.clientName ?? MANAGER_DEFAULTS.clientName;
  }

  /** Connects and checks the server with `dummy` (like `BaseManager.connect()`). */
  static async connect(options: ManagerClientOptions): Promise<ManagerClient> {
    const client = new ManagerClient(options);
    await client.dummy();
    return client;
  }

  get host(): string {
    return this.connectOptions.host ?? CONNECTION_DEFAULTS.host;
  }

  get port(): number {
    return this.connectOptions.port;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  // ---- server functions (one connection each, as CPython's `dispatch`) ----

  /** Calls a public server function (`Server.public`) on a fresh connection and returns its result. */
  async callServer(funcname: string, args: readonly PyEncodable[] = [], kwds?: Kwargs): Promise<PyValue> {
    this.assertOpen();
    const connection = await Connection.connect(this.connectOptions);
    try {
      connection.send(encodeRequest(null, funcname, args, kwds));
      const reply = await connection.recv(this.callTimeoutMs > 0 ? this.callTimeoutMs : undefined);
      return interpretOwnedReply(reply, funcname, this.options.decode);
    } finally {
      connection.close();
    }
  }

  dummy(): Promise<void> {
    return this.callServer('dummy').then(() => undefined);
  }

  /** `create(typeid, *args, **kwds)`: makes (or, for napari, looks up) the object; this client holds one reference. */
  async create(typeid: string, args: readonly PyEncodable[] = [], kwds?: Kwargs): Promise<CreatedObject> {
    const result = await this.callServer('create', [typeid, ...args], kwds);
    if (!Array.isArray(result) || result.length !== 2 || typeof result[0] !== 'string' || !Array.isArray(result[1])) {
      throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, `create(${typeid}): expected (ident, exposed)`);
    }
    const exposed = result[1].filter((name): name is string => typeof name === 'string');
    this.addRef(result[0], 1);
    return { typeid, ident: result[0], exposed };
  }

  async incref(ident: string): Promise<void> {
    await this.callServer('incref', [ident]);
    this.addRef(ident, 1);
  }

  async decref(ident: string): Promise<void> {
    await this.callServer('decref', [ident]);
    this.addRef(ident, -1);
  }

  async numberOfObjects(): Promise<number> {
    const n = await this.callServer('number_of_objects');
    if (typeof n !== 'number') throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, 'number_of_objects: not an int');
    return n;
  }

  async debugInfo(): Promise<string> {
    const text = await this.callServer('debug_info');
    if (typeof text !== 'string') throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, 'debug_info: not a str');
    return text;
  }

  /** `list_segments()` of a SharedMemoryManager: shared memory names it tracks (no leading slash). */
  async listSegments(): Promise<string[]> {
    const names = await this.callServer('list_segments');
    if (!Array.isArray(names)) throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_REPLY, 'list_segments: not a list');
    return names.filter((name): name is string => typeof name === 'string');
  }

  // ---- method calls ----

  /** Calls an exposed method on the shared serving connection (pipelined with other calls). */
  callMethod(ident: string, method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<PyValue> {
    // Fast path without an extra promise hop once the shared connection is up.
    const ready = this.sharedReady;
    if (ready && !ready.closed && !this.closing) return ready.call(ident, method, args, kwds, options);
    return this.sharedConnection().then((connection) => connection.call(ident, method, args, kwds, options));
  }

  /** Like `callMethod` but returns the raw reply payload (decode it with `interpretRaw`). */
  callMethodRaw(ident: string, method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<Buffer> {
    const ready = this.sharedReady;
    if (ready && !ready.closed && !this.closing) return ready.callRaw(ident, method, args, kwds, options);
    return this.sharedConnection().then((connection) => connection.callRaw(ident, method, args, kwds, options));
  }

  interpretRaw(payload: Uint8Array, context: string): PyValue {
    return interpretReply(payload, context, this.options.decode);
  }

  /**
   * Calls a method that may block on the server (queue `get`, event `wait`, …) on a connection of its
   * own, so it never holds up other calls. Connections are pooled; one that timed out is discarded
   * (its server thread may still be blocked).
   */
  async callBlocking(ident: string, method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<PyValue> {
    const connection = await this.acquire();
    let reusable = true;
    try {
      return await connection.call(ident, method, args, kwds, options);
    } catch (error) {
      if (error instanceof ShmReaderError && error.code === ShmReaderErrorCode.CALL_TIMEOUT) reusable = false;
      throw error;
    } finally {
      this.release(connection, reusable);
    }
  }

  /**
   * A serving connection for the caller alone (e.g. a pipelined drain loop). `close()` of this client
   * closes it too.
   */
  async openDedicated(): Promise<ServingConnection> {
    this.assertOpen();
    return this.openServing();
  }

  // ---- proxies ----

  /** `create(typeid)` and a generic proxy that calls any exposed method by name. */
  async proxy(typeid: string, args: readonly PyEncodable[] = [], kwds?: Kwargs): Promise<Proxy> {
    return new Proxy(this, await this.create(typeid, args, kwds));
  }

  /** A proxy for a `dict` registered as `typeid` (napari: `napari_data`, `client_data`). */
  async dict(typeid: string, args: readonly PyEncodable[] = [], kwds?: Kwargs): Promise<DictProxy> {
    return new DictProxy(this, await this.create(typeid, args, kwds));
  }

  /** A proxy for a `queue.Queue` (napari: `napari_messages`, `client_messages`). */
  async queue(typeid: string, args: readonly PyEncodable[] = [], kwds?: Kwargs): Promise<QueueProxy> {
    return new QueueProxy(this, await this.create(typeid, args, kwds));
  }

  /** A proxy for a `threading.Event` (napari: `napari_shutdown`). */
  async event(typeid: string, args: readonly PyEncodable[] = [], kwds?: Kwargs): Promise<EventProxy> {
    return new EventProxy(this, await this.create(typeid, args, kwds));
  }

  /**
   * Releases the references this client holds (one `decref` per `create`/`incref`) and closes every
   * connection. Never sends `shutdown`. Errors while releasing (e.g. the server is gone) are ignored.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const releases: Promise<unknown>[] = [];
    for (const [ident, count] of this.refs) {
      for (let i = 0; i < count; i++) releases.push(this.decrefQuietly(ident));
    }
    this.refs.clear();
    await Promise.all(releases);
    const shared = this.shared;
    this.shared = null;
    this.sharedReady = null;
    if (shared) await shared.then((c) => c.close(), () => undefined);
    for (const connection of this.open) connection.close();
    this.open.clear();
    this.idle.length = 0;
  }

  private async decrefQuietly(ident: string): Promise<void> {
    try {
      const connection = await Connection.connect({ ...this.connectOptions, connectTimeoutMs: 2_000, handshakeTimeoutMs: 2_000 });
      try {
        connection.send(encodeRequest(null, 'decref', [ident]));
        await connection.recv(2_000);
      } finally {
        connection.close();
      }
    } catch {
      // The server may be gone: nothing left to release.
    }
  }

  private addRef(ident: string, delta: number): void {
    const count = (this.refs.get(ident) ?? 0) + delta;
    if (count > 0) this.refs.set(ident, count);
    else this.refs.delete(ident);
  }

  private sharedConnection(): Promise<ServingConnection> {
    if (this.closing) return Promise.reject(new ShmReaderError(ShmReaderErrorCode.DISPOSED, 'manager client is closed'));
    if (this.shared) {
      const current = this.shared;
      return current.then((connection) => {
        if (!connection.closed) return connection;
        // The connection died (server restart, network): open a new one for later calls.
        if (this.shared === current) {
          this.shared = null;
          this.sharedReady = null;
        }
        return this.sharedConnection();
      });
    }
    const opening = this.openServing();
    this.shared = opening;
    opening.then((connection) => {
      if (this.shared === opening) this.sharedReady = connection;
    }, () => undefined);
    opening.catch(() => {
      if (this.shared === opening) this.shared = null;
    });
    return opening;
  }

  private async openServing(): Promise<ServingConnection> {
    const connection = await ServingConnection.open(this.connectOptions, this.clientName, this.callTimeoutMs, this.options.decode);
    if (this.closing) {
      connection.close();
      throw new ShmReaderError(ShmReaderErrorCode.DISPOSED, 'manager client is closed');
    }
    this.open.add(connection);
    return connection;
  }

  private async acquire(): Promise<ServingConnection> {
    this.assertOpen();
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (!connection.closed) return connection;
      this.open.delete(connection);
    }
    return this.openServing();
  }

  private release(connection: ServingConnection, reusable: boolean): void {
    if (this.closing || !reusable || connection.closed) {
      connection.close();
      this.open.delete(connection);
      return;
    }
    this.idle.push(connection);
  }

  private assertOpen(): void {
    if (this.closing) throw new ShmReaderError(ShmReaderErrorCode.DISPOSED, 'manager client is closed');
  }
}
