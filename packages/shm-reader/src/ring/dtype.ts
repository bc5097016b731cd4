/** Maps the numpy-style dtype strings a ring record carries (`'<f4'`, `'|u1'`, ...) to typed-array views. */

export type RingTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): RingTypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** Little-endian (or byte-order-free) dtypes with a typed-array view. Complex types view as interleaved re/im;
 *  float16 has no typed array in Node 20, so its raw bits come as Uint16Array. */
const VIEWS: Record<string, TypedArrayCtor> = {
  '|b1': Uint8Array,
  '|u1': Uint8Array,
  '|i1': Int8Array,
  '<u2': Uint16Array,
  '<i2': Int16Array,
  '<f2': Uint16Array,
  '<u4': Uint32Array,
  '<i4': Int32Array,
  '<u8': BigUint64Array,
  '<i8': BigInt64Array,
  '<f4': Float32Array,
  '<f8': Float64Array,
  '<c8': Float32Array,
  '<c16': Float64Array,
};

/**
 * A typed-array view of `bytes` for `dtype`, or `bytes` itself when the dtype has no view here
 * (big-endian, structured `|V..`, strings, datetimes) or the length/alignment does not fit.
 * Never copies.
 */
export function viewForDtype(dtype: string, bytes: Uint8Array): RingTypedArray {
  const ctor = VIEWS[dtype];
  if (ctor === undefined || ctor === Uint8Array) return bytes;
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0 || bytes.byteOffset % size !== 0) return bytes;
  return new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
}

/** True when `viewForDtype` returns a typed view for this dtype (given aligned, whole-element bytes). */
export function hasTypedView(dtype: string): boolean {
  return dtype in VIEWS;
}
