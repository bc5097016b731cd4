import { describe, expect, it } from 'vitest';
import { PixelColumns, drawColumns, type ColumnSink } from '../src/column-path.js';

/** Records what a series' slots become. */
function record(xs: number[], ys: (number | null | undefined)[]): string[] {
  const calls: string[] = [];
  const sink: ColumnSink = {
    run: (x, y0, y1) => calls.push(`run ${x} ${y0}..${y1}`),
    segment: (x0, y0, x1, y1) => calls.push(`seg ${x0},${y0} ${x1},${y1}`),
  };
  drawColumns(sink, xs, ys, 0, ys.length - 1, (t) => t, (v) => 100 - v); // one time unit = one pixel
  return calls;
}

describe('drawColumns', () => {
  it('draws adjacent columns as vertical runs covering min, max and the left neighbour’s last value', () => {
    // Columns at pixels 0, 1, 2 (3 slots each): [_, 10, 20], [_, 5, 15], [_, 30, _]
    const calls = record([0, 0.3, 0.6, 1, 1.3, 1.6, 2, 2.3, 2.6], [undefined, 10, 20, undefined, 5, 15, undefined, 30, undefined]);
    expect(calls).toEqual(['run 0 90..90', 'run 0 80..90', 'run 1 80..95', 'run 1 85..95', 'run 2 70..85']);
  });

  it('joins points farther apart with a segment, spans empty slots and breaks at null', () => {
    const calls = record([0, 5, 9, 12, 20], [50, undefined, 40, null, 30]);
    expect(calls).toEqual(['run 0 50..50', 'seg 0,50 9,60', 'run 20 70..70']);
  });
});

describe('PixelColumns', () => {
  it('writes runs into the buffer, clipped to it, lineWidth columns wide', () => {
    const pixels = new Uint32Array(4 * 5);
    const sink = new PixelColumns(pixels, 4, 5);
    sink.color = 7;
    sink.run(1, 1.5, 3.2); // rows 1..3 of column 1
    sink.run(3, -2, 0.4); // row 0 of column 3 (clipped above)
    sink.lineWidth = 2;
    sink.run(-1, 4, 9); // column 0 only (the other is left of the buffer), row 4 (clipped below)
    const rows = Array.from({ length: 5 }, (_, r) => Array.from(pixels.subarray(r * 4, r * 4 + 4)).join(''));
    expect(rows).toEqual(['0007', '0700', '0700', '0700', '7000']);
    expect(sink.drawn).toBe(3);
  });
});
