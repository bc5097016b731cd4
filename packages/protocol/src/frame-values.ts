/**
 * A received frame's values as float32, whatever dtype it travelled in: what a page that draws or
 * measures values needs, and the reference reading of a view's codes (`scale`, `offset`, the NaN code).
 */
import { float16Value } from './float16.js';
import type { DecodedFrame } from './frame.js';

/**
 * The values of a real-valued numeric frame as a `Float32Array`: float32 data as it is (no copy unless
 * `out` is given), float16 bits decoded, a uint8 / uint16 view's codes turned back into values
 * (`code × scale + offset`, the largest code → NaN), any other real dtype converted (int64 through
 * `Number`, so beyond 2^53 approximately). `undefined` for complex and record frames, which have no one
 * value per element. `out`, when given and long enough, receives the values (no allocation).
 */
export function frameValues(frame: Pick<DecodedFrame, 'dtype' | 'data' | 'view'>, out?: Float32Array): Float32Array | undefined {
  const { dtype, data, view } = frame;
  if (dtype === 'record' || dtype === 'complex64' || dtype === 'complex128' || data instanceof DataView) return undefined;
  const length = data.length;
  const target = out !== undefined && out.length >= length ? out : undefined;
  if (dtype === 'float32' && target === undefined) return data as Float32Array;
  const values = target ?? new Float32Array(length);
  if (dtype === 'float16') {
    const bits = data as Uint16Array;
    for (let i = 0; i < length; i++) values[i] = float16Value(bits[i]!);
  } else if (view !== undefined && view.scale !== undefined && view.offset !== undefined && (dtype === 'uint8' || dtype === 'uint16')) {
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
    values.set(data); // typed-array to typed-array: converted natively
  }
  return values;
}
