import { describe, expect, it } from 'vitest';
import { imageSize } from '../src/texels.js';
import { LUT_SIZE, autoContrast, colormapFromMeta, colormapLut, contrastFromMeta, normalize, renderToRgba } from '../src/colormap.js';

describe('colormapLut', () => {
  it('runs from the first to the last control point of each map', () => {
    const viridis = colormapLut('viridis');
    expect(viridis.length).toBe(LUT_SIZE * 4);
    expect([...viridis.subarray(0, 4)]).toEqual([68, 1, 84, 255]);
    expect([...viridis.subarray((LUT_SIZE - 1) * 4)]).toEqual([253, 231, 37, 255]);
    const gray = colormapLut('gray');
    for (let i = 0; i < LUT_SIZE; i++) expect([gray[i * 4], gray[i * 4 + 1], gray[i * 4 + 2]]).toEqual([i, i, i]);
  });

  it('interpolates between control points (viridis at 0.5 is its middle point)', () => {
    const viridis = colormapLut('viridis');
    // Entry 127.5 is t = 0.5; entries 127 and 128 straddle it.
    const mid = [0, 1, 2].map((c) => (viridis[127 * 4 + c]! + viridis[128 * 4 + c]!) / 2);
    expect(mid[0]).toBeCloseTo(33, 0);
    expect(mid[1]).toBeCloseTo(144, 0);
    expect(mid[2]).toBeCloseTo(141, 0);
  });
});

describe('normalize', () => {
  it('maps the contrast limits to 0 and 1 and clamps outside', () => {
    expect(normalize(2, [2, 6])).toBe(0);
    expect(normalize(4, [2, 6])).toBe(0.5);
    expect(normalize(6, [2, 6])).toBe(1);
    expect(normalize(-10, [2, 6])).toBe(0);
    expect(normalize(99, [2, 6])).toBe(1);
  });

  it('handles NaN and equal limits', () => {
    expect(normalize(Number.NaN, [0, 1])).toBe(0);
    expect(normalize(3, [3, 3])).toBe(1);
    expect(normalize(2.9, [3, 3])).toBe(0);
  });
});

describe('contrast and colour map from metadata', () => {
  it('reads napari-style contrast_limits and colormap', () => {
    expect(contrastFromMeta({ contrast_limits: [0, 1.2] })).toEqual([0, 1.2]);
    expect(colormapFromMeta({ colormap: 'magma' })).toBe('magma');
  });

  it('refuses what is not two ordered finite numbers, or an unknown map', () => {
    for (const meta of [null, 1, {}, { contrast_limits: [1] }, { contrast_limits: [2, 1] }, { contrast_limits: ['0', 1] }, { contrast_limits: [0, Infinity] }]) {
      expect(contrastFromMeta(meta)).toBeUndefined();
    }
    expect(colormapFromMeta({ colormap: 'jet' })).toBeUndefined();
    expect(colormapFromMeta(null)).toBeUndefined();
  });
});

describe('autoContrast', () => {
  it('takes the 0.5–99.5 percentile range, ignoring outliers and non-finite values', () => {
    const data = new Float32Array(10_000);
    for (let i = 0; i < data.length; i++) data[i] = i / data.length;
    data[0] = -1000;
    data[1] = Number.NaN;
    data[2] = Infinity;
    data[9_999] = 1000;
    const [low, high] = autoContrast(data);
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThan(0.01);
    expect(high).toBeGreaterThan(0.99);
    expect(high).toBeLessThan(1);
  });

  it('falls back to [0, 1] without finite values', () => {
    expect(autoContrast(new Float32Array([Number.NaN, Number.NaN]))).toEqual([0, 1]);
    expect(autoContrast(new Float32Array(0))).toEqual([0, 1]);
  });
});

describe('renderToRgba', () => {
  it('colours each value through the limits and the table, NaN as the lowest colour', () => {
    const lut = colormapLut('gray');
    const out = new Uint8ClampedArray(5 * 4);
    renderToRgba(new Float32Array([10, 15, 20, 100, Number.NaN]), [10, 20], lut, out);
    expect([...out]).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255]);
  });

  it('agrees with normalize() for every value (the shader uses the same rule)', () => {
    const lut = colormapLut('gray');
    const values = new Float32Array(1000).map((_, i) => -1 + (i / 999) * 3);
    const out = renderToRgba(values, [0, 1], lut, new Uint8ClampedArray(values.length * 4));
    for (let i = 0; i < values.length; i++) expect(out[i * 4]).toBe(Math.round(normalize(values[i]!, [0, 1]) * 255));
  });
});

describe('imageSize', () => {
  it('accepts [rows, cols] and [rows, cols, 1]', () => {
    expect(imageSize([768, 1024])).toEqual({ width: 1024, height: 768 });
    expect(imageSize([4, 8, 1])).toEqual({ width: 8, height: 4 });
  });

  it('refuses other shapes', () => {
    for (const shape of [[], [5], [4, 8, 3], [0, 8], [2, 2, 2, 2]]) expect(imageSize(shape)).toBeUndefined();
  });
});
