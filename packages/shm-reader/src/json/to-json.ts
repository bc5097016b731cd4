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

/** Bounds on the JSON a decoded value may expand to. */
export interface ToJsonLimits {
  /**
   * Values produced in all. The pickle decoder shares memoised objects the way CPython does, so a small
   * pickle can reference one list a billion times ("billion laughs"): cheap as a graph, fatal as a tree.
   * @default 4_000_000
   */
  maxNodes: number;
  /** @default 512 */
  maxDepth: number;
}

export const TO_JSON_DEFAULTS: Readonly<ToJsonLimits> = { maxNodes: 4_000_000, maxDepth: 512 };

interface Budget extends ToJsonLimits {
  nodes: number;
}

function overLimit(what: string): ShmReaderError {
  return new ShmReaderError(ShmReaderErrorCode.PICKLE_LIMIT, `Python value too large to convert to JSON: ${what}`);
}

/** Converts a decoded pickle value; throws `ShmReaderError` (`PICKLE_LIMIT`) past `limits`. */
export function toJsonData(value: PyValue, limits: Partial<ToJsonLimits> = {}): JsonData {
  return convert(value, { ...TO_JSON_DEFAULTS, ...limits, nodes: 0 }, 0);
}

function convert(value: PyValue, budget: Budget, depth: number): JsonData {
  if (++budget.nodes > budget.maxNodes) throw overLimit(`more than ${budget.maxNodes} values`);
  if (depth > budget.maxDepth) throw overLimit(`nesting deeper than ${budget.maxDepth}`);
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return intToJson(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) {
    const out: JsonData[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = convert(value[i] as PyValue, budget, depth + 1);
    return out;
  }
  if (value instanceof Map) {
    const out: { [key: string]: JsonData } = {};
    for (const [key, item] of value) out[keyToString(key, budget, depth)] = convert(item, budget, depth + 1);
    return out;
  }
  if (value instanceof Set) return [...value].map((item) => convert(item, budget, depth + 1));
  if (value instanceof NdArray) return ndarrayToJson(value, budget, depth);
  if (value instanceof PyException) return { $type: `${value.module}.${value.name}`, args: convert(value.args, budget, depth + 1) };
  if (value instanceof PyToken) return { $type: 'multiprocessing.managers.Token', typeid: value.typeid, address: [...value.address], id: value.id };
  if (value instanceof PyObject) {
    return {
      $type: `${value.module}.${value.name}`,
      args: convert(value.args, budget, depth + 1),
      ...(value.state === undefined ? {} : { state: convert(value.state, budget, depth + 1) }),
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
export function toJsonKey(key: PyValue, limits: Partial<ToJsonLimits> = {}): string {
  return keyToString(key, { ...TO_JSON_DEFAULTS, ...limits, nodes: 0 }, 0);
}

function keyToString(key: PyValue, budget: Budget, depth: number): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint') return String(key);
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  return JSON.stringify(convert(key, budget, depth + 1));
}

function ndarrayToJson(array: NdArray, budget: Budget, depth: number): JsonData {
  const { dtype, shape, data } = array;
  budget.nodes += shape.reduce((count, dim) => count * dim, 1);
  if (budget.nodes > budget.maxNodes) throw overLimit(`more than ${budget.maxNodes} values`);
  if (Array.isArray(data)) return reshape(shape, array.order, (i) => convert(data[i] as PyValue, budget, depth + 1));
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
