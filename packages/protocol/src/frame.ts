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
 * A JSON header (like numpy's `.npy`) keeps the format easy to write from Python with the standard library
 * and lets us validate it with the same zod machinery as every other message; it costs well under a
 * microsecond per frame against megabytes of data.
 */
import { z } from 'zod';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { JsonValueSchema } from './json.js';
import { TopicNameSchema } from './browser.js';
import { utf8Decoder, utf8Encoder } from './text-codec.js';
import { DTYPE_ITEM_SIZE, NumericDTypeSchema, typedArrayClassOf, type NumericTypedArray } from './dtypes.js';
import { ArrayViewSchema, ViewRegionSchema } from './views.js';

// The dtype facts live in dtypes.ts; these names stay exported here for existing importers.
export { DTYPE_ITEM_SIZE, NumericDTypeSchema, typedArrayClassOf } from './dtypes.js';
export type { NumericDType, NumericTypedArray as FrameTypedArray } from './dtypes.js';

export const FRAME_MAGIC = [0x57, 0x4d, 0x46] as const; // "WMF"
export const FRAME_VERSION = 1;
const PREFIX_BYTES = 8;

/** `record` = a structured dtype: each element is `itemSize` bytes holding the named `fields`. */
export const FrameDTypeSchema = z.union([NumericDTypeSchema, z.literal('record')]);
export type FrameDType = z.infer<typeof FrameDTypeSchema>;

export const RecordFieldSchema = z.object({
  name: z.string().min(1).max(256),
  dtype: NumericDTypeSchema,
  /** Byte offset of the field inside one record. */
  offset: z.int().min(0),
  /** Sub-array shape of the field (`[]` or absent for a scalar field). */
  shape: z.array(z.int().min(1)).max(8).optional(),
});
export type RecordField = z.infer<typeof RecordFieldSchema>;

export const FrameLimits = {
  maxHeaderBytes: 65_536,
  maxNdim: 32,
  maxFields: 1_024,
  /** Default upper bound of one frame's data when decoding (callers may lower or raise it). */
  maxDataBytes: 2 ** 30,
} as const;

/**
 * (1.3) How a frame sent for an array view maps onto the array that was published: a page places and
 * labels it from this (which part of the source, at which step) and reads integer codes back as values.
 */
export const FrameViewSchema = z.object({
  /** The view this frame answers, defaults filled in (as the page asked it, so it can tell answers apart). */
  request: ArrayViewSchema,
  /** The published array: its shape and dtype. */
  source: z.object({ shape: z.array(z.int().min(0)).max(FrameLimits.maxNdim), dtype: NumericDTypeSchema }),
  /** The part of the source this frame covers: the request's region clipped to the array, or all of it. */
  region: ViewRegionSchema,
  /**
   * Source pixels per view pixel, the same along both axes (pixels stay square): view pixel (r, c) is the
   * mean of source rows y0 + r·step up to y0 + (r+1)·step and the same columns (fewer at the far edges,
   * where the region ends inside a block). 1: the source's own values.
   */
  step: z.int().min(1),
  /** uint8 / uint16 views: value = code × scale + offset; the largest code (255, 65535) stands for NaN. */
  scale: z.number().min(0).optional(),
  offset: z.number().optional(),
});
export type FrameView = z.infer<typeof FrameViewSchema>;

export const FrameHeaderSchema = z
  .object({
    topic: TopicNameSchema,
    seq: z.int().min(0),
    /** Milliseconds since the epoch. */
    time: z.number().min(0),
    dtype: FrameDTypeSchema,
    shape: z.array(z.int().min(0)).max(FrameLimits.maxNdim),
    byteLength: z.int().min(0),
    order: z.enum(['C', 'F']).optional(),
    /** Bytes per element for `record` frames. */
    itemSize: z.int().min(1).optional(),
    fields: z.array(RecordFieldSchema).max(FrameLimits.maxFields).optional(),
    /** Free-form metadata from the producer (e.g. contrast limits). */
    meta: JsonValueSchema.optional(),
    /** (1.3) Present when the frame is an array view of the published value rather than the value itself. */
    view: FrameViewSchema.optional(),
  })
  .superRefine((header, ctx) => {
    const count = elementCount(header.shape);
    if (header.view !== undefined) {
      const wanted = header.view.request.dtype ?? 'float32';
      if (header.dtype !== wanted) ctx.addIssue({ code: 'custom', path: ['dtype'], message: `a view frame's dtype is its view's (${wanted})` });
      if ((wanted === 'uint8' || wanted === 'uint16') && (header.view.scale === undefined || header.view.offset === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['view'], message: 'an integer view needs scale and offset' });
      }
    }
    if (header.dtype === 'record') {
      if (header.itemSize === undefined || header.fields === undefined) {
        ctx.addIssue({ code: 'custom', message: 'record frames need itemSize and fields' });
        return;
      }
      for (const field of header.fields) {
        const size = DTYPE_ITEM_SIZE[field.dtype] * elementCount(field.shape ?? []);
        if (field.offset + size > header.itemSize) {
          ctx.addIssue({ code: 'custom', path: ['fields'], message: `field ${field.name} lies outside the record` });
        }
      }
      if (count * header.itemSize !== header.byteLength) {
        ctx.addIssue({ code: 'custom', path: ['byteLength'], message: 'byteLength does not match shape × itemSize' });
      }
    } else if (count * DTYPE_ITEM_SIZE[header.dtype] !== header.byteLength) {
      ctx.addIssue({ code: 'custom', path: ['byteLength'], message: 'byteLength does not match shape × dtype size' });
    }
  });
export type FrameHeader = z.infer<typeof FrameHeaderSchema>;

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

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
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
  const parsed = FrameHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const error = ProtocolError.fromZod('binary frame header', parsed.error);
    throw new ProtocolError(ProtocolErrorCode.FRAME_MALFORMED, error.message, { issues: error.issues });
  }
  const header = parsed.data;
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
