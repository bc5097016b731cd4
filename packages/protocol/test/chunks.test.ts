/**
 * Chunked frames (1.5): cutting a frame into chunks and putting it back together bit-exact, in place (the
 * decoded data a view of the assembled buffer), and refusing chunks out of order.
 */
import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_BYTES,
  ChunkAssembler,
  ProtocolErrorCode,
  decodeChunkHeader,
  decodeFrame,
  encodeChunkHeader,
  encodeFrame,
  isChunk,
  isFrame,
} from '../src/index.js';

/** Cuts `frame` the way a server does: chunks of at most `size` bytes, numbered `number`. */
function cut(frame: Uint8Array, size: number, number = 0): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < frame.length; offset += size) {
    const body = frame.subarray(offset, Math.min(frame.length, offset + size));
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + body.length);
    chunk.set(encodeChunkHeader({ frame: number, offset, total: frame.length }), 0);
    chunk.set(body, CHUNK_HEADER_BYTES);
    chunks.push(chunk);
  }
  return chunks;
}

const values = Float32Array.from({ length: 300 * 301 }, (_, i) => Math.sin(i) * 1e6);
const frame = encodeFrame({ topic: 'image', seq: 7, time: 1, dtype: 'float32', shape: [300, 301] }, values);

describe('chunks', () => {
  it('round-trips a header and tells chunks from frames', () => {
    const header = encodeChunkHeader({ frame: 2 ** 32 - 1, offset: 123_456, total: 2 ** 31 });
    expect(decodeChunkHeader(header)).toEqual({ frame: 2 ** 32 - 1, offset: 123_456, total: 2 ** 31 });
    expect(isChunk(header)).toBe(true);
    expect(isFrame(header)).toBe(false);
    expect(isChunk(frame)).toBe(false);
    expect(() => decodeChunkHeader(header.subarray(0, 8))).toThrow(expect.objectContaining({ code: ProtocolErrorCode.FRAME_TRUNCATED }));
  });

  it('reassembles a frame bit-exact from chunks of any size, the data decoded in place', () => {
    for (const size of [1000, 4096, 65_536, frame.length - 1, frame.length, frame.length * 2]) {
      const assembler = new ChunkAssembler();
      const chunks = cut(frame, size, size);
      const results = chunks.map((chunk) => assembler.push(chunk));
      expect(results.slice(0, -1).every((result) => result === undefined)).toBe(true);
      const whole = results.at(-1)!;
      expect(Buffer.from(whole).equals(Buffer.from(frame))).toBe(true);
      expect(assembler.received).toBe(frame.length);
      expect(assembler.assembling).toBe(false);
      const decoded = decodeFrame(whole);
      expect(decoded.zeroCopy).toBe(true);
      expect(decoded.data.buffer).toBe(whole.buffer);
      expect(decoded.data).toEqual(values);
    }
  });

  it('returns a frame that came in one chunk without copying it, and one that came in pieces in a buffer of its own', () => {
    const assembler = new ChunkAssembler();
    const [single] = cut(frame, frame.length, 1);
    const whole = assembler.push(single!)!;
    expect(whole.buffer).toBe(single!.buffer);
    expect(whole.byteOffset).toBe(CHUNK_HEADER_BYTES);
    expect(decodeFrame(whole).zeroCopy).toBe(true);
    expect(decodeFrame(whole).data).toEqual(values);
    expect(assembler.received).toBe(frame.length);
    const pieces = cut(frame, 4096, 2);
    const assembled = pieces.map((chunk) => assembler.push(chunk)).at(-1)!;
    expect(pieces.some((chunk) => chunk.buffer === assembled.buffer)).toBe(false);
    expect(assembled.byteOffset).toBe(0);
    expect(assembler.received).toBe(2 * frame.length);
  });

  it('refuses a chunk out of order, and starts afresh at the next first chunk', () => {
    const assembler = new ChunkAssembler();
    const chunks = cut(frame, 50_000, 3);
    assembler.push(chunks[0]!);
    expect(() => assembler.push(chunks[2]!)).toThrow(expect.objectContaining({ code: ProtocolErrorCode.FRAME_MALFORMED }));
    expect(assembler.assembling).toBe(false);
    expect(() => assembler.push(chunks[1]!)).toThrow(/expected a first chunk/);
    const other = cut(frame, 50_000, 4);
    other.slice(0, -1).forEach((chunk) => expect(assembler.push(chunk)).toBeUndefined());
    // Another frame's chunk before this one ended.
    expect(() => assembler.push(cut(frame, 50_000, 5)[1]!)).toThrow(/got frame 5/);
    const again = cut(frame, 50_000, 6).map((chunk) => assembler.push(chunk)).at(-1)!;
    expect(decodeFrame(again).data).toEqual(values);
  });

  it('refuses a frame above the data limit at its first chunk', () => {
    const assembler = new ChunkAssembler({ maxDataBytes: 1000 });
    expect(() => assembler.push(cut(frame, 100_000)[0]!)).toThrow(expect.objectContaining({ code: ProtocolErrorCode.FRAME_TOO_LARGE }));
  });
});
