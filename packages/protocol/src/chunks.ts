/**
 * (1.5) Chunked binary frames (server → browser): a big frame (`frame.ts`) cut into chunks, so that the
 * server can send small messages between them. One TCP stream carries everything a page gets, and a
 * browser reads a WebSocket at tens of MB/s: a `frame_time` written after a whole 4 MiB frame waits
 * ~100 ms behind it. Cut into ≤ 256 KiB chunks, it waits behind at most the few chunks in flight.
 *
 * ```
 * offset 0   4 bytes  magic "WMC" + version byte 0x01
 * offset 4   u32 LE   frame number on this connection (0, 1, 2 … wrapping at 2^32): which frame the chunk is of
 * offset 8   u32 LE   where the chunk's bytes start in the frame
 * offset 12  u32 LE   the whole frame's length in bytes (a WMF frame: prefix, header and data)
 * offset 16           the chunk's bytes
 * ```
 * A frame's chunks arrive in order, one frame at a time: its chunks start at 0 and end at its length, and
 * the next frame's first chunk comes after its last. Text messages (and small whole frames) may come
 * between chunks. A client sends only `received` (below) back, and gets chunks only after asking for
 * them: a client of 1.4 or older gets whole frames (see `constants.ts`).
 *
 * Receipt (`received`, client → server): the client counts the bytes of frames that arrived in chunks
 * (the chunks' bytes after their 16-byte header) and tells the server the running total, after each
 * chunk. The server keeps what it sent and was not yet confirmed under a window (its "bulk window"), so
 * the kernel's socket buffers — which it cannot see — hold at most that much bulk data ahead of a small
 * message. The first `received` (bytes 0) is the client's request for chunks.
 *
 * No zod here: a browser bundle of the relay client reassembles chunks with this module alone.
 */
import { FrameLimits, PREFIX_BYTES } from './frame.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

export const CHUNK_MAGIC = [0x57, 0x4d, 0x43] as const; // "WMC"
export const CHUNK_VERSION = 1;
export const CHUNK_HEADER_BYTES = 16;

export interface ChunkHeader {
  /** The frame's number on this connection. */
  frame: number;
  /** Where the chunk's bytes start in the frame. */
  offset: number;
  /** The whole frame's length in bytes. */
  total: number;
}

function chunkError(code: ProtocolErrorCode, message: string): ProtocolError {
  return new ProtocolError(code, `chunk: ${message}`);
}

function asBytes(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

/** True when the bytes start like a chunk (cheap check for a socket's message handler). */
export function isChunk(input: ArrayBuffer | ArrayBufferView): boolean {
  const bytes = asBytes(input);
  return bytes.length >= CHUNK_HEADER_BYTES && bytes[0] === CHUNK_MAGIC[0] && bytes[1] === CHUNK_MAGIC[1] && bytes[2] === CHUNK_MAGIC[2];
}

/** The 16 header bytes of a chunk. */
export function encodeChunkHeader({ frame, offset, total }: ChunkHeader): Uint8Array {
  const out = new Uint8Array(CHUNK_HEADER_BYTES);
  out.set(CHUNK_MAGIC, 0);
  out[3] = CHUNK_VERSION;
  const view = new DataView(out.buffer);
  view.setUint32(4, frame >>> 0, true);
  view.setUint32(8, offset, true);
  view.setUint32(12, total, true);
  return out;
}

/** Reads a chunk's header. Throws `ProtocolError`. */
export function decodeChunkHeader(input: ArrayBuffer | ArrayBufferView): ChunkHeader {
  const bytes = asBytes(input);
  if (bytes.length < CHUNK_HEADER_BYTES) throw chunkError(ProtocolErrorCode.FRAME_TRUNCATED, `${bytes.length} bytes is shorter than the 16-byte chunk header`);
  if (bytes[0] !== CHUNK_MAGIC[0] || bytes[1] !== CHUNK_MAGIC[1] || bytes[2] !== CHUNK_MAGIC[2]) throw chunkError(ProtocolErrorCode.FRAME_MALFORMED, 'bad magic (not a webmon chunk)');
  if (bytes[3] !== CHUNK_VERSION) throw chunkError(ProtocolErrorCode.FRAME_UNSUPPORTED_VERSION, `version ${bytes[3]} (this decoder reads ${CHUNK_VERSION})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { frame: view.getUint32(4, true), offset: view.getUint32(8, true), total: view.getUint32(12, true) };
}

export interface ChunkAssemblerOptions {
  /** Largest frame data accepted (as `decodeFrame`'s `maxDataBytes`). @default FrameLimits.maxDataBytes (1 GiB) */
  maxDataBytes?: number;
}

/**
 * Puts a connection's chunks back together: one buffer per frame, allocated at its first chunk, each
 * chunk copied into it once — the frame then decodes in place (`decodeFrame`: zero-copy, aligned). A frame
 * in a single chunk is not copied at all (see `push`). Counts
 * the bytes received in chunks (`received`), what the client confirms to the server. A chunk out of
 * order (another frame's before this one ended, a gap, past the end) throws `ProtocolError` and drops the
 * frame being assembled: the next frame's first chunk starts afresh.
 */
export class ChunkAssembler {
  /** Bytes received in chunks on this connection (after their headers), whatever became of them. */
  received = 0;
  private frame = -1;
  private buffer: Uint8Array | undefined;
  private filled = 0;
  private readonly maxTotal: number;

  constructor(options: ChunkAssemblerOptions = {}) {
    this.maxTotal = (options.maxDataBytes ?? FrameLimits.maxDataBytes) + PREFIX_BYTES + FrameLimits.maxHeaderBytes;
  }

  /** True while a frame is partly received. */
  get assembling(): boolean {
    return this.buffer !== undefined;
  }

  /**
   * Adds a chunk; returns the whole frame's bytes when this was its last chunk: its own ArrayBuffer
   * (offset 0) when it came in pieces, a view of the chunk after its header when it came in one.
   */
  push(input: ArrayBuffer | ArrayBufferView): Uint8Array | undefined {
    const bytes = asBytes(input);
    const header = decodeChunkHeader(bytes);
    const body = bytes.subarray(CHUNK_HEADER_BYTES);
    this.received += body.length;
    if (header.offset === 0) {
      if (this.buffer !== undefined) this.drop();
      if (header.total > this.maxTotal) throw chunkError(ProtocolErrorCode.FRAME_TOO_LARGE, `a frame of ${header.total} bytes exceeds the limit of ${this.maxTotal}`);
      // The whole frame in one chunk (what a server sends a page that takes only bulk data): nothing to
      // assemble, so no copy and no allocation (4 MiB each for a 1024² float32 frame, on a page's main
      // thread). A view of the chunk after its 16-byte header: in a browser's message buffer (offset 0)
      // the frame's data stays 8-byte aligned; where it is not, `decodeFrame` copies it.
      if (body.length === header.total) return body;
      this.buffer = new Uint8Array(header.total);
      this.frame = header.frame;
      this.filled = 0;
    } else if (this.buffer === undefined || header.frame !== this.frame || header.offset !== this.filled || header.total !== this.buffer.length) {
      const expected = this.buffer === undefined ? 'a first chunk (offset 0)' : `frame ${this.frame} at ${this.filled} of ${this.buffer.length}`;
      this.drop();
      throw chunkError(ProtocolErrorCode.FRAME_MALFORMED, `got frame ${header.frame} at ${header.offset} of ${header.total}, expected ${expected}`);
    }
    const buffer = this.buffer;
    if (this.filled + body.length > buffer.length) {
      this.drop();
      throw chunkError(ProtocolErrorCode.FRAME_MALFORMED, `chunk of ${body.length} bytes at ${header.offset} runs past the frame's ${header.total}`);
    }
    buffer.set(body, this.filled);
    this.filled += body.length;
    if (this.filled < buffer.length) return undefined;
    this.drop();
    return buffer;
  }

  /** Forgets the frame being assembled (a new connection starts with none). */
  reset(): void {
    this.drop();
    this.received = 0;
  }

  private drop(): void {
    this.buffer = undefined;
    this.filled = 0;
  }
}
