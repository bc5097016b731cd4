/**
 * Turns one series' column slots (see `writeSlots`) into what is drawn: vertical pixel runs where columns are
 * adjacent, and line segments only between points farther apart.
 *
 * Why runs: a dense series is a zig-zag of min/max vertices, one pair per pixel column. Stroked as a path
 * (uPlot's polyline with round joins, or even joinless segments), 20 series × 1,000 columns cost the browser's
 * software rasteriser most of a frame (measured: ~10 ms of `lineTo`/`stroke` and raster per frame on the
 * benchmark machine). At one column a pixel the same picture is, per column, one vertical run of pixels from
 * the column's min to its max, extended to the left neighbour's last value so the line stays connected:
 * written straight into a pixel buffer, that is a few hundred thousand array stores. Points farther apart
 * than a pixel (a zoomed-in or slow series) are joined by an anti-aliased segment instead.
 */

/** A value → canvas pixel mapping (fractional), from uPlot's scales. */
export type ToPixel = (value: number) => number;

export interface ColumnSink {
  /** Pixels of column `x` from row `y0` to row `y1` (fractional rows; y0 ≤ y1). */
  run(x: number, y0: number, y1: number): void;
  /** A line between the centres of pixel columns `x0` and `x1` (x0 < x1 - 1), at fractional rows. */
  segment(x0: number, y0: number, x1: number, y1: number): void;
}

/**
 * Feeds slots `[idx0, idx1]` to `sink`. `xs[i]` is the time of slot i, `ys[i]` a value, `null` (the line
 * breaks) or `undefined` (no point: the line passes over). Slots come in threes per column.
 */
export function drawColumns(
  sink: ColumnSink,
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null | undefined>,
  idx0: number,
  idx1: number,
  toX: ToPixel,
  toY: ToPixel,
): void {
  let prevX = 0;
  let prevY = 0;
  let broken = true;
  for (let i = idx0; i <= idx1; i += 1) {
    const y = ys[i];
    if (y === null) {
      broken = true;
      continue;
    }
    if (y === undefined) continue;
    const x = Math.floor(toX(xs[i] as number));
    const py = toY(y);
    if (broken) sink.run(x, py, py);
    else if (x - prevX <= 1) sink.run(x, Math.min(prevY, py), Math.max(prevY, py));
    else sink.segment(prevX, prevY, x, py);
    prevX = x;
    prevY = py;
    broken = false;
  }
}

/**
 * A `ColumnSink` over an RGBA pixel buffer (`Uint32Array` view of an `ImageData`, `width` × `height`) that
 * writes runs `lineWidth` pixels wide in `color` (packed as the buffer's bytes: little-endian ABGR), and
 * collects segments as path commands (pixel centres) for the caller to stroke.
 */
export class PixelColumns implements ColumnSink {
  color = 0;
  lineWidth = 1;
  path: { moveTo(x: number, y: number): void; lineTo(x: number, y: number): void } | undefined;
  /** Runs and segments written since construction. */
  drawn = 0;
  /** Segments written since construction (the caller strokes its path only when there are some). */
  segments = 0;

  constructor(
    readonly pixels: Uint32Array,
    readonly width: number,
    readonly height: number,
  ) {}

  run(x: number, y0: number, y1: number): void {
    const { pixels, width, height, color } = this;
    const r0 = Math.max(0, Math.floor(y0));
    const r1 = Math.min(height - 1, Math.floor(y1));
    if (r1 < r0) return;
    const c0 = Math.max(0, x);
    const c1 = Math.min(width - 1, x + this.lineWidth - 1);
    for (let c = c0; c <= c1; c += 1) {
      for (let r = r0, at = r0 * width + c; r <= r1; r += 1, at += width) pixels[at] = color;
    }
    this.drawn += 1;
  }

  segment(x0: number, y0: number, x1: number, y1: number): void {
    const offset = this.lineWidth / 2;
    this.path?.moveTo(x0 + offset, y0 + 0.5);
    this.path?.lineTo(x1 + offset, y1 + 0.5);
    this.drawn += 1;
    this.segments += 1;
  }
}
