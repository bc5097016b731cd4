/**
 * The arithmetic of array views (protocol 1.3), by hand on typed arrays: which part of a published array
 * a view covers and at which step (`planView`), and the view's values (`computeView`).
 *
 * Reduction: each view pixel is the **mean** of a step × step block of source pixels (fewer at the far
 * edges, where the region ends inside a block), per channel. The mean keeps what a picture of the array
 * means: its histogram (so contrast limits chosen on the full array still fit), its noise averaged down
 * rather than aliased, and the values a level of a multiscale image pyramid holds. The maximum
 * would keep a single bright pixel visible when zoomed out, but brightens and thickens everything else and
 * flickers with noise; it can come later as an option of the view if a page needs it. A step is a whole
 * number and the same along both axes: view pixels stay square and each is an exact block of source
 * pixels, so a page can place it, and full-resolution values appear as soon as the step is 1.
 *
 * Area resampling (protocol 1.4, `resample: 'area'`): a whole-number step wastes up to half the canvas
 * (1024 rows on 800 device pixels arrive as 512). An area view instead has as many pixels as `maxShape`
 * allows along the limiting axis (the other in proportion, rounded), and each is the mean of the source
 * pixels its rectangle covers, weighted by the area covered — a box filter, the exact average of the
 * picture over the pixel, so the histogram argument above holds and no source pixel counts twice. The
 * pixel edges fall at y0 + r·rows/outRows: the weights are whole multiples of 1/outRows (and 1/outCols),
 * computed exactly from integers, so a pixel the rectangle does not reach never gets a weight (a NaN
 * there cannot leak in through a weight of 1e-17). When the ratio is a whole number along both axes the
 * plan falls back to blocks: the same values, and a header that 1.3 pages read.
 *
 * Why by hand and not a library (ndarray, TensorFlow.js, sharp): the work is three loops over rows, and
 * the libraries that do it either resample images of bytes (sharp, canvas: no float32, no NaN), want their
 * own array objects and allocate per call (ndarray-ops, tfjs, which also brings a 1 MB runtime), or are
 * native add-ons the relay should not depend on. Here the sums run over reused scratch rows (float32 and
 * float64 sources read in place; other dtypes converted to float64 rows by `TypedArray.prototype.set`,
 * native), the pixel taps of a view's axes are cached across frames, and the only buffer allocated per
 * computation is the view itself (besides a few small objects, and a subarray per converted row) — nothing
 * per pixel. How the loops are kept fast: see `computeView`.
 */
import {
  float16Bits,
  float16Value,
  typedArrayClassOf,
  type CanonicalArrayView,
  type NumericDType,
  type NumericTypedArray,
  type ViewDType,
  type ViewRegion,
} from '@webmon/protocol';

/** A 3-D array is an image with channels when its last axis is at most this long (gray+alpha, RGB, RGBA). */
export const MAX_CHANNELS = 4;

/** What a view takes from a source array: the array's geometry, the region (clipped) and the step. */
export interface ViewPlan {
  height: number;
  width: number;
  /** 1 for a 2-D array; the length of the last axis of a 3-D one. */
  channels: number;
  /** True when the source was 3-D (the view keeps its channel axis). */
  threeD: boolean;
  region: ViewRegion;
  /** Blocks: source pixels per view pixel. Area: the whole-number bound of the pixel size (for the header). */
  step: number;
  /** `area`: resampled by area to `shape` (the pixel edges divide the region evenly); `block`: step × step blocks. */
  resample: 'block' | 'area';
  /** The view's shape: `[rows, cols]` or `[rows, cols, channels]`. */
  shape: number[];
}

/** The dtypes a view can be made from: every real numeric dtype (complex and structured arrays are sent whole). */
export function viewableDtype(dtype: string): dtype is Exclude<NumericDType, 'complex64' | 'complex128'> {
  return dtype !== 'complex64' && dtype !== 'complex128' && dtype !== 'record' && typeof dtype === 'string' && dtype in KINDS;
}

const KINDS: Record<Exclude<NumericDType, 'complex64' | 'complex128'>, true> = {
  bool: true, int8: true, uint8: true, int16: true, uint16: true, int32: true, uint32: true,
  int64: true, uint64: true, float16: true, float32: true, float64: true,
};

/** The array's rows, columns and channels, if it is an image a view can be made of (C order, 2-D or 3-D with channels). */
export function imageGeometry(shape: readonly number[], dtype: string, order: 'C' | 'F' | undefined): { height: number; width: number; channels: number } | undefined {
  if (order === 'F' || !viewableDtype(dtype)) return undefined;
  if (shape.length === 2) {
    const [height, width] = shape as [number, number];
    return height > 0 && width > 0 ? { height, width, channels: 1 } : undefined;
  }
  if (shape.length === 3) {
    const [height, width, channels] = shape as [number, number, number];
    return height > 0 && width > 0 && channels > 0 && channels <= MAX_CHANNELS ? { height, width, channels } : undefined;
  }
  return undefined;
}

/**
 * Which part of the array the view covers and at which step, or undefined when the array is not an image
 * (then the whole frame is sent). The region is clipped to the array; a region that misses it altogether
 * (the array shrank since the page asked) gives way to the whole array — the frame's header says so.
 */
export function planView(shape: readonly number[], dtype: string, order: 'C' | 'F' | undefined, view: CanonicalArrayView): ViewPlan | undefined {
  const geometry = imageGeometry(shape, dtype, order);
  if (geometry === undefined) return undefined;
  const { height, width, channels } = geometry;
  let region = clipRegion(view.region, height, width) ?? { y0: 0, x0: 0, y1: height, x1: width };
  const rows = region.y1 - region.y0;
  const cols = region.x1 - region.x0;
  region = { y0: region.y0, x0: region.x0, y1: region.y1, x1: region.x1 };
  const threeD = shape.length === 3;
  const shaped = (outRows: number, outCols: number): number[] => (threeD ? [outRows, outCols, channels] : [outRows, outCols]);
  if (view.resample === 'area') {
    const ratio = Math.max(rows / view.maxShape[0], cols / view.maxShape[1]);
    if (ratio > 1) {
      const outRows = Math.min(view.maxShape[0], Math.max(1, Math.round(rows / ratio)));
      const outCols = Math.min(view.maxShape[1], Math.max(1, Math.round(cols / ratio)));
      const blocks = rows % outRows === 0 && cols % outCols === 0 && rows / outRows === cols / outCols;
      if (!blocks) {
        const step = Math.ceil(Math.max(rows / outRows, cols / outCols));
        return { height, width, channels, threeD, region, step, resample: 'area', shape: shaped(outRows, outCols) };
      }
    }
  }
  const step = Math.max(1, Math.ceil(rows / view.maxShape[0]), Math.ceil(cols / view.maxShape[1]));
  return { height, width, channels, threeD, region, step, resample: 'block', shape: shaped(Math.ceil(rows / step), Math.ceil(cols / step)) };
}

/** Bytes of the view `plan` describes, in `dtype`: what a page with that view is sent (before the headers). */
export function viewDataBytes(plan: ViewPlan, dtype: ViewDType): number {
  const count = plan.shape.reduce((product, edge) => product * edge, 1);
  return count * (dtype === 'float32' ? 4 : dtype === 'uint8' ? 1 : 2);
}

/** `region` clipped to a height × width array; undefined when there is none or it misses the array. */
export function clipRegion(region: ViewRegion | undefined, height: number, width: number): ViewRegion | undefined {
  if (region === undefined) return undefined;
  const clipped = { y0: Math.min(region.y0, height), x0: Math.min(region.x0, width), y1: Math.min(region.y1, height), x1: Math.min(region.x1, width) };
  return clipped.y1 > clipped.y0 && clipped.x1 > clipped.x0 ? clipped : undefined;
}

export interface ViewValues {
  data: Float32Array | Uint16Array | Uint8Array;
  /** Integer views: value = code × scale + offset. */
  scale?: number;
  offset?: number;
}

/**
 * The view's values: the source (raw little-endian bytes of `dtype`) reduced by `plan` and converted to
 * `out`. float32 and float16 hold the means themselves; uint8 / uint16 map the finite means linearly onto
 * codes 0 … 2^bits − 2 (lowest mean → 0, highest → 2^bits − 2; −∞ and +∞ to the ends) and keep the top
 * code for NaN, so `scale` and `offset` read them back to within half a code.
 *
 * The filter is separable and runs view row by view row: the source rows a view row covers are combined
 * down the columns, weighted (`columnsFloat32` / `columnsFloat64`: straight from a float32 or float64
 * source; other dtypes are converted to float64 rows first, natively by `TypedArray.prototype.set`, or
 * by a table for float16), then the columns are reduced along the row straight into the result
 * (`reduceRowInto32` / `reduceRowInto64`). Why the pairs of identical functions: V8 keeps the feedback of
 * a typed-array access per function, so one function serving several array classes goes polymorphic (and
 * beyond four, megamorphic: a generic call per element) once a thread has seen several dtypes; a function
 * per class stays monomorphic whatever the thread computed before.
 */
export function computeView(bytes: Uint8Array, dtype: string, plan: ViewPlan, out: ViewDType): ViewValues {
  if (!viewableDtype(dtype)) throw new TypeError(`no view of ${dtype} arrays`);
  const { width, channels, region, step, shape } = plan;
  const outRows = shape[0]!;
  const outCols = shape[1]!;
  const rowValues = outCols * channels;
  const total = outRows * rowValues;

  // Crop of float32 into float32 (zoomed in to full resolution): rows copied as they are.
  if (plan.resample === 'block' && step === 1 && dtype === 'float32' && out === 'float32') {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const source = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    const span = (region.x1 - region.x0) * channels;
    const view = new Float32Array(total);
    for (let r = 0; r < outRows; r++) {
      const start = ((region.y0 + r) * width + region.x0) * channels;
      view.set(source.subarray(start, start + span), r * rowValues);
    }
    return { data: view };
  }

  const columnsOf = columnSource(bytes, dtype, plan);
  const area = plan.resample === 'area';
  const xs = axisTaps(region.x1 - region.x0, outCols, step, area);
  const rowNorm = axisTaps(region.y1 - region.y0, outRows, step, area).norm;
  if (out === 'uint8' || out === 'uint16') {
    // Integer codes need the range of every mean first: the means wait in scratch until it is known.
    const means = (meanScratch = grow(meanScratch, total));
    for (let r = 0; r < outRows; r++) reduceRowInto64(columnsOf(r), xs, outCols, channels, rowNorm[r]!, means, r * rowValues);
    return quantize(means, total, out === 'uint8' ? 8 : 16);
  }
  if (out === 'float32') {
    const floats = new Float32Array(total);
    for (let r = 0; r < outRows; r++) reduceRowInto32(columnsOf(r), xs, outCols, channels, rowNorm[r]!, floats, r * rowValues);
    return { data: floats };
  }
  const halves = new Uint16Array(total);
  if (NativeFloat16Array !== undefined) {
    // A runtime with Float16Array (Node 24) rounds a double to float16 natively, in one step.
    const native = new NativeFloat16Array(halves.buffer);
    const means = (meanScratch = grow(meanScratch, rowValues));
    for (let r = 0, at = 0; r < outRows; r++, at += rowValues) {
      reduceRowInto64(columnsOf(r), xs, outCols, channels, rowNorm[r]!, means, 0);
      for (let i = 0; i < rowValues; i++) native[at + i] = means[i]!;
    }
  } else {
    // By hand: the means rounded to float32 (as `float16Bits` does), then to float16 from their bits.
    const floats = (float32Scratch = float32Scratch.length >= rowValues ? float32Scratch : new Float32Array(rowValues));
    const bits = new Uint32Array(floats.buffer, 0, rowValues);
    for (let r = 0, at = 0; r < outRows; r++, at += rowValues) {
      reduceRowInto32(columnsOf(r), xs, outCols, channels, rowNorm[r]!, floats, 0);
      float16Row(bits, floats, rowValues, halves, at);
    }
  }
  return { data: halves };
}

/** `Float16Array` where the runtime has it (Node ≥ 24); else float16 is converted by hand. */
const NativeFloat16Array = (globalThis as { Float16Array?: new (buffer: ArrayBuffer) => { [index: number]: number } }).Float16Array;

// Scratch, grown as needed and reused by every computation on this thread: the only buffer a computation allocates is its result.
let columnScratch: Float64Array<ArrayBuffer> = new Float64Array(0); // weighted column sums of one view row
let windowScratch: Float64Array<ArrayBuffer> = new Float64Array(0); // a view row's source rows, as float64
let meanScratch: Float64Array<ArrayBuffer> = new Float64Array(0); // every mean (integer views)
let float32Scratch: Float32Array<ArrayBuffer> = new Float32Array(0); // one view row as float32 (float16 by hand)

function grow(current: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  return current.length >= length ? current : new Float64Array(Math.max(length, current.length * 2));
}

/** The value of each of the 65 536 float16 bit patterns, made once per thread at its first float16 array. */
let float16Table: Float32Array | undefined;

/**
 * The weighted column sums of view row `r` (the region's columns × channels, then the guard pixel of
 * zeros the padded row taps point at): a reused buffer. The view row's norm is applied with the row's.
 */
function columnSource(bytes: Uint8Array, dtype: Exclude<NumericDType, 'complex64' | 'complex128'>, plan: ViewPlan): (r: number) => Float64Array {
  const { width, channels, region, step, shape } = plan;
  const span = (region.x1 - region.x0) * channels;
  const stride = width * channels;
  const origin = (region.y0 * width + region.x0) * channels;
  const ys = axisTaps(region.y1 - region.y0, shape[0]!, step, plan.resample === 'area');
  const { start, end, first, last, middle } = ys;
  const columns = (columnScratch = grow(columnScratch, span + channels)).fill(0, span, span + channels);
  const itemSize = typedArrayClassOf(dtype).BYTES_PER_ELEMENT;
  // Typed arrays need an aligned start; a producer's buffer at an odd offset is copied once.
  const aligned = bytes.byteOffset % itemSize === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  if (dtype === 'float32') {
    const source = new Float32Array(buffer, byteOffset, byteLength / 4);
    return (r) => {
      columnsFloat32(source, origin + start[r]! * stride, stride, end[r]! - start[r]!, first[r]!, middle, last[r]!, span, columns);
      return columns;
    };
  }
  if (dtype === 'float64') {
    const source = new Float64Array(buffer, byteOffset, byteLength / 8);
    return (r) => {
      columnsFloat64(source, origin + start[r]! * stride, stride, end[r]! - start[r]!, first[r]!, middle, last[r]!, span, columns);
      return columns;
    };
  }
  // Any other dtype: the view row's source rows converted to float64, one under the other in a window of
  // three rows; a taller view row (a large reduction) adds its middle rows one at a time.
  const read = rowReader(buffer, byteOffset, byteLength, dtype);
  const window = (windowScratch = grow(windowScratch, 3 * span));
  return (r) => {
    const rows = end[r]! - start[r]!;
    const at = origin + start[r]! * stride;
    if (rows <= 3) {
      for (let y = 0; y < rows; y++) read(at + y * stride, span, window, y * span);
      columnsFloat64(window, 0, span, rows, first[r]!, middle, last[r]!, span, columns);
      return columns;
    }
    read(at, span, window, 0);
    read(at + (rows - 1) * stride, span, window, span);
    columnsFloat64(window, 0, span, 2, first[r]!, middle, last[r]!, span, columns);
    for (let y = 1; y < rows - 1; y++) {
      read(at + y * stride, span, window, 0);
      addWeighted(window, middle, span, columns);
    }
    return columns;
  };
}

/** Puts `count` values of the source from element `start` into `out` from `at`, as float64. */
type ReadRow = (start: number, count: number, out: Float64Array, at: number) => void;

function rowReader(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, dtype: Exclude<NumericDType, 'complex64' | 'complex128'>): ReadRow {
  if (dtype === 'float16') {
    const bits = new Uint16Array(buffer, byteOffset, byteLength / 2);
    const table = (float16Table ??= Float32Array.from({ length: 0x10000 }, (_, pattern) => float16Value(pattern)));
    return (start, count, out, at) => {
      for (let i = 0; i < count; i++) out[at + i] = table[bits[start + i]!]!;
    };
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    // Two 32-bit halves per value (little-endian): no BigInt per pixel. Beyond 2^53 approximately, as any float.
    const low = new Uint32Array(buffer, byteOffset, byteLength / 4);
    const high = dtype === 'int64' ? new Int32Array(buffer, byteOffset, byteLength / 4) : low;
    return (start, count, out, at) => {
      for (let i = 0, j = 2 * start; i < count; i++, j += 2) out[at + i] = high[j + 1]! * 4294967296 + low[j]!;
    };
  }
  const Typed = typedArrayClassOf(dtype);
  // The 64-bit integers took the branch above: what is left holds numbers, not BigInts.
  const values = new Typed(buffer, byteOffset, byteLength / Typed.BYTES_PER_ELEMENT) as Exclude<NumericTypedArray, BigInt64Array | BigUint64Array>;
  // Converting set: native code turns any of these into float64 (no JavaScript per value, whatever the dtype).
  return (start, count, out, at) => out.set(values.subarray(start, start + count), at);
}

/**
 * Column sums down `rows` source rows (from element `at`, `stride` apart, `span` values each), the first
 * weighing `f`, the last `l`, those between `m`, into `out`. The two common counts (a view row of an area
 * view between 1 and 2 source rows high covers two or three) in one pass each, four values a turn (fewer
 * turns of the loop, each with its own checks: 5–10 % less time in an alternating comparison).
 */
function columnsFloat32(source: Float32Array, at: number, stride: number, rows: number, f: number, m: number, l: number, span: number, out: Float64Array): void {
  const b = at + (rows - 1) * stride;
  if (rows === 1) {
    for (let i = 0; i < span; i++) out[i] = source[at + i]! * f;
  } else if (rows === 2) {
    let i = 0;
    for (; i + 3 < span; i += 4) {
      out[i] = source[at + i]! * f + source[b + i]! * l;
      out[i + 1] = source[at + i + 1]! * f + source[b + i + 1]! * l;
      out[i + 2] = source[at + i + 2]! * f + source[b + i + 2]! * l;
      out[i + 3] = source[at + i + 3]! * f + source[b + i + 3]! * l;
    }
    for (; i < span; i++) out[i] = source[at + i]! * f + source[b + i]! * l;
  } else if (rows === 3) {
    const c = at + stride;
    let i = 0;
    for (; i + 3 < span; i += 4) {
      out[i] = source[at + i]! * f + source[c + i]! * m + source[b + i]! * l;
      out[i + 1] = source[at + i + 1]! * f + source[c + i + 1]! * m + source[b + i + 1]! * l;
      out[i + 2] = source[at + i + 2]! * f + source[c + i + 2]! * m + source[b + i + 2]! * l;
      out[i + 3] = source[at + i + 3]! * f + source[c + i + 3]! * m + source[b + i + 3]! * l;
    }
    for (; i < span; i++) out[i] = source[at + i]! * f + source[c + i]! * m + source[b + i]! * l;
  } else {
    for (let i = 0; i < span; i++) out[i] = source[at + i]! * f + source[b + i]! * l;
    for (let y = 1, c = at + stride; y < rows - 1; y++, c += stride) {
      for (let i = 0; i < span; i++) out[i] = out[i]! + source[c + i]! * m;
    }
  }
}

/** `out` += `m` × `row`, over `span` values. */
function addWeighted(row: Float64Array, m: number, span: number, out: Float64Array): void {
  for (let i = 0; i < span; i++) out[i] = out[i]! + row[i]! * m;
}

/** `columnsFloat32` for float64 sources and converted rows (the same text: see `computeView` for why). */
function columnsFloat64(source: Float64Array, at: number, stride: number, rows: number, f: number, m: number, l: number, span: number, out: Float64Array): void {
  const b = at + (rows - 1) * stride;
  if (rows === 1) {
    for (let i = 0; i < span; i++) out[i] = source[at + i]! * f;
  } else if (rows === 2) {
    let i = 0;
    for (; i + 3 < span; i += 4) {
      out[i] = source[at + i]! * f + source[b + i]! * l;
      out[i + 1] = source[at + i + 1]! * f + source[b + i + 1]! * l;
      out[i + 2] = source[at + i + 2]! * f + source[b + i + 2]! * l;
      out[i + 3] = source[at + i + 3]! * f + source[b + i + 3]! * l;
    }
    for (; i < span; i++) out[i] = source[at + i]! * f + source[b + i]! * l;
  } else if (rows === 3) {
    const c = at + stride;
    let i = 0;
    for (; i + 3 < span; i += 4) {
      out[i] = source[at + i]! * f + source[c + i]! * m + source[b + i]! * l;
      out[i + 1] = source[at + i + 1]! * f + source[c + i + 1]! * m + source[b + i + 1]! * l;
      out[i + 2] = source[at + i + 2]! * f + source[c + i + 2]! * m + source[b + i + 2]! * l;
      out[i + 3] = source[at + i + 3]! * f + source[c + i + 3]! * m + source[b + i + 3]! * l;
    }
    for (; i < span; i++) out[i] = source[at + i]! * f + source[c + i]! * m + source[b + i]! * l;
  } else {
    for (let i = 0; i < span; i++) out[i] = source[at + i]! * f + source[b + i]! * l;
    for (let y = 1, c = at + stride; y < rows - 1; y++, c += stride) {
      for (let i = 0; i < span; i++) out[i] = out[i]! + source[c + i]! * m;
    }
  }
}

/**
 * Which source pixels each view pixel along one axis takes, and with which weights: view pixel `i` takes
 * source pixels `start` to `end` (exclusive), the first weighing `first`, the last `last`, those between
 * `middle`; `norm` is 1 / the sum of its weights, so Σ weight × value × norm is the mean.
 *
 * Blocks: `step` source pixels each (fewer in the last), all weighing 1. Area: the pixel's edges are
 * i·length/count and (i+1)·length/count; weights are in units of 1/count of a source pixel — integers,
 * exact: `start`/`end` are the edges' floor and ceiling by integer arithmetic, whole pixels weigh `count`,
 * and a source pixel the view pixel does not reach never gets a weight (a NaN there cannot leak in
 * through a weight of 1e-17).
 *
 * Along a row the same taps are also laid out `taps` per pixel (`index`; `weight`, then the pixel's `norm`,
 * in one array: one array less to address per pixel): the widest pixel's count, narrower ones padded with
 * index `length` — a guard pixel past the row that holds 0 — and weight 0. Every pixel then takes the same number of products, without a branch that mispredicts on the
 * irregular 2-or-3 pattern of a non-whole ratio.
 */
interface AxisTaps {
  start: Int32Array;
  end: Int32Array;
  first: Float64Array;
  last: Float64Array;
  middle: number;
  norm: Float64Array;
  taps: number;
  index: Int32Array;
  weight: Float64Array;
  /**
   * The pattern repeats: pixel i + `period` takes the taps of pixel i moved by `sourcePeriod` source
   * pixels, with the same weights, for the first `periodic` pixels (all of them for area views, where
   * period = count / gcd(length, count); blocks: period 1, all but a narrower last block).
   */
  period: number;
  sourcePeriod: number;
  periodic: number;
}

// The taps of the axes seen lately: a stream of frames asks the same few views, each frame the same taps.
const tapsCache = new Map<string, AxisTaps>();
const TAPS_CACHED = 32;

function axisTaps(length: number, count: number, step: number, area: boolean): AxisTaps {
  const key = `${area ? 'area' : step} ${length} ${count}`;
  let taps = tapsCache.get(key);
  if (taps === undefined) {
    if (tapsCache.size >= TAPS_CACHED) tapsCache.clear();
    taps = area ? areaTaps(length, count) : blockTaps(length, count, step);
    tapsCache.set(key, taps);
  }
  return taps;
}

function blockTaps(length: number, count: number, step: number): AxisTaps {
  const start = new Int32Array(count);
  const end = new Int32Array(count);
  const norm = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    start[i] = i * step;
    end[i] = Math.min((i + 1) * step, length);
    norm[i] = 1 / (end[i]! - start[i]!);
  }
  const periods = { period: 1, sourcePeriod: step, periodic: length % step === 0 ? count : count - 1 };
  return padded(length, periods, { start, end, first: new Float64Array(count).fill(1), last: new Float64Array(count).fill(1), middle: 1, norm });
}

function areaTaps(length: number, count: number): AxisTaps {
  const start = new Int32Array(count);
  const end = new Int32Array(count);
  const first = new Float64Array(count);
  const last = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const low = i * length; // the edges, times `count`: integers
    const high = (i + 1) * length;
    start[i] = Math.floor(low / count);
    end[i] = Math.ceil(high / count);
    if (end[i]! - start[i]! === 1) {
      first[i] = last[i] = high - low;
    } else {
      first[i] = (start[i]! + 1) * count - low;
      last[i] = high - (end[i]! - 1) * count;
    }
  }
  // Every pixel covers length/count source pixels: `length` units of 1/count.
  const common = gcd(length, count);
  const periods = { period: count / common, sourcePeriod: length / common, periodic: count };
  return padded(length, periods, { start, end, first, last, middle: count, norm: new Float64Array(count).fill(1 / length) });
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function padded(length: number, periods: Pick<AxisTaps, 'period' | 'sourcePeriod' | 'periodic'>, axis: Omit<AxisTaps, 'taps' | 'index' | 'weight' | 'period' | 'sourcePeriod' | 'periodic'>): AxisTaps {
  const count = axis.start.length;
  let taps = 1;
  for (let i = 0; i < count; i++) taps = Math.max(taps, axis.end[i]! - axis.start[i]!);
  const index = new Int32Array(count * taps).fill(length);
  const weight = new Float64Array(count * (taps + 1));
  for (let i = 0; i < count; i++) {
    const start = axis.start[i]!;
    const end = axis.end[i]!;
    for (let x = start; x < end; x++) {
      index[i * taps + x - start] = x;
      weight[i * (taps + 1) + x - start] = x === start ? axis.first[i]! : x === end - 1 ? axis.last[i]! : axis.middle;
    }
    weight[i * (taps + 1) + taps] = axis.norm[i]!;
  }
  return { ...axis, ...periods, taps, index, weight };
}

/**
 * Reduces one row of column sums (and the zero guard pixel after them) to the view's pixels:
 * Σ weight × value over each pixel's taps × its norm × `scale` (the view row's norm), into `out` from
 * `at`. The weights are whole numbers and the norms come last, so a sum that cancels (integers, say) is
 * exactly 0, as the mean is.
 */
function reduceRowInto32(row: Float64Array, axis: AxisTaps, outCols: number, channels: number, scale: number, out: Float32Array, at: number): void {
  if (channels === 1 && axis.period * 4 <= outCols) {
    // By phase: the pixels p, p + period, … take the same taps `sourcePeriod` apart — weights held in
    // locals, no index, no padding; two pixels a turn (as the column passes: fewer turns, fewer checks).
    const { period, sourcePeriod, periodic, start, end, first, last, middle, norm } = axis;
    for (let p = 0; p < period; p++) {
      const taps = end[p]! - start[p]!;
      const f = first[p]!;
      const l = last[p]!;
      const n = norm[p]! * scale;
      if (taps === 2) {
        let c = p;
        let s = start[p]!;
        for (const twice = 2 * period; c + period < periodic; c += twice, s += 2 * sourcePeriod) {
          out[at + c] = (row[s]! * f + row[s + 1]! * l) * n;
          out[at + c + period] = (row[s + sourcePeriod]! * f + row[s + sourcePeriod + 1]! * l) * n;
        }
        if (c < periodic) out[at + c] = (row[s]! * f + row[s + 1]! * l) * n;
      } else if (taps === 3) {
        let c = p;
        let s = start[p]!;
        for (const twice = 2 * period; c + period < periodic; c += twice, s += 2 * sourcePeriod) {
          out[at + c] = (row[s]! * f + row[s + 1]! * middle + row[s + 2]! * l) * n;
          out[at + c + period] = (row[s + sourcePeriod]! * f + row[s + sourcePeriod + 1]! * middle + row[s + sourcePeriod + 2]! * l) * n;
        }
        if (c < periodic) out[at + c] = (row[s]! * f + row[s + 1]! * middle + row[s + 2]! * l) * n;
      } else {
        for (let c = p, s = start[p]!; c < periodic; c += period, s += sourcePeriod) {
          let sum = row[s]! * f;
          for (let x = s + 1; x < s + taps - 1; x++) sum += row[x]! * middle;
          if (taps > 1) sum += row[s + taps - 1]! * l;
          out[at + c] = sum * n;
        }
      }
    }
    // A narrower last block.
    for (let c = periodic; c < outCols; c++) {
      let sum = 0;
      for (let x = start[c]!; x < end[c]!; x++) sum += row[x]!;
      out[at + c] = sum * norm[c]! * scale;
    }
    return;
  }
  const { taps, index, weight } = axis;
  if (channels === 1 && taps === 2) {
    for (let c = 0, t = 0, w = 0; c < outCols; c++, t += 2, w += 3) out[at + c] = (row[index[t]!]! * weight[w]! + row[index[t + 1]!]! * weight[w + 1]!) * weight[w + 2]! * scale;
  } else if (channels === 1 && taps === 3) {
    for (let c = 0, t = 0, w = 0; c < outCols; c++, t += 3, w += 4) {
      out[at + c] = (row[index[t]!]! * weight[w]! + row[index[t + 1]!]! * weight[w + 1]! + row[index[t + 2]!]! * weight[w + 2]!) * weight[w + 3]! * scale;
    }
  } else {
    for (let c = 0, o = at; c < outCols; c++) {
      const t = c * taps;
      const w = c * (taps + 1);
      for (let k = 0; k < channels; k++, o++) {
        let sum = 0;
        for (let j = 0; j < taps; j++) sum += row[index[t + j]! * channels + k]! * weight[w + j]!;
        out[o] = sum * weight[w + taps]! * scale;
      }
    }
  }
}

/** `reduceRowInto32` into float64 (the same text: see `computeView` for why). */
function reduceRowInto64(row: Float64Array, axis: AxisTaps, outCols: number, channels: number, scale: number, out: Float64Array, at: number): void {
  if (channels === 1 && axis.period * 4 <= outCols) {
    // By phase: the pixels p, p + period, … take the same taps `sourcePeriod` apart — weights held in
    // locals, no index, no padding; two pixels a turn (as the column passes: fewer turns, fewer checks).
    const { period, sourcePeriod, periodic, start, end, first, last, middle, norm } = axis;
    for (let p = 0; p < period; p++) {
      const taps = end[p]! - start[p]!;
      const f = first[p]!;
      const l = last[p]!;
      const n = norm[p]! * scale;
      if (taps === 2) {
        let c = p;
        let s = start[p]!;
        for (const twice = 2 * period; c + period < periodic; c += twice, s += 2 * sourcePeriod) {
          out[at + c] = (row[s]! * f + row[s + 1]! * l) * n;
          out[at + c + period] = (row[s + sourcePeriod]! * f + row[s + sourcePeriod + 1]! * l) * n;
        }
        if (c < periodic) out[at + c] = (row[s]! * f + row[s + 1]! * l) * n;
      } else if (taps === 3) {
        let c = p;
        let s = start[p]!;
        for (const twice = 2 * period; c + period < periodic; c += twice, s += 2 * sourcePeriod) {
          out[at + c] = (row[s]! * f + row[s + 1]! * middle + row[s + 2]! * l) * n;
          out[at + c + period] = (row[s + sourcePeriod]! * f + row[s + sourcePeriod + 1]! * middle + row[s + sourcePeriod + 2]! * l) * n;
        }
        if (c < periodic) out[at + c] = (row[s]! * f + row[s + 1]! * middle + row[s + 2]! * l) * n;
      } else {
        for (let c = p, s = start[p]!; c < periodic; c += period, s += sourcePeriod) {
          let sum = row[s]! * f;
          for (let x = s + 1; x < s + taps - 1; x++) sum += row[x]! * middle;
          if (taps > 1) sum += row[s + taps - 1]! * l;
          out[at + c] = sum * n;
        }
      }
    }
    // A narrower last block.
    for (let c = periodic; c < outCols; c++) {
      let sum = 0;
      for (let x = start[c]!; x < end[c]!; x++) sum += row[x]!;
      out[at + c] = sum * norm[c]! * scale;
    }
    return;
  }
  const { taps, index, weight } = axis;
  if (channels === 1 && taps === 2) {
    for (let c = 0, t = 0, w = 0; c < outCols; c++, t += 2, w += 3) out[at + c] = (row[index[t]!]! * weight[w]! + row[index[t + 1]!]! * weight[w + 1]!) * weight[w + 2]! * scale;
  } else if (channels === 1 && taps === 3) {
    for (let c = 0, t = 0, w = 0; c < outCols; c++, t += 3, w += 4) {
      out[at + c] = (row[index[t]!]! * weight[w]! + row[index[t + 1]!]! * weight[w + 1]! + row[index[t + 2]!]! * weight[w + 2]!) * weight[w + 3]! * scale;
    }
  } else {
    for (let c = 0, o = at; c < outCols; c++) {
      const t = c * taps;
      const w = c * (taps + 1);
      for (let k = 0; k < channels; k++, o++) {
        let sum = 0;
        for (let j = 0; j < taps; j++) sum += row[index[t + j]! * channels + k]! * weight[w + j]!;
        out[o] = sum * weight[w + taps]! * scale;
      }
    }
  }
}

/**
 * float16 bits of one row by hand (no `Float16Array`): `bits` holds the row's values as float32 bits
 * (rounded once to float32, as `float16Bits` does). Values in float16's normal range round by integer
 * arithmetic here — ties to even: adding 0xfff plus the kept lowest bit carries exactly when the 13 bits
 * dropped are above half, or half with an odd kept bit — the rest (zero, subnormals, overflow, NaN) by
 * `float16Bits`, which gives the same bits for any value.
 */
function float16Row(bits: Uint32Array, values: Float32Array, count: number, out: Uint16Array, at: number): void {
  for (let i = 0; i < count; i++) {
    const pattern = bits[i]!;
    const magnitude = pattern & 0x7fffffff;
    // 2^-14 (the smallest normal float16) up to just below 65520 (which rounds to Infinity).
    if (magnitude >= 0x38800000 && magnitude < 0x477ff000) {
      out[at + i] = ((pattern >>> 16) & 0x8000) | (((magnitude + 0xfff + ((magnitude >>> 13) & 1)) >>> 13) - (112 << 10));
    } else {
      out[at + i] = float16Bits(values[i]!);
    }
  }
}

/** Finite means → codes 0 … 2^bits − 2 by one linear map; the top code is NaN. */
function quantize(means: Float64Array, total: number, bits: 8 | 16): ViewValues {
  const top = bits === 8 ? 0xfe : 0xfffe;
  const [low, high] = finiteRange(means, total);
  const scale = (high - low) / top;
  const codes = bits === 8 ? new Uint8Array(total) : new Uint16Array(total);
  if (bits === 8) toCodes8(means, total, low, scale, codes as Uint8Array);
  else toCodes16(means, total, low, scale, codes as Uint16Array);
  return { data: codes, scale, offset: low };
}

/** The lowest and highest finite value; [0, 0] when there is none. */
function finiteRange(means: Float64Array, total: number): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < total; i++) {
    const value = means[i]!;
    if (value < low && value > -Infinity) low = value;
    if (value > high && value < Infinity) high = value;
  }
  return low > high ? [0, 0] : [low, high];
}

/**
 * The codes (top = 2^bits − 2; NaN → top + 1). With a range, rounded as `Math.round` does for the
 * non-negative (value − low) / scale: the floor of it + ½ (`| 0`: an int32 store, not a double's
 * conversion); ±∞ reach the end codes through the comparisons, and NaN is the one value that fails all of
 * them. Without one (one finite value, or none), every finite
 * value is code 0.
 */
function toCodes8(means: Float64Array, total: number, low: number, scale: number, codes: Uint8Array): void {
  const top = 0xfe;
  if (scale > 0) {
    const inverse = 1 / scale;
    for (let i = 0; i < total; i++) {
      const value = means[i]!;
      const code = (value - low) * inverse + 0.5;
      codes[i] = code >= top ? top : code >= 1 ? code | 0 : value === value ? 0 : top + 1;
    }
  } else {
    for (let i = 0; i < total; i++) {
      const value = means[i]!;
      codes[i] = value !== value ? top + 1 : value === Infinity ? top : 0;
    }
  }
}

/** `toCodes8` for 16-bit codes (the same text: see `computeView` for why). */
function toCodes16(means: Float64Array, total: number, low: number, scale: number, codes: Uint16Array): void {
  const top = 0xfffe;
  if (scale > 0) {
    const inverse = 1 / scale;
    for (let i = 0; i < total; i++) {
      const value = means[i]!;
      const code = (value - low) * inverse + 0.5;
      codes[i] = code >= top ? top : code >= 1 ? code | 0 : value === value ? 0 : top + 1;
    }
  } else {
    for (let i = 0; i < total; i++) {
      const value = means[i]!;
      codes[i] = value !== value ? top + 1 : value === Infinity ? top : 0;
    }
  }
}
