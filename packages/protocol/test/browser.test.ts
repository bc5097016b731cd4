import { describe, expect, it } from 'vitest';
import {
  SUBPROTOCOL,
  encodeClientMessage,
  encodeServerMessage,
  parseClientMessage,
  parseServerMessage,
  type ClientMessage,
  type ServerMessage,
} from '../src/index.js';
import { codeOf } from './helpers.js';


const serverMessages: ServerMessage[] = [
  {
    type: 'hello',
    protocol: SUBPROTOCOL,
    version: '1.0.0',
    sessionId: 'b3f1c1',
    time: 1_700_000_000_000,
    topics: [
      { name: 'app.layers', mode: 'latest', schema: 'demo/poll' },
      { name: 'app.frame_time', mode: 'stream', schema: 'webmon.v1/app.frame_time', replayMs: 10_000 },
      { name: 'image', mode: 'latest', schema: 'webmon.v1/frame-header', binary: true },
    ],
  },
  { type: 'topics', added: [{ name: 'app.data.my_key', mode: 'latest', schema: 'webmon.v1/json' }], removed: ['app.old'], time: 3 },
  { type: 'data', topic: 'app.frame_time', seq: 7, time: 1, payload: { time: 1.5, delta_ms: 16.7 } },
  { type: 'snapshot', topic: 'app.layers', items: [{ seq: 3, time: 2, payload: { layers: {} } }] },
  { type: 'gap', topic: 'app.frame_time', dropped: 12, fromSeq: 8, toSeq: 19 },
  { type: 'ack', id: 'c1', result: { queued: true } },
  { type: 'error', id: 'c2', code: 'BAD_COMMAND_ARGS', message: 'show_grid takes a boolean' },
  { type: 'error', code: 'BAD_ACK', message: 'image #9 was never sent', topic: 'image' },
  { type: 'error', id: 'v1', code: 'BAD_VIEW', message: 'region misses the array', topic: 'image' },
  { type: 'status', code: 'source.connected', source: 'app', time: 5 },
  { type: 'pong', id: 'p1', clientTime: 10, time: 11 },
  { type: 'timeline', state: 'playing', cursor: 1_700_000_005_000, start: 1_700_000_000_000, end: 1_700_000_060_000, speed: 0.25, time: 12 },
  { type: 'notimeline', time: 13 },
  { type: 'error', id: 'c3', code: 'NOT_LIVE', message: 'replaying a recording: commands are refused' },
];

describe('webmon.v1 envelopes', () => {
  it.each(serverMessages.map((message) => [message.type, message] as const))('server %s round-trips', (_type, message) => {
    expect(parseServerMessage(encodeServerMessage(message))).toEqual(message);
  });

  it.each([
    { type: 'subscribe', id: 's1', topics: ['app.layers', 'app.frame_time'] },
    { type: 'unsubscribe', topics: ['app.layers'] },
    { type: 'command', id: 'c1', name: 'show_grid', args: true },
    { type: 'command', id: 'c2', name: 'set_level', args: 2, topic: 'app.layers' },
    { type: 'ping', id: 'p', time: 12.5 },
    { type: 'subscribe', id: 's2', topics: ['image', 'app.layers'], window: 1 },
    { type: 'handled', topic: 'image', seq: 41 },
    { type: 'subscribe', topics: ['image'], window: 1, view: { maxShape: [800, 600] } },
    { type: 'subscribe', topics: ['image'], view: { maxShape: [800, 800], region: { y0: 10, x0: 20, y1: 110, x1: 220 }, dtype: 'uint8' } },
    { type: 'view', id: 'v1', topic: 'image', view: { maxShape: [400, 400], dtype: 'float16' } },
    { type: 'view', topic: 'image', view: null },
    { type: 'received', bytes: 0 },
    { type: 'received', bytes: 4 * 2 ** 30 },
  ] satisfies ClientMessage[])('client $type round-trips', (message) => {
    expect(parseClientMessage(encodeClientMessage(message))).toEqual(message);
  });

  it('rejects text that is not JSON with PROTOCOL_INVALID_JSON', () => {
    expect(codeOf(() => parseClientMessage('{"type":'))).toBe('PROTOCOL_INVALID_JSON');
    expect(codeOf(() => parseServerMessage('\u0000\u0001garbage'))).toBe('PROTOCOL_INVALID_JSON');
  });

  it.each([
    ['an unknown type', { type: 'hack' }],
    ['subscribe without topics', { type: 'subscribe', topics: [] }],
    ['a topic with spaces', { type: 'subscribe', topics: ['a b'] }],
    ['too many topics', { type: 'subscribe', topics: Array.from({ length: 65 }, (_, i) => `t${i}`) }],
    ['a command without id', { type: 'command', name: 'show_grid', args: true }],
    ['a dunder command', { type: 'command', id: 'c', name: '__init__', args: null }],
    ['a private command', { type: 'command', id: 'c', name: '_reset', args: null }],
    ['a command name that is not an identifier', { type: 'command', id: 'x', name: '__import__("os")', args: 1 }],
    ['a window of 0 (a client that acknowledges lets at least one value through)', { type: 'subscribe', topics: ['a'], window: 0 }],
    ['a window above maxWindow', { type: 'subscribe', topics: ['a'], window: 17 }],
    ['a fractional window', { type: 'subscribe', topics: ['a'], window: 1.5 }],
    ['handled without seq', { type: 'handled', topic: 'image' }],
    ['handled with a negative seq', { type: 'handled', topic: 'image', seq: -1 }],
    ['handled with a fractional seq', { type: 'handled', topic: 'image', seq: 1.5 }],
    ['received with negative bytes', { type: 'received', bytes: -1 }],
    ['received with fractional bytes', { type: 'received', bytes: 0.5 }],
    ['received without bytes', { type: 'received' }],
    ['a view without maxShape', { type: 'subscribe', topics: ['image'], view: { dtype: 'float32' } }],
    ['a view with a negative edge', { type: 'view', topic: 'image', view: { maxShape: [-1, 10] } }],
    ['a view with a zero edge', { type: 'view', topic: 'image', view: { maxShape: [0, 10] } }],
    ['a view with a huge edge', { type: 'view', topic: 'image', view: { maxShape: [16_385, 10] } }],
    ['a view with a fractional edge', { type: 'view', topic: 'image', view: { maxShape: [10.5, 10] } }],
    ['a view of three edges', { type: 'view', topic: 'image', view: { maxShape: [10, 10, 3] } }],
    ['an empty region', { type: 'view', topic: 'image', view: { maxShape: [10, 10], region: { y0: 5, x0: 0, y1: 5, x1: 4 } } }],
    ['a region with a negative corner', { type: 'view', topic: 'image', view: { maxShape: [10, 10], region: { y0: -5, x0: 0, y1: 5, x1: 4 } } }],
    ['a region beyond 2^31', { type: 'view', topic: 'image', view: { maxShape: [10, 10], region: { y0: 0, x0: 0, y1: 2 ** 31, x1: 4 } } }],
    ['a view dtype that is not a view dtype', { type: 'view', topic: 'image', view: { maxShape: [10, 10], dtype: 'float64' } }],
    ['a view message without view', { type: 'view', topic: 'image' }],
    ['an array', []],
    ['null', null],
  ])('rejects %s with PROTOCOL_INVALID_MESSAGE', (_name, value) => {
    expect(codeOf(() => parseClientMessage(JSON.stringify(value)))).toBe('PROTOCOL_INVALID_MESSAGE');
  });

  it('refuses to encode an invalid message (our own bugs are caught before the wire)', () => {
    expect(codeOf(() => encodeServerMessage({ type: 'gap', topic: 't', dropped: 0, fromSeq: 0, toSeq: 0 }))).toBe('PROTOCOL_INVALID_MESSAGE');
    expect(
      codeOf(() => encodeServerMessage({ type: 'data', topic: 't', seq: 1, time: 1, payload: { x: Number.NaN } })),
    ).toBe('PROTOCOL_INVALID_MESSAGE');
  });

  it('rejects a hello of another protocol version', () => {
    const hello = { ...serverMessages[0], protocol: 'webmon.v2' };
    expect(codeOf(() => parseServerMessage(JSON.stringify(hello)))).toBe('PROTOCOL_INVALID_MESSAGE');
  });

  it('(1.5) refuses a timeline outside its speeds and states', () => {
    const timeline = { type: 'timeline', state: 'paused', cursor: 5, start: 0, end: 10, speed: 1, time: 1 } as const;
    for (const speed of [0.2, 9, Number.NaN]) {
      expect(codeOf(() => encodeServerMessage({ ...timeline, speed }))).toBe('PROTOCOL_INVALID_MESSAGE');
      expect(codeOf(() => parseServerMessage(JSON.stringify({ ...timeline, speed })))).toBe('PROTOCOL_INVALID_MESSAGE');
    }
    expect(codeOf(() => parseServerMessage(JSON.stringify({ ...timeline, state: 'live' })))).toBe('PROTOCOL_INVALID_MESSAGE');
  });

  it('(1.6) notimeline carries only its time', () => {
    expect(codeOf(() => parseServerMessage('{"type":"notimeline"}'))).toBe('PROTOCOL_INVALID_MESSAGE');
    expect(codeOf(() => encodeServerMessage({ type: 'notimeline', time: -1 }))).toBe('PROTOCOL_INVALID_MESSAGE');
  });

  it('an unknown message type is an invalid message (what a 1.4 client does with a 1.5 timeline, a 1.5 client with notimeline)', () => {
    // The compatibility rule of 1.5 in the README rests on this: the client's codec refuses the message
    // with a typed error, and the relay client reports it through onError and goes on.
    expect(codeOf(() => parseServerMessage('{"type":"newer","time":1}'))).toBe('PROTOCOL_INVALID_MESSAGE');
  });
});
