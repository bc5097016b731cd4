/**
 * The view arithmetic against a plain reference written the obvious way (nested loops over output pixels,
 * values as JavaScript numbers, the step found by counting up): random arrays of every real dtype, odd
 * shapes, channels, regions inside, across and outside the array, and every view dtype.
 */
import { describe, expect, it } from 'vitest';
import { canonicalView, float16Bits, float16Value, type ArrayView, type NumericDType, type ViewDType } from '@webmon/protocol';
import { computeView, planView } from '../src/view-math.js';
import { random } from './helpers.js';

type RealDType = Exclude<NumericDType, 'complex64' | 'complex128'>;

/** Random values of `dtype` (with some NaN for floats), as the raw bytes a producer publishes and as numbers. */
function randomArray(dtype: RealDType, count: number, next: () => number, nans: boolean): { bytes: Uint8Array; values: number[] } {
  const values: number[] = [];
  const pick = (): number => {
    if (nans && dtype.startsWith('float') && next() < 0.02) return NaN;
    switch (dtype) {
      case 'bool': return next() < 0.5 ? 0 : 1;
      case 'int8': return Math.floor(next() * 256) - 128;
      case 'uint8': return Math.floor(next() * 256);
      case 'int16': return Math.floor(next() * 65536) - 32768;
      case 'uint16': return Math.floor(next() * 65536);
      case 'int32': return Math.floor(next() * 2 ** 32) - 2 ** 31;
      case 'uint32': return Math.floor(next() * 2 ** 32);
      case 'int64': return Math.floor((next() - 0.5) * 2 ** 52); // exact as a double
      case 'uint64': return Math.floor(next() * 2 ** 52);
      case 'float16': return float16Value(float16Bits((next() - 0.5) * 2000));
      case 'float32': return Math.fround((next() - 0.3) * 1e4);
      case 'float64': return (next() - 0.3) * 1e6;
    }
  };
  for (let i = 0; i < count; i++) values.push(pick());
  let typed: ArrayBufferView;
  switch (dtype) {
    case 'bool': typed = Uint8Array.from(values); break;
    case 'int8': typed = Int8Array.from(values); break;
    case 'uint8': typed = Uint8Array.from(values); break;
    case 'int16': typed = Int16Array.from(values); break;
    case 'uint16': typed = Uint16Array.from(values); break;
    case 'int32': typed = Int32Array.from(values); break;
    case 'uint32': typed = Uint32Array.from(values); break;
    case 'int64': typed = BigInt64Array.from(values, (value) => BigInt(value)); break;
    case 'uint64': typed = BigUint64Array.from(values, (value) => BigInt(value)); break;
    case 'float16': typed = Uint16Array.from(values, float16Bits); break;
    case 'float32': typed = Float32Array.from(values); break;
    case 'float64': typed = Float64Array.from(values); break;
  }
  return { bytes: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), values };
}

interface Reference {
  shape: number[];
  region: { y0: number; x0: number; y1: number; x1: number };
  step: number;
  resample: 'block' | 'area';
  means: number[];
}

/**
 * An area view by its definition, computed another way than the relay's: the output size from the scale
 * that fits (not the ratio that overflows), then for every view pixel every source pixel of the region,
 * weighted by the area of overlap of the two rectangles in floating point (the relay uses exact integer
 * weights per axis, separably), divided by the sum of the weights.
 */
function areaReference(values: number[], shape: number[], view: ArrayView, region: Reference['region']): Reference | undefined {
  const width = shape[1]!;
  const channels = shape.length === 3 ? shape[2]! : 1;
  const rows = region.y1 - region.y0;
  const cols = region.x1 - region.x0;
  const fit = Math.min(view.maxShape[0] / rows, view.maxShape[1] / cols);
  if (fit >= 1) return undefined; // it fits: the source's own pixels (step 1)
  const outRows = Math.min(view.maxShape[0], Math.max(1, Math.round(rows * fit)));
  const outCols = Math.min(view.maxShape[1], Math.max(1, Math.round(cols * fit)));
  const pixelRows = rows / outRows;
  const pixelCols = cols / outCols;
  if (Number.isInteger(pixelRows) && pixelRows === pixelCols) return undefined; // whole blocks
  const means: number[] = [];
  for (let r = 0; r < outRows; r++) {
    for (let c = 0; c < outCols; c++) {
      const top = r * pixelRows;
      const bottom = (r + 1) * pixelRows;
      const left = c * pixelCols;
      const right = (c + 1) * pixelCols;
      for (let k = 0; k < channels; k++) {
        let sum = 0;
        let weights = 0;
        for (let y = 0; y < rows; y++) {
          const overlapY = Math.min(bottom, y + 1) - Math.max(top, y);
          if (overlapY <= 1e-9) continue;
          for (let x = 0; x < cols; x++) {
            const overlapX = Math.min(right, x + 1) - Math.max(left, x);
            if (overlapX <= 1e-9) continue;
            sum += overlapY * overlapX * values[((region.y0 + y) * width + region.x0 + x) * channels + k]!;
            weights += overlapY * overlapX;
          }
        }
        means.push(sum / weights);
      }
    }
  }
  const step = Math.ceil(Math.max(pixelRows, pixelCols));
  return { shape: shape.length === 3 ? [outRows, outCols, channels] : [outRows, outCols], region, step, resample: 'area', means };
}

/** The view by its definition. */
function reference(values: number[], shape: number[], view: ArrayView): Reference {
  const [height, width] = shape as [number, number];
  const channels = shape.length === 3 ? shape[2]! : 1;
  let region = { y0: 0, x0: 0, y1: height, x1: width };
  if (view.region) {
    const clipped = { y0: Math.min(view.region.y0, height), x0: Math.min(view.region.x0, width), y1: Math.min(view.region.y1, height), x1: Math.min(view.region.x1, width) };
    if (clipped.y1 > clipped.y0 && clipped.x1 > clipped.x0) region = clipped;
  }
  if (view.resample === 'area') {
    const area = areaReference(values, shape, view, region);
    if (area !== undefined) return area;
  }
  const rows = region.y1 - region.y0;
  const cols = region.x1 - region.x0;
  let step = 1;
  while (Math.ceil(rows / step) > view.maxShape[0] || Math.ceil(cols / step) > view.maxShape[1]) step++;
  const outRows = Math.ceil(rows / step);
  const outCols = Math.ceil(cols / step);
  const means: number[] = [];
  for (let r = 0; r < outRows; r++) {
    for (let c = 0; c < outCols; c++) {
      for (let k = 0; k < channels; k++) {
        let sum = 0;
        let count = 0;
        for (let y = region.y0 + r * step; y < Math.min(region.y0 + (r + 1) * step, region.y1); y++) {
          for (let x = region.x0 + c * step; x < Math.min(region.x0 + (c + 1) * step, region.x1); x++) {
            sum += values[(y * width + x) * channels + k]!;
            count++;
          }
        }
        means.push(sum / count);
      }
    }
  }
  return { shape: shape.length === 3 ? [outRows, outCols, channels] : [outRows, outCols], region, step, resample: 'block', means };
}

function check(dtype: RealDType, shape: number[], view: ArrayView, seed: number, options: { unaligned?: boolean; nans?: boolean } = {}): void {
  const next = random(seed);
  const count = shape.reduce((a, b) => a * b, 1);
  const { bytes: aligned, values } = randomArray(dtype, count, next, options.nans ?? true);
  let bytes = aligned;
  if (options.unaligned) {
    // A producer's buffer at an odd offset (a pooled Node Buffer): the math must not care.
    const padded = new Uint8Array(aligned.length + 1);
    padded.set(aligned, 1);
    bytes = padded.subarray(1);
  }
  const expected = reference(values, shape, view);
  const plan = planView(shape, dtype, 'C', canonicalView(view));
  const what = `${dtype} ${shape.join('x')} → ${JSON.stringify(view)} (seed ${seed})`;
  expect(plan, what).toBeDefined();
  expect(plan!.shape, what).toEqual(expected.shape);
  expect(plan!.region, what).toEqual(expected.region);
  expect(plan!.step, what).toBe(expected.step);
  expect(plan!.resample, what).toBe(expected.resample);
  const out: ViewDType = view.dtype ?? 'float32';
  const result = computeView(bytes, dtype, plan!, out);
  expect(result.data.length, what).toBe(expected.means.length);
  if (out === 'float32') {
    expect(result.data).toBeInstanceOf(Float32Array);
    expected.means.forEach((mean, i) => {
      const got = result.data[i]!;
      if (Number.isNaN(mean)) expect(got, `${what} [${i}]`).toBeNaN();
      else expect(Math.abs(got - Math.fround(mean)), `${what} [${i}]: ${got} vs ${mean}`).toBeLessThanOrEqual(Math.abs(mean) * 2 ** -23);
    });
  } else if (out === 'float16') {
    expect(result.data).toBeInstanceOf(Uint16Array);
    expected.means.forEach((mean, i) => {
      const got = result.data[i]!;
      if (Number.isNaN(mean)) expect(float16Value(got), `${what} [${i}]`).toBeNaN();
      // The nearest float16 of the mean; a sum in another order may land one float16 step away at a tie.
      else expect(Math.abs(got - float16Bits(mean)), `${what} [${i}]: ${float16Value(got)} vs ${mean}`).toBeLessThanOrEqual(1);
    });
  } else {
    const top = out === 'uint8' ? 254 : 65534;
    expect(result.data).toBeInstanceOf(out === 'uint8' ? Uint8Array : Uint16Array);
    const finite = expected.means.filter(Number.isFinite);
    const low = finite.length > 0 ? Math.min(...finite) : 0;
    const high = finite.length > 0 ? Math.max(...finite) : 0;
    const tolerance = (Math.abs(low) + Math.abs(high)) * 1e-12 + 1e-9;
    // Exact for blocks; an area mean summed in another order may differ in its last bits.
    expect(Math.abs(result.offset! - low), what).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(result.scale! * top - (high - low)), what).toBeLessThanOrEqual(tolerance);
    expected.means.forEach((mean, i) => {
      const code = result.data[i]!;
      if (Number.isNaN(mean)) expect(code, `${what} [${i}]`).toBe(top + 1);
      else {
        expect(code, `${what} [${i}]`).toBeLessThanOrEqual(top);
        // Read back, a code is within half a step of the mean.
        const value = code * result.scale! + result.offset!;
        expect(Math.abs(value - mean), `${what} [${i}]: ${value} vs ${mean}`).toBeLessThanOrEqual(result.scale! / 2 + Math.abs(mean) * 1e-12 + 1e-9);
      }
    });
  }
}

const REAL_DTYPES: RealDType[] = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64'];
const VIEW_DTYPES: ViewDType[] = ['float32', 'float16', 'uint8', 'uint16'];

describe('view arithmetic against the reference', () => {
  it.each(REAL_DTYPES)('reduces %s arrays of odd shapes to every view dtype', (dtype) => {
    let seed = dtype.length * 1000;
    for (const shape of [[1, 1], [7, 5], [33, 17], [64, 64], [5, 9, 2], [13, 11, 3], [10, 21, 4]]) {
      for (const maxShape of [[1, 1], [3, 4], [8, 8], [5, 1000], [1000, 1000]] as [number, number][]) {
        for (const out of VIEW_DTYPES) check(dtype, shape, { maxShape, dtype: out }, seed++);
      }
    }
  });

  it.each(VIEW_DTYPES)('crops to regions inside, across the edge of and outside a float32 array, into %s', (out) => {
    const next = random(99);
    let seed = 5000;
    for (const shape of [[40, 30], [23, 57], [31, 29, 3]]) {
      for (let i = 0; i < 40; i++) {
        const y0 = Math.floor(next() * shape[0]! * 1.2);
        const x0 = Math.floor(next() * shape[1]! * 1.2);
        const region = { y0, x0, y1: y0 + 1 + Math.floor(next() * shape[0]!), x1: x0 + 1 + Math.floor(next() * shape[1]!) };
        const maxShape: [number, number] = [1 + Math.floor(next() * 20), 1 + Math.floor(next() * 20)];
        check('float32', shape, { maxShape, region, dtype: out }, seed++);
      }
    }
  });

  it.each(VIEW_DTYPES)('resamples by area (protocol 1.4) seeded arrays with NaNs of every real dtype into %s', (out) => {
    let seed = 20_000;
    for (const dtype of REAL_DTYPES) {
      for (const shape of [[7, 5], [33, 17], [64, 64], [50, 40], [13, 11, 3], [10, 21, 4]]) {
        for (const maxShape of [[1, 1], [3, 4], [5, 5], [8, 8], [25, 1000], [16, 30], [1000, 1000]] as [number, number][]) {
          check(dtype, shape, { maxShape, dtype: out, resample: 'area' }, seed++);
        }
      }
    }
  });

  it('resamples regions by area: inside, across the edge, outside, and whole multiples (blocks)', () => {
    const next = random(77);
    let seed = 30_000;
    for (const shape of [[40, 30], [23, 57], [31, 29, 3]]) {
      for (let i = 0; i < 40; i++) {
        const y0 = Math.floor(next() * shape[0]! * 1.2);
        const x0 = Math.floor(next() * shape[1]! * 1.2);
        const region = { y0, x0, y1: y0 + 1 + Math.floor(next() * shape[0]!), x1: x0 + 1 + Math.floor(next() * shape[1]!) };
        const maxShape: [number, number] = [1 + Math.floor(next() * 20), 1 + Math.floor(next() * 20)];
        check('float32', shape, { maxShape, region, resample: 'area' }, seed++);
      }
    }
    // 1024 rows on 800 pixels: 800 of them, not 512 (the 1.3 step would be 2).
    expect(planView([1024, 1024], 'float32', 'C', canonicalView({ maxShape: [800, 800], resample: 'area' }))).toMatchObject({ resample: 'area', shape: [800, 800], step: 2 });
    expect(planView([1024, 1024], 'float32', 'C', canonicalView({ maxShape: [800, 800] }))).toMatchObject({ resample: 'block', shape: [512, 512], step: 2 });
    // A whole ratio is a block view, described by its step as in 1.3.
    expect(planView([1024, 512], 'float32', 'C', canonicalView({ maxShape: [256, 256], resample: 'area' }))).toMatchObject({ resample: 'block', shape: [256, 128], step: 4 });
  });

  it('resamples by phase where the pixel pattern repeats (1024 → 800 is 32 → 25 over and over), NaNs', () => {
    let seed = 40_000;
    // Not the signed integers: where their values cancel, the mean is exactly 0 (the relay's weights are
    // whole numbers) and the reference's floating-point overlaps leave ~1e-14, beyond a float32 step of 0.
    // After conversion to float64 every dtype takes the same path.
    for (const dtype of REAL_DTYPES.filter((each) => !/^int/.test(each))) {
      // 128 → 100 columns: 25 phases of 2 or 3 source columns; 96 → 75: the same 25 phases, 3 pixels each
      // (an odd count: the loops take two a turn); 64 → 48: 3 phases; 53 → 9 blocks of 6, the last of 5;
      // 22 → 11 blocks of 2 and 27 → 9 blocks of 3 (odd counts again).
      for (const [shape, maxShape] of [[[8, 128], [100, 100]], [[8, 96], [75, 75]], [[9, 64], [48, 48]], [[7, 53], [10, 10]], [[12, 40], [6, 10]], [[6, 22], [11, 11]], [[6, 27], [9, 9]]] as [number[], [number, number]][]) {
        for (const out of VIEW_DTYPES) {
          check(dtype, shape, { maxShape, dtype: out, resample: 'area' }, seed++);
          check(dtype, shape, { maxShape, dtype: out }, seed++);
        }
      }
    }
  });

  it('keeps ±Infinity to the pixels that cover it: +Infinity alone → +Infinity, with −Infinity → NaN, the rest finite', () => {
    // [9, 64] → 48 columns goes by phase; [33, 17] → 4 columns, and 3 channels, by padded taps.
    for (const [shape, maxShape] of [[[9, 64], [48, 48]], [[33, 17], [8, 8]], [[13, 11, 3], [5, 5]]] as [number[], [number, number]][]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const plan = planView(shape, 'float32', 'C', canonicalView({ maxShape, resample: 'area' }))!;
      const width = shape[1]!;
      const channels = shape[2] ?? 1;
      for (const [at, other] of [[5 * width * channels + 7 * channels, undefined], [2 * width * channels, 2 * width * channels + channels]] as [number, number | undefined][]) {
        const values = new Float32Array(count).map((_, i) => (i % 7) - 3);
        values[at] = Infinity;
        if (other !== undefined) values[other] = -Infinity;
        const view = computeView(new Uint8Array(values.buffer), 'float32', plan, 'float32').data as Float32Array;
        // The view pixels whose area reaches the source pixel: by the plan's pixel edges, in floating point.
        const [outRows, outCols] = plan.shape as [number, number];
        const rows = plan.region.y1 - plan.region.y0;
        const cols = plan.region.x1 - plan.region.x0;
        const reaches = (index: number, r: number, c: number): boolean => {
          const y = Math.floor(index / channels / width);
          const x = Math.floor(index / channels) % width;
          return y + 1 > (r * rows) / outRows && y < ((r + 1) * rows) / outRows && x + 1 > (c * cols) / outCols && x < ((c + 1) * cols) / outCols;
        };
        const what = `${shape.join('x')} → ${plan.shape.join('x')}, ±∞ at ${at}/${other}`;
        for (let r = 0; r < outRows; r++) {
          for (let c = 0; c < outCols; c++) {
            const got = view[(r * outCols + c) * channels + (at % channels)]!;
            const plus = reaches(at, r, c);
            const minus = other !== undefined && reaches(other, r, c);
            if (plus && minus) expect(got, `${what} (${r}, ${c})`).toBeNaN();
            else if (plus) expect(got, `${what} (${r}, ${c})`).toBe(Infinity);
            else if (minus) expect(got, `${what} (${r}, ${c})`).toBe(-Infinity);
            else expect(Number.isFinite(got), `${what} (${r}, ${c}): ${got}`).toBe(true);
          }
        }
      }
    }
  });

  it('reads a source buffer at an unaligned offset', () => {
    for (const dtype of ['float32', 'float64', 'int16', 'uint64', 'float16'] as RealDType[]) {
      check(dtype, [9, 14], { maxShape: [4, 4] }, 7, { unaligned: true });
      check(dtype, [9, 14], { maxShape: [40, 40], region: { y0: 2, x0: 3, y1: 8, x1: 11 } }, 8, { unaligned: true });
    }
  });

  it('shows full resolution once the region fits the view: the step is 1 and the values are the source values', () => {
    const source = Float32Array.from({ length: 64 * 48 }, (_, i) => i * 0.5);
    const bytes = new Uint8Array(source.buffer);
    const plan = planView([64, 48], 'float32', 'C', canonicalView({ maxShape: [20, 20], region: { y0: 10, x0: 4, y1: 30, x1: 24 } }))!;
    expect(plan).toMatchObject({ step: 1, shape: [20, 20], region: { y0: 10, x0: 4, y1: 30, x1: 24 } });
    const view = computeView(bytes, 'float32', plan, 'float32').data as Float32Array;
    for (let r = 0; r < 20; r++) for (let c = 0; c < 20; c++) expect(view[r * 20 + c]).toBe(source[(10 + r) * 48 + 4 + c]);
    // One pixel more than fits: step 2, the view halves.
    expect(planView([64, 48], 'float32', 'C', canonicalView({ maxShape: [20, 20], region: { y0: 10, x0: 4, y1: 31, x1: 24 } }))).toMatchObject({ step: 2, shape: [11, 10] });
  });

  it('maps ±Infinity to the end codes and keeps an all-NaN view readable', () => {
    const values = Float32Array.of(1, 2, Infinity, -Infinity, 3, NaN);
    const plan = planView([2, 3], 'float32', 'C', canonicalView({ maxShape: [2, 3], dtype: 'uint8' }))!;
    const result = computeView(new Uint8Array(values.buffer), 'float32', plan, 'uint8');
    expect(Array.from(result.data)).toEqual([0, 127, 254, 0, 254, 255]);
    expect(result).toMatchObject({ offset: 1, scale: 2 / 254 });
    const nans = Float32Array.of(NaN, NaN);
    const none = computeView(new Uint8Array(nans.buffer), 'float32', planView([1, 2], 'float32', 'C', canonicalView({ maxShape: [1, 2], dtype: 'uint16' }))!, 'uint16');
    expect(Array.from(none.data)).toEqual([65535, 65535]);
    expect(none).toMatchObject({ scale: 0, offset: 0 });
  });

  it('sends arrays that are not images whole: 1-D, 4-D, five channels, Fortran order, complex, empty', () => {
    const view = canonicalView({ maxShape: [8, 8] });
    expect(planView([100], 'float32', 'C', view)).toBeUndefined();
    expect(planView([2, 3, 4, 5], 'float32', 'C', view)).toBeUndefined();
    expect(planView([20, 20, 5], 'float32', 'C', view)).toBeUndefined();
    expect(planView([20, 20], 'float32', 'F', view)).toBeUndefined();
    expect(planView([20, 20], 'complex64', 'C', view)).toBeUndefined();
    expect(planView([0, 20], 'float32', 'C', view)).toBeUndefined();
    expect(planView([20, 20], 'record', 'C', view)).toBeUndefined();
    expect(planView([20, 20, 4], 'uint8', 'C', view)).toMatchObject({ shape: [7, 7, 4], step: 3 });
  });
});
