/**
 * Binary array frames (server → browser): a fixed 8-byte prefix, a small JSON header, then the raw
 * little-endian bytes, 8-byte aligned so they decode to zero-copy typed-array views.
 *
 * ```
 * offset 0   4 bytes  magic "WMF" + version byte 0x01
 * offset 4   u32 LE   H = header length in bytes (JSON, space-padded so that 8 + H is a multiple of 8)
 * offset 8   H bytes  UTF-8 JSON header (FrameHeaderSchema): topic, seq, time, dtype, shape, byteLength, …
 * offset 8+H          byteLength bytes of array data, little-endian, C order unless `order` is "F"
 * ```
 * A JSON header (like numpy's `.npy`) keeps the format easy to write from Python with the standard library;
 * it costs well under a microsecond per frame against megabytes of data. Its definition is the zod schema in
 * `frame-schema.ts`; this module decodes with the hand-written check of `fast-check.ts` (same verdict, proved
 * by a property test) so that a browser bundle of the decoder carries no zod. Encoding is in `frame-encode.ts`.
 */
import { FrameLimits } from './constants.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { checkFrameHeader } from './fast-check.js';
import type { FrameHeader } from './frame-schema.js';
import { utf8Decoder } from './text-codec.js';
import { typedArrayClassOf, type NumericTypedArray } from './dtypes.js';

// The dtype facts live in dtypes.ts; these names stay exported here for existing importers.
export { DTYPE_ITEM_SIZE, typedArrayClassOf } from './dtypes.js';
export type { NumericDType, NumericTypedArray as FrameTypedArray } from './dtypes.js';
export type { FrameDType, FrameHeader, RecordField } from './frame-schema.js';

export const FRAME_MAGIC = [0x57, 0x4d, 0x46] as const; // "WMF"
export const FRAME_VERSION = 1;
export const PREFIX_BYTES = 8;

export { FrameLimits } from './constants.js';

export interface DecodedFrame extends FrameHeader {
  /** Numeric frames: a typed array over the data (complex: interleaved real/imag). Record frames: a DataView. */
  data: NumericTypedArray | DataView;
  /** True when `data` is a view into the input buffer (no copy was made). */
  zeroCopy: boolean;
}

export interface DecodeFrameOptions {
  /** Largest data section accepted. @default FrameLimits.maxDataBytes (1 GiB) */
  maxDataBytes?: number;
}


function frameError(code: ProtocolErrorCode, message: string): ProtocolError {
  return new ProtocolError(code, `binary frame: ${message}`);
}

function asBytes(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw frameError(ProtocolErrorCode.FRAME_MALFORMED, 'expected an ArrayBuffer or a typed array');
}

/** True when the bytes start like a webmon frame (cheap check for a socket's message handler). */
export function isFrame(input: ArrayBuffer | ArrayBufferView): boolean {
  const bytes = asBytes(input);
  return bytes.length >= PREFIX_BYTES && bytes[0] === FRAME_MAGIC[0] && bytes[1] === FRAME_MAGIC[1] && bytes[2] === FRAME_MAGIC[2];
}

/**
 * Decodes a binary frame. The data is a view into `input` when its start is aligned for the dtype
 * (always the case for a browser's WebSocket `ArrayBuffer`), else a copy. Throws `ProtocolError`.
 */
export function decodeFrame(input: ArrayBuffer | ArrayBufferView, options: DecodeFrameOptions = {}): DecodedFrame {
  const bytes = asBytes(input);
  const maxDataBytes = options.maxDataBytes ?? FrameLimits.maxDataBytes;
  if (bytes.length < PREFIX_BYTES) throw frameError(ProtocolErrorCode.FRAME_TRUNCATED, `${bytes.length} bytes is shorter than the 8-byte prefix`);
  if (bytes[0] !== FRAME_MAGIC[0] || bytes[1] !== FRAME_MAGIC[1] || bytes[2] !== FRAME_MAGIC[2]) {
    throw frameError(ProtocolErrorCode.FRAME_MALFORMED, 'bad magic (not a webmon frame)');
  }
  if (bytes[3] !== FRAME_VERSION) throw frameError(ProtocolErrorCode.FRAME_UNSUPPORTED_VERSION, `version ${bytes[3]} (this decoder reads ${FRAME_VERSION})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(4, true);
  if (headerBytes > FrameLimits.maxHeaderBytes) throw frameError(ProtocolErrorCode.FRAME_TOO_LARGE, `header of ${headerBytes} bytes exceeds ${FrameLimits.maxHeaderBytes}`);
  if ((PREFIX_BYTES + headerBytes) % 8 !== 0) throw frameError(ProtocolErrorCode.FRAME_MALFORMED, 'header length leaves the data unaligned');
  const dataOffset = PREFIX_BYTES + headerBytes;
  if (bytes.length < dataOffset) throw frameError(ProtocolErrorCode.FRAME_TRUNCATED, `header needs ${dataOffset} bytes, got ${bytes.length}`);

  let json: unknown;
  try {
    json = JSON.parse(utf8Decoder.decode(bytes.subarray(PREFIX_BYTES, dataOffset)));
  } catch (error) {
    throw new ProtocolError(ProtocolErrorCode.FRAME_MALFORMED, 'binary frame: header is not UTF-8 JSON', { cause: error });
  }
  const issue = checkFrameHeader(json);
  if (issue !== undefined) throw ProtocolError.fromIssue(ProtocolErrorCode.FRAME_MALFORMED, 'binary frame header', issue);
  // Checked: a FrameHeader. Fields this version does not know are kept, as they arrived.
  const header = json as FrameHeader;
  if (header.byteLength > maxDataBytes) throw frameError(ProtocolErrorCode.FRAME_TOO_LARGE, `${header.byteLength} data bytes exceed the limit of ${maxDataBytes}`);
  const available = bytes.length - dataOffset;
  if (available < header.byteLength) throw frameError(ProtocolErrorCode.FRAME_TRUNCATED, `data needs ${header.byteLength} bytes, got ${available}`);
  if (available > header.byteLength) throw frameError(ProtocolErrorCode.FRAME_MALFORMED, `${available - header.byteLength} trailing bytes after the data`);

  const start = bytes.byteOffset + dataOffset;
  if (header.dtype === 'record') {
    return { ...header, data: new DataView(bytes.buffer, start, header.byteLength), zeroCopy: true };
  }
  const ViewClass = typedArrayClassOf(header.dtype);
  const length = header.byteLength / ViewClass.BYTES_PER_ELEMENT;
  if (start % ViewClass.BYTES_PER_ELEMENT === 0) {
    return { ...header, data: new ViewClass(bytes.buffer, start, length), zeroCopy: true };
  }
  // Node's ws hands out pooled Buffers at arbitrary offsets: copy into a fresh aligned buffer.
  const copy = bytes.slice(dataOffset, dataOffset + header.byteLength);
  return { ...header, data: new ViewClass(copy.buffer, 0, length), zeroCopy: false };
}
