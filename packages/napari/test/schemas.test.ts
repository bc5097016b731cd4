import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@webmon/protocol';
import {
  NapariLimits,
  parseNapariMessage,
  parsePoll,
  toNapariCommand,
} from '../src/index.js';

const script = fileURLToPath(new URL('./fixtures/napari_samples.py', import.meta.url));
const committed = JSON.parse(readFileSync(new URL('./fixtures/napari-samples.json', import.meta.url), 'utf8'));
// Fresh samples from a real Python run (numpy arrays → lists, int ids → strings), beside the committed ones.
const fresh = JSON.parse(execFileSync('python3', [script], { encoding: 'utf8' }));

function expectProtocolError(fn: () => unknown, code: string, pathIncludes?: string): ProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    const protocolError = error as ProtocolError;
    expect(protocolError.code).toBe(code);
    if (pathIncludes) expect(protocolError.issues.map((issue) => issue.path.join('.')).join(' ')).toContain(pathIncludes);
    return protocolError;
  }
  throw new Error('expected a ProtocolError');
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

describe.each([
  ['committed', committed],
  ['fresh from python3', fresh],
])('napari samples (%s)', (_label, samples) => {
  it('accepts the poll with int layer ids as decimal strings', () => {
    const poll = parsePoll(samples.poll);
    const ids = Object.keys(poll.layers);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^\d+$/);
    const layer = poll.layers[ids[0]!]!;
    expect(layer.tile_state?.seen).toHaveLength(40);
    expect(layer.tile_state?.corners[1]).toEqual([9216, 12288.75]);
    expect(layer.tile_config?.level_index).toBe(3);
    expect(poll.layers[ids[1]!]).toEqual({});
  });

  it('splits queue messages into tagged events and carries unknown ones', () => {
    expect(parseNapariMessage(samples.frame_time)).toEqual([{ kind: 'frame_time', data: samples.frame_time.frame_time }]);
    expect(parseNapariMessage(samples.load_chunk)[0]?.kind).toBe('load_chunk');
    expect(parseNapariMessage(samples.unknown)).toEqual([{ kind: 'unknown', name: 'layers', value: samples.unknown.layers }]);
  });

  it('unpacks a webmon_batch item into the events of its items, in order', () => {
    const batch = { webmon_batch: [samples.frame_time, { loss: { step: 1 } }, { loss: { step: 2 }, other: 3 }] };
    expect(parseNapariMessage(batch)).toEqual([
      { kind: 'frame_time', data: samples.frame_time.frame_time },
      { kind: 'unknown', name: 'loss', value: { step: 1 } },
      { kind: 'unknown', name: 'loss', value: { step: 2 } },
      { kind: 'unknown', name: 'other', value: 3 },
    ]);
    expect(() => parseNapariMessage({ webmon_batch: [1] })).toThrow(/expected a dict/);
    expect(() => parseNapariMessage({ webmon_batch: [{ webmon_batch: [] }] })).toThrow(/batch inside a batch/);
    // Not a list: an ordinary message of that name.
    expect(parseNapariMessage({ webmon_batch: 5 })).toEqual([{ kind: 'unknown', name: 'webmon_batch', value: 5 }]);
  });

  it('builds commands', () => {
    expect(toNapariCommand('show_grid', false)).toEqual(samples.show_grid);
  });
});

describe('malformed napari data', () => {
  const base = committed.poll;
  const firstId = Object.keys(base.layers)[0]!;

  it.each([
    ['layers missing', (poll: any) => delete poll.layers, 'layers'],
    ['seen is not an array', (poll: any) => (poll.layers[firstId].tile_state.seen = 'all'), 'seen'],
    ['a tile index is negative', (poll: any) => (poll.layers[firstId].tile_state.seen[0] = [-1, 0]), 'seen'],
    ['a tile index is fractional', (poll: any) => (poll.layers[firstId].tile_state.seen[0] = [1.5, 0]), 'seen'],
    ['a tile index has three entries', (poll: any) => (poll.layers[firstId].tile_state.seen[0] = [1, 2, 3]), 'seen'],
    ['corners are NaN', (poll: any) => (poll.layers[firstId].tile_state.corners[0][0] = Number.NaN), 'corners'],
    ['corners are Infinity', (poll: any) => (poll.layers[firstId].tile_state.corners[1][1] = Number.POSITIVE_INFINITY), 'corners'],
    ['corners missing', (poll: any) => delete poll.layers[firstId].tile_state.corners, 'corners'],
    ['tile_size zero', (poll: any) => (poll.layers[firstId].tile_config.tile_size = 0), 'tile_size'],
    ['tile_size a string', (poll: any) => (poll.layers[firstId].tile_config.tile_size = '256'), 'tile_size'],
    ['base_shape of one dim', (poll: any) => (poll.layers[firstId].tile_config.base_shape = [5]), 'base_shape'],
    ['level_index missing', (poll: any) => delete poll.layers[firstId].tile_config.level_index, 'level_index'],
    [
      'seen oversized',
      (poll: any) => (poll.layers[firstId].tile_state.seen = Array.from({ length: NapariLimits.maxSeenTiles + 1 }, () => [0, 0])),
      'seen',
    ],
  ])('%s → INVALID_MESSAGE', (_name, mutate, path) => {
    const poll = clone(base);
    mutate(poll);
    expectProtocolError(() => parsePoll(poll), 'PROTOCOL_INVALID_MESSAGE', path);
  });

  it('rejects non-dict polls', () => {
    for (const value of [null, 42, 'poll', [], undefined]) expectProtocolError(() => parsePoll(value), 'PROTOCOL_INVALID_MESSAGE');
  });

  it.each([
    ['not a dict', [1, 2], undefined],
    ['frame_time without delta_ms', { frame_time: { time: 1 } }, 'frame_time.delta_ms'],
    ['frame_time with NaN', { frame_time: { time: Number.NaN, delta_ms: 1 } }, 'frame_time'],
    ['negative delta_ms', { frame_time: { time: 1, delta_ms: -3 } }, 'frame_time.delta_ms'],
    ['load_chunk with fractional bytes', { load_chunk: { time: 1, num_bytes: 1.5, load_ms: 1 } }, 'load_chunk.num_bytes'],
    ['load_chunk with a string', { load_chunk: { time: 1, num_bytes: '9', load_ms: 1 } }, 'load_chunk.num_bytes'],
  ])('message %s → INVALID_MESSAGE', (_name, value, path) => {
    expectProtocolError(() => parseNapariMessage(value), 'PROTOCOL_INVALID_MESSAGE', path);
  });

  it.each([
    ['show_grid with a string', 'show_grid', 'yes'],
    ['a name that is not an identifier', 'rm -rf', true],
    ['a dunder-free but too long name', 'x'.repeat(65), 1],
    ['a dunder (napari would call it: getattr(self, name)(args))', '__init__', null],
    ['a private name', '_show_grid', true],
  ])('command %s → INVALID_MESSAGE', (_name, name, args) => {
    expectProtocolError(() => toNapariCommand(name, args), 'PROTOCOL_INVALID_MESSAGE');
  });

  it('accepts a general command with any JSON argument', () => {
    expect(toNapariCommand('set_level', { level: 2 })).toEqual({ set_level: { level: 2 } });
  });
});
