/**
 * What a received frame holds, for drawing: its values as float32 and where it lies in the source array.
 *
 * `@webmon/protocol` has the reference reading (`frameValues`); this page carries its own few lines
 * because importing anything at run time from the protocol would bundle zod (≈ 450 kB) into a 15 kB page.
 * The unit tests hold the two to the same results.
 */
import type { DecodedFrame, ViewRegion } from '@webmon/protocol';

/** Where a frame's pixels lie in the source: texel (r, c) covers source rows y0 + r·step … and columns x0 + c·step …. */
export interface Placement {
  /** The source array's rows and columns. */
  rows: number;
  cols: number;
  region: ViewRegion;
  step: number;
}

/** The frame's place in the source: its view's, or — a whole frame — all of it at step 1. */
export function placementOf(frame: Pick<DecodedFrame, 'shape' | 'view'>): Placement | undefined {
  const source = frame.view?.source.shape ?? frame.shape;
  const rows = source[0];
  const cols = source[1];
  if (rows === undefined || cols === undefined || rows <= 0 || cols <= 0) return undefined;
  if (frame.view === undefined) return { rows, cols, region: { y0: 0, x0: 0, y1: rows, x1: cols }, step: 1 };
  return { rows, cols, region: frame.view.region, step: frame.view.step };
}

let halfTable: Float32Array | undefined;

/** All 65 536 float16 values, built once (256 KiB): a view of a million halves is then one lookup each. */
function float16Table(): Float32Array {
  if (halfTable !== undefined) return halfTable;
  const table = new Float32Array(0x10000);
  for (let bits = 0; bits < 0x10000; bits++) {
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    const magnitude = exponent === 0x1f ? (mantissa === 0 ? Infinity : NaN) : exponent === 0 ? mantissa * 2 ** -24 : (1024 + mantissa) * 2 ** (exponent - 25);
    table[bits] = bits & 0x8000 ? -magnitude : magnitude;
  }
  return (halfTable = table);
}

/**
 * The frame's values as float32 (the texture format): float32 as it came (no copy), float16 and the
 * uint8/uint16 codes of a view read back (`code × scale + offset`, the top code NaN), other real dtypes
 * converted. `out` is reused when long enough. Undefined for what has no one value per element.
 */
export function valuesOf(frame: Pick<DecodedFrame, 'dtype' | 'data' | 'view'>, out?: Float32Array): Float32Array | undefined {
  const { dtype, data, view } = frame;
  if (data instanceof DataView || dtype === 'complex64' || dtype === 'complex128') return undefined;
  if (data instanceof Float32Array && dtype === 'float32') return data;
  const length = data.length;
  const values = out !== undefined && out.length >= length ? out : new Float32Array(length);
  if (dtype === 'float16') {
    const table = float16Table();
    const bits = data as Uint16Array;
    for (let i = 0; i < length; i++) values[i] = table[bits[i]!]!;
  } else if ((dtype === 'uint8' || dtype === 'uint16') && view?.scale !== undefined && view.offset !== undefined) {
    const codes = data as Uint8Array | Uint16Array;
    const nan = dtype === 'uint8' ? 0xff : 0xffff;
    const { scale, offset } = view;
    for (let i = 0; i < length; i++) {
      const code = codes[i]!;
      values[i] = code === nan ? NaN : code * scale + offset;
    }
  } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < length; i++) values[i] = Number(data[i]!);
  } else {
    values.set(data);
  }
  return values;
}
