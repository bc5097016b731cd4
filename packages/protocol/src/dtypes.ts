/**
 * The one table of numeric dtypes: the protocol's name for each, its size, how numpy spells it and
 * which typed array views it. The frame codec, the shared-memory/pickle readers and the ring source
 * all read their facts from here, so a dtype is added (or corrected) in one place.
 *
 * Only little-endian data travels in frames, so the table holds numpy's little-endian typestrs
 * (`dtype.str`: `<f4`; `|u1` for 1-byte types, where byte order does not apply). Big-endian,
 * structured, string and datetime dtypes are not numeric dtypes of the protocol: the lookups answer
 * `undefined` for them and readers that support them handle them on their own.
 */
// No zod here: the frame decoder (and so every browser bundle) reads this table. `NumericDTypeSchema`
// (frame-schema.ts) is built from `NUMERIC_DTYPE_NAMES`, and so is the type, here.

/** Every numeric dtype, little-endian. `float16` decodes to raw `Uint16Array` bits; complex to interleaved floats. */
export const NUMERIC_DTYPE_NAMES = [
  'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float16', 'float32', 'float64', 'complex64', 'complex128',
] as const;
export type NumericDType = (typeof NUMERIC_DTYPE_NAMES)[number];

/** numpy's kind character: `b` bool, `i` signed, `u` unsigned integer, `f` float, `c` complex. */
export type NumericKind = 'b' | 'i' | 'u' | 'f' | 'c';

/** The typed arrays a numeric dtype is viewed as. */
export type NumericTypedArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

export interface NumericTypedArrayClass {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): NumericTypedArray;
  readonly BYTES_PER_ELEMENT: number;
}

// Keyed by the global's own name, so the table can name a class as plain data.
const TYPED_ARRAY_CLASSES = {
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array,
  BigInt64Array, BigUint64Array, Float32Array, Float64Array,
} as const satisfies Record<string, NumericTypedArrayClass>;

export type TypedArrayName = keyof typeof TYPED_ARRAY_CLASSES;

export interface NumericDTypeInfo<D extends NumericDType = NumericDType> {
  readonly dtype: D;
  readonly kind: NumericKind;
  /** Bytes per element (both halves for complex). */
  readonly itemSize: number;
  /** numpy's `dtype.str` for the little-endian type; `|` for 1-byte types. */
  readonly typestr: string;
  /**
   * The typed array that views the data. Its element is the whole item, except for complex (two
   * elements per item: real, imaginary) and float16 (raw `Uint16Array` bits; Node 20 has no Float16Array).
   */
  readonly typedArray: TypedArrayName;
}

/** The table. Keyed by the protocol's name; each row repeats it so rows can be passed around alone. */
export const NUMERIC_DTYPES: { readonly [D in NumericDType]: NumericDTypeInfo<D> } = {
  bool: { dtype: 'bool', kind: 'b', itemSize: 1, typestr: '|b1', typedArray: 'Uint8Array' },
  int8: { dtype: 'int8', kind: 'i', itemSize: 1, typestr: '|i1', typedArray: 'Int8Array' },
  uint8: { dtype: 'uint8', kind: 'u', itemSize: 1, typestr: '|u1', typedArray: 'Uint8Array' },
  int16: { dtype: 'int16', kind: 'i', itemSize: 2, typestr: '<i2', typedArray: 'Int16Array' },
  uint16: { dtype: 'uint16', kind: 'u', itemSize: 2, typestr: '<u2', typedArray: 'Uint16Array' },
  int32: { dtype: 'int32', kind: 'i', itemSize: 4, typestr: '<i4', typedArray: 'Int32Array' },
  uint32: { dtype: 'uint32', kind: 'u', itemSize: 4, typestr: '<u4', typedArray: 'Uint32Array' },
  int64: { dtype: 'int64', kind: 'i', itemSize: 8, typestr: '<i8', typedArray: 'BigInt64Array' },
  uint64: { dtype: 'uint64', kind: 'u', itemSize: 8, typestr: '<u8', typedArray: 'BigUint64Array' },
  float16: { dtype: 'float16', kind: 'f', itemSize: 2, typestr: '<f2', typedArray: 'Uint16Array' },
  float32: { dtype: 'float32', kind: 'f', itemSize: 4, typestr: '<f4', typedArray: 'Float32Array' },
  float64: { dtype: 'float64', kind: 'f', itemSize: 8, typestr: '<f8', typedArray: 'Float64Array' },
  complex64: { dtype: 'complex64', kind: 'c', itemSize: 8, typestr: '<c8', typedArray: 'Float32Array' },
  complex128: { dtype: 'complex128', kind: 'c', itemSize: 16, typestr: '<c16', typedArray: 'Float64Array' },
};

const ROWS: readonly NumericDTypeInfo[] = Object.values(NUMERIC_DTYPES);

/** Bytes per element of each numeric dtype (a column of `NUMERIC_DTYPES`). */
export const DTYPE_ITEM_SIZE: Readonly<Record<NumericDType, number>> = Object.fromEntries(
  ROWS.map((row) => [row.dtype, row.itemSize]),
) as Record<NumericDType, number>;

/** Elements of an array of this shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

// Maps, not object literals: a typestr such as `constructor` must not find Object.prototype.
const BY_TYPESTR: ReadonlyMap<string, NumericDType> = new Map(ROWS.map((row) => [row.typestr, row.dtype]));
const BY_KIND_AND_SIZE: ReadonlyMap<string, NumericDType> = new Map(ROWS.map((row) => [`${row.kind}${row.itemSize}`, row.dtype]));

/**
 * The protocol dtype of a numpy typestr as numpy's `dtype.str` writes it (`<f4`, `|u1`), or
 * undefined for anything the protocol cannot carry as is: big-endian (`>f4`), structured (`|V16`),
 * strings, datetimes, and spellings numpy does not produce for `dtype.str` (`f4`, `=f4`, `<u1`).
 */
export function dtypeFromNumpyTypestr(typestr: string): NumericDType | undefined {
  return BY_TYPESTR.get(typestr);
}

/** numpy's little-endian typestr of a protocol dtype: `float32` → `<f4`, `uint8` → `|u1`. */
export function numpyTypestrOf(dtype: NumericDType): string {
  return NUMERIC_DTYPES[dtype].typestr;
}

/**
 * The protocol dtype with numpy's kind character and item size, whatever the byte order
 * (`('f', 4)` → `float32`), or undefined when there is none (`('f', 16)`, `('S', 5)`). For readers
 * that parse typestrs themselves and deal with byte order on their own.
 */
export function dtypeFromNumpyKind(kind: string, itemSize: number): NumericDType | undefined {
  if (kind.length !== 1) return undefined; // keeps the key unambiguous: ('c1', 6) is not ('c', 16)
  return BY_KIND_AND_SIZE.get(`${kind}${itemSize}`);
}

/** The typed-array class that views a dtype's data (`decodeFrame` returns one of these). */
export function typedArrayClassOf(dtype: NumericDType): NumericTypedArrayClass {
  return TYPED_ARRAY_CLASSES[NUMERIC_DTYPES[dtype].typedArray];
}
