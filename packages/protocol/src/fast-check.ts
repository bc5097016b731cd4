/**
 * Hand-written checks of what a client reads (server messages, binary frame headers) and writes (client
 * messages), with no zod.
 *
 * Why by hand: the zod schemas (`browser.ts`, `frame-schema.ts`) stay the one definition — of the types,
 * the JSON Schema files and the server's validation — but zod is ~450 kB minified in a browser bundle,
 * over 20× the whole relay client, and a page that only reads the wire should not pay for it. These functions
 * answer exactly what the schemas answer: `test/fast-check.test.ts` holds them to zod's verdict on
 * generated and mutated messages, and to zod's place of the first problem (theirs is the same or deeper).
 *
 * Each check returns `undefined` when the value is accepted, else the first problem, in the order zod
 * reports them (fields in schema order, cross-field rules after). Paths are built only on failure, so
 * an accepted message allocates nothing here.
 */
import {
  COMMAND_NAME_PATTERN,
  COMMAND_NAME_RULE,
  DELIVERY_MODES,
  FrameLimits,
  ProtocolLimits,
  STATUS_CODES,
  SUBPROTOCOL,
  TIMELINE_STATES,
  TOPIC_NAME_PATTERN,
  TOPIC_NAME_RULE,
  TimelineLimits,
  VIEW_DTYPES,
  VIEW_RESAMPLES,
  ViewLimits,
  WIRE_ERROR_CODES,
} from './constants.js';
import { DTYPE_ITEM_SIZE, NUMERIC_DTYPE_NAMES, elementCount } from './dtypes.js';
import type { ProtocolIssue } from './errors.js';

type Issue = ProtocolIssue;
type Check = (value: unknown) => Issue | undefined;
type Fields = Record<string, unknown>;

function fail(message: string): Issue {
  return { path: [], message };
}

/** Prefixes the path of a problem found below `key` (on the way up, so only failures pay for paths). */
function at(key: string | number, issue: Issue): Issue {
  issue.path.unshift(key);
  return issue;
}

function field(object: Fields, key: string, check: Check): Issue | undefined {
  const issue = check(object[key]);
  return issue === undefined ? undefined : at(key, issue);
}

function received(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'string':
      return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function expected(what: string, value: unknown): Issue {
  return fail(`expected ${what}, got ${received(value)}`);
}

/** An object as `z.object` takes it: anything of type object but null and arrays. */
function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An object as `z.record` (inside `z.json`) takes it: made by `Object` of any realm, or with no usable
 * constructor (`Object.create(null)`, or a `constructor` key that is data). Class instances, dates and
 * maps are not JSON objects. Every object `JSON.parse` makes passes on the first test.
 */
function isRecord(value: object): boolean {
  const ctor = (value as { constructor?: unknown }).constructor;
  if (ctor === Object || typeof ctor !== 'function') return true;
  const proto: unknown = ctor.prototype;
  return isObject(proto) && Object.hasOwn(proto, 'isPrototypeOf');
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

function string(min: number, max: number): Check {
  return (value) => {
    if (typeof value !== 'string') return expected('a string', value);
    if (value.length < min) return fail(`expected at least ${min} character${min === 1 ? '' : 's'}, got ${value.length}`);
    if (value.length > max) return fail(`expected at most ${max} characters, got ${value.length}`);
    return undefined;
  };
}

const anyString: Check = (value) => (typeof value === 'string' ? undefined : expected('a string', value));

/** JSON has no NaN or Infinity (`1e999` parses to Infinity): numbers must be finite. */
const finite: Check = (value) => (typeof value === 'number' && Number.isFinite(value) ? undefined : expected('a finite number', value));

function atLeast(min: number): Check {
  return (value) => finite(value) ?? ((value as number) >= min ? undefined : fail(`expected a number >= ${min}, got ${received(value)}`));
}

function integer(min: number): Check {
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return expected('an integer', value);
    if (!Number.isSafeInteger(value)) return fail(`expected a safe integer (at most 2^53 - 1 in size), got ${value}`);
    return value >= min ? undefined : fail(`expected an integer >= ${min}, got ${value}`);
  };
}

const boolean: Check = (value) => (typeof value === 'boolean' ? undefined : expected('true or false', value));

function literal(want: string): Check {
  return (value) => (value === want ? undefined : expected(JSON.stringify(want), value));
}

function oneOf(options: readonly string[]): Check {
  const allowed = new Set<unknown>(options);
  const list = options.map((option) => JSON.stringify(option)).join(' | ');
  return (value) => (allowed.has(value) ? undefined : expected(`one of ${list}`, value));
}

function matches(pattern: RegExp, rule: string): Check {
  return (value) => (pattern.test(value as string) ? undefined : fail(`${rule}, got ${received(value)}`));
}

function optional(check: Check): Check {
  return (value) => (value === undefined ? undefined : check(value));
}

function nullable(check: Check): Check {
  return (value) => (value === null ? undefined : check(value));
}

/** An integer in [min, max] (zod's `z.int().min(min).max(max)`). */
function integerIn(min: number, max: number): Check {
  const low = integer(min);
  return (value) => low(value) ?? ((value as number) <= max ? undefined : fail(`expected an integer <= ${max}, got ${received(value)}`));
}

/** A pair (zod's `z.tuple([a, a])`): its length is judged before its items. */
function pair(element: Check): Check {
  return (value) => {
    if (!Array.isArray(value)) return expected('an array of 2 items', value);
    if (value.length !== 2) return fail(`expected 2 items, got ${value.length}`);
    const first = element(value[0]);
    if (first !== undefined) return at(0, first);
    const second = element(value[1]);
    return second === undefined ? undefined : at(1, second);
  };
}

/** Elements first, then the length (zod's order: a bad element is reported before a wrong count). */
function array(element: Check, min = 0, max = Number.POSITIVE_INFINITY): Check {
  return (value) => {
    if (!Array.isArray(value)) return expected('an array', value);
    for (let i = 0; i < value.length; i++) {
      const issue = element(value[i]);
      if (issue !== undefined) return at(i, issue);
    }
    if (value.length < min) return fail(`expected at least ${min} item${min === 1 ? '' : 's'}, got ${value.length}`);
    if (value.length > max) return fail(`expected at most ${max} items, got ${value.length}`);
    return undefined;
  };
}

const topicNameLength = string(1, ProtocolLimits.maxTopicLength);
const topicNamePattern = matches(TOPIC_NAME_PATTERN, TOPIC_NAME_RULE);
const topicName: Check = (value) => topicNameLength(value) ?? topicNamePattern(value);
const requestId = string(1, ProtocolLimits.maxRequestIdLength);
const seq = integer(0);
/** Milliseconds since the epoch. */
const time = atLeast(0);

/**
 * Any JSON value, as `z.json()` takes it: strings, finite numbers, booleans, null, arrays (every slot
 * filled) and plain objects with string keys. Like zod it skips the value of an own `__proto__` key (zod
 * drops that key), and like zod it recurses: nesting deep enough to exhaust the stack throws RangeError
 * (`parseServerMessage` reports that as an invalid message).
 */
function isJsonScalar(value: unknown): boolean {
  const type = typeof value;
  return type === 'number' ? Number.isFinite(value) : type === 'string' || type === 'boolean' || value === null;
}

const json: Check = (value) => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : expected('a JSON value (finite numbers only)', value);
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (isJsonScalar(item)) continue; // no call per number: most of a large payload
          const issue = json(item);
          if (issue !== undefined) return at(i, issue);
        }
        return undefined;
      }
      if (!isRecord(value)) return expected('a JSON value', value);
      const keys = Object.keys(value);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const item = (value as Fields)[key];
        if (key === '__proto__' || isJsonScalar(item)) continue;
        const issue = json(item);
        if (issue !== undefined) return at(key, issue);
      }
      // JSON.parse never makes symbol keys; a caller's object might, and zod refuses those.
      for (const symbol of Object.getOwnPropertySymbols(value)) {
        if (Object.prototype.propertyIsEnumerable.call(value, symbol)) return fail(`expected a JSON value, got an object with a symbol key ${String(symbol)}`);
      }
      return undefined;
    }
    default:
      return expected('a JSON value', value);
  }
};

// ---------------------------------------------------------------------------------------------
// Messages: one function per schema, fields in the schema's order
// ---------------------------------------------------------------------------------------------

/** Checks the fields of an object; the `??` chain stops at the first problem. */
function object(check: (value: Fields) => Issue | undefined): Check {
  return (value) => (isObject(value) ? check(value) : expected('an object', value));
}

const deliveryMode = oneOf(DELIVERY_MODES);
const schemaId = string(1, 256);
const optionalBoolean = optional(boolean);
const optionalTime = optional(time);

const topicInfo = object(
  (m) =>
    field(m, 'name', topicName) ??
    field(m, 'mode', deliveryMode) ??
    field(m, 'schema', schemaId) ??
    field(m, 'binary', optionalBoolean) ??
    field(m, 'replayMs', optionalTime),
);
const topicInfos = array(topicInfo);
const topicNames = array(topicName);
const sessionId = string(1, 128);
const protocol = literal(SUBPROTOCOL);
const dataItem = object((m) => field(m, 'seq', seq) ?? field(m, 'time', time) ?? field(m, 'payload', json));
const dataItems = array(dataItem);
const optionalCount = optional(integer(0));
const dropped = integer(1);
const optionalJson = optional(json);
const optionalRequestId = optional(requestId);
const wireErrorCode = oneOf(WIRE_ERROR_CODES);
const errorText = string(0, 4096);
const optionalErrorText = optional(errorText);
const optionalTopicName = optional(topicName);
const statusCode = oneOf(STATUS_CODES);
const optionalSource = optional(string(0, 128));
const timelineState = oneOf(TIMELINE_STATES);
const speed: Check = (value) =>
  finite(value) ??
  ((value as number) >= TimelineLimits.minSpeed
    ? (value as number) <= TimelineLimits.maxSpeed
      ? undefined
      : fail(`expected a number <= ${TimelineLimits.maxSpeed}, got ${received(value)}`)
    : fail(`expected a number >= ${TimelineLimits.minSpeed}, got ${received(value)}`));

const serverMessages: Readonly<Record<string, (m: Fields) => Issue | undefined>> = {
  hello: (m) =>
    field(m, 'protocol', protocol) ??
    field(m, 'version', anyString) ??
    field(m, 'sessionId', sessionId) ??
    field(m, 'topics', topicInfos) ??
    field(m, 'time', time),
  topics: (m) => field(m, 'added', topicInfos) ?? field(m, 'removed', topicNames) ?? field(m, 'time', time),
  data: (m) => field(m, 'topic', topicName) ?? field(m, 'seq', seq) ?? field(m, 'time', time) ?? field(m, 'payload', json),
  snapshot: (m) => field(m, 'topic', topicName) ?? field(m, 'items', dataItems) ?? field(m, 'binaryFrames', optionalCount),
  gap: (m) => field(m, 'topic', topicName) ?? field(m, 'dropped', dropped) ?? field(m, 'fromSeq', seq) ?? field(m, 'toSeq', seq),
  ack: (m) => field(m, 'id', requestId) ?? field(m, 'result', optionalJson),
  error: (m) =>
    field(m, 'id', optionalRequestId) ??
    field(m, 'code', wireErrorCode) ??
    field(m, 'message', errorText) ??
    field(m, 'topic', optionalTopicName),
  status: (m) =>
    field(m, 'code', statusCode) ??
    field(m, 'source', optionalSource) ??
    field(m, 'message', optionalErrorText) ??
    field(m, 'time', time),
  pong: (m) => field(m, 'id', requestId) ?? field(m, 'clientTime', finite) ?? field(m, 'time', time),
  timeline: (m) =>
    field(m, 'state', timelineState) ??
    field(m, 'cursor', time) ??
    field(m, 'start', time) ??
    field(m, 'end', time) ??
    field(m, 'speed', speed) ??
    field(m, 'time', time),
  notimeline: (m) => field(m, 'time', time),
};

const requestTopics = array(topicName, 1, ProtocolLimits.maxTopicsPerRequest);
const commandName = (value: unknown): Issue | undefined =>
  typeof value !== 'string' ? expected('a string', value) : COMMAND_NAME_PATTERN.test(value) ? undefined : fail(`${COMMAND_NAME_RULE}, got ${received(value)}`);

const windowSize = integer(1);
const optionalWindow = optional((value) => windowSize(value) ?? ((value as number) <= ProtocolLimits.maxWindow ? undefined : fail(`expected an integer <= ${ProtocolLimits.maxWindow}, got ${received(value)}`)));

// Array views (1.3), as `views.ts` defines them.
const viewEdge = integerIn(1, ViewLimits.maxEdge);
const coordinate = integerIn(0, ViewLimits.maxCoordinate);
/** The region's own rule runs once its corners are integers (zod runs its refinement on the parsed object). */
const viewRegion = object(
  (m) =>
    field(m, 'y0', coordinate) ??
    field(m, 'x0', coordinate) ??
    field(m, 'y1', coordinate) ??
    field(m, 'x1', coordinate) ??
    ((m['y1'] as number) > (m['y0'] as number) && (m['x1'] as number) > (m['x0'] as number) ? undefined : fail('a region needs y1 > y0 and x1 > x0')),
);
const arrayView = object(
  (m) =>
    field(m, 'maxShape', pair(viewEdge)) ??
    field(m, 'region', optional(viewRegion)) ??
    field(m, 'dtype', optional(oneOf(VIEW_DTYPES))) ??
    field(m, 'resample', optional(oneOf(VIEW_RESAMPLES))),
);

const clientMessages: Readonly<Record<string, (m: Fields) => Issue | undefined>> = {
  subscribe: (m) =>
    field(m, 'id', optionalRequestId) ?? field(m, 'topics', requestTopics) ?? field(m, 'window', optionalWindow) ?? field(m, 'view', optional(arrayView)),
  unsubscribe: (m) => field(m, 'id', optionalRequestId) ?? field(m, 'topics', requestTopics),
  command: (m) => field(m, 'id', requestId) ?? field(m, 'name', commandName) ?? field(m, 'args', json) ?? field(m, 'topic', optionalTopicName),
  ping: (m) => field(m, 'id', requestId) ?? field(m, 'time', finite),
  handled: (m) => field(m, 'topic', topicName) ?? field(m, 'seq', seq),
  view: (m) => field(m, 'id', optionalRequestId) ?? field(m, 'topic', topicName) ?? field(m, 'view', nullable(arrayView)),
  received: (m) => field(m, 'bytes', integer(0)),
};

/** A tagged union: the object, then its `type` picks the message (zod's `discriminatedUnion`). */
function union(messages: Readonly<Record<string, (m: Fields) => Issue | undefined>>): Check {
  const types = Object.keys(messages);
  const list = types.map((type) => JSON.stringify(type)).join(' | ');
  return (value) => {
    if (!isObject(value)) return expected('an object', value);
    const type = value.type;
    const check = typeof type === 'string' && Object.hasOwn(messages, type) ? messages[type] : undefined;
    return check === undefined ? at('type', expected(`one of ${list}`, type)) : check(value);
  };
}

/** `undefined` when `ServerMessageSchema` accepts `value`, else the first problem. */
export const checkServerMessage: Check = union(serverMessages);

/** `undefined` when `ClientMessageSchema` accepts `value`, else the first problem. */
export const checkClientMessage: Check = union(clientMessages);

// ---------------------------------------------------------------------------------------------
// Binary frame headers
// ---------------------------------------------------------------------------------------------

const numericDTypes = new Set<unknown>(NUMERIC_DTYPE_NAMES);
const frameDType: Check = (value) =>
  value === 'record' || numericDTypes.has(value) ? undefined : expected(`a dtype (${NUMERIC_DTYPE_NAMES.join(', ')} or record)`, value);
const numericDType = oneOf(NUMERIC_DTYPE_NAMES);
const recordField = object(
  (m) =>
    field(m, 'name', string(1, 256)) ??
    field(m, 'dtype', numericDType) ??
    field(m, 'offset', integer(0)) ??
    field(m, 'shape', optional(array(integer(1), 0, 8))),
);
const frameShape = array(integer(0), 0, FrameLimits.maxNdim);
const byteLength = integer(0);
const optionalOrder = optional(oneOf(['C', 'F']));
const optionalItemSize = optional(integer(1));
const optionalFields = optional(array(recordField, 0, FrameLimits.maxFields));
const frameView = object(
  (m) =>
    field(m, 'request', arrayView) ??
    field(m, 'source', object((source) => field(source, 'shape', frameShape) ?? field(source, 'dtype', numericDType))) ??
    field(m, 'region', viewRegion) ??
    field(m, 'step', integer(1)) ??
    field(m, 'resample', optional(oneOf(['area']))) ??
    field(m, 'scale', optional(atLeast(0))) ??
    field(m, 'offset', optional(finite)),
);

interface CheckedHeader {
  shape: number[];
  dtype: string;
  byteLength: number;
  itemSize?: number;
  fields?: { name: string; dtype: string; offset: number; shape?: number[] }[];
  view?: { request: { dtype?: string }; scale?: number; offset?: number };
}

/** The schema's cross-field rules, run once every field is valid (the same arithmetic as its refinement). */
function headerRules(header: CheckedHeader): Issue | undefined {
  if (header.view !== undefined) {
    const wanted = header.view.request.dtype ?? 'float32';
    if (header.dtype !== wanted) return { path: ['dtype'], message: `a view frame's dtype is its view's (${wanted}), got ${received(header.dtype)}` };
    if ((wanted === 'uint8' || wanted === 'uint16') && (header.view.scale === undefined || header.view.offset === undefined)) {
      return { path: ['view'], message: 'an integer view needs scale and offset' };
    }
  }
  const count = elementCount(header.shape);
  if (header.dtype === 'record') {
    if (header.itemSize === undefined || header.fields === undefined) return fail('record frames need itemSize and fields');
    for (let i = 0; i < header.fields.length; i++) {
      const f = header.fields[i]!;
      const size = DTYPE_ITEM_SIZE[f.dtype as keyof typeof DTYPE_ITEM_SIZE] * elementCount(f.shape ?? []);
      if (f.offset + size > header.itemSize) return { path: ['fields', i], message: `field ${f.name} lies outside the record (${f.offset} + ${size} > itemSize ${header.itemSize})` };
    }
    if (count * header.itemSize !== header.byteLength) return { path: ['byteLength'], message: `byteLength ${header.byteLength} does not match shape × itemSize (${count * header.itemSize})` };
    return undefined;
  }
  const expectedBytes = count * DTYPE_ITEM_SIZE[header.dtype as keyof typeof DTYPE_ITEM_SIZE];
  return expectedBytes === header.byteLength ? undefined : { path: ['byteLength'], message: `byteLength ${header.byteLength} does not match shape × dtype size (${expectedBytes})` };
}

/** `undefined` when `FrameHeaderSchema` accepts `value`, else the first problem. */
export const checkFrameHeader: Check = object(
  (m) =>
    field(m, 'topic', topicName) ??
    field(m, 'seq', seq) ??
    field(m, 'time', time) ??
    field(m, 'dtype', frameDType) ??
    field(m, 'shape', frameShape) ??
    field(m, 'byteLength', byteLength) ??
    field(m, 'order', optionalOrder) ??
    field(m, 'itemSize', optionalItemSize) ??
    field(m, 'fields', optionalFields) ??
    field(m, 'meta', optionalJson) ??
    field(m, 'view', optional(frameView)) ??
    headerRules(m as unknown as CheckedHeader),
);
