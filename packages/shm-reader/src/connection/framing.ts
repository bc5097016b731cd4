/**
 * `multiprocessing.connection` message framing (WIRE §1.1):
 *   n <= 0x7FFFFFFF : [n : i32be] [payload]
 *   otherwise       : FF FF FF FF [n : u64be] [payload]
 *
 * The reader is incremental (TCP splits and merges writes freely) and never allocates more than
 * `maxFrameBytes` because of a length header: the limit is checked before the body buffer exists.
 */
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';

/** Largest payload a plain i32 header can announce; above this CPython uses the u64 escape. */
const MAX_I32_LENGTH = 0x7fffffff;

/** Encodes one message (header + payload) into a single buffer so it goes out in one write. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const n = payload.byteLength;
  if (n <= MAX_I32_LENGTH) {
    const out = Buffer.allocUnsafe(4 + n);
    out.writeInt32BE(n, 0);
    out.set(payload, 4);
    return out;
  }
  const out = Buffer.allocUnsafe(12 + n);
  out.writeInt32BE(-1, 0);
  out.writeBigUInt64BE(BigInt(n), 4);
  out.set(payload, 12);
  return out;
}

export interface FrameReaderHandlers {
  /** A complete payload. The buffer is owned by the receiver. */
  onFrame(payload: Buffer): void;
  /**
   * Called when a header has arrived and its body is still incomplete (`received` of `length`
   * bytes so far). The connection uses it to release replies that CPython's Nagle would hold back.
   */
  onPartial?(length: number, received: number): void;
}

/**
 * Size of the reusable buffer the socket reads into (libuv's own default read size). Reads land
 * here instead of in a fresh 64 KiB allocation per read, which Node's stream path would make.
 */
export const READ_CHUNK_BYTES = 64 * 1024;
/**
 * A body with at least this much still missing is read straight into its own buffer: no copy, and
 * each read takes everything the kernel holds (as CPython's `recv(remaining)` does) instead of 64 KiB.
 * Smaller remainders go through the scratch buffer so one read can also pick up the next frames.
 */
const DIRECT_READ_MIN = 16 * 1024;

/**
 * Incremental frame parser. `push` throws `ShmReaderError` (MALFORMED_FRAME / FRAME_TOO_LARGE).
 *
 * Two ways to feed it: `push(chunk)` with a chunk the caller owns, or the zero-allocation pair used
 * with a socket's `onread`: `readTarget()` says where the next read should go, `wrote(n, into)`
 * reports it. Frames are always delivered in buffers of their own (never views of the scratch).
 */
export class FrameReader {
  private readonly header = Buffer.alloc(12);
  private headerFilled = 0;
  private headerNeed = 4;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private scratch: Buffer | null = null;
  /** The view of `body` handed out by the last `readTarget()`, if it was a direct read. */
  private directTarget: Buffer | null = null;

  constructor(
    /** Frames announcing more than this many bytes are rejected before anything is allocated. */
    public maxFrameBytes: number,
    private readonly handlers: FrameReaderHandlers,
  ) {}

  /** True while a message is half received (used to tell a clean EOF from a truncated frame). */
  get inFrame(): boolean {
    return this.headerFilled > 0 || this.body !== null;
  }

  /** Describes the partial frame, for the truncated-frame error message. */
  describePartial(): string {
    if (this.body) return `${this.bodyFilled} of ${this.body.byteLength} payload bytes`;
    return `${this.headerFilled} of ${this.headerNeed} header bytes`;
  }

  /** Where the next socket read should write: the rest of a large body, else the scratch buffer. */
  readTarget(): Buffer {
    if (this.body !== null && this.body.byteLength - this.bodyFilled >= DIRECT_READ_MIN) {
      this.directTarget = this.body.subarray(this.bodyFilled);
      return this.directTarget;
    }
    this.directTarget = null;
    this.scratch ??= Buffer.allocUnsafe(READ_CHUNK_BYTES);
    return this.scratch;
  }

  /** The socket wrote `bytes` bytes at the start of `into` (a buffer from `readTarget()`). */
  wrote(bytes: number, into: Buffer): void {
    if (into === this.directTarget && this.body !== null) {
      this.directTarget = null;
      this.bodyFilled += bytes;
      if (this.bodyFilled === this.body.byteLength) {
        const done = this.body;
        this.body = null;
        this.bodyFilled = 0;
        this.handlers.onFrame(done);
      } else {
        this.handlers.onPartial?.(this.body.byteLength, this.bodyFilled);
      }
      return;
    }
    // The scratch is overwritten by the next read: frames found in it are copied out.
    this.push(into.subarray(0, bytes), true);
  }

  /** Parses `chunk`. With `transient`, the chunk's memory is reused afterwards, so frames are copied. */
  push(chunk: Buffer, transient = false): void {
    let offset = 0;
    const end = chunk.byteLength;
    while (offset < end) {
      if (this.body === null) {
        // Fast path: a whole small frame inside this chunk needs no copy.
        if (this.headerFilled === 0 && end - offset >= 4) {
          const n = chunk.readInt32BE(offset);
          if (n >= 0 && end - offset - 4 >= n) {
            this.checkLength(n);
            const view = chunk.subarray(offset + 4, offset + 4 + n);
            this.handlers.onFrame(transient ? Buffer.from(view) : view);
            offset += 4 + n;
            continue;
          }
        }
        const take = Math.min(this.headerNeed - this.headerFilled, end - offset);
        chunk.copy(this.header, this.headerFilled, offset, offset + take);
        this.headerFilled += take;
        offset += take;
        if (this.headerFilled < this.headerNeed) return;
        let length: number;
        if (this.headerNeed === 4) {
          const n = this.header.readInt32BE(0);
          if (n === -1) {
            this.headerNeed = 12;
            continue;
          }
          if (n < 0) {
            throw new ShmReaderError(ShmReaderErrorCode.MALFORMED_FRAME, `invalid frame length header ${n}`);
          }
          length = n;
        } else {
          const big = this.header.readBigUInt64BE(4);
          if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
            throw new ShmReaderError(
              ShmReaderErrorCode.FRAME_TOO_LARGE,
              `frame header announces ${big} bytes (limit ${this.maxFrameBytes})`,
            );
          }
          length = Number(big);
        }
        this.checkLength(length);
        this.headerFilled = 0;
        this.headerNeed = 4;
        if (length === 0) {
          this.handlers.onFrame(Buffer.alloc(0));
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      } else {
        const take = Math.min(this.body.byteLength - this.bodyFilled, end - offset);
        chunk.copy(this.body, this.bodyFilled, offset, offset + take);
        this.bodyFilled += take;
        offset += take;
      }
      if (this.body.byteLength === this.bodyFilled) {
        const done = this.body;
        this.body = null;
        this.bodyFilled = 0;
        this.handlers.onFrame(done);
      }
    }
    if (this.body !== null) this.handlers.onPartial?.(this.body.byteLength, this.bodyFilled);
  }

  private checkLength(length: number): void {
    if (length > this.maxFrameBytes) {
      throw new ShmReaderError(
        ShmReaderErrorCode.FRAME_TOO_LARGE,
        `frame header announces ${length} bytes, above the limit of ${this.maxFrameBytes} (option maxFrameBytes)`,
      );
    }
  }
}
