import { describe, expect, it } from 'vitest';
import { float16Bits, frameValues, type FrameView } from '@webmon/protocol';
import { placementOf, valuesOf } from '../src/view-data.js';

const view = (extra: Partial<FrameView>): FrameView => ({
  request: { maxShape: [2, 2], dtype: 'float32' },
  source: { shape: [10, 20], dtype: 'float32' },
  region: { y0: 2, x0: 4, y1: 6, x1: 8 },
  step: 2,
  ...extra,
});

describe('reading frames for drawing', () => {
  it('reads every float16 bit pattern as the protocol does (its own table keeps zod out of the page bundle)', () => {
    const bits = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    const mine = valuesOf({ dtype: 'float16', data: bits })!;
    const reference = frameValues({ dtype: 'float16', data: bits })!;
    for (let i = 0; i < 0x10000; i++) {
      if (Number.isNaN(reference[i])) expect(mine[i]).toBeNaN();
      else expect(Object.is(mine[i], reference[i]), `0x${i.toString(16)}`).toBe(true);
    }
    expect(Array.from(valuesOf({ dtype: 'float16', data: Uint16Array.from([0.25, -3, 1000].map(float16Bits)) })!)).toEqual([0.25, -3, 1000]);
  });

  it('reads uint8 and uint16 codes with scale, offset and the NaN code, as the protocol does', () => {
    for (const [dtype, codes] of [['uint8', Uint8Array.of(0, 1, 200, 254, 255)], ['uint16', Uint16Array.of(0, 1, 40_000, 65_534, 65_535)]] as const) {
      const frame = { dtype, data: codes, view: view({ request: { maxShape: [2, 2], dtype }, scale: 0.125, offset: -7 }) };
      const mine = Array.from(valuesOf(frame)!);
      expect(mine).toEqual(Array.from(frameValues(frame)!));
      expect(mine.at(-1)).toBeNaN();
      expect(mine[1]).toBe(-6.875);
    }
  });

  it('hands float32 over without a copy and converts other dtypes', () => {
    const floats = Float32Array.of(1, 2);
    expect(valuesOf({ dtype: 'float32', data: floats })).toBe(floats);
    expect(Array.from(valuesOf({ dtype: 'int16', data: Int16Array.of(-2, 9) })!)).toEqual([-2, 9]);
    expect(valuesOf({ dtype: 'complex64', data: new Float32Array(2) })).toBeUndefined();
  });

  it('places a view where its header says and a whole frame over all of the source', () => {
    expect(placementOf({ shape: [2, 2], view: view({}) })).toEqual({ rows: 10, cols: 20, region: { y0: 2, x0: 4, y1: 6, x1: 8 }, step: 2 });
    expect(placementOf({ shape: [30, 40] })).toEqual({ rows: 30, cols: 40, region: { y0: 0, x0: 0, y1: 30, x1: 40 }, step: 1 });
    expect(placementOf({ shape: [30] })).toBeUndefined();
  });
});
