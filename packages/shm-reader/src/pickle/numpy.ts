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
  const match = /^([a-zA-Z])(\d*)$/.exec(spec);
  if (!match) throw malformed(`numpy.dtype() type string not understood: ${JSON.stringify(spec.slice(0, 40))}`);
  const kind = match[1] ?? '';
  const count = match[2] ? Number(match[2]) : 0;
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

function swapInPlace(bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/** A native-order copy of `dtype`, for arrays whose bytes were swapped. */
function nativeCopy(dtype: NumpyDType): NumpyDType {
  const copy = new NumpyDType(dtype.kind, dtype.itemSize);
  Object.assign(copy, dtype);
  copy.byteOrder = NATIVE_ORDER;
  return copy;
}

/**
 * The typed-array view for a numeric dtype, or undefined when the kind has no JS element type.
 * `componentSize` is the width a byte swap must use (complex numbers swap each half).
 */
function typedArrayKind(dtype: NumpyDType): { make: (buf: ArrayBuffer) => NumericTypedArray; componentSize: number } | undefined {
  if (dtype.fields || dtype.subarray) return undefined;
  if (dtype.kind === 'M' || dtype.kind === 'm') {
    return dtype.itemSize === 8 ? { make: (b) => new BigInt64Array(b), componentSize: 8 } : undefined;
  }
  const numeric = dtypeFromNumpyKind(dtype.kind, dtype.itemSize);
  if (numeric === undefined) return undefined;
  const View = typedArrayClassOf(numeric);
  return { make: (b) => new View(b), componentSize: View.BYTES_PER_ELEMENT };
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

/** Builds an ndarray from raw element bytes (or, for object arrays, the list of elements). */
export function makeNdArray(dtype: NumpyDType, shape: number[], order: 'C' | 'F', raw: PyValue): NdArray {
  const count = elementCount(shape);
  if (dtype.kind === 'O') {
    if (!Array.isArray(raw) || raw.length !== count) throw malformed('numpy object array needs a list of its elements');
    return new NdArray(dtype, shape, order, Array.from(raw));
  }
  if (!(raw instanceof Uint8Array)) throw malformed('numpy array data must be bytes');
  if (raw.length !== count * dtype.itemSize) {
    throw malformed(`numpy array data has ${raw.length} bytes, shape ${JSON.stringify(shape)} of ${dtype.str} needs ${count * dtype.itemSize}`);
  }
  // Always copy: typed arrays need aligned offsets, and the result must not alias the caller's input buffer.
  const buffer = new ArrayBuffer(raw.length);
  const bytes = new Uint8Array(buffer);
  bytes.set(raw);
  const typed = typedArrayKind(dtype);
  if (!typed) return new NdArray(dtype, shape, order, new DataView(buffer));
  let outType = dtype;
  let swapped = false;
  if (dtype.byteOrder !== '|' && dtype.byteOrder !== NATIVE_ORDER && typed.componentSize > 1) {
    swapInPlace(bytes, typed.componentSize);
    outType = nativeCopy(dtype);
    swapped = true;
  }
  const array = new NdArray(outType, shape, order, typed.make(buffer));
  array.byteSwapped = swapped;
  return array;
}

/** `numpy.core.multiarray._reconstruct(cls, (0,), b'b')`: an empty array that BUILD fills in. */
export function emptyNdArray(pyClass: string): NdArray {
  const array = new NdArray(new NumpyDType('i', 1), [0], 'C', new Int8Array(0));
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
  const built = makeNdArray(dtype, shape, fortran ? 'F' : 'C', state[offset + 3] ?? null);
  array.dtype = built.dtype;
  array.shape = built.shape;
  array.order = built.order;
  array.data = built.data;
  array.byteSwapped = built.byteSwapped;
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
