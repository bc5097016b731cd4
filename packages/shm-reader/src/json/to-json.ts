/**
 * Turns a decoded pickle value into plain JSON-able data before it is validated with
 * `@webmon/protocol`. The rules follow what Python's `json.dumps` would make of the data (napari's, say), so the
 * same JSON Schema fits both:
 *
 * | Python                     | JSON                                                            |
 * |----------------------------|-----------------------------------------------------------------|
 * | dict                       | object; keys as `json.dumps` writes them: int `140245342` → `"140245342"`, True → `"true"`, None → `"null"` |
 * | list, tuple, set           | array                                                           |
 * | int                        | number when safe (|n| ≤ 2^53−1), else its decimal string         |
 * | float                      | number (NaN/±Infinity stay numbers; the schemas reject them)     |
 * | bytes / bytearray          | base64 string                                                   |
 * | numpy ndarray              | nested arrays in index order (C or Fortran layout resolved); bool → booleans, int64 via the int rule, complex → `[re, im]`; string/structured/void arrays → `{dtype, shape, base64}` |
 * | numpy scalar               | as the matching Python scalar                                   |
 * | exception, Token, other objects | `{"$type": "module.name", ...}` records (never executed)  |
 */
import {
  NdArray,
  NumpyDType,
  PyException,
  PyGlobal,
  PyObject,
  PyToken,
  type PyValue,
} from '../pickle/index.js';
import { ShmReaderError, ShmReaderErrorCode } from '../errors.js';
import { halfToNumber } from '../pickle/numpy.js';

export type JsonData = null | boolean | number | string | JsonData[] | { [key: string]: JsonData };

/**
 * Bounds on the JSON a decoded value may expand to. The pickle decoder shares memoised objects the way
 * CPython does, so a ~1 KB pickle can reference one list a billion times ("billion laughs"): cheap as a graph,
 * fatal as a tree. Every bound is checked on an exact count made before anything is built (`measureJsonData`:
 * each shared sub-value is counted once and its size reused), so a refusal costs time linear in the pickle.
 */
export interface ToJsonLimits {
  /**
   * Values produced in all (numbers, strings, arrays, objects, and each nested list of a numpy array).
   * @default 4_000_000
   */
  maxNodes: number;
  /**
   * Characters of the strings produced in all: str values, dict keys, base64 of bytes, `$type` names. Numbers
   * are bounded through `maxNodes`, so the JSON text stays below about 25 characters per value plus 6 per
   * counted character (the worst escape, `\u0000`).
   * @default 268_435_456
   */
  maxChars: number;
  /** @default 512 */
  maxDepth: number;
  /**
   * Size of the pickle the value was decoded from (a reply's length). When given, the value may expand to
   * at most `nodesPerInputByte` values and `charsPerInputByte` characters per byte of it (never less than
   * `minNodes` / `minChars`, never more than `maxNodes` / `maxChars`). A pickle that writes each value out
   * takes at least a byte per value (`None` in a list, a uint8 array); only shared references exceed that.
   * @default undefined (only the absolute bounds apply)
   */
  inputBytes: number | undefined;
  /** @default 2 */
  nodesPerInputByte: number;
  /** Memoised dict keys repeated in a list of records reach ~6 per byte; shared strings far more. @default 16 */
  charsPerInputByte: number;
  /** @default 10_000 */
  minNodes: number;
  /** @default 262_144 */
  minChars: number;
}

export const TO_JSON_DEFAULTS: Readonly<ToJsonLimits> = {
  maxNodes: 4_000_000,
  maxChars: 268_435_456,
  maxDepth: 512,
  inputBytes: undefined,
  nodesPerInputByte: 2,
  charsPerInputByte: 16,
  minNodes: 10_000,
  minChars: 262_144,
};

/** What a value becomes as JSON, counted without building it. */
export interface JsonSize {
  nodes: number;
  chars: number;
}

interface Measured extends JsonSize {
  /** Levels below this value (0 for a scalar). */
  height: number;
}

/** Marks a container whose measurement is under way: meeting it again means it contains itself. */
const IN_PROGRESS: Measured = { nodes: 0, chars: 0, height: Number.POSITIVE_INFINITY };

/**
 * One allowance for everything converted from one pickle, e.g. every key and value of a `napari_data`
 * copy: with a budget per value, N keys referencing one shared sub-value would each get the whole pickle's
 * allowance. Pass it to `toJsonData` / `toJsonKey` instead of limits; each conversion is charged before it
 * runs, and a value that does not fit in what is left is refused (nothing is charged for it).
 */
export class JsonBudget {
  readonly limits: Readonly<ToJsonLimits>;
  /** Values and characters this budget allows in all. */
  readonly total: Readonly<JsonSize>;
  private used: JsonSize = { nodes: 0, chars: 0 };
  /** Sizes of containers already measured: shared sub-values are measured once per budget. */
  private readonly sizes = new Map<object, Measured>();

  constructor(limits: Partial<ToJsonLimits> = {}) {
    const all = { ...TO_JSON_DEFAULTS, ...limits };
    this.limits = all;
    const { inputBytes } = all;
    this.total =
      inputBytes === undefined
        ? { nodes: all.maxNodes, chars: all.maxChars }
        : {
            nodes: Math.min(all.maxNodes, Math.max(all.minNodes, all.nodesPerInputByte * inputBytes)),
            chars: Math.min(all.maxChars, Math.max(all.minChars, all.charsPerInputByte * inputBytes)),
          };
  }

  /** What is left of `total`. */
  get remaining(): JsonSize {
    return { nodes: this.total.nodes - this.used.nodes, chars: this.total.chars - this.used.chars };
  }

  /**
   * The exact size of `value` as JSON, in time linear in its distinct objects. Throws `PICKLE_LIMIT` for
   * nesting deeper than `maxDepth` (a value that contains itself included).
   */
  measure(value: PyValue): JsonSize {
    const { nodes, chars } = this.measureAt(value, 0);
    return { nodes, chars };
  }

  /** Charges `value`'s size, or throws `PICKLE_LIMIT` (charging nothing) when it does not fit in what is left. */
  charge(value: PyValue): void {
    const size = this.measure(value);
    const { limits, total, used } = this;
    if (used.nodes + size.nodes > total.nodes || used.chars + size.chars > total.chars) {
      // Stable for a given value (no byte counts that change with the rest of the pickle), so a caller that
      // reports each distinct failure once does not repeat it on every read.
      if (limits.inputBytes !== undefined) {
        throw overLimit(
          `${size.nodes} values and ${size.chars} characters, more than ${limits.nodesPerInputByte} values or ` +
            `${limits.charsPerInputByte} characters per byte of its pickle allow (at least ${limits.minNodes} and ` +
            `${limits.minChars}, at most ${limits.maxNodes} and ${limits.maxChars}, for all values of one pickle)`,
        );
      }
      if (size.nodes > limits.maxNodes) throw overLimit(`more than ${limits.maxNodes} values`);
      if (size.chars > limits.maxChars) throw overLimit(`more than ${limits.maxChars} characters`);
      throw overLimit(`${size.nodes} values and ${size.chars} characters, more than this budget has left`);
    }
    used.nodes += size.nodes;
    used.chars += size.chars;
  }

  private measureAt(value: PyValue, depth: number): Measured {
    if (depth > this.limits.maxDepth) throw overLimit(`nesting deeper than ${this.limits.maxDepth}`);
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return SCALAR;
    if (typeof value === 'string') return { nodes: 1, chars: value.length, height: 0 };
    // An int outside the safe range becomes its decimal string.
    if (typeof value === 'bigint') return { nodes: 1, chars: bigintChars(value), height: 0 };
    if (value instanceof Uint8Array) return { nodes: 1, chars: base64Chars(value.byteLength), height: 0 };
    // Fixed-shape records; like the converter always did, their inner levels do not count as depth.
    if (value instanceof PyGlobal) return { nodes: 3, chars: 12 + value.module.length + value.name.length, height: 0 };
    if (value instanceof NumpyDType) return { nodes: 3, chars: 15 + value.str.length, height: 0 };
    if (value instanceof PyToken) {
      return { nodes: 7, chars: 40 + value.typeid.length + value.address[0].length + value.id.length, height: 0 };
    }
    let known = this.sizes.get(value);
    if (known === undefined) {
      this.sizes.set(value, IN_PROGRESS);
      try {
        known = this.measureContainer(value, depth);
      } finally {
        // Too deep from here may be fine from a shallower reference to the same object: forget the attempt.
        this.sizes.delete(value);
      }
      this.sizes.set(value, known);
    }
    if (depth + known.height > this.limits.maxDepth) throw overLimit(`nesting deeper than ${this.limits.maxDepth}`);
    return known;
  }

  /** Children are measured at `depth + 1`: the depth only decides when to stop, sizes do not depend on it. */
  private measureContainer(value: Exclude<PyValue, null | boolean | number | string | bigint | Uint8Array>, depth: number): Measured {
    const size: Measured = { nodes: 1, chars: 0, height: 0 };
    const add = (child: PyValue, extraChars = 0): void => {
      const got = this.measureAt(child, depth + 1);
      size.nodes += got.nodes;
      size.chars += got.chars + extraChars;
      size.height = Math.max(size.height, got.height + 1);
    };
    if (Array.isArray(value) || value instanceof Set) {
      for (const item of value) add(item as PyValue);
    } else if (value instanceof Map) {
      for (const [key, item] of value) {
        add(item);
        if (typeof key === 'string') size.chars += key.length;
        else if (typeof key === 'number' || typeof key === 'boolean' || key === null) size.chars += 24;
        else if (typeof key === 'bigint') size.chars += 24 + bigintChars(key);
        else add(key); // converted, then written as its JSON text
      }
    } else if (value instanceof NdArray) {
      const { shape, data } = value;
      if (data instanceof DataView) {
        size.nodes += 4 + shape.length;
        size.chars += 40 + value.dtype.str.length + base64Chars(data.byteLength);
      } else if (Array.isArray(data)) {
        // Object arrays: each element converted like any value, at one level below the array.
        size.nodes = nestedLists(shape);
        for (const item of data) add(item as PyValue);
      } else {
        // Every nested list, not just the leaves: shape (10^7, 0) holds no element but builds 10^7 lists.
        size.nodes = nestedLists(shape) + elementCount(shape) * (value.dtype.kind === 'c' ? 2 : 1);
      }
    } else if (value instanceof PyException) {
      size.chars += 7 + value.module.length + value.name.length;
      add(value.args); // its state is not converted
    } else if (value instanceof PyObject) {
      size.chars += 12 + value.module.length + value.name.length;
      add(value.args);
      if (value.state !== undefined) add(value.state);
    }
    return size;
  }
}

const SCALAR: Measured = { nodes: 1, chars: 0, height: 0 };

function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/** Lists `reshape` builds for `shape`: one, then one per index of every leading dimension but the last. */
function nestedLists(shape: readonly number[]): number {
  let lists = 0;
  let outer = 1;
  for (let d = 0; d < shape.length; d++) {
    lists += outer;
    outer *= shape[d]!;
  }
  return lists;
}

function base64Chars(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

function bigintChars(value: bigint): number {
  const safe = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
  // Decimal digits from the bit length, without printing it: log10(2) < 0.302.
  return safe ? 0 : Math.ceil(value.toString(16).length * 4 * 0.302) + 2;
}

/** A fresh budget for the values of one pickle (see `JsonBudget`). */
export function createJsonBudget(limits: Partial<ToJsonLimits> = {}): JsonBudget {
  return new JsonBudget(limits);
}

function overLimit(what: string): ShmReaderError {
  return new ShmReaderError(ShmReaderErrorCode.PICKLE_LIMIT, `Python value too large to convert to JSON: ${what}`);
}

/**
 * Converts a decoded pickle value; throws `ShmReaderError` (`PICKLE_LIMIT`), before building anything, when
 * it would exceed `limits` (give `inputBytes`: the bound then scales with the pickle) or what is left of `budget`.
 */
export function toJsonData(value: PyValue, limits: Partial<ToJsonLimits> | JsonBudget = {}): JsonData {
  (limits instanceof JsonBudget ? limits : new JsonBudget(limits)).charge(value);
  return convert(value);
}

/** Only called on values a budget has measured: sizes and depth are known to be within bounds. */
function convert(value: PyValue): JsonData {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return intToJson(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) {
    const out: JsonData[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = convert(value[i] as PyValue);
    return out;
  }
  if (value instanceof Map) {
    const out: { [key: string]: JsonData } = {};
    for (const [key, item] of value) out[keyToString(key)] = convert(item);
    return out;
  }
  if (value instanceof Set) return [...value].map((item) => convert(item));
  if (value instanceof NdArray) return ndarrayToJson(value);
  if (value instanceof PyException) return { $type: `${value.module}.${value.name}`, args: convert(value.args) };
  if (value instanceof PyToken) return { $type: 'multiprocessing.managers.Token', typeid: value.typeid, address: [...value.address], id: value.id };
  if (value instanceof PyObject) {
    return {
      $type: `${value.module}.${value.name}`,
      args: convert(value.args),
      ...(value.state === undefined ? {} : { state: convert(value.state) }),
    };
  }
  if (value instanceof PyGlobal) return { $type: 'global', name: `${value.module}.${value.name}` };
  if (value instanceof NumpyDType) return { $type: 'numpy.dtype', str: value.str };
  return null;
}

function intToJson(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** A dict key the way `json.dumps` writes it (int `7` → `"7"`, True → `"true"`, None → `"null"`). */
export function toJsonKey(key: PyValue, limits: Partial<ToJsonLimits> | JsonBudget = {}): string {
  if (typeof key === 'string') return key;
  (limits instanceof JsonBudget ? limits : new JsonBudget(limits)).charge(key);
  return keyToString(key);
}

function keyToString(key: PyValue): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint') return String(key);
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  return JSON.stringify(convert(key));
}

function ndarrayToJson(array: NdArray): JsonData {
  const { dtype, shape, data } = array;
  if (Array.isArray(data)) return reshape(shape, array.order, (i) => convert(data[i] as PyValue));
  if (data instanceof DataView) {
    return {
      $type: 'numpy.ndarray',
      dtype: dtype.str,
      shape: [...shape],
      base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    };
  }
  let element: (i: number) => JsonData;
  if (dtype.kind === 'b') element = (i) => data[i] !== 0;
  else if (dtype.kind === 'c') element = (i) => [Number(data[2 * i]), Number(data[2 * i + 1])];
  else if (dtype.kind === 'f' && dtype.itemSize === 2) element = (i) => halfToNumber(Number(data[i]));
  else if (data instanceof BigInt64Array || data instanceof BigUint64Array) element = (i) => intToJson(data[i] as bigint);
  else element = (i) => data[i] as number;
  return reshape(shape, array.order, element);
}

/** Nested arrays in index order; `order` says how the flat data is laid out. */
function reshape(shape: readonly number[], order: 'C' | 'F', element: (flat: number) => JsonData): JsonData {
  if (shape.length === 0) return element(0);
  const strides = new Array<number>(shape.length);
  let step = 1;
  if (order === 'C') {
    for (let d = shape.length - 1; d >= 0; d--) {
      strides[d] = step;
      step *= shape[d]!;
    }
  } else {
    for (let d = 0; d < shape.length; d++) {
      strides[d] = step;
      step *= shape[d]!;
    }
  }
  const build = (dim: number, offset: number): JsonData[] => {
    const n = shape[dim]!;
    const stride = strides[dim]!;
    const out: JsonData[] = new Array(n);
    if (dim === shape.length - 1) for (let i = 0; i < n; i++) out[i] = element(offset + i * stride);
    else for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
    return out;
  };
  return build(0, 0);
}
