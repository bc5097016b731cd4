/**
 * A manager "serving connection" (WIRE §2.1): after `accept_connection`, any number of method calls
 * `(ident, method, args, kwds)`, answered in order by one server thread. Calls are pipelined: each
 * request is written at once and replies are matched to requests first-in first-out.
 */
import { Connection, type ConnectOptions } from '../connection/index.js';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import type { PickleDecodeOptions, PyEncodable, PyValue } from '../pickle/index.js';
import { encodeRequest, interpretReply, type Kwargs } from './reply.js';

/**
 * CPython writes a reply over 16 KiB as two writes (header, then body) on a socket without
 * TCP_NODELAY. Nagle then holds the body until we ACK the header, and Linux delays that ACK ~40 ms
 * (WIRE §1.1b). Node cannot set TCP_QUICKACK, so we "nudge": send a tiny request whose segment
 * carries the ACK, which releases whatever the server holds. The nudge's own reply is small and may
 * in turn be held until the next ACK, so whenever a nudge reply arrives while real calls are still
 * waiting and nothing else went out, we nudge again. The request is `__str__` on ident '0', the
 * `(None, ())` entry every CPython Server has: its reply is `'None'`, and it touches no object.
 */
const NUDGE_THRESHOLD = 16 * 1024;
/**
 * A body larger than one loopback segment (MSS 65483) arrives as a full segment first, and a
 * receiver that got more than one MSS ACKs at once: the kernel releases the tail by itself, so a
 * nudge would only add a round trip. Only bodies that fit in one segment get stuck.
 */
const NUDGE_UPPER = 65_536;
const NUDGE_REQUEST = encodeRequest('0', '__str__', []);
/** Bounds the extra server work when a huge reply arrives in many chunks. */
const MAX_NUDGES_IN_FLIGHT = 64;

interface PendingCall {
  resolve(payload: Buffer): void;
  reject(error: ShmReaderError): void;
  timer: NodeJS.Timeout | undefined;
  /** A nudge, or a call that timed out: its reply is read and dropped to keep the FIFO aligned. */
  discard: boolean;
  nudge: boolean;
}

export interface CallOptions {
  /** Reject with CALL_TIMEOUT after this long; 0 = wait forever. */
  timeoutMs?: number;
}

export class ServingConnection {
  private readonly pending: PendingCall[] = [];
  private head = 0;
  /** True once we sent anything since the last bytes arrived (that segment carried the ACK). */
  private sentSinceReceive = false;
  private nudgesInFlight = 0;
  /** Calls sent and not answered, nudges excluded. */
  private realPending = 0;
  private closeError: ShmReaderError | null = null;

  private constructor(
    private readonly connection: Connection,
    private readonly defaultTimeoutMs: number,
    private readonly decodeOptions: PickleDecodeOptions | undefined,
  ) {
    connection.setFrameHandler({
      onFrame: (payload) => this.onFrame(payload),
      onPartial: (length) => this.onPartial(length),
      onClose: (error) => this.onClose(error),
    });
  }

  /** Connects, authenticates and sends `accept_connection(name)`. */
  static async open(
    options: ConnectOptions,
    name: string,
    defaultTimeoutMs: number,
    decodeOptions?: PickleDecodeOptions,
  ): Promise<ServingConnection> {
    const connection = await Connection.connect(options);
    try {
      connection.send(encodeRequest(null, 'accept_connection', [name]));
      const reply = await connection.recv(defaultTimeoutMs > 0 ? defaultTimeoutMs : undefined);
      interpretReply(reply, 'accept_connection', decodeOptions);
    } catch (error) {
      connection.close();
      throw error;
    }
    return new ServingConnection(connection, defaultTimeoutMs, decodeOptions);
  }

  get closed(): boolean {
    return this.closeError !== null;
  }

  /** Number of calls sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /** Calls `method` on the object `ident` and returns the raw reply payload (for cheap comparisons). */
  callRaw(ident: string, method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options: CallOptions = {}): Promise<Buffer> {
    if (this.closeError) return Promise.reject(this.closeError);
    const request = kwds === undefined ? this.cachedRequest(ident, method, args) : encodeRequest(ident, method, args, kwds);
    return new Promise<Buffer>((resolve, reject) => {
      const call: PendingCall = { resolve, reject, timer: undefined, discard: false, nudge: false };
      const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
      if (timeoutMs > 0) {
        call.timer = setTimeout(() => {
          call.discard = true;
          reject(new ShmReaderError(ShmReaderErrorCode.CALL_TIMEOUT, `${method} got no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.push(call);
      this.realPending++;
      this.sentSinceReceive = true;
      this.connection.send(request);
    });
  }

  /** Calls `method` on `ident` and returns the decoded `#RETURN` value (or throws the typed error). */
  async call(ident: string, method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<PyValue> {
    const payload = await this.callRaw(ident, method, args, kwds, options);
    return interpretReply(payload, method, this.decodeOptions);
  }

  /** Decodes a payload from `callRaw`. */
  interpret(payload: Uint8Array, context: string): PyValue {
    return interpretReply(payload, context, this.decodeOptions);
  }

  close(): void {
    this.connection.close();
  }

  /**
   * Requests whose arguments are a few primitives (`get_nowait`, `get('poll')`, `wait(1)`, …) repeat
   * all the time: encode each once. Others are encoded per call.
   */
  private readonly requestCache = new Map<string, Uint8Array>();
  private cachedRequest(ident: string, method: string, args: readonly PyEncodable[]): Uint8Array {
    if (args.length > 4 || !args.every(isCacheablePrimitive)) return encodeRequest(ident, method, args);
    const key = `${ident}\0${method}\0${JSON.stringify(args)}`;
    let request = this.requestCache.get(key);
    if (!request) {
      request = encodeRequest(ident, method, args);
      if (this.requestCache.size < 256) this.requestCache.set(key, request);
    }
    return request;
  }

  private onFrame(payload: Buffer): void {
    this.sentSinceReceive = false;
    const call = this.pending[this.head];
    if (!call) {
      // A reply nobody asked for (e.g. the server's second `#RETURN` when it is stopping). Drop it.
      return;
    }
    this.pending[this.head] = undefined as unknown as PendingCall;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    if (call.nudge) this.nudgesInFlight--;
    else this.realPending--;
    if (call.timer) clearTimeout(call.timer);
    if (!call.discard) call.resolve(payload);
    // More calls are waiting and the server may be holding their replies behind the write we just
    // received (Nagle). Usually the caller reacts to this reply by sending its next request, which
    // carries the ACK; only if nothing went out by the end of this I/O turn do we nudge.
    if (this.realPending > 0 && !this.nudgeCheckScheduled) {
      this.nudgeCheckScheduled = true;
      setImmediate(this.deferredNudge);
    }
  }

  private nudgeCheckScheduled = false;
  private readonly deferredNudge = (): void => {
    this.nudgeCheckScheduled = false;
    if (this.realPending > 0) this.nudge();
  };

  private onPartial(length: number): void {
    this.sentSinceReceive = false;
    if (length > NUDGE_THRESHOLD && length <= NUDGE_UPPER) this.nudge();
  }

  /** Sends a nudge unless something already went out since the last bytes arrived. */
  private nudge(): void {
    if (this.sentSinceReceive || this.nudgesInFlight >= MAX_NUDGES_IN_FLIGHT || this.closeError) return;
    this.nudgesInFlight++;
    this.sentSinceReceive = true;
    // Enqueued behind every request already sent: replies come back in request order.
    this.pending.push({ resolve: () => undefined, reject: () => undefined, timer: undefined, discard: true, nudge: true });
    this.connection.send(NUDGE_REQUEST);
  }

  private onClose(error: ShmReaderError): void {
    if (this.closeError) return;
    this.closeError = error;
    for (let i = this.head; i < this.pending.length; i++) {
      const call = this.pending[i]!;
      if (call.timer) clearTimeout(call.timer);
      if (!call.discard) call.reject(error);
    }
    this.pending.length = 0;
    this.head = 0;
  }
}

/** Values whose JSON text identifies their pickle exactly (a float like 0.25 vs an int like 1 stay distinct). */
function isCacheablePrimitive(value: PyEncodable): boolean {
  return (
    value === null ||
    typeof value === 'boolean' ||
    (typeof value === 'string' && value.length <= 256) ||
    (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0))
  );
}
