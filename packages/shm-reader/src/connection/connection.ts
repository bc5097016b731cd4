/**
 * One authenticated `multiprocessing.connection` over TCP: connect, the mutual HMAC handshake,
 * then framed messages in both directions.
 */
import { createConnection, isIP, type Socket } from 'node:net';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import { FrameReader, READ_CHUNK_BYTES, encodeFrame } from './framing.js';
import {
  CHALLENGE,
  FAILURE,
  WELCOME,
  answerChallenge,
  bytesEqual,
  makeChallenge,
  startsWith,
  verifyResponse,
  HandshakeError,
  type ChallengeForm,
} from './handshake.js';

export interface ConnectOptions {
  /** @default '127.0.0.1' */
  host?: string;
  port: number;
  /** The manager's authkey; a string is UTF-8 encoded. napari uses `'napari'`. */
  authkey: string | Uint8Array;
  /** Time allowed for the TCP connect. @default 5000 */
  connectTimeoutMs?: number;
  /** Time allowed for the six handshake messages. @default 5000 */
  handshakeTimeoutMs?: number;
  /** Frames announcing more bytes are refused before allocating. @default 268435456 (256 MiB) */
  maxFrameBytes?: number;
}

export const CONNECTION_DEFAULTS = {
  host: '127.0.0.1',
  connectTimeoutMs: 5_000,
  handshakeTimeoutMs: 5_000,
  maxFrameBytes: 256 * 1024 * 1024,
} as const;

/** CPython reads handshake messages with `recv_bytes(256)`; a bigger one means this is no manager. */
const HANDSHAKE_MAX_FRAME = 256;

/** Push-mode consumer of frames (used by pipelined manager connections). */
export interface FrameHandler {
  onFrame(payload: Buffer): void;
  onPartial?(length: number, received: number): void;
  /** Called once when the connection ends; `error` says why (CONNECTION_CLOSED for a clean EOF). */
  onClose(error: ShmReaderError): void;
}

interface Waiter {
  resolve(frame: Buffer): void;
  reject(error: ShmReaderError): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Where socket bytes go. The socket reads through `onread` into buffers the sink provides (no
 * allocation per read, and large bodies land in place); the sink changes once the handshake is over.
 */
interface ReadSink {
  readTarget(): Buffer;
  wrote(bytes: number, into: Buffer): void;
}

class SocketReads {
  constructor(public sink: ReadSink) {}
}

/**
 * The sink until the frame reader takes over: keeps copies of the chunks (the scratch is reused)
 * and hands them to `onChunk` when set, else holds them.
 */
class ChunkCollector implements ReadSink {
  readonly chunks: Buffer[] = [];
  onChunk: ((chunk: Buffer) => void) | null = null;
  private readonly scratch = Buffer.allocUnsafe(READ_CHUNK_BYTES);

  readTarget(): Buffer {
    return this.scratch;
  }

  wrote(bytes: number, into: Buffer): void {
    const chunk = Buffer.from(into.subarray(0, bytes));
    if (this.onChunk) this.onChunk(chunk);
    else this.chunks.push(chunk);
  }
}

export function toKeyBytes(authkey: string | Uint8Array): Uint8Array {
  return typeof authkey === 'string' ? Buffer.from(authkey, 'utf8') : authkey;
}

export class Connection {
  /** Which challenge form the server used (legacy = 3.8–3.11, modern = 3.12+). */
  readonly form: ChallengeForm;
  readonly host: string;
  readonly port: number;

  private readonly socket: Socket;
  private readonly reader: FrameReader;
  private readonly frames: Buffer[] = [];
  private readonly waiters: Waiter[] = [];
  private handler: FrameHandler | null = null;
  private closeError: ShmReaderError | null = null;
  private readonly closeListeners: ((error: ShmReaderError) => void)[] = [];

  private constructor(socket: Socket, reader: FrameReader, form: ChallengeForm, host: string, port: number) {
    this.socket = socket;
    this.reader = reader;
    this.form = form;
    this.host = host;
    this.port = port;
  }

  /** Connects, authenticates both ways, and returns a ready connection. */
  static async connect(options: ConnectOptions): Promise<Connection> {
    const host = options.host ?? CONNECTION_DEFAULTS.host;
    const { port } = options;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ShmReaderError(ShmReaderErrorCode.CONNECTION_REFUSED, `invalid port ${String(port)}`);
    }
    const key = toKeyBytes(options.authkey);
    const collector = new ChunkCollector();
    const reads = new SocketReads(collector);
    const socket = await openSocket(host, port, options.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs, reads);
    const handshake = new HandshakeReader(socket, collector, host, port);
    try {
      const form = await withTimeout(
        clientHandshake(handshake, key),
        options.handshakeTimeoutMs ?? CONNECTION_DEFAULTS.handshakeTimeoutMs,
        () =>
          handshake.bytesSeen === 0
            ? new ShmReaderError(
                ShmReaderErrorCode.NOT_A_PYTHON_MANAGER,
                `${host}:${port} sent no #CHALLENGE# after connect: not a Python multiprocessing manager (or a stalled one)`,
              )
            : new ShmReaderError(ShmReaderErrorCode.CONNECTION_TIMEOUT, `handshake with ${host}:${port} timed out`),
      );
      const leftover = handshake.detach();
      const connection = new Connection(
        socket,
        new FrameReader(options.maxFrameBytes ?? CONNECTION_DEFAULTS.maxFrameBytes, {
          onFrame: (frame) => connection.deliver(frame),
          onPartial: (length, received) => connection.handler?.onPartial?.(length, received),
        }),
        form,
        host,
        port,
      );
      connection.attach(reads, leftover);
      return connection;
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  /** True once the connection has ended (for any reason). */
  get closed(): boolean {
    return this.closeError !== null;
  }

  /**
   * Sends one message (header and payload in a single write). The first message of a tick is
   * written at once: a lone request/reply call must not wait for the end of the tick. Further
   * messages in the same tick are corked and leave together when the tick ends, so a burst of
   * pipelined calls costs two writes, not one per call.
   */
  send(payload: Uint8Array): void {
    this.sendFramed(encodeFrame(payload));
  }

  /** Like `send`, for a message already framed with `encodeFrame` (cached requests skip the copy). */
  sendFramed(frame: Uint8Array): void {
    this.assertOpen();
    if (this.burst === 0) {
      this.burst = 1;
      process.nextTick(this.endBurst);
    } else if (this.burst++ === 1) {
      this.socket.cork();
    }
    this.socket.write(frame);
  }

  /** Messages sent in the current tick (0 = none yet); the socket is corked from the second on. */
  private burst = 0;
  private readonly endBurst = (): void => {
    if (this.burst > 1) this.socket.uncork();
    this.burst = 0;
  };

  /** Sends several messages in one write (pipelining). */
  sendMany(payloads: readonly Uint8Array[]): void {
    this.assertOpen();
    this.socket.write(Buffer.concat(payloads.map((p) => encodeFrame(p))));
  }

  /**
   * Receives the next message. Rejects with CALL_TIMEOUT after `timeoutMs` (the connection stays
   * usable; the late frame is then delivered to the next `recv`), or with the close error.
   */
  recv(timeoutMs?: number): Promise<Buffer> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new ShmReaderError(ShmReaderErrorCode.CALL_TIMEOUT, `no message within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Switches to push mode: every frame (queued ones first) goes to `handler`. */
  setFrameHandler(handler: FrameHandler): void {
    this.handler = handler;
    for (let frame = this.frames.shift(); frame; frame = this.frames.shift()) handler.onFrame(frame);
    if (this.closeError) handler.onClose(this.closeError);
  }

  /** Registers a listener for the end of the connection (called at once if already closed). */
  onClose(listener: (error: ShmReaderError) => void): void {
    if (this.closeError) listener(this.closeError);
    else this.closeListeners.push(listener);
  }

  /** Closes the connection (FIN). Pending receives reject with DISPOSED. */
  close(): void {
    if (!this.closeError) {
      this.fail(new ShmReaderError(ShmReaderErrorCode.DISPOSED, 'connection closed by this client'));
    }
    this.socket.end();
    // A peer that never reads could keep the socket half-open; don't let it hold the process.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private attach(reads: SocketReads, leftover: Buffer[]): void {
    const { socket, reader } = this;
    const parse = (feed: () => void): void => {
      if (this.closeError) return;
      try {
        feed();
      } catch (error) {
        this.fail(asShmError(error));
        socket.destroy();
      }
    };
    reads.sink = {
      readTarget: () => reader.readTarget(),
      wrote: (bytes, into) => parse(() => reader.wrote(bytes, into)),
    };
    socket.on('end', () => {
      this.fail(
        this.reader.inFrame
          ? new ShmReaderError(
              ShmReaderErrorCode.MALFORMED_FRAME,
              `${this.host}:${this.port} closed the connection inside a frame (truncated: ${this.reader.describePartial()})`,
            )
          : new ShmReaderError(ShmReaderErrorCode.CONNECTION_CLOSED, `${this.host}:${this.port} closed the connection`),
      );
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.fail(
        new ShmReaderError(
          ShmReaderErrorCode.CONNECTION_CLOSED,
          `connection to ${this.host}:${this.port} lost (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    socket.on('close', () => {
      this.fail(new ShmReaderError(ShmReaderErrorCode.CONNECTION_CLOSED, `connection to ${this.host}:${this.port} closed`));
    });
    for (const chunk of leftover) parse(() => reader.push(chunk));
    socket.resume();
  }

  private deliver(frame: Buffer): void {
    if (this.handler) {
      this.handler.onFrame(frame);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }

  private fail(error: ShmReaderError): void {
    if (this.closeError) return;
    this.closeError = error;
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.handler?.onClose(error);
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }

  private assertOpen(): void {
    if (this.closeError) throw this.closeError;
  }
}

function asShmError(error: unknown): ShmReaderError {
  if (error instanceof ShmReaderError) return error;
  return new ShmReaderError(ShmReaderErrorCode.MALFORMED_FRAME, String(error), { cause: error });
}

function openSocket(host: string, port: number, timeoutMs: number, reads: SocketReads): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    // `onread` (honoured when the socket is constructed, hence createConnection) replaces the
    // 'data' path: no 64 KiB allocation per read, and large bodies are read in place.
    const socket = createConnection({
      host,
      port,
      family: isIP(host) || undefined,
      onread: {
        // Called before every read (and after each callback): the current sink decides where bytes land.
        buffer: () => reads.sink.readTarget(),
        callback: (bytes: number, into: Uint8Array) => {
          reads.sink.wrote(bytes, into as Buffer);
          return true; // keep reading (false would pause the socket)
        },
      },
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ShmReaderError(ShmReaderErrorCode.CONNECTION_TIMEOUT, `connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new ShmReaderError(
          ShmReaderErrorCode.CONNECTION_REFUSED,
          `cannot connect to ${host}:${port}: ${error.code ?? error.message}`,
          { cause: error },
        ),
      );
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Our requests are small and latency-bound: never let Nagle hold them (WIRE §1.2 step 4).
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Reads handshake frames with CPython's 256-byte limit, and keeps any bytes that follow. */
class HandshakeReader {
  bytesSeen = 0;
  private readonly queue: Buffer[] = [];
  private waiter: { resolve(frame: Buffer): void; reject(error: ShmReaderError): void } | null = null;
  private error: ShmReaderError | null = null;
  private readonly reader: FrameReader;
  private readonly onData = (chunk: Buffer): void => {
    this.bytesSeen += chunk.byteLength;
    if (this.detached) {
      this.leftover.push(chunk);
      return;
    }
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.fail(
        new ShmReaderError(
          ShmReaderErrorCode.NOT_A_PYTHON_MANAGER,
          `${this.host}:${this.port} sent a handshake message that is not multiprocessing framing (${(error as Error).message})`,
          { cause: error },
        ),
      );
    }
  };
  private readonly onEnd = (): void =>
    this.fail(
      this.bytesSeen === 0
        ? new ShmReaderError(ShmReaderErrorCode.CONNECTION_CLOSED, `${this.host}:${this.port} closed the connection during the handshake`)
        : new ShmReaderError(
            ShmReaderErrorCode.NOT_A_PYTHON_MANAGER,
            `${this.host}:${this.port} closed the connection during the handshake after ${this.bytesSeen} unexpected bytes`,
          ),
    );
  private readonly onError = (error: NodeJS.ErrnoException): void =>
    this.fail(
      new ShmReaderError(ShmReaderErrorCode.CONNECTION_CLOSED, `connection lost during the handshake (${error.code ?? error.message})`, {
        cause: error,
      }),
    );
  private detached = false;
  private readonly leftover: Buffer[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly collector: ChunkCollector,
    readonly host: string,
    readonly port: number,
  ) {
    this.reader = new FrameReader(HANDSHAKE_MAX_FRAME, {
      onFrame: (frame) => {
        // The frame may be a subarray of a chunk that also holds the first post-handshake bytes.
        const copy = Buffer.from(frame);
        if (this.waiter) {
          const { resolve } = this.waiter;
          this.waiter = null;
          resolve(copy);
        } else this.queue.push(copy);
      },
    });
    collector.onChunk = this.onData;
    for (const chunk of collector.chunks.splice(0)) this.onData(chunk);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
  }

  recv(): Promise<Buffer> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  send(payload: Uint8Array): void {
    this.socket.write(encodeFrame(payload));
  }

  /** Stops reading and hands back bytes that arrived after the last handshake message. */
  detach(): Buffer[] {
    this.detached = true;
    this.socket.pause();
    this.collector.onChunk = null;
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
    // The server speaks only after our request, so nothing should be left; keep it anyway.
    return [...this.leftover, ...this.collector.chunks.splice(0)];
  }

  private fail(error: ShmReaderError): void {
    if (this.error) return;
    this.error = error;
    if (this.waiter) {
      const { reject } = this.waiter;
      this.waiter = null;
      reject(error);
    }
  }
}

/** `answer_challenge` then `deliver_challenge`, the order of CPython's `Client()`. */
async function clientHandshake(io: HandshakeReader, key: Uint8Array): Promise<ChallengeForm> {
  const challenge = await io.recv();
  if (!startsWith(challenge, CHALLENGE)) {
    throw new ShmReaderError(
      ShmReaderErrorCode.NOT_A_PYTHON_MANAGER,
      `${io.host}:${io.port} did not start with #CHALLENGE#: not a Python multiprocessing manager`,
    );
  }
  let answer: ReturnType<typeof answerChallenge>;
  try {
    answer = answerChallenge(key, challenge.subarray(CHALLENGE.byteLength));
  } catch (error) {
    throw new ShmReaderError(ShmReaderErrorCode.NOT_A_PYTHON_MANAGER, `unsupported challenge: ${(error as HandshakeError).message}`);
  }
  io.send(answer.response);
  const verdict = await io.recv();
  if (bytesEqual(verdict, FAILURE)) {
    throw new ShmReaderError(ShmReaderErrorCode.AUTH_FAILED, `${io.host}:${io.port} rejected our authkey (#FAILURE#)`);
  }
  if (!bytesEqual(verdict, WELCOME)) {
    throw new ShmReaderError(ShmReaderErrorCode.NOT_A_PYTHON_MANAGER, `expected #WELCOME# from ${io.host}:${io.port}`);
  }
  const ours = makeChallenge(answer.form);
  io.send(Buffer.concat([CHALLENGE, ours]));
  const response = await io.recv();
  if (!verifyResponse(key, ours, response)) {
    io.send(FAILURE);
    throw new ShmReaderError(
      ShmReaderErrorCode.AUTH_FAILED,
      `${io.host}:${io.port} could not prove it knows the authkey (wrong answer to our challenge)`,
    );
  }
  io.send(WELCOME);
  return answer.form;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, makeError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(makeError()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
