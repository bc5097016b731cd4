/**
 * Min/max decimation per pixel column. A column is a stretch of time `colMs` long aligned to multiples of
 * `colMs` (column `c` holds the points with `Math.floor(t / colMs) === c`), so while the chart follows the
 * live edge at a fixed zoom the columns it already summed stay valid and only the newest one changes: the
 * work per frame is the new points, not the window. For each column we keep the smallest and largest finite
 * value and when each occurred (to draw them in time order), and whether a non-finite value (a gap) fell in it.
 *
 * Drawing a column as its min and max keeps the exact outline of any amount of data at this width: every
 * spike reaches its true height, which averaging or picking every n-th point would not.
 */
import type { TimeRing } from './ring-buffer.js';

/** Column flag: the column holds at least one finite value. */
export const COLUMN_HAS = 1;
/** Column flag: the column holds at least one non-finite value (NaN, ±Infinity). */
export const COLUMN_GAP = 2;
/** Column flag: the column's last point is non-finite (the line stays broken until the next finite value). */
export const COLUMN_ENDS_IN_GAP = 4;

/** Per-column summaries for columns `firstCol … firstCol + count - 1` at a column width of `colMs`. */
export class ColumnStats {
  colMs = Number.NaN;
  firstCol = 0;
  count = 0;
  min = new Float64Array(0);
  max = new Float64Array(0);
  minAt = new Float64Array(0);
  maxAt = new Float64Array(0);
  flags = new Uint8Array(0);

  /** Sets the grid and clears every column (arrays grow, never shrink). */
  reset(colMs: number, firstCol: number, count: number): void {
    if (this.flags.length < count) {
      const size = Math.max(count, Math.ceil(this.flags.length * 1.5));
      this.min = new Float64Array(size);
      this.max = new Float64Array(size);
      this.minAt = new Float64Array(size);
      this.maxAt = new Float64Array(size);
      this.flags = new Uint8Array(size);
    } else {
      this.flags.fill(0, 0, count);
    }
    this.colMs = colMs;
    this.firstCol = firstCol;
    this.count = count;
  }

  /** Copies columns `[col0, col1]` (absolute, in both grids) from `other`, which has the same `colMs`. */
  copyFrom(other: ColumnStats, col0: number, col1: number): void {
    if (col1 < col0) return;
    const src = col0 - other.firstCol;
    const dst = col0 - this.firstCol;
    const n = col1 - col0 + 1;
    this.min.set(other.min.subarray(src, src + n), dst);
    this.max.set(other.max.subarray(src, src + n), dst);
    this.minAt.set(other.minAt.subarray(src, src + n), dst);
    this.maxAt.set(other.maxAt.subarray(src, src + n), dst);
    this.flags.set(other.flags.subarray(src, src + n), dst);
  }
}

/**
 * Adds the points at physical indexes [from, to) of `times`/`values` to the columns `[col0, col1]` of
 * `stats` (absolute column numbers; points of other columns are skipped). The hot loop of the package.
 */
export function accumulate(
  stats: ColumnStats,
  times: Float64Array,
  values: Float64Array,
  from: number,
  to: number,
  col0: number,
  col1: number,
): void {
  const { colMs, firstCol, min, max, minAt, maxAt, flags } = stats;
  for (let i = from; i < to; i += 1) {
    const t = times[i] as number;
    const c = Math.floor(t / colMs);
    if (c < col0 || c > col1) continue;
    const k = c - firstCol;
    const v = values[i] as number;
    const f = flags[k] as number;
    if (v - v !== 0) {
      // NaN or ±Infinity: v - v is NaN for exactly these.
      flags[k] = f | COLUMN_GAP | COLUMN_ENDS_IN_GAP;
    } else if ((f & COLUMN_HAS) === 0) {
      min[k] = v;
      max[k] = v;
      minAt[k] = t;
      maxAt[k] = t;
      flags[k] = (f | COLUMN_HAS) & ~COLUMN_ENDS_IN_GAP;
    } else {
      if (v < (min[k] as number)) {
        min[k] = v;
        minAt[k] = t;
      } else if (v > (max[k] as number)) {
        max[k] = v;
        maxAt[k] = t;
      }
      if (f & COLUMN_ENDS_IN_GAP) flags[k] = f & ~COLUMN_ENDS_IN_GAP;
    }
  }
}

/** Clears columns `[col0, col1]` of `stats` and sums the ring's points into them. */
export function decimateRing(ring: TimeRing, stats: ColumnStats, col0: number, col1: number): void {
  if (col1 < col0) return;
  stats.flags.fill(0, col0 - stats.firstCol, col1 - stats.firstCol + 1);
  const colMs = stats.colMs;
  // One point of slack on each side: the search is on times, the columns on floor(t / colMs), and the two
  // may disagree by a rounding at a column edge. `accumulate` filters on the column itself.
  const i0 = Math.max(0, ring.lowerBound(col0 * colMs) - 1);
  const i1 = Math.min(ring.length, ring.lowerBound((col1 + 1) * colMs) + 1);
  ring.segments(i0, i1, (from, to) => accumulate(stats, ring.times, ring.values, from, to, col0, col1));
}

/** Slots a column takes in the drawn series: [gap marker, first extreme, second extreme]. */
export const SLOTS_PER_COLUMN = 3;

/**
 * Writes the drawn form of columns `0 … count - 1` of `stats` into `out` (3 slots a column, uPlot's
 * conventions): a number is a vertex of the line, `undefined` is no point (the line passes over it: a slow
 * series spans empty columns) and `null` breaks the line (a non-finite value, until the next finite one).
 * Returns whether any slot is a number.
 */
export function writeSlots(stats: ColumnStats, out: (number | null | undefined)[]): boolean {
  const { count, min, max, minAt, maxAt, flags } = stats;
  let inGap = false;
  let any = false;
  for (let k = 0; k < count; k += 1) {
    const f = flags[k] as number;
    const s = k * SLOTS_PER_COLUMN;
    if ((f & COLUMN_HAS) === 0) {
      const gap = inGap || (f & COLUMN_GAP) !== 0 ? null : undefined;
      out[s] = gap;
      out[s + 1] = gap;
      out[s + 2] = gap;
      if (f & COLUMN_GAP) inGap = true;
      continue;
    }
    any = true;
    out[s] = inGap || (f & COLUMN_GAP) !== 0 ? null : undefined;
    const lo = min[k] as number;
    const hi = max[k] as number;
    if (lo === hi) {
      out[s + 1] = lo;
      out[s + 2] = undefined;
    } else if ((minAt[k] as number) <= (maxAt[k] as number)) {
      out[s + 1] = lo;
      out[s + 2] = hi;
    } else {
      out[s + 1] = hi;
      out[s + 2] = lo;
    }
    inGap = (f & COLUMN_ENDS_IN_GAP) !== 0;
  }
  return any;
}
