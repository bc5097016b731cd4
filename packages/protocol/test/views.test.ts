import { describe, expect, it } from 'vitest';
import {
  ArrayViewSchema,
  canonicalView,
  decodeFrame,
  encodeFrame,
  float16Bits,
  float16Value,
  frameValues,
  viewKey,
  type FrameView,
} from '../src/index.js';
import { codeOf, random } from './helpers.js';

/** float16 by its definition, with Math.pow: the reference the bit-twiddling is held to. */
function referenceValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * fraction * Math.pow(2, -24);
  return sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15);
}

describe('float16', () => {
  it('reads every one of the 65 536 bit patterns as its definition says', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16Value(bits);
      const expected = referenceValue(bits);
      if (Number.isNaN(expected)) expect(value).toBeNaN();
      else expect(Object.is(value, expected), `0x${bits.toString(16)}`).toBe(true);
    }
  });

  it('writes every float16 value back to its own bits (−0 included); NaN stays NaN', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16Value(bits);
      if (Number.isNaN(value)) expect(Number.isNaN(float16Value(float16Bits(value)))).toBe(true);
      else expect(float16Bits(value), `0x${bits.toString(16)}`).toBe(bits);
    }
  });

  it('rounds to the nearest float16, ties to even, over random float32 values of every magnitude', () => {
    // Reference: a search over the sorted non-negative finite float16 values.
    const finite = Array.from({ length: 0x7c00 }, (_, bits) => referenceValue(bits));
    const nearest = (x: number): number => {
      const magnitude = Math.abs(x);
      if (magnitude >= 65520) return x < 0 ? 0xfc00 : 0x7c00; // 65520 = halfway from the largest (65504) to 2^16: rounds up to Infinity
      let lo = 0;
      let hi = finite.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (finite[mid]! <= magnitude) lo = mid;
        else hi = mid;
      }
      const below = finite[lo]!;
      const above = finite[hi]!;
      let pick = magnitude - below < above - magnitude ? lo : above - magnitude < magnitude - below ? hi : lo % 2 === 0 ? lo : hi;
      if (magnitude <= below) pick = lo;
      return (x < 0 || Object.is(x, -0) ? 0x8000 : 0) | pick;
    };
    const next = random(16);
    for (let i = 0; i < 200_000; i++) {
      // Spread over exponents −30 … 17 (subnormals, normals, overflow), both signs, float32 values.
      const x = Math.fround((next() < 0.5 ? -1 : 1) * (1 + next()) * 2 ** Math.floor(next() * 48 - 30));
      expect(float16Bits(x), String(x)).toBe(nearest(x));
    }
    // Exact halfway cases go to the even neighbour.
    expect(float16Bits(1 + 2 ** -11)).toBe(float16Bits(1));
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(float16Bits(1 + 2 ** -9));
    expect(float16Bits(2 ** -25)).toBe(0);
    expect(float16Bits(3 * 2 ** -25)).toBe(2);
  });
});

describe('array views', () => {
  it('gives equal views equal keys: defaults filled in, key order ignored', () => {
    expect(viewKey({ maxShape: [800, 600] })).toBe(viewKey({ dtype: 'float32', maxShape: [800, 600] }));
    const region = { y0: 1, x0: 2, y1: 30, x1: 40 };
    expect(viewKey({ maxShape: [8, 8], region, dtype: 'uint8' })).toBe(viewKey({ dtype: 'uint8', region: { x1: 40, y1: 30, x0: 2, y0: 1 }, maxShape: [8, 8] }));
    const keys = new Set([
      viewKey({ maxShape: [8, 8] }),
      viewKey({ maxShape: [8, 9] }),
      viewKey({ maxShape: [9, 8] }),
      viewKey({ maxShape: [8, 8], dtype: 'float16' }),
      viewKey({ maxShape: [8, 8], region }),
      viewKey({ maxShape: [8, 8], region: { ...region, x1: 41 } }),
    ]);
    expect(keys.size).toBe(6);
    expect(canonicalView({ maxShape: [8, 8] })).toEqual({ maxShape: [8, 8], dtype: 'float32' });
  });

  it('(1.4) keys and echoes area views apart from block views, and leaves block views as 1.3 had them', () => {
    expect(viewKey({ maxShape: [8, 8], resample: 'area' })).not.toBe(viewKey({ maxShape: [8, 8] }));
    // `block` is the default: the same view, the same key and echo as a 1.3 view (a 1.3 page reads it unchanged).
    expect(viewKey({ maxShape: [8, 8], resample: 'block' })).toBe(viewKey({ maxShape: [8, 8] }));
    expect(viewKey({ maxShape: [8, 8] })).toBe('8x8/all/float32');
    expect(canonicalView({ maxShape: [8, 8], resample: 'block' })).toEqual({ maxShape: [8, 8], dtype: 'float32' });
    expect(canonicalView({ maxShape: [8, 8], resample: 'area' })).toEqual({ maxShape: [8, 8], dtype: 'float32', resample: 'area' });
    expect(ArrayViewSchema.safeParse({ maxShape: [8, 8], resample: 'nearest' }).success).toBe(false);
    // A frame says when it was resampled by area; a header with another word is refused.
    const data = Float32Array.of(1, 2, 3, 4);
    const area = view({ request: { maxShape: [2, 2], dtype: 'float32', resample: 'area' }, region: { y0: 0, x0: 0, y1: 3, x1: 3 }, resample: 'area' });
    expect(decodeFrame(encodeFrame({ topic: 'image', seq: 1, time: 1, dtype: 'float32', shape: [2, 2], view: area }, data)).view).toEqual(area);
    const wrong = { ...area, resample: 'block' } as unknown as FrameView;
    expect(codeOf(() => encodeFrame({ topic: 'image', seq: 1, time: 1, dtype: 'float32', shape: [2, 2], view: wrong }, data))).toBe('PROTOCOL_UNENCODABLE');
  });

  it('bounds a view: positive edges up to 16 384, a non-empty region of non-negative integers', () => {
    expect(ArrayViewSchema.safeParse({ maxShape: [16_384, 1] }).success).toBe(true);
    expect(ArrayViewSchema.safeParse({ maxShape: [16_385, 1] }).success).toBe(false);
    expect(ArrayViewSchema.safeParse({ maxShape: [1, 1], region: { y0: 0, x0: 0, y1: 1, x1: 1 } }).success).toBe(true);
    expect(ArrayViewSchema.safeParse({ maxShape: [1, 1], region: { y0: 0, x0: 2, y1: 1, x1: 1 } }).success).toBe(false);
  });

  const view = (extra: Partial<FrameView> = {}): FrameView => ({
    request: { maxShape: [2, 2], dtype: 'float32' },
    source: { shape: [4, 4], dtype: 'float32' },
    region: { y0: 0, x0: 0, y1: 4, x1: 4 },
    step: 2,
    ...extra,
  });

  it('carries a view in the frame header, and refuses a view frame whose dtype or scale does not fit', () => {
    const data = Float32Array.of(1, 2, 3, 4);
    const frame = decodeFrame(encodeFrame({ topic: 'image', seq: 1, time: 1, dtype: 'float32', shape: [2, 2], view: view() }, data));
    expect(frame.view).toEqual(view());
    expect(codeOf(() => encodeFrame({ topic: 'image', seq: 1, time: 1, dtype: 'float16', shape: [2, 2], view: view() }, new Uint16Array(4)))).toBe('PROTOCOL_UNENCODABLE');
    const integer = view({ request: { maxShape: [2, 2], dtype: 'uint8' } });
    expect(codeOf(() => encodeFrame({ topic: 'image', seq: 1, time: 1, dtype: 'uint8', shape: [2, 2], view: integer }, new Uint8Array(4)))).toBe('PROTOCOL_UNENCODABLE');
    const scaled = { ...integer, scale: 0.5, offset: -1 };
    expect(decodeFrame(encodeFrame({ topic: 'image', seq: 1, time: 1, dtype: 'uint8', shape: [2, 2], view: scaled }, new Uint8Array(4))).view).toEqual(scaled);
  });

  it('reads values back from any view dtype: float16 bits, uint8/uint16 codes with scale, offset and the NaN code', () => {
    expect(Array.from(frameValues({ dtype: 'float32', data: Float32Array.of(1.5, NaN) })!)).toEqual([1.5, NaN]);
    const half = Uint16Array.from([0.5, -2, 65504, Infinity].map(float16Bits));
    expect(Array.from(frameValues({ dtype: 'float16', data: half })!)).toEqual([0.5, -2, 65504, Infinity]);
    const codes = Uint8Array.of(0, 127, 254, 255);
    const values = frameValues({ dtype: 'uint8', data: codes, view: view({ request: { maxShape: [2, 2], dtype: 'uint8' }, scale: 2, offset: -10 }) })!;
    expect(Array.from(values)).toEqual([-10, 244, 498, NaN]);
    const wide = frameValues({ dtype: 'uint16', data: Uint16Array.of(0, 65534, 65535), view: view({ request: { maxShape: [2, 2], dtype: 'uint16' }, scale: 0.25, offset: 1 }) })!;
    expect(Array.from(wide)).toEqual([1, 16384.5, NaN]);
    // Whole frames of other dtypes are converted; complex and record frames have no one value.
    expect(Array.from(frameValues({ dtype: 'int16', data: Int16Array.of(-3, 7) })!)).toEqual([-3, 7]);
    expect(Array.from(frameValues({ dtype: 'int64', data: BigInt64Array.of(-3n, 2n ** 40n) })!)).toEqual([-3, 2 ** 40]);
    expect(frameValues({ dtype: 'complex64', data: new Float32Array(4) })).toBeUndefined();
    // Into a caller's buffer: no allocation.
    const out = new Float32Array(8);
    expect(frameValues({ dtype: 'int8', data: Int8Array.of(1, -1) }, out)).toBe(out);
    expect(Array.from(out.subarray(0, 2))).toEqual([1, -1]);
  });
});
