// The hand-written checks (src/fast-check.ts) against the zod schemas they stand in for: on generated
// valid messages, on the same messages with one node replaced, deleted or added, and on random objects
// of each message type, both must give the same verdict — and where both refuse, the hand-written check
// must point at the place zod reports first, or below it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkClientMessage, checkFrameHeader, checkServerMessage } from '../src/fast-check.js';
import {
  ClientMessageSchema,
  DTYPE_ITEM_SIZE,
  FrameHeaderSchema,
  NUMERIC_DTYPES,
  ProtocolError,
  ServerMessageSchema,
  SUBPROTOCOL,
  decodeFrame,
  encodeClientMessage,
  parseServerMessage,
  type ClientMessage,
  type NumericDType,
} from '../src/index.js';
import type { z } from 'zod';

type Check = (value: unknown) => { path: (string | number)[]; message: string } | undefined;

// ---------------------------------------------------------------------------------------------
// Valid messages
// ---------------------------------------------------------------------------------------------

const json = fc.jsonValue({ maxDepth: 3 });
const topicName = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,40}$/), fc.constant('t'.repeat(128)));
const time = fc.oneof(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), fc.maxSafeNat());
const seq = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const requestId = fc.string({ minLength: 1, maxLength: 64 });
const topicInfo = fc.record(
  {
    name: topicName,
    mode: fc.constantFrom('latest', 'stream'),
    schema: fc.string({ minLength: 1, maxLength: 256 }),
    binary: fc.boolean(),
    replayMs: time,
  },
  { requiredKeys: ['name', 'mode', 'schema'] },
);
const wireCodes = ['BAD_JSON', 'BAD_MESSAGE', 'UNKNOWN_TOPIC', 'NO_PUBLISHER', 'TIMEOUT', 'INTERNAL', 'BAD_VIEW', 'NOT_LIVE'] as const;
// Array views (1.3): edges 1–16 384, regions of non-negative integers with y1 > y0 and x1 > x0.
const edge = fc.integer({ min: 1, max: 16_384 });
const viewRegion = fc
  .record({ y0: fc.nat(5_000), x0: fc.nat(5_000), rows: fc.integer({ min: 1, max: 3_000 }), cols: fc.integer({ min: 1, max: 3_000 }) })
  .map(({ y0, x0, rows, cols }) => ({ y0, x0, y1: y0 + rows, x1: x0 + cols }));
const viewDType = fc.constantFrom('float32', 'float16', 'uint8', 'uint16');
const arrayView = fc.record({ maxShape: fc.tuple(edge, edge), region: viewRegion, dtype: viewDType }, { requiredKeys: ['maxShape'] });

const serverMessage = fc.oneof(
  fc.record({ type: fc.constant('hello'), protocol: fc.constant(SUBPROTOCOL), version: fc.string(), sessionId: fc.string({ minLength: 1, maxLength: 128 }), topics: fc.array(topicInfo, { maxLength: 3 }), time }),
  fc.record({ type: fc.constant('topics'), added: fc.array(topicInfo, { maxLength: 3 }), removed: fc.array(topicName, { maxLength: 3 }), time }),
  fc.record({ type: fc.constant('data'), topic: topicName, seq, time, payload: json }),
  fc.record(
    { type: fc.constant('snapshot'), topic: topicName, items: fc.array(fc.record({ seq, time, payload: json }), { maxLength: 3 }), binaryFrames: fc.nat(5) },
    { requiredKeys: ['type', 'topic', 'items'] },
  ),
  fc.record({ type: fc.constant('gap'), topic: topicName, dropped: fc.integer({ min: 1, max: 1000 }), fromSeq: seq, toSeq: seq }),
  fc.record({ type: fc.constant('ack'), id: requestId, result: json }, { requiredKeys: ['type', 'id'] }),
  fc.record(
    { type: fc.constant('error'), id: requestId, code: fc.constantFrom(...wireCodes), message: fc.string({ maxLength: 50 }), topic: topicName },
    { requiredKeys: ['type', 'code', 'message'] },
  ),
  fc.record(
    { type: fc.constant('status'), code: fc.constantFrom('source.waiting', 'source.connected', 'source.disconnected', 'server.closing'), source: fc.string({ maxLength: 128 }), message: fc.string({ maxLength: 50 }), time },
    { requiredKeys: ['type', 'code', 'time'] },
  ),
  fc.record({ type: fc.constant('pong'), id: requestId, clientTime: fc.double({ noNaN: true, noDefaultInfinity: true }), time }),
  fc.record({
    type: fc.constant('timeline'),
    state: fc.constantFrom('playing', 'paused', 'ended'),
    cursor: time,
    start: time,
    end: time,
    speed: fc.oneof(fc.constantFrom(0.25, 0.5, 1, 2, 4, 8), fc.double({ min: 0.25, max: 8, noNaN: true })),
    time,
  }),
  fc.record({ type: fc.constant('notimeline'), time }),
);

const clientMessage = fc.oneof(
  fc.record({ type: fc.constant('subscribe'), id: requestId, topics: fc.array(topicName, { minLength: 1, maxLength: 64 }), window: fc.integer({ min: 1, max: 16 }), view: arrayView }, { requiredKeys: ['type', 'topics'] }),
  fc.record({ type: fc.constant('view'), id: requestId, topic: topicName, view: fc.option(arrayView, { nil: null }) }, { requiredKeys: ['type', 'topic', 'view'] }),
  fc.record({ type: fc.constant('unsubscribe'), id: requestId, topics: fc.array(topicName, { minLength: 1, maxLength: 64 }) }, { requiredKeys: ['type', 'topics'] }),
  fc.record({ type: fc.constant('handled'), topic: topicName, seq }),
  fc.record({ type: fc.constant('received'), bytes: fc.maxSafeNat() }),
  fc.record(
    { type: fc.constant('command'), id: requestId, name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,63}$/), args: json, topic: topicName },
    { requiredKeys: ['type', 'id', 'name', 'args'] },
  ),
  fc.record({ type: fc.constant('ping'), id: requestId, time: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
);

const dtypes = Object.keys(NUMERIC_DTYPES) as NumericDType[];
const shape = fc.array(fc.nat(6), { maxLength: 4 });
const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const numericHeader = fc
  .record({ topic: topicName, seq, time, dtype: fc.constantFrom(...dtypes), shape, order: fc.constantFrom('C', 'F'), meta: json }, { requiredKeys: ['topic', 'seq', 'time', 'dtype', 'shape'] })
  .map((header) => ({ ...header, byteLength: count(header.shape) * DTYPE_ITEM_SIZE[header.dtype] }));
const recordHeader = fc
  .record({
    topic: topicName,
    seq,
    time,
    shape,
    fields: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }) }, { requiredKeys: ['name', 'dtype'] }), { maxLength: 4 }),
    slack: fc.nat(8),
  })
  .map(({ slack, fields, ...header }) => {
    let offset = 0;
    const laidOut = fields.map((field) => {
      const placed = { ...field, offset };
      offset += DTYPE_ITEM_SIZE[field.dtype] * count(field.shape ?? []);
      return placed;
    });
    const itemSize = Math.max(1, offset + slack);
    return { ...header, dtype: 'record', itemSize, fields: laidOut, byteLength: count(header.shape) * itemSize };
  });
/** A frame sent for a view: the view's dtype and shape, the scale and offset integer codes need. */
const viewHeader = fc
  .record({ topic: topicName, seq, time, rows: fc.nat(6), cols: fc.nat(6), request: arrayView, source: fc.record({ shape, dtype: fc.constantFrom(...dtypes) }), region: viewRegion, step: fc.integer({ min: 1, max: 64 }), scale: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), offset: fc.double({ noNaN: true, noDefaultInfinity: true }), meta: json })
  .map(({ rows, cols, request, source, region, step, scale, offset, ...header }) => {
    const dtype = request.dtype ?? 'float32';
    const integer = dtype === 'uint8' || dtype === 'uint16';
    return { ...header, dtype, shape: [rows, cols], byteLength: rows * cols * DTYPE_ITEM_SIZE[dtype], view: { request, source, region, step, ...(integer ? { scale, offset } : {}) } };
  });
const frameHeader = fc.oneof(numericHeader, recordHeader, viewHeader);

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

class Point {
  x = 1;
}
const withSymbol = { [Symbol('key')]: 1 };
/** Values at and just past every bound the schemas have, wrong types, and JS values JSON cannot hold. */
const oddValue = fc.oneof(
  fc.constantFrom<unknown>(
    -1, 0, 1, 1.5, -0, 16, 17, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
    '', 'a', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(4097),
    'a b', '_private', '__init__', 'Cmd_1', 'é', SUBPROTOCOL, 'webmon.v2', 'latest', 'stream', 'record', 'float32', 'complex128', 'C', 'F',
    'hello', 'data', 'subscribe', 'command', 'constructor', '__proto__', 'BAD_JSON', 'server.closing',
    null, true, false, [], [1], [0, 1], {}, { a: 1 }, undefined, 2 ** 31, Array.from({ length: 65 }, (_, i) => `t${i}`),
  ),
  fc.constantFrom<unknown>(new Date(0), new Point(), Object.create(null), withSymbol, [1, , 2], new Map(), 10n, () => 1),
  json,
  fc.string({ maxLength: 8 }),
  fc.double(),
  fc.integer({ min: -3, max: 300 }),
);

/** Copies arrays and plain objects; leaves every other value (dates, functions, odd objects) shared. */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyOf);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copyOf(item)]));
  }
  return value;
}

type Node = { parent: Record<string | number, unknown> | undefined; key: string | number | undefined };

function nodesOf(root: unknown): Node[] {
  const nodes: Node[] = [{ parent: undefined, key: undefined }];
  // Into arrays and plain objects only: the odd values (a null-prototype object, a date) are shared constants.
  const walk = (value: unknown) => {
    if (!Array.isArray(value) && !(typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)) return;
    for (const key of Object.keys(value)) {
      nodes.push({ parent: value as Record<string, unknown>, key: Array.isArray(value) ? Number(key) : key });
      walk((value as Record<string, unknown>)[key]);
    }
  };
  walk(root);
  return nodes;
}

/** One change somewhere in the message: a node replaced, a key deleted, or a key added to an object. */
function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(), fc.constantFrom('replace', 'replace', 'delete', 'add'), oddValue, fc.string({ maxLength: 6 })).map(([message, pick, how, shared, newKey]) => {
    const copy = copyOf(message);
    const odd = copyOf(shared);
    const nodes = nodesOf(copy);
    const { parent, key } = nodes[pick % nodes.length]!;
    if (parent === undefined || key === undefined) return how === 'replace' ? odd : copy;
    if (how === 'replace') parent[key] = odd;
    else if (how === 'delete' && !Array.isArray(parent)) delete parent[key];
    else if (how === 'add' && typeof parent[key] === 'object' && parent[key] !== null && !Array.isArray(parent[key])) (parent[key] as Record<string, unknown>)[newKey] = odd;
    else parent[key] = odd;
    return copy;
  });
}

/** Random objects of one message type: the right keys with any values. */
function randomFields(types: readonly string[], keys: readonly string[]): fc.Arbitrary<unknown> {
  return fc.record({ type: fc.constantFrom(...types), rest: fc.dictionary(fc.constantFrom(...keys), fc.oneof(oddValue, fc.anything({ maxDepth: 2 })), { maxKeys: keys.length }) }).map(({ type, rest }) => ({ type, ...rest }));
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

const startsWith = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]) => prefix.every((key, i) => path[i] === key);

/** Runs the property and returns how many inputs zod accepted and refused (so a test can see both happen). */
function agree(name: string, schema: z.ZodType, check: Check, inputs: fc.Arbitrary<unknown>, numRuns: number, seed: number): { accepted: number; refused: number } {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(inputs, (input) => {
      const zod = schema.safeParse(input);
      const issue = check(input);
      if (zod.success) {
        accepted++;
        expect(issue, `${name}: zod accepts, the fast check says ${JSON.stringify(issue)}`).toBeUndefined();
        return;
      }
      refused++;
      expect(issue, `${name}: zod refuses (${zod.error.issues[0]?.message}), the fast check accepts`).toBeDefined();
      const zodPath = zod.error.issues[0]!.path;
      expect(startsWith(issue!.path, zodPath), `${name}: zod's first problem is at [${zodPath.join(', ')}], the fast check's at [${issue!.path.join(', ')}]`).toBe(true);
    }),
    { numRuns, seed },
  );
  return { accepted, refused };
}

const serverKeys = ['protocol', 'version', 'sessionId', 'topics', 'time', 'added', 'removed', 'topic', 'seq', 'payload', 'items', 'binaryFrames', 'dropped', 'fromSeq', 'toSeq', 'id', 'result', 'code', 'message', 'source', 'clientTime', 'state', 'cursor', 'start', 'end', 'speed'];
const serverTypes = ['hello', 'topics', 'data', 'snapshot', 'gap', 'ack', 'error', 'status', 'pong', 'timeline', 'notimeline'];
const clientKeys = ['id', 'topics', 'window', 'name', 'args', 'topic', 'time', 'seq', 'view', 'bytes'];
const clientTypes = ['subscribe', 'unsubscribe', 'command', 'ping', 'handled', 'view', 'received'];
const headerKeys = ['topic', 'seq', 'time', 'dtype', 'shape', 'byteLength', 'order', 'itemSize', 'fields', 'meta', 'view'];

describe('hand-written checks agree with the zod schemas', () => {
  it.each([
    ['server messages', ServerMessageSchema, checkServerMessage, serverMessage, randomFields(serverTypes, serverKeys)],
    ['client messages', ClientMessageSchema, checkClientMessage, clientMessage, randomFields(clientTypes, clientKeys)],
    [
      'frame headers',
      FrameHeaderSchema,
      checkFrameHeader,
      frameHeader,
      fc.dictionary(fc.constantFrom(...headerKeys), fc.oneof(oddValue, fc.anything({ maxDepth: 2 })), { maxKeys: headerKeys.length }),
    ],
  ] as const)('%s: generated, mutated and random', (name, schema, check, valid, random) => {
    const generated = agree(`${name} (generated)`, schema, check, valid, 2_000, 1);
    expect(generated.refused, 'every generated message is valid').toBe(0);
    const once = agree(`${name} (one change)`, schema, check, mutated(valid), 8_000, 2);
    const twice = agree(`${name} (two changes)`, schema, check, mutated(mutated(valid)), 4_000, 3);
    const randomRuns = agree(`${name} (random fields)`, schema, check, random, 4_000, 4);
    // The inputs must land on both sides often, or the agreement above proves little.
    for (const { accepted, refused } of [once, twice]) {
      expect(accepted / (accepted + refused)).toBeGreaterThan(0.05);
      expect(refused / (accepted + refused)).toBeGreaterThan(0.3);
    }
    expect(randomRuns.refused).toBeGreaterThan(2_000);
  });

  it('agree on the bounds of an array view (1.3), where random changes seldom land', () => {
    const view = (extra: Record<string, unknown>) => ({ type: 'view', topic: 'image', view: { maxShape: [4, 4], ...extra } });
    const region = (y0: number, x0: number, y1: number, x1: number) => view({ region: { y0, x0, y1, x1 } });
    const messages = [
      view({}), view({ maxShape: [16_384, 1] }), view({ maxShape: [16_385, 1] }), view({ maxShape: [0, 1] }), view({ maxShape: [1] }), view({ maxShape: [1, 2, 3] }),
      view({ maxShape: [1.5, 2] }), view({ dtype: 'float64' }), view({ dtype: 'uint16' }), { type: 'view', topic: 'image', view: null }, { type: 'view', topic: 'image' },
      region(0, 0, 1, 1), region(3, 0, 3, 5), region(0, 3, 5, 3), region(4, 0, 3, 5), region(0, 0, 2 ** 31 - 1, 1), region(0, 0, 2 ** 31, 1), region(-1, 0, 3, 3),
      { type: 'subscribe', topics: ['image'], view: { maxShape: [8, 8], region: { y0: 2, x0: 2, y1: 2, x1: 9 } } },
    ];
    for (const message of messages) {
      const zod = ClientMessageSchema.safeParse(message);
      const issue = checkClientMessage(message);
      expect(issue === undefined, JSON.stringify(message)).toBe(zod.success);
      if (!zod.success) expect(startsWith(issue!.path, zod.error.issues[0]!.path), JSON.stringify(message)).toBe(true);
    }
    const header = (dtype: string, view: Record<string, unknown>) => ({
      topic: 't', seq: 0, time: 0, dtype, shape: [1, 1], byteLength: DTYPE_ITEM_SIZE[dtype as NumericDType],
      view: { request: { maxShape: [1, 1] }, source: { shape: [2, 2], dtype: 'float32' }, region: { y0: 0, x0: 0, y1: 2, x1: 2 }, step: 2, ...view },
    });
    const headers = [
      header('float32', {}), header('float16', {}), header('uint8', { request: { maxShape: [1, 1], dtype: 'uint8' } }),
      header('uint8', { request: { maxShape: [1, 1], dtype: 'uint8' }, scale: 0.5, offset: -1 }), header('uint8', { request: { maxShape: [1, 1], dtype: 'uint8' }, scale: -1, offset: 0 }),
      header('float32', { step: 0 }), header('float32', { region: { y0: 1, x0: 0, y1: 1, x1: 2 } }),
    ];
    for (const value of headers) {
      const zod = FrameHeaderSchema.safeParse(value);
      const issue = checkFrameHeader(value);
      expect(issue === undefined, JSON.stringify(value)).toBe(zod.success);
      if (!zod.success) expect(startsWith(issue!.path, zod.error.issues[0]!.path), JSON.stringify(value)).toBe(true);
    }
  });

  it('agree on what JSON.parse makes of a text: 1e999 is Infinity, an own __proto__ key is skipped', () => {
    const texts = [
      '{"type":"data","topic":"a","seq":1,"time":1,"payload":[1,1e999]}',
      '{"type":"data","topic":"a","seq":1,"time":1e999,"payload":1}',
      '{"type":"data","topic":"a","seq":1,"time":1,"payload":{"__proto__":1e999}}',
      '{"type":"data","topic":"a","seq":1,"time":1,"payload":{"constructor":{"prototype":1}}}',
      '{"__proto__":{"type":"pong"},"id":"p","clientTime":1,"time":1}',
      '{"type":"ack","id":"a","result":{"__proto__":[1e999]}}',
    ];
    for (const text of texts) {
      const value = JSON.parse(text);
      expect(checkServerMessage(value) === undefined, text).toBe(ServerMessageSchema.safeParse(value).success);
    }
  });
});

describe('what the client reads and writes', () => {
  it('parseServerMessage returns what zod returns for every valid message without unknown fields', () => {
    fc.assert(
      fc.property(serverMessage, (message) => {
        const text = JSON.stringify(message);
        expect(parseServerMessage(text)).toEqual(ServerMessageSchema.parse(JSON.parse(text)));
      }),
      { numRuns: 1_000, seed: 5 },
    );
  });

  it('encodeClientMessage writes what zod would (unknown fields stripped)', () => {
    fc.assert(
      fc.property(clientMessage, fc.string({ maxLength: 5 }), (message, extra) => {
        // Generated to match the schema (checked by the first property): typed as what it is.
        const withExtra = { ...message, [`x${extra}`]: 1 } as unknown as ClientMessage;
        expect(encodeClientMessage(withExtra)).toBe(JSON.stringify(ClientMessageSchema.parse(withExtra)));
      }),
      { numRuns: 1_000, seed: 6 },
    );
  });

  it('names the place and the rule of the first problem', () => {
    const bad = (text: string) => {
      try {
        parseServerMessage(text);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        return { code: (error as ProtocolError).code, message: (error as ProtocolError).message, issues: (error as ProtocolError).issues };
      }
      throw new Error(`accepted ${text}`);
    };
    expect(bad('{"type":"hello","protocol":"webmon.v1","version":"1","sessionId":"s","time":0,"topics":[{"name":"a","mode":"later","schema":"x"}]}')).toEqual({
      code: 'PROTOCOL_INVALID_MESSAGE',
      message: 'invalid server message at topics.0.mode: expected one of "latest" | "stream", got "later"',
      issues: [{ path: ['topics', 0, 'mode'], message: 'expected one of "latest" | "stream", got "later"' }],
    });
    expect(bad('{"type":"data","topic":"a b","seq":1,"time":1,"payload":1}').message).toBe('invalid server message at topic: letters, digits and _ . : / -, got "a b"');
    // zod names only `payload`; the fast check names the number inside it.
    expect(bad('{"type":"data","topic":"a","seq":1,"time":1,"payload":{"xs":[0,1e999]}}').message).toBe(
      'invalid server message at payload.xs.1: expected a JSON value (finite numbers only), got Infinity',
    );
    expect(bad('{"type":"nope"}').message).toMatch(/^invalid server message at type: expected one of "hello" \| "topics" \| .*, got "nope"$/);
    expect(bad('[]').message).toBe('invalid server message: expected an object, got an array');
  });

  it('refuses a payload nested beyond the stack with a ProtocolError, not a RangeError', () => {
    const text = `{"type":"data","topic":"a","seq":1,"time":1,"payload":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(() => parseServerMessage(text)).toThrow(ProtocolError);
  });

  it('decodeFrame reports a bad header with its place', () => {
    const header = JSON.stringify({ topic: 't', seq: 0, time: 0, dtype: 'float32', shape: [2], byteLength: 4 });
    const padded = header.padEnd(Math.ceil(header.length / 8) * 8, ' ');
    const bytes = new Uint8Array(8 + padded.length + 4);
    bytes.set([0x57, 0x4d, 0x46, 1]);
    new DataView(bytes.buffer).setUint32(4, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 8);
    try {
      decodeFrame(bytes);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('PROTOCOL_FRAME_MALFORMED');
      expect((error as ProtocolError).message).toBe('invalid binary frame header at byteLength: byteLength 4 does not match shape × dtype size (8)');
    }
  });
});
