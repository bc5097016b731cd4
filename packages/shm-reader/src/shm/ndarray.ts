/**
 * numpy arrays in shared memory (WIRE §4.5): the block holds only the elements; shape, dtype,
 * offset and order travel out of band. This turns them into a typed array (zero-copy over the
 * mapping when the block is mapped, the byte order is native and the offset is aligned; a copy
 * otherwise) or, for structured dtypes, a DataView plus the field table.
 */
import { dtypeFromNumpyKind, typedArrayClassOf, type NumericTypedArray, type NumericTypedArrayClass } from '@webmon/protocol';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import { parseDType, type DType, type DTypeField, type DTypeSpec, type ParseDTypeOptions } from './dtype.js';
import { checkRange, toByteSource, type ShmByteSource } from './source.js';

/** The numeric dtypes' typed arrays (`@webmon/protocol`); U data is viewed as Uint32Array, S/V as bytes, M/m as BigInt64Array. */
export type ShmTypedArray = NumericTypedArray;

export interface NdArraySpec {
  shape: readonly number[];
  dtype: DTypeSpec;
  /** Byte offset of the first element in the block. Default 0. */
  offset?: number;
  /** Memory order the writer used. Default 'C'. */
  order?: 'C' | 'F';
  /** Passed to parseDType for descr lists. */
  dtypeOptions?: ParseDTypeOptions;
}

export interface NdArrayViewOptions {
  /** Always copy, even when a zero-copy view is possible (a stable snapshot). Default false. */
  copy?: boolean;
}

export interface ShmNdArray {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly order: 'C' | 'F';
  /** Byte strides, numpy style. */
  readonly strides: readonly number[];
  /** Where the elements start in the block, and how many bytes they take (shape × itemsize). */
  readonly byteOffset: number;
  readonly byteLength: number;
  /**
   * Elements in memory order (C or F as `order` says), native byte order.
   * - numeric kinds → the matching typed array; complex → Float32/Float64Array of interleaved
   *   (re, im); bool → Uint8Array of 0/1; float16 → Uint16Array of raw half bits (Node 20 has no
   *   Float16Array); datetime64/timedelta64 → BigInt64Array in the dtype's unit;
   *   `S`/unstructured `V` → Uint8Array of raw itemsize-byte items; `U` → Uint32Array of code points.
   * - structured dtypes → DataView over the records (use `fields`, or `readRecord`).
   */
  readonly data: ShmTypedArray | DataView;
  /** Field table of a structured dtype (offsets inside one record). */
  readonly fields?: readonly DTypeField[];
  /** True when `data` is a live view of the block (writes by Python show up; nothing was copied). */
  readonly zeroCopy: boolean;
}

const NATIVE: '<' | '>' = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>';

function constructorFor(dtype: DType): NumericTypedArrayClass | null {
  const { kind, itemSize } = dtype;
  switch (kind) {
    case 'S':
      return Uint8Array;
    case 'V':
      return dtype.fields ? null : Uint8Array;
    case 'U':
      return Uint32Array;
    case 'M':
    case 'm':
      return BigInt64Array;
    default: {
      const numeric = dtypeFromNumpyKind(kind, itemSize);
      return numeric === undefined ? null : typedArrayClassOf(numeric);
    }
  }
}

function stridesFor(shape: readonly number[], itemSize: number, order: 'C' | 'F'): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let step = itemSize;
  const indices = shape.map((_, k) => k);
  if (order === 'C') indices.reverse();
  for (const k of indices) {
    strides[k] = step;
    step *= shape[k] ?? 1;
  }
  return strides;
}

/** Reverses each `width`-byte group in place (big-endian → native little-endian). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width <= 1) return;
  for (let at = 0; at + width <= bytes.length; at += width) {
    for (let lo = at, hi = at + width - 1; lo < hi; lo++, hi--) {
      const t = bytes[lo]!;
      bytes[lo] = bytes[hi]!;
      bytes[hi] = t;
    }
  }
}

/** Swap unit: complex swaps each half, U swaps each UCS-4 code unit, the rest the whole item. */
function swapWidth(dtype: DType): number {
  if (dtype.kind === 'c') return dtype.itemSize / 2;
  if (dtype.kind === 'U') return 4;
  return dtype.itemSize;
}

/**
 * Views (or copies) a numpy array stored in a block. Pass the block (or a Uint8Array of it) and the
 * out-of-band description; throws SHM_BAD_DTYPE / SHM_OUT_OF_RANGE when they do not fit.
 */
export function viewNdArray(source: ShmByteSource | Uint8Array, spec: NdArraySpec, options: NdArrayViewOptions = {}): ShmNdArray {
  const src = toByteSource(source);
  src.assertReadable();
  const dtype = parseDType(spec.dtype, spec.dtypeOptions);
  const order = spec.order ?? 'C';
  if (order !== 'C' && order !== 'F') throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_DTYPE, `order must be 'C' or 'F'`);
  const shape = [...spec.shape];
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_DTYPE, `bad shape ${JSON.stringify(spec.shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const byteOffset = spec.offset ?? 0;
  const byteLength = count * dtype.itemSize;
  checkRange(src.size, byteOffset, byteLength);
  const strides = stridesFor(shape, dtype.itemSize, order);
  const base = { dtype, shape, order, strides, byteOffset, byteLength } as const;

  const live = options.copy ? null : src.liveBytes();
  const absolute = live ? live.byteOffset + byteOffset : 0;

  if (dtype.fields) {
    // DataView getters take any offset and either byte order: structured data is never converted.
    if (live) {
      return { ...base, data: new DataView(live.buffer, absolute, byteLength), fields: dtype.fields, zeroCopy: true };
    }
    const copy = new Uint8Array(byteLength);
    src.readBytes(copy, byteOffset);
    return { ...base, data: new DataView(copy.buffer), fields: dtype.fields, zeroCopy: false };
  }

  const Ctor = constructorFor(dtype);
  if (!Ctor) throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_DTYPE, `no typed array for dtype ${dtype.str}`);
  const length = byteLength / Ctor.BYTES_PER_ELEMENT;
  const nativeOrder = dtype.byteOrder === '|' || dtype.byteOrder === NATIVE;
  if (live && nativeOrder && absolute % Ctor.BYTES_PER_ELEMENT === 0) {
    return { ...base, data: new Ctor(live.buffer, absolute, length), zeroCopy: true };
  }
  // A fresh ArrayBuffer is aligned for every element type, whatever the offset in the block.
  const copy = new Uint8Array(byteLength);
  src.readBytes(copy, byteOffset);
  if (!nativeOrder) swapBytes(copy, swapWidth(dtype));
  return { ...base, data: new Ctor(copy.buffer, 0, length), zeroCopy: false };
}

/** A field value of one record as JS: numbers, bigints (64-bit ints), booleans, strings (U), bytes (S/V), arrays for subarrays. */
export type RecordValue = number | bigint | boolean | string | Uint8Array | RecordValue[] | { [name: string]: RecordValue };

function readScalar(view: DataView, at: number, dtype: DType): RecordValue {
  if (dtype.fields) return readFields(view, at, dtype.fields);
  const little = dtype.byteOrder !== '>';
  switch (dtype.kind) {
    case 'b':
      return view.getUint8(at) !== 0;
    case 'i':
      if (dtype.itemSize === 1) return view.getInt8(at);
      if (dtype.itemSize === 2) return view.getInt16(at, little);
      if (dtype.itemSize === 4) return view.getInt32(at, little);
      return view.getBigInt64(at, little);
    case 'u':
      if (dtype.itemSize === 1) return view.getUint8(at);
      if (dtype.itemSize === 2) return view.getUint16(at, little);
      if (dtype.itemSize === 4) return view.getUint32(at, little);
      return view.getBigUint64(at, little);
    case 'f':
      if (dtype.itemSize === 4) return view.getFloat32(at, little);
      if (dtype.itemSize === 8) return view.getFloat64(at, little);
      return view.getUint16(at, little); // float16: raw bits (documented)
    case 'c':
      return dtype.itemSize === 8
        ? [view.getFloat32(at, little), view.getFloat32(at + 4, little)]
        : [view.getFloat64(at, little), view.getFloat64(at + 8, little)];
    case 'M':
    case 'm':
      return view.getBigInt64(at, little);
    case 'U': {
      let text = '';
      for (let k = 0; k < dtype.itemSize / 4; k++) {
        const code = view.getUint32(at + 4 * k, little);
        if (code === 0) break; // numpy strips trailing NULs on item access
        text += String.fromCodePoint(Math.min(code, 0x10ffff));
      }
      return text;
    }
    default: {
      // S (NUL-stripped like numpy) and raw V
      let end = dtype.itemSize;
      if (dtype.kind === 'S') while (end > 0 && view.getUint8(at + end - 1) === 0) end--;
      return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + end));
    }
  }
}

function readSubarray(view: DataView, at: number, dtype: DType, shape: readonly number[]): RecordValue {
  if (shape.length === 0) return readScalar(view, at, dtype);
  const [first, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1) * dtype.itemSize;
  const out: RecordValue[] = [];
  for (let k = 0; k < (first ?? 0); k++) out.push(readSubarray(view, at + k * inner, dtype, rest));
  return out;
}

function readFields(view: DataView, at: number, fields: readonly DTypeField[]): { [name: string]: RecordValue } {
  const record: { [name: string]: RecordValue } = {};
  for (const field of fields) record[field.name] = readSubarray(view, at + field.offset, field.dtype, field.shape);
  return record;
}

/** Record `index` (in memory order) of a structured array as a plain object. */
export function readRecord(array: ShmNdArray, index: number): { [name: string]: RecordValue } {
  if (!array.fields || !(array.data instanceof DataView)) {
    throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_DTYPE, `dtype ${array.dtype.str} is not structured`);
  }
  const count = array.byteLength / array.dtype.itemSize;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new ShmReaderError(ShmReaderErrorCode.SHM_OUT_OF_RANGE, `record ${index} out of range (${count} records)`);
  }
  return readFields(array.data, index * array.dtype.itemSize, array.fields);
}

/** numpy's `__array_interface__` (version 3, `strides` None = C order) → NdArraySpec. */
export function specFromArrayInterface(arrayInterface: {
  typestr: string;
  shape: readonly number[];
  descr?: DTypeSpec;
  strides?: readonly number[] | null;
  offset?: number;
}): NdArraySpec {
  if (arrayInterface.strides) {
    throw new ShmReaderError(ShmReaderErrorCode.SHM_BAD_DTYPE, 'only C-contiguous __array_interface__ (strides None) is supported; pass order F explicitly');
  }
  const structuredDescr =
    Array.isArray(arrayInterface.descr) && (arrayInterface.descr.length > 1 || (arrayInterface.descr[0] as unknown[] | undefined)?.[0] !== '');
  return {
    shape: arrayInterface.shape,
    dtype: structuredDescr ? (arrayInterface.descr as DTypeSpec) : arrayInterface.typestr,
    offset: arrayInterface.offset ?? 0,
    order: 'C',
  };
}
