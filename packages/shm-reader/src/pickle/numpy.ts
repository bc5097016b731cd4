/**
 * numpy objects as data: dtypes, ndarrays and scalars rebuilt from their pickled state
 * (WIRE §3.5) without numpy, by reading the bytes numpy wrote.
 */
import { dtypeFromNumpyKind, typedArrayClassOf } from '@webmon/protocol';
import { ShmReaderErrorCode } from '../errors.js';
import { PickleError } from './errors.js';
import { NdArray, NumpyDType, PyGlobal, PyTuple, type NumericTypedArray, type NumpyField, type PyValue } from './values.js';

const NATIVE_ORDER: '<' | '>' = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>';

function malformed(message: string): PickleError {
  return new PickleError(ShmReaderErrorCode.PICKLE_MALFORMED, message);
}

function isTuple(value: unknown): value is PyTuple {
  return value instanceof PyTuple;
}

function asSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`numpy ${what} must be a non-negative integer`);
  }
  return value;
}

function asShape(value: unknown): number[] {
  if (!isTuple(value) && !Array.isArray(value)) throw malformed('numpy shape must be a tuple');
  const shape: number[] = [];
  for (const dim of value) shape.push(asSize(dim, 'dimension'));
  return shape;
}

/** `numpy.dtype(obj_str, align, copy)`: the REDUCE half of a pickled dtype. BUILD fills in the rest. */
export function dtypeFromReduceArgs(args: PyTuple): NumpyDType {
  const spec = args[0];
  // `numpy.record` (recarray dtypes) and other scalar types stand for a structured/void dtype whose
  // size and fields come with BUILD.
  if (spec instanceof PyGlobal) return new NumpyDType('V', 0);
  if (typeof spec !== 'string') throw malformed('numpy.dtype() expects a type string');
  // A letter and optional decimal digits (`i8`, `f4`, `U3`, `V16`, `O`), read without a RegExp: every
  // array in a reply carries one.
  const letter = spec.charCodeAt(0) | 0x20;
  let digitsOk = spec.length > 0 && letter >= 0x61 && letter <= 0x7a;
  for (let i = 1; digitsOk && i < spec.length; i++) {
    const c = spec.charCodeAt(i);
    digitsOk = c >= 0x30 && c <= 0x39;
  }
  if (!digitsOk) throw malformed(`numpy.dtype() type string not understood: ${JSON.stringify(spec.slice(0, 40))}`);
  const kind = spec[0] as string;
  const count = spec.length > 1 ? Number(spec.slice(1)) : 0;
  if (!Number.isSafeInteger(count)) throw malformed('numpy.dtype() size out of range');
  // In obj_str a `U` size counts UCS-4 characters; everywhere else it counts bytes.
  const dtype = new NumpyDType(kind, kind === 'U' ? count * 4 : count);
  // Until BUILD says otherwise (it always does for pickles numpy writes), a multi-byte numeric dtype is native.
  dtype.byteOrder = dtype.itemSize > 1 && 'iufcMm'.includes(kind) ? NATIVE_ORDER : '|';
  dtype.alignment = Math.max(1, Math.min(dtype.itemSize, 8));
  return dtype;
}

/** BUILD on a dtype: `(version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])`. */
export function applyDTypeState(dtype: NumpyDType, state: PyValue): void {
  if (!isTuple(state) || state.length < 2) throw malformed('numpy dtype state must be a tuple');
  const order = state[1];
  if (order === '<' || order === '>' || order === '|') dtype.byteOrder = order;
  else if (order === '=') dtype.byteOrder = NATIVE_ORDER;
  else throw malformed('numpy dtype byte order must be one of < > | =');
  if (state.length < 7) return;
  const [, , subarray, names, fields, elsize, alignment, flags, metadata] = state;
  if (typeof elsize === 'number' && elsize >= 0) dtype.itemSize = asSize(elsize, 'itemsize');
  if (typeof alignment === 'number' && alignment > 0) dtype.alignment = asSize(alignment, 'alignment');
  if (typeof flags === 'number') dtype.flags = flags;
  if (subarray !== null && subarray !== undefined) {
    if (!isTuple(subarray) || !(subarray[0] instanceof NumpyDType)) throw malformed('numpy subarray must be (dtype, shape)');
    const shape = typeof subarray[1] === 'number' ? [asSize(subarray[1], 'dimension')] : asShape(subarray[1]);
    dtype.subarray = { base: subarray[0], shape };
  }
  if (names !== null && names !== undefined) {
    if (!isTuple(names) || !(fields instanceof Map)) throw malformed('numpy structured dtype needs names and fields');
    const table: NumpyField[] = [];
    for (const name of names) {
      if (typeof name !== 'string') throw malformed('numpy field names must be str');
      const entry = fields.get(name);
      if (!isTuple(entry) || !(entry[0] instanceof NumpyDType)) throw malformed(`numpy field ${name} has no (dtype, offset)`);
      const offset = asSize(entry[1], 'field offset');
      if (offset + entry[0].itemSize > dtype.itemSize && dtype.itemSize > 0) throw malformed(`numpy field ${name} lies outside its element`);
      table.push(entry.length > 2 ? { name, dtype: entry[0], offset, title: entry[2] ?? null } : { name, dtype: entry[0], offset });
    }
    dtype.fields = table;
  }
  // Version 4 (datetime64/timedelta64): metadata is (None | dict, (unit: bytes, count, ...)).
  if ((dtype.kind === 'M' || dtype.kind === 'm') && isTuple(metadata) && isTuple(metadata[1])) {
    const [unit, count] = metadata[1];
    if (unit instanceof Uint8Array && typeof count === 'number') {
      dtype.unit = { unit: String.fromCharCode(...unit.subarray(0, 16)), count };
    }
  }
}

/** `out` ← `raw` with every `width`-byte component reversed: the copy and the byte swap in one pass. */
function copySwapped(out: Uint8Array, raw: Uint8Array, width: number): void {
  for (let i = 0; i + width <= raw.length; i += width) {
    for (let k = 0; k < width; k++) out[i + k] = raw[i + width - 1 - k] as number;
  }
}

/** A native-order copy of `dtype`, for arrays whose bytes were swapped. */
function nativeCopy(dtype: NumpyDType): NumpyDType {
  const copy = new NumpyDType(dtype.kind, dtype.itemSize);
  Object.assign(copy, dtype);
  copy.byteOrder = NATIVE_ORDER;
  return copy;
}

type ViewClass = { new (buffer: ArrayBuffer, byteOffset: number, length: number): NumericTypedArray; readonly BYTES_PER_ELEMENT: number };

/** Typed-array class per `kind` + `itemSize` (`i8`, `c16`, `M8`); null when the kind has no JS element type. */
const VIEW_CLASSES = new Map<string, ViewClass | null>();

/**
 * The typed-array class for a numeric dtype, or null (structured, subarray, `S`/`U`/`V`, long double…).
 * Its `BYTES_PER_ELEMENT` is also the width a byte swap must use (complex numbers swap each half).
 */
function viewClassOf(dtype: NumpyDType): ViewClass | null {
  // A one-letter kind keeps the key unambiguous (('c1', 6) is not ('c', 16)); decoded dtypes always have one.
  if (dtype.fields || dtype.subarray || dtype.kind.length !== 1) return null;
  const key = dtype.kind + dtype.itemSize;
  let View = VIEW_CLASSES.get(key);
  if (View === undefined) {
    if (dtype.kind === 'M' || dtype.kind === 'm') {
      View = dtype.itemSize === 8 ? BigInt64Array : null;
    } else {
      const numeric = dtypeFromNumpyKind(dtype.kind, dtype.itemSize);
      View = numeric === undefined ? null : typedArrayClassOf(numeric);
    }
    // Bounded: kind is one letter and itemSize a decoded size, but a hostile stream could vary the size.
    if (VIEW_CLASSES.size < 256) VIEW_CLASSES.set(key, View);
  }
  return View;
}

/** Element count of a shape, refusing overflow past 2^53. */
function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const dim of shape) {
    n *= dim;
    if (!Number.isSafeInteger(n)) throw malformed('numpy shape is too large');
  }
  return n;
}

/** Checks raw array data against its dtype and shape; throws what `makeNdArray` has always thrown. */
function checkRaw(dtype: NumpyDType, shape: number[], raw: PyValue): void {
  const count = elementCount(shape);
  if (dtype.kind === 'O') {
    if (!Array.isArray(raw) || raw.length !== count) throw malformed('numpy object array needs a list of its elements');
    return;
  }
  if (!(raw instanceof Uint8Array)) throw malformed('numpy array data must be bytes');
  if (raw.length !== count * dtype.itemSize) {
    throw malformed(`numpy array data has ${raw.length} bytes, shape ${JSON.stringify(shape)} of ${dtype.str} needs ${count * dtype.itemSize}`);
  }
}

/**
 * Fills `array` (dtype, shape, order, data) from raw element bytes, or for object arrays the list of
 * elements. `raw` must have passed `checkRaw`.
 *
 * At most one allocation and one copy per array, counting the decoder's handling of the bytes opcode. The
 * array views the memory of its bytes value `raw` whenever that is aligned for its element type: with
 * `decodePickle`, `raw` is the decoder's copy of the payload in an ArrayBuffer of its own (offset 0, so
 * aligned for every element size), and the array takes that buffer over; with
 * `decodePickleTakingOwnership`, `raw` is a view of the reply the decoder owns, moved to an 8-byte
 * boundary, and the array views it there (no copy at all). The array thus shares memory with `raw` only
 * (and, in owned mode, with the reply it came in), as numpy's array shares the bytes object it was
 * unpickled from, which matters only for a pickle that uses that bytes object elsewhere too (numpy's never
 * do). A byte swap is never done in place, since `raw` may be such a shared value: swapped data is copied
 * and swapped in one pass into a buffer of its own. Unaligned data is copied.
 */
function fillNdArray(array: NdArray, dtype: NumpyDType, shape: number[], order: 'C' | 'F', raw: PyValue): void {
  array.shape = shape;
  array.order = order;
  array.byteSwapped = false;
  if (dtype.kind === 'O') {
    array.dtype = dtype;
    array.data = Array.from(raw as PyValue[]);
    return;
  }
  const bytes = raw as Uint8Array;
  const View = viewClassOf(dtype);
  const width = View === null ? 1 : View.BYTES_PER_ELEMENT;
  const swap = width > 1 && dtype.byteOrder !== '|' && dtype.byteOrder !== NATIVE_ORDER;
  let buffer: ArrayBuffer;
  let offset = 0;
  const byteLength = bytes.length;
  if (!swap && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset % width === 0) {
    // In place: the bytes value's own buffer (copying decode), or an aligned view of a reply the decoder
    // owns (see decodePickleTakingOwnership).
    buffer = bytes.buffer;
    offset = bytes.byteOffset;
  } else {
    buffer = new ArrayBuffer(bytes.length);
    if (swap) copySwapped(new Uint8Array(buffer), bytes, width);
    else new Uint8Array(buffer).set(bytes);
  }
  if (View === null) {
    array.dtype = dtype;
    array.data = new DataView(buffer, offset, byteLength);
    return;
  }
  array.dtype = swap ? nativeCopy(dtype) : dtype;
  array.byteSwapped = swap;
  array.data = new View(buffer, offset, byteLength / width);
}

/** Builds an ndarray from raw element bytes (or, for object arrays, the list of elements). */
export function makeNdArray(dtype: NumpyDType, shape: number[], order: 'C' | 'F', raw: PyValue): NdArray {
  checkRaw(dtype, shape, raw);
  const array = new NdArray(dtype, shape, order, EMPTY_DATA);
  fillNdArray(array, dtype, shape, order, raw);
  return array;
}

/** Placeholder data of an array until BUILD fills it (zero-length: nothing can be written through it). */
const EMPTY_DATA = new Int8Array(0);

/** `numpy.core.multiarray._reconstruct(cls, (0,), b'b')`: an empty array that BUILD fills in. */
export function emptyNdArray(pyClass: string): NdArray {
  const array = new NdArray(new NumpyDType('i', 1), [0], 'C', EMPTY_DATA);
  array.dtype.byteOrder = '|';
  array.pyClass = pyClass;
  return array;
}

/** BUILD on an ndarray: `(version, shape, dtype, is_fortran, raw)` (or the 4-tuple without version). */
export function applyNdArrayState(array: NdArray, state: PyValue): void {
  if (!isTuple(state) || (state.length !== 5 && state.length !== 4)) throw malformed('numpy array state must be a 4- or 5-tuple');
  const offset = state.length === 5 ? 1 : 0;
  const shape = asShape(state[offset]);
  const dtype = state[offset + 1];
  if (!(dtype instanceof NumpyDType)) throw malformed('numpy array state has no dtype');
  const fortran = state[offset + 2];
  if (typeof fortran !== 'boolean' && typeof fortran !== 'number') throw malformed('numpy array is_fortran must be a bool');
  const raw = state[offset + 3] ?? null;
  checkRaw(dtype, shape, raw);
  fillNdArray(array, dtype, shape, fortran ? 'F' : 'C', raw);
}

/** `numpy._core.numeric._frombuffer(buf, dtype, shape, order)` (protocol 5 contiguous arrays). */
export function ndarrayFromBuffer(args: PyTuple): NdArray {
  const [buf, dtype, shape, order] = args;
  if (!(dtype instanceof NumpyDType)) throw malformed('_frombuffer expects a dtype');
  if (order !== 'C' && order !== 'F') throw malformed("_frombuffer order must be 'C' or 'F'");
  return makeNdArray(dtype, asShape(shape), order, buf ?? null);
}

function safeInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** IEEE 754 half-precision bits → number (Node 20 has no Float16Array). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function stripTrailingZeros(bytes: Uint8Array, width: number): Uint8Array {
  let end = bytes.length;
  while (end >= width && bytes.subarray(end - width, end).every((b) => b === 0)) end -= width;
  return bytes.subarray(0, end);
}

/**
 * `numpy.core.multiarray.scalar(dtype, raw)`: a numpy scalar as a JS value. Numbers, bools, `str_`
 * and `bytes_` have JS equivalents; complex, long double, datetime and void scalars come back as 0-d arrays.
 */
export function scalarFromReduceArgs(args: PyTuple): PyValue {
  const [dtype, raw] = args;
  if (!(dtype instanceof NumpyDType)) throw malformed('numpy scalar() expects a dtype');
  if (dtype.kind === 'O') return raw ?? null;
  if (!(raw instanceof Uint8Array) || raw.length !== dtype.itemSize) throw malformed('numpy scalar data does not match its dtype');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = dtype.byteOrder !== '>';
  const size = dtype.itemSize;
  switch (dtype.kind) {
    case 'b':
      if (size === 1) return raw[0] !== 0;
      break;
    case 'i':
      if (size === 1) return view.getInt8(0);
      if (size === 2) return view.getInt16(0, little);
      if (size === 4) return view.getInt32(0, little);
      if (size === 8) return safeInt(view.getBigInt64(0, little));
      break;
    case 'u':
      if (size === 1) return view.getUint8(0);
      if (size === 2) return view.getUint16(0, little);
      if (size === 4) return view.getUint32(0, little);
      if (size === 8) return safeInt(view.getBigUint64(0, little));
      break;
    case 'f':
      if (size === 2) return halfToNumber(view.getUint16(0, little));
      if (size === 4) return view.getFloat32(0, little);
      if (size === 8) return view.getFloat64(0, little);
      break;
    case 'S':
      return stripTrailingZeros(raw, 1).slice();
    case 'U': {
      const units = stripTrailingZeros(raw, 4);
      let text = '';
      for (let i = 0; i + 4 <= units.length; i += 4) {
        const codePoint = view.getUint32(i, little);
        if (codePoint > 0x10ffff) throw malformed('numpy str_ scalar holds an invalid code point');
        text += String.fromCodePoint(codePoint);
      }
      return text;
    }
    default:
      break;
  }
  return makeNdArray(dtype, [], 'C', raw);
}
