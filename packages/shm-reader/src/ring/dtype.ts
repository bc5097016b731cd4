/** Maps the numpy-style dtype strings a ring record carries (`'<f4'`, `'|u1'`, ...) to typed-array views. */
import { dtypeFromNumpyTypestr, typedArrayClassOf, type NumericTypedArray } from '@webmon/protocol';

/** Complex types view as interleaved re/im; float16 has no typed array in Node 20, so its raw bits come as Uint16Array. */
export type RingTypedArray = NumericTypedArray;

/**
 * A typed-array view of `bytes` for `dtype`, or `bytes` itself when the dtype has no view here
 * (big-endian, structured `|V..`, strings, datetimes) or the length/alignment does not fit.
 * Never copies.
 */
export function viewForDtype(dtype: string, bytes: Uint8Array): RingTypedArray {
  const numeric = dtypeFromNumpyTypestr(dtype);
  if (numeric === undefined) return bytes;
  const ctor = typedArrayClassOf(numeric);
  if (ctor === Uint8Array) return bytes;
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0 || bytes.byteOffset % size !== 0) return bytes;
  return new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
}

/** True when `viewForDtype` returns a typed view for this dtype (given aligned, whole-element bytes). */
export function hasTypedView(dtype: string): boolean {
  return dtypeFromNumpyTypestr(dtype) !== undefined;
}
