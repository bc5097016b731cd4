/**
 * Colour maps and contrast limits, without the DOM: the WebGL shader and the canvas fallback both use
 * these tables and rules, and the unit tests check them.
 */

export type ColormapName = 'viridis' | 'magma' | 'gray';
export const COLORMAP_NAMES: readonly ColormapName[] = ['viridis', 'magma', 'gray'];

/** Control points (position 0–1, r, g, b 0–255), sampled from matplotlib's maps at 9 positions. */
const CONTROL_POINTS: Record<ColormapName, readonly (readonly [number, number, number, number])[]> = {
  viridis: [
    [0.0, 68, 1, 84],
    [0.125, 71, 44, 122],
    [0.25, 59, 81, 139],
    [0.375, 44, 113, 142],
    [0.5, 33, 144, 141],
    [0.625, 39, 173, 129],
    [0.75, 92, 200, 99],
    [0.875, 170, 220, 50],
    [1.0, 253, 231, 37],
  ],
  magma: [
    [0.0, 0, 0, 4],
    [0.125, 28, 16, 68],
    [0.25, 79, 18, 123],
    [0.375, 129, 37, 129],
    [0.5, 181, 54, 122],
    [0.625, 229, 80, 100],
    [0.75, 251, 135, 97],
    [0.875, 254, 194, 135],
    [1.0, 252, 253, 191],
  ],
  gray: [
    [0.0, 0, 0, 0],
    [1.0, 255, 255, 255],
  ],
};

export const LUT_SIZE = 256;

/** A 256-entry RGBA lookup table (linear interpolation between the control points). */
export function colormapLut(name: ColormapName): Uint8Array {
  const points = CONTROL_POINTS[name];
  const lut = new Uint8Array(LUT_SIZE * 4);
  let segment = 0;
  for (let i = 0; i < LUT_SIZE; i++) {
    const t = i / (LUT_SIZE - 1);
    while (segment < points.length - 2 && t > points[segment + 1]![0]) segment++;
    const [t0, r0, g0, b0] = points[segment]!;
    const [t1, r1, g1, b1] = points[segment + 1]!;
    const f = t1 === t0 ? 0 : (t - t0) / (t1 - t0);
    lut[i * 4] = Math.round(r0 + (r1 - r0) * f);
    lut[i * 4 + 1] = Math.round(g0 + (g1 - g0) * f);
    lut[i * 4 + 2] = Math.round(b0 + (b1 - b0) * f);
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

export function isColormapName(value: unknown): value is ColormapName {
  return typeof value === 'string' && (COLORMAP_NAMES as readonly string[]).includes(value);
}

export type ContrastLimits = readonly [low: number, high: number];

/**
 * Where a value falls between the contrast limits, 0–1 (clamped). NaN maps to 0; limits that are
 * equal (a flat image) put everything at or above them at 1 and below at 0. Same rule as the shader.
 */
export function normalize(value: number, [low, high]: ContrastLimits): number {
  if (Number.isNaN(value)) return 0;
  if (high <= low) return value >= high ? 1 : 0;
  const t = (value - low) / (high - low);
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

/** `[low, high]` from frame metadata (`contrast_limits`, napari's name), if it is two finite, ordered numbers. */
export function contrastFromMeta(meta: unknown): ContrastLimits | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const limits = (meta as { contrast_limits?: unknown }).contrast_limits;
  if (!Array.isArray(limits) || limits.length !== 2) return undefined;
  const [low, high] = limits as unknown[];
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high) || high < low) return undefined;
  return [low, high];
}

/** The colour map the producer asked for in its metadata (`colormap`), if it is one we have. */
export function colormapFromMeta(meta: unknown): ColormapName | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const name = (meta as { colormap?: unknown }).colormap;
  return isColormapName(name) ? name : undefined;
}

/**
 * Contrast limits from the data: the `lowPercentile`–`highPercentile` range of up to `samples` evenly
 * strided values (a 1024 × 1024 frame is not sorted whole at 60 Hz). NaN and ±Infinity are ignored;
 * an array without finite values gives `[0, 1]`.
 */
export function autoContrast(data: ArrayLike<number>, lowPercentile = 0.5, highPercentile = 99.5, samples = 16_384): ContrastLimits {
  const stride = Math.max(1, Math.floor(data.length / samples));
  const picked: number[] = [];
  for (let i = 0; i < data.length; i += stride) {
    const value = data[i]!;
    if (Number.isFinite(value)) picked.push(value);
  }
  if (picked.length === 0) return [0, 1];
  picked.sort((a, b) => a - b);
  const at = (p: number): number => picked[Math.min(picked.length - 1, Math.max(0, Math.round((p / 100) * (picked.length - 1))))]!;
  return [at(lowPercentile), at(highPercentile)];
}

/**
 * The canvas fallback: colours a `width × height` single-channel image into RGBA bytes (`out`, reused
 * between frames), row 0 at the top as numpy shows it.
 */
export function renderToRgba(data: ArrayLike<number>, limits: ContrastLimits, lut: Uint8Array, out: Uint8ClampedArray): Uint8ClampedArray {
  const count = Math.min(data.length, out.length / 4);
  const [low, high] = limits;
  const scale = high > low ? (LUT_SIZE - 1) / (high - low) : 0;
  for (let i = 0; i < count; i++) {
    const value = data[i]!;
    let index: number;
    if (scale === 0) index = Number.isNaN(value) ? 0 : value >= high ? LUT_SIZE - 1 : 0;
    else {
      index = Math.round((value - low) * scale);
      index = index > 0 ? (index < LUT_SIZE ? index : LUT_SIZE - 1) : 0; // NaN fails `> 0`: 0
    }
    const o = i * 4;
    const l = index * 4;
    out[o] = lut[l]!;
    out[o + 1] = lut[l + 1]!;
    out[o + 2] = lut[l + 2]!;
    out[o + 3] = 255;
  }
  return out;
}
