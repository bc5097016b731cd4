/**
 * Writing binary frames (the producer's side, e.g. the relay): headers are validated by the zod schema
 * before they reach the wire, so a bug on our side is caught here and not in a page.
 */
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { FRAME_MAGIC, FRAME_VERSION, FrameLimits, PREFIX_BYTES } from './frame.js';
import { FrameHeaderSchema, type FrameHeader } from './frame-schema.js';
import { utf8Encoder } from './text-codec.js';

/** What a producer says about a frame; `byteLength` is taken from the data. */
export type FrameInit = Omit<FrameHeader, 'byteLength'>;

/**
 * Encodes only the prefix and header (8-byte aligned). A sender can write it followed by the data
 * bytes as one WebSocket message (e.g. two fragments), so large arrays are never copied.
 */
export function encodeFrameHeader(init: FrameInit, byteLength: number): Uint8Array {
  const parsed = FrameHeaderSchema.safeParse({ ...init, byteLength });
  if (!parsed.success) {
    const error = ProtocolError.fromZod('binary frame header', parsed.error);
    throw new ProtocolError(ProtocolErrorCode.UNENCODABLE, error.message, { issues: error.issues });
  }
  const json = utf8Encoder.encode(JSON.stringify(parsed.data));
  const headerBytes = Math.ceil((PREFIX_BYTES + json.length) / 8) * 8 - PREFIX_BYTES;
  if (headerBytes > FrameLimits.maxHeaderBytes) throw new ProtocolError(ProtocolErrorCode.UNENCODABLE, `header of ${headerBytes} bytes exceeds ${FrameLimits.maxHeaderBytes}`);
  const out = new Uint8Array(PREFIX_BYTES + headerBytes);
  out.set(FRAME_MAGIC, 0);
  out[3] = FRAME_VERSION;
  new DataView(out.buffer).setUint32(4, headerBytes, true);
  out.set(json, PREFIX_BYTES);
  out.fill(0x20, PREFIX_BYTES + json.length); // JSON allows trailing spaces
  return out;
}

/** Encodes a whole frame (header + a copy of the data) into one buffer. */
export function encodeFrame(init: FrameInit, data: ArrayBufferView): Uint8Array {
  const header = encodeFrameHeader(init, data.byteLength);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}
