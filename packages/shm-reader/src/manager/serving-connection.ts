/**
 * A manager "serving connection" (WIRE §2.1): after `accept_connection`, any number of method calls
 * `(ident, method, args, kwds)`, answered in order by one server thread. Calls are pipelined: each
 * request is written at once and replies are matched to requests first-in first-out.
 */
import { Connection, encodeFrame, type ConnectOptions } from '../connection/index.js';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import type { PickleDecodeOptions, PyEncodable, PyValue } from '../pickle/index.js';
import { encodeRequest, interpretOwnedReply, interpretReply, type Kwargs } from './reply.js';

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
const NUDGE_FRAME = encodeFrame(encodeRequest('0', '__str__', []));
/** Bounds the extra server work when a huge reply arrives in many chunks. */
const MAX_NUDGES_IN_FLIGHT = 64;

interface PendingCall {
  resolve(payload: Buffer): void;
  reject(error: ShmReaderError): void;
  /** `performance.now()` after which the call rejects with CALL_TIMEOUT (Infinity = never). */
  deadline: number;
  /** For the timeout message. */
  method: string;
  timeoutMs: number;
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
    let frame: Buffer;
    try {
      frame = kwds === undefined ? this.cachedFrame(ident, method, args) : encodeFrame(encodeRequest(ident, method, args, kwds));
    } catch (error) {
      // An argument that cannot be pickled: a rejection like any other failure, never a throw.
      return Promise.reject(error as Error);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
      const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
      const call: PendingCall = { resolve, reject, deadline, method, timeoutMs, discard: false, nudge: false };
      if (deadline < this.sweepAt) this.armSweep(deadline);
      this.pending.push(call);
      this.realPending++;
      this.sentSinceReceive = true;
      this.connection.sendFramed(frame);
    });
  }

  /** Calls `method` on `ident` and returns the decoded `#RETURN` value (or throws the typed error). */
  call(ident: string, method: string, args: readonly PyEncodable[] = [], kwds?: Kwargs, options?: CallOptions): Promise<PyValue> {
    // `.then` rather than an async function: one promise hop less on every call.
    // The payload is ours alone (a frame buffer no one else sees): its numpy data can be viewed in place.
    return this.callRaw(ident, method, args, kwds, options).then((payload) => interpretOwnedReply(payload, method, this.decodeOptions));
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
   * all the time: encode and frame each once. Others are encoded per call.
   */
  private readonly frameCache = new Map<string, Buffer>();
  private cachedFrame(ident: string, method: string, args: readonly PyEncodable[]): Buffer {
    const key = cacheKey(ident, method, args);
    if (key === undefined) return encodeFrame(encodeRequest(ident, method, args));
    let frame = this.frameCache.get(key);
    if (!frame) {
      frame = encodeFrame(encodeRequest(ident, method, args));
      if (this.frameCache.size < 256) this.frameCache.set(key, frame);
    }
    return frame;
  }

  /**
   * Call timeouts share one timer, armed for the earliest deadline and left running when calls
   * complete: a timer per call (set, then cleared on the reply) costs more than the call's own
   * bookkeeping on the fast path. When it fires it rejects every expired call and re-arms.
   */
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweepAt = Infinity;

  private armSweep(deadline: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    this.sweepTimer = setTimeout(this.sweep, Math.max(0, Math.ceil(deadline - performance.now())));
    // The open socket keeps the process alive while calls are pending; this timer must not.
    this.sweepTimer.unref();
  }

  private readonly sweep = (): void => {
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (let i = this.head; i < this.pending.length; i++) {
      const call = this.pending[i]!;
      if (call.discard) continue;
      if (call.deadline <= now) {
        // Its reply is still read and dropped when it comes, to keep the FIFO aligned.
        call.discard = true;
        call.reject(new ShmReaderError(ShmReaderErrorCode.CALL_TIMEOUT, `${call.method} got no reply within ${call.timeoutMs} ms`));
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (next < Infinity && !this.closeError) this.armSweep(next);
  };

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
    this.pending.push({
      resolve: () => undefined,
      reject: () => undefined,
      deadline: Infinity,
      method: '__str__',
      timeoutMs: 0,
      discard: true,
      nudge: true,
    });
    this.connection.sendFramed(NUDGE_FRAME);
  }

  private onClose(error: ShmReaderError): void {
    if (this.closeError) return;
    this.closeError = error;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    for (let i = this.head; i < this.pending.length; i++) {
      const call = this.pending[i]!;
      if (!call.discard) call.reject(error);
    }
    this.pending.length = 0;
    this.head = 0;
  }
}

/**
 * The frame cache's key for a request of a few primitives, or undefined when the request is not cached.
 * Each argument is written as a type letter and its text (strs with their length first), which identifies
 * its pickle exactly: a float like 0.25 and an int like 1 stay distinct, as `'1'` and `1` do. Built by hand
 * rather than with JSON.stringify: this runs on every call (`get('poll')`, `get_nowait()`).
 */
function cacheKey(ident: string, method: string, args: readonly PyEncodable[]): string | undefined {
  if (args.length > 4) return undefined;
  let key = `${ident}\0${method}`;
  for (const value of args) {
    if (value === null) key += '\0N';
    else if (value === true) key += '\0T';
    else if (value === false) key += '\0F';
    else if (typeof value === 'string' && value.length <= 256) key += `\0s${value.length}:${value}`;
    else if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) key += `\0n${value}`;
    else return undefined;
  }
  return key;
}
