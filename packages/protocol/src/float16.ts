/**
 * IEEE 754 half precision (`float16`) by hand: Node 20 has no `Float16Array` or `Math.f16round`, and a
 * frame carries float16 as raw `Uint16Array` bits (see `dtypes.ts`). Both directions are plain integer
 * arithmetic on the float32 bit pattern, no allocation per value, so a relay can convert a view of a
 * million values and a page can read them back.
 */

// One shared scratch pair: reading a float32's bits without allocating.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float16 bit pattern nearest to `value`, ties to even. The value is first rounded to float32 (as
 * every array a view is made from is at most float32 precision where float16 matters), then to float16:
 * beyond ±65504 it becomes ±Infinity, below 2^-24 it becomes ±0, NaN stays NaN (a quiet NaN).
 */
export function float16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Infinity, NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) {
    // Subnormal float16 (or zero): the implicit leading 1 becomes explicit and shifts right.
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    // Round to nearest, ties to even; a carry into the exponent field is the right answer.
    return sign | (half + (rest > halfway || (rest === halfway && (half & 1) === 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa bumps the exponent, and into Infinity at the top: both are correct.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? 1 : 0));
}

/** 2^(e − 25) for the 31 finite float16 exponents e, so reading a value is a multiply, not `Math.pow`. */
const POWERS = Float64Array.from({ length: 31 }, (_, e) => 2 ** (Math.max(e, 1) - 25));

/** The number a float16 bit pattern stands for (exact: every float16 is a float32 and a double). */
export function float16Value(bits: number): number {
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  let magnitude: number;
  if (exponent === 0x1f) magnitude = mantissa === 0 ? Infinity : NaN;
  // Subnormals (exponent 0) have no implicit 1 and the exponent of 1; POWERS[0] holds that.
  else magnitude = (exponent === 0 ? mantissa : mantissa | 0x400) * POWERS[exponent]!;
  return bits & 0x8000 ? -magnitude : magnitude;
}
