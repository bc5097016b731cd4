import { parseNapariMessage } from '@webmon/napari';
import { describe, expect, it } from 'vitest';
import { toLoaderSample } from '../src/core/messages.js';
import { LoaderChartsError } from '../src/errors.js';

describe('toLoaderSample', () => {
  it('accepts the tagged events parseNapariMessage produces, in ms', () => {
    const [frame] = parseNapariMessage({ frame_time: { time: 1_700_000_000.5, delta_ms: 16.7 } });
    const [load] = parseNapariMessage({ load_chunk: { time: 1_700_000_001.25, num_bytes: 65_536, load_ms: 3.5 } });
    expect(toLoaderSample(frame)).toEqual({ kind: 'frame_time', timeMs: 1_700_000_000_500, deltaMs: 16.7 });
    expect(toLoaderSample(load)).toEqual({ kind: 'load_chunk', timeMs: 1_700_000_001_250, loadMs: 3.5, numBytes: 65_536 });
  });

  it('accepts bare FrameTime and LoadChunk values, told apart by their fields', () => {
    expect(toLoaderSample({ time: 2, delta_ms: 5 })).toEqual({ kind: 'frame_time', timeMs: 2_000, deltaMs: 5 });
    expect(toLoaderSample({ time: 3, num_bytes: 10, load_ms: 1 })).toEqual({ kind: 'load_chunk', timeMs: 3_000, loadMs: 1, numBytes: 10 });
  });

  it('skips unknown napari events', () => {
    const [other] = parseNapariMessage({ some_plugin_message: { x: 1 } });
    expect(toLoaderSample(other)).toBeNull();
  });

  it.each([
    ['null', null],
    ['a number', 5],
    ['an array', [1, 2]],
    ['a frame with NaN time', { time: Number.NaN, delta_ms: 1 }],
    ['a frame with negative delta', { time: 1, delta_ms: -1 }],
    ['a load without num_bytes', { time: 1, load_ms: 1 }],
    ['a load with string bytes', { time: 1, load_ms: 1, num_bytes: '10' }],
    ['an event of unknown kind', { kind: 'mystery', data: {} }],
    ['an event without data', { kind: 'frame_time' }],
    ['an object of neither kind', { time: 1 }],
  ])('rejects %s with INVALID_MESSAGE', (_name, value) => {
    let caught: unknown;
    try {
      toLoaderSample(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LoaderChartsError);
    expect((caught as LoaderChartsError).code).toBe('LOADER_CHARTS_INVALID_MESSAGE');
  });
});
