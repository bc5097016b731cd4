import { float16Bits, type FrameView } from '@webmon/protocol';
import { describe, expect, it } from 'vitest';
import { ImageViewErrorCode } from '../src/errors.js';
import { sampleValues, texelsOf, texelValue, toFloat32 } from '../src/texels.js';

const codedView = (dtype: 'uint8' | 'uint16', scale: number, offset: number): FrameView => ({
  request: { maxShape: [2, 2], dtype },
  source: { shape: [2, 2], dtype: 'float32' },
  region: { y0: 0, x0: 0, y1: 2, x1: 2 },
  step: 1,
  scale,
  offset,
});

describe('texels of a frame', () => {
  it('keeps float32, float16 bits and uint codes in their own form, with the view\'s scale, offset and NaN code', () => {
    const f32 = new Float32Array([0, 0.5, 1, Number.NaN]);
    expect(texelsOf({ data: f32, shape: [2, 2], dtype: 'float32' })).toMatchObject({ format: 'float32', data: f32, width: 2, height: 2 });
    const half = new Uint16Array([0, 0.5, 1, Number.NaN].map(float16Bits));
    const f16 = texelsOf({ data: half, shape: [2, 2, 1], dtype: 'float16' });
    expect(f16.format).toBe('float16');
    expect(toFloat32(f16).data).toEqual(new Float32Array([0, 0.5, 1, Number.NaN]));
    const u8 = texelsOf({ data: new Uint8Array([0, 127, 254, 255]), shape: [2, 2], dtype: 'uint8', view: codedView('uint8', 0.5, -1) });
    expect(u8).toMatchObject({ format: 'uint8', scale: 0.5, offset: -1, nanCode: 255 });
    expect([0, 1, 2, 3].map((i) => texelValue(u8, i))).toEqual([-1, 62.5, 126, Number.NaN]);
    const u16 = texelsOf({ data: new Uint16Array([0, 1, 65534, 65535]), shape: [2, 2], dtype: 'uint16', view: codedView('uint16', 2, 10) });
    expect([...toFloat32(u16).data]).toEqual([10, 12, 131078, Number.NaN]);
  });

  it('reads a whole uint frame\'s codes as its values (no NaN code) and other dtypes back to float32', () => {
    const whole = texelsOf({ data: new Uint8Array([0, 255, 3, 4]), shape: [2, 2], dtype: 'uint8' });
    expect(whole).toMatchObject({ format: 'uint8', scale: 1, offset: 0, nanCode: -1 });
    expect([...toFloat32(whole).data]).toEqual([0, 255, 3, 4]);
    const int16 = texelsOf({ data: new Int16Array([-3, 0, 7, 9]), shape: [2, 2], dtype: 'int16' });
    expect(int16.format).toBe('float32');
    expect([...int16.data]).toEqual([-3, 0, 7, 9]);
  });

  it('refuses what it cannot draw with IMAGE_VIEW_INVALID_FRAME', () => {
    const bad = [
      { data: new Float32Array(8), shape: [2, 2, 2], dtype: 'float32' as const },
      { data: new Float32Array(3), shape: [2, 2], dtype: 'float32' as const },
      { data: new Float32Array(4), shape: [4], dtype: 'float32' as const },
      { data: new Float32Array(8), shape: [2, 2], dtype: 'complex64' as const },
    ];
    for (const frame of bad) expect(() => texelsOf(frame)).toThrow(expect.objectContaining({ code: ImageViewErrorCode.INVALID_FRAME }));
  });

  it('samples evenly strided values', () => {
    const texels = texelsOf({ data: new Float32Array(100).map((_, i) => i), shape: [10, 10], dtype: 'float32' });
    expect([...sampleValues(texels, 10)]).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(sampleValues(texels).length).toBe(100);
  });
});
