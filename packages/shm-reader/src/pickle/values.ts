/**
 * The value model shared by the decoder and the encoder.
 *
 * Plain Python data maps to plain JS data (null, boolean, number, bigint, string, Uint8Array,
 * Array, Map, Set). Everything built from a global becomes one of the small data classes below:
 * they are inert records, never proxies for Python objects, and nothing is ever looked up or run.
 */
import type { NumericTypedArray } from '@webmon/protocol';


/** A Python tuple. It is a real Array (`Array.isArray` holds); `instanceof PyTuple` tells it from a list. */
export class PyTuple extends Array<PyValue> {
  // Array's own constructor treats a single numeric argument as a length; always build through `pyTuple`
  // or `PyTuple.of`, which take the items.
  static override get [Symbol.species](): ArrayConstructor {
    // `map`/`filter`/`slice` on a tuple return plain arrays: a derived array is not a tuple any more.
    return Array;
  }
}

/**
 * Builds a tuple from its items: for the encoder (any encodable item), or to compare against decoded
 * tuples. (Typed as holding `PyValue`s, which is what decoded tuples hold.)
 */
export function pyTuple(...items: (PyEncodable | PyValue)[]): PyTuple {
  return tupleFrom(items, 0, items.length);
}

/**
 * @internal Copies `items[start..end)` into a new tuple (no spreading: large spreads overflow the stack).
 * Built as a plain array re-prototyped to PyTuple: V8 constructs Array subclasses through a slow
 * generic path (about 5x slower), and the decoder makes a tuple for every args/state it reads.
 */
export function tupleFrom(items: readonly unknown[], start: number, end: number): PyTuple {
  // Sized up front: about half the cost of growing it with push (the items are all set, so no holes remain).
  const tuple: unknown[] = new Array(end - start);
  for (let i = start; i < end; i++) tuple[i - start] = items[i];
  return Object.setPrototypeOf(tuple, PyTuple.prototype) as PyTuple;
}

/** Forces a Python float for an integral JS number when encoding (`pyFloat(1)` → `1.0`, not `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** A reference to a Python global (`module.name`) that was pickled by itself, e.g. a class. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * A Python exception instance (builtins exceptions, `queue.Empty`, `multiprocessing` `RemoteError`).
 * Plain data: the decoder returns it, it never throws it.
 */
export class PyException {
  /** Attributes set on the instance (the BUILD state), if the exception had any. */
  state: PyValue | undefined = undefined;

  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: PyTuple,
  ) {}

  /** `true` for `queue.Empty` / `_queue.Empty`: what `get_nowait()` on an empty manager queue raises. */
  get isQueueEmpty(): boolean {
    return this.name === 'Empty' && (this.module === '_queue' || this.module === 'queue');
  }

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `multiprocessing.managers.Token` (WIRE §2.9). */
export class PyToken {
  constructor(
    public typeid: string,
    public address: [host: string, port: number],
    public id: string,
  ) {}
}

/**
 * Any other object built from a global: the call that would have created it, recorded as data.
 * `module`/`name` name the class or function; `args` are its call arguments; `state` is what BUILD
 * would have applied (`__setstate__` / `__dict__`); `listItems`/`dictItems` are what APPENDS/SETITEMS
 * added (list or dict subclasses); `kwargs` comes from NEWOBJ_EX.
 */
export class PyObject {
  state: PyValue | undefined = undefined;
  kwargs: Map<PyValue, PyValue> | undefined = undefined;
  listItems: PyValue[] | undefined = undefined;
  dictItems: Map<PyValue, PyValue> | undefined = undefined;

  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: PyTuple,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** One field of a structured numpy dtype. */
export interface NumpyField {
  readonly name: string;
  readonly dtype: NumpyDType;
  /** Byte offset of the field inside one element. */
  readonly offset: number;
  readonly title?: PyValue;
}

/**
 * `numpy.dtype`. `kind` is numpy's kind letter (`b i u f c S U V M m O`), `itemSize` in bytes,
 * `byteOrder` `<` little, `>` big, `|` not applicable. `str` is numpy's typestr (`<f8`, `|S5`, `|V25`).
 */
export class NumpyDType {
  byteOrder: '<' | '>' | '|' = '|';
  itemSize: number;
  alignment = 1;
  /** Structured dtypes: the fields in order (names tuple order). */
  fields: NumpyField[] | undefined = undefined;
  /** Subarray dtypes (a field like `('xy', '<f4', (2,))`): element dtype and shape. */
  subarray: { base: NumpyDType; shape: number[] } | undefined = undefined;
  /** Datetime/timedelta unit (`ms`, `ns`, ...) and count, from the version-4 metadata. */
  unit: { unit: string; count: number } | undefined = undefined;
  /** numpy's dtype flags (e.g. 0x10 for `align=True` structs). */
  flags = 0;

  constructor(
    /** numpy kind letter. */
    public kind: string,
    itemSize: number,
  ) {
    this.itemSize = itemSize;
  }

  /** numpy's typestr, e.g. `<f8`, `|b1`, `<U2`, `|V16`. */
  get str(): string {
    // numpy counts characters, not bytes, in a `U` typestr (UCS-4: 4 bytes each); object dtypes
    // have no size; datetimes carry their unit.
    if (this.kind === 'O') return '|O';
    const size = this.kind === 'U' ? this.itemSize / 4 : this.itemSize;
    const unit = (this.kind === 'M' || this.kind === 'm') && this.unit && this.unit.unit !== 'generic' ? `[${this.unit.count === 1 ? '' : this.unit.count}${this.unit.unit}]` : '';
    return `${this.byteOrder}${this.kind}${size}${unit}`;
  }

  /** numpy's dtype name, e.g. `float64`, `int32`, `bool`, `bytes40`, `str64`, `void128`, `datetime64[ms]`. */
  get name(): string {
    const bits = this.itemSize * 8;
    switch (this.kind) {
      case 'b':
        return 'bool';
      case 'i':
        return `int${bits}`;
      case 'u':
        return `uint${bits}`;
      case 'f':
        return `float${bits}`;
      case 'c':
        return `complex${bits}`;
      case 'S':
        return `bytes${bits}`;
      case 'U':
        return `str${bits}`;
      case 'V':
        return `void${bits}`;
      case 'O':
        return 'object';
      case 'M':
      case 'm': {
        const base = this.kind === 'M' ? 'datetime64' : 'timedelta64';
        if (!this.unit || this.unit.unit === 'generic') return base;
        return `${base}[${this.unit.count === 1 ? '' : this.unit.count}${this.unit.unit}]`;
      }
      default:
        return `${this.kind}${this.itemSize}`;
    }
  }

  /** Whether the data of this dtype needs byte swapping to be read natively. */
  get isBigEndian(): boolean {
    return this.byteOrder === '>';
  }
}

export type { NumericTypedArray };

/**
 * A numpy ndarray.
 * - `data` holds the elements in the order numpy laid them out: C order (last index fastest), or
 *   Fortran order (first index fastest) when `order === 'F'`.
 * - Numeric kinds are typed arrays in native byte order (big-endian wire data is byte-swapped; then
 *   `byteSwapped` is true and `dtype.byteOrder` reports the native order): `b1`→Uint8Array (0/1),
 *   `i1..i8`/`u1..u8`→Int8..BigUint64Array, `f2`→Uint16Array (raw IEEE half bits), `f4`/`f8`→Float32/64Array,
 *   `c8`/`c16`→Float32/64Array with interleaved (re, im), `M8`/`m8`→BigInt64Array.
 * - Structured, `S`, `U`, `V` and long-double dtypes → a `DataView` over the array's own copy of the bytes
 *   (structured: read fields with `dtype.fields`, honouring each field's own byte order).
 * - Object arrays (`O`) → an Array of decoded values.
 */
export class NdArray {
  byteSwapped = false;
  /** The Python class when it is an ndarray subclass (e.g. `numpy.recarray`), else `numpy.ndarray`. */
  pyClass = 'numpy.ndarray';

  constructor(
    public dtype: NumpyDType,
    public shape: number[],
    public order: 'C' | 'F',
    public data: NumericTypedArray | DataView | PyValue[],
  ) {}

  /** Number of elements (product of the shape; 1 for a 0-d array). */
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
}

/** Every value `decodePickle` can return. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | Map<PyValue, PyValue>
  | Set<PyValue>
  | PyException
  | PyToken
  | PyObject
  | PyGlobal
  | NdArray
  | NumpyDType;

/** Every value `encodePickle` accepts. */
export type PyEncodable =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | Uint8Array
  | PyTuple
  | readonly PyEncodable[]
  | ReadonlyMap<PyEncodable, PyEncodable>
  | ReadonlySet<PyEncodable>
  | { readonly [key: string]: PyEncodable };
