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
 * native add-ons the relay should not depend on. Here every source row is converted to float64 once by
 * `TypedArray.prototype.set` (native, any dtype to float64), the sums run on one scratch row, and the only
 * allocation per computation is the view itself — nothing per pixel.
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

// Scratch rows, grown as needed and reused: a computation allocates only its result.
let rowScratch: Float64Array<ArrayBuffer> = new Float64Array(0);
let sumScratch: Float64Array<ArrayBuffer> = new Float64Array(0);
let meanScratch: Float64Array<ArrayBuffer> = new Float64Array(0);
let meanRowScratch: Float64Array<ArrayBuffer> = new Float64Array(0);

function scratch(current: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  return current.length >= length ? current : new Float64Array(Math.max(length, current.length * 2));
}

/**
 * Reads source rows as float64: `read` puts `count` values from element `start` into `out`, `add` adds
 * them to what `out` holds (the block sums: no intermediate row for the common dtypes).
 */
interface RowReader {
  read(start: number, count: number, out: Float64Array): void;
  add(start: number, count: number, out: Float64Array): void;
  /** Adds `weight` × the values (area views). */
  addScaled(start: number, count: number, out: Float64Array, weight: number): void;
}

/** A reader from `read` alone: rows that need decoding go through a scratch row, then are added. */
function withScratchAdd(read: RowReader['read']): RowReader {
  return {
    read,
    add(start, count, out) {
      const row = (rowScratch = scratch(rowScratch, count));
      read(start, count, row);
      for (let i = 0; i < count; i++) out[i] = out[i]! + row[i]!;
    },
    addScaled(start, count, out, weight) {
      const row = (rowScratch = scratch(rowScratch, count));
      read(start, count, row);
      for (let i = 0; i < count; i++) out[i] = out[i]! + row[i]! * weight;
    },
  };
}

function rowReader(bytes: Uint8Array, dtype: Exclude<NumericDType, 'complex64' | 'complex128'>): RowReader {
  const itemSize = typedArrayClassOf(dtype).BYTES_PER_ELEMENT;
  // Typed arrays need an aligned start; a producer's buffer at an odd offset is copied once.
  const aligned = bytes.byteOffset % itemSize === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  if (dtype === 'float16') {
    const bits = new Uint16Array(buffer, byteOffset, byteLength / 2);
    return withScratchAdd((start, count, out) => {
      for (let i = 0; i < count; i++) out[i] = float16Value(bits[start + i]!);
    });
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    // Two 32-bit halves per value (little-endian): no BigInt per pixel. Beyond 2^53 approximately, as any float.
    const low = new Uint32Array(buffer, byteOffset, byteLength / 4);
    const high = dtype === 'int64' ? new Int32Array(buffer, byteOffset, byteLength / 4) : low;
    return withScratchAdd((start, count, out) => {
      for (let i = 0, j = 2 * start; i < count; i++, j += 2) out[i] = high[j + 1]! * 4294967296 + low[j]!;
    });
  }
  const Typed = typedArrayClassOf(dtype);
  // The 64-bit integers took the branch above: what is left holds numbers, not BigInts.
  const values = new Typed(buffer, byteOffset, byteLength / Typed.BYTES_PER_ELEMENT) as Exclude<NumericTypedArray, BigInt64Array | BigUint64Array>;
  return {
    // Converting set: native code turns any of these into float64, no JavaScript per element.
    read: (start, count, out) => out.set(values.subarray(start, start + count)),
    add(start, count, out) {
      for (let i = 0; i < count; i++) out[i] = out[i]! + values[start + i]!;
    },
    addScaled(start, count, out, weight) {
      for (let i = 0; i < count; i++) out[i] = out[i]! + values[start + i]! * weight;
    },
  };
}

/**
 * The view's values: the source (raw little-endian bytes of `dtype`) reduced by `plan` and converted to
 * `out`. float32 and float16 hold the means themselves; uint8 / uint16 map the finite means linearly onto
 * codes 0 … 2^bits − 2 (lowest mean → 0, highest → 2^bits − 2; −∞ and +∞ to the ends) and keep the top
 * code for NaN, so `scale` and `offset` read them back to within half a code.
 */
export function computeView(bytes: Uint8Array, dtype: string, plan: ViewPlan, out: ViewDType): ViewValues {
  if (!viewableDtype(dtype)) throw new TypeError(`no view of ${dtype} arrays`);
  const { width, channels, region, step, shape } = plan;
  const outRows = shape[0]!;
  const outCols = shape[1]!;
  const rowValues = outCols * channels;
  const total = outRows * rowValues;
  const cols = region.x1 - region.x0;
  const span = cols * channels;
  const reader = rowReader(bytes, dtype);

  // Crop of float32 into float32 (zoomed in to full resolution): rows copied as they are.
  if (plan.resample === 'block' && step === 1 && dtype === 'float32' && out === 'float32') {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const source = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    const view = new Float32Array(total);
    for (let r = 0; r < outRows; r++) {
      const start = ((region.y0 + r) * width + region.x0) * channels;
      view.set(source.subarray(start, start + span), r * rowValues);
    }
    return { data: view };
  }

  const integer = out === 'uint8' || out === 'uint16';
  const produceRow = plan.resample === 'area' ? areaRows(reader, plan) : blockRows(reader, plan);
  const floats = out === 'float32' ? new Float32Array(total) : undefined;
  const halves = out === 'float16' ? new Uint16Array(total) : undefined;
  // Integer codes need the range of every mean first: the means wait in scratch until it is known.
  const means = integer ? (meanScratch = scratch(meanScratch, total)) : undefined;
  for (let r = 0; r < outRows; r++) {
    const rowMeans = produceRow(r);
    const at = r * rowValues;
    // float64 → float32 by the typed-array copy (native, round to nearest); float16 by hand.
    if (floats !== undefined) floats.set(rowMeans.subarray(0, rowValues), at);
    else if (halves !== undefined) for (let i = 0; i < rowValues; i++) halves[at + i] = float16Bits(rowMeans[i]!);
    else means!.set(rowMeans.subarray(0, rowValues), at);
  }
  if (floats !== undefined) return { data: floats };
  if (halves !== undefined) return { data: halves };
  return quantize(means!, total, out === 'uint8' ? 8 : 16);
}

/** The means of one view row, by blocks: row `r` of the view, `rowValues` values (reused scratch). */
type RowProducer = (r: number) => Float64Array;

function blockRows(reader: RowReader, plan: ViewPlan): RowProducer {
  const { width, channels, region, step, shape } = plan;
  const outCols = shape[1]!;
  const cols = region.x1 - region.x0;
  const span = cols * channels;
  const columns = (sumScratch = scratch(sumScratch, span));
  const blockMeans = (meanRowScratch = scratch(meanRowScratch, outCols * channels));
  return (r) => {
    const y0 = region.y0 + r * step;
    const y1 = Math.min(y0 + step, region.y1);
    // Column sums of the block's rows: the first row converted straight in (native), the others added in
    // one tight loop; then each block is summed across its columns once.
    reader.read((y0 * width + region.x0) * channels, span, columns);
    for (let y = y0 + 1; y < y1; y++) reader.add((y * width + region.x0) * channels, span, columns);
    const rowsInBlock = y1 - y0;
    if (step === 1) return columns; // one row, the values themselves
    const rowMeans = blockMeans;
    if (channels === 1) {
      for (let c = 0, x = 0; c < outCols; c++) {
        const end = Math.min(x + step, cols);
        const count = rowsInBlock * (end - x);
        let sum = 0;
        for (; x < end; x++) sum += columns[x]!;
        rowMeans[c] = sum / count;
      }
    } else {
      for (let c = 0; c < outCols; c++) {
        const start = c * step;
        const end = Math.min(start + step, cols);
        const count = rowsInBlock * (end - start);
        for (let k = 0; k < channels; k++) {
          let sum = 0;
          for (let x = start; x < end; x++) sum += columns[x * channels + k]!;
          rowMeans[c * channels + k] = sum / count;
        }
      }
    }
    return rowMeans;
  };
}

/**
 * Where view pixel `i` of `count` lies along an axis of `length` source pixels: source pixels `start` to
 * `end` (exclusive), the first weighing `first` and the last `last` (whole ones between weigh `count`), in
 * units of 1/count of a source pixel — integers, exact: the pixel's edges are i·length/count and
 * (i+1)·length/count, and `start`/`end` are their floor and ceiling by integer arithmetic.
 */
interface AxisSpans {
  start: Int32Array;
  end: Int32Array;
  first: Float64Array;
  last: Float64Array;
}

function axisSpans(length: number, count: number): AxisSpans {
  const spans = { start: new Int32Array(count), end: new Int32Array(count), first: new Float64Array(count), last: new Float64Array(count) };
  for (let i = 0; i < count; i++) {
    const low = i * length; // the edges, times `count`: integers
    const high = (i + 1) * length;
    const start = Math.floor(low / count);
    const end = Math.ceil(high / count);
    spans.start[i] = start;
    spans.end[i] = end;
    if (end - start === 1) {
      spans.first[i] = spans.last[i] = high - low;
    } else {
      spans.first[i] = (start + 1) * count - low;
      spans.last[i] = high - (end - 1) * count;
    }
  }
  return spans;
}

function areaRows(reader: RowReader, plan: ViewPlan): RowProducer {
  const { width, channels, region, shape } = plan;
  const outRows = shape[0]!;
  const outCols = shape[1]!;
  const rows = region.y1 - region.y0;
  const cols = region.x1 - region.x0;
  const span = cols * channels;
  const ys = axisSpans(rows, outRows);
  const xs = axisSpans(cols, outCols);
  // Weights are in 1/outRows and 1/outCols of a source pixel: the mean divides their product by the
  // pixel's area in those units, rows × cols (= (rows/outRows)·(cols/outCols) source pixels × outRows·outCols).
  const area = rows * cols;
  const columns = (sumScratch = scratch(sumScratch, span));
  const means = (meanRowScratch = scratch(meanRowScratch, outCols * channels));
  return (r) => {
    const start = ys.start[r]!;
    const end = ys.end[r]!;
    // Weighted column sums over the rows the pixel row covers: the first row converted straight in
    // (native) and scaled, the others added scaled straight from the source (no scratch row for the
    // common dtypes).
    for (let y = start; y < end; y++) {
      const weight = y === start ? ys.first[r]! : y === end - 1 ? ys.last[r]! : outRows;
      const at = ((region.y0 + y) * width + region.x0) * channels;
      if (y === start) {
        reader.read(at, span, columns);
        for (let i = 0; i < span; i++) columns[i] = columns[i]! * weight;
      } else {
        reader.addScaled(at, span, columns, weight);
      }
    }
    if (channels === 1) {
      for (let c = 0; c < outCols; c++) {
        const x0 = xs.start[c]!;
        const x1 = xs.end[c]!;
        let sum = columns[x0]! * xs.first[c]!;
        for (let x = x0 + 1; x < x1 - 1; x++) sum += columns[x]! * outCols;
        if (x1 - 1 > x0) sum += columns[x1 - 1]! * xs.last[c]!;
        means[c] = sum / area;
      }
      return means;
    }
    for (let c = 0; c < outCols; c++) {
      const x0 = xs.start[c]!;
      const x1 = xs.end[c]!;
      const first = xs.first[c]!;
      const last = xs.last[c]!;
      for (let k = 0; k < channels; k++) {
        let sum = columns[x0 * channels + k]! * first;
        for (let x = x0 + 1; x < x1 - 1; x++) sum += columns[x * channels + k]! * outCols;
        if (x1 - 1 > x0) sum += columns[(x1 - 1) * channels + k]! * last;
        means[c * channels + k] = sum / area;
      }
    }
    return means;
  };
}

/** Finite means → codes 0 … 2^bits − 2 by one linear map; the top code is NaN. */
function quantize(means: Float64Array, total: number, bits: 8 | 16): ViewValues {
  const top = bits === 8 ? 0xfe : 0xfffe;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < total; i++) {
    const value = means[i]!;
    if (value < low && value > -Infinity) low = value;
    if (value > high && value < Infinity) high = value;
  }
  if (low > high) low = high = 0; // no finite value at all
  const scale = (high - low) / top;
  const inverse = scale > 0 ? 1 / scale : 0;
  const codes = bits === 8 ? new Uint8Array(total) : new Uint16Array(total);
  for (let i = 0; i < total; i++) {
    const value = means[i]!;
    if (value !== value) codes[i] = top + 1; // NaN
    else if (value === Infinity) codes[i] = top;
    else if (value === -Infinity) codes[i] = 0;
    else codes[i] = Math.min(top, Math.round((value - low) * inverse));
  }
  return { data: codes, scale, offset: low };
}
