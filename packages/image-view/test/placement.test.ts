import { describe, expect, it } from 'vitest';
import type { FrameView } from '@webmon/protocol';
import { placementOf } from '../src/placement.js';

const view: FrameView = {
  request: { maxShape: [2, 2], dtype: 'float32' },
  source: { shape: [10, 20], dtype: 'float32' },
  region: { y0: 2, x0: 4, y1: 6, x1: 8 },
  step: 2,
};

describe('where a frame lies in the source', () => {
  it('places a view where its header says and a whole frame over all of the source', () => {
    expect(placementOf({ shape: [2, 2], view })).toEqual({ rows: 10, cols: 20, region: { y0: 2, x0: 4, y1: 6, x1: 8 }, stepY: 2, stepX: 2, resample: 'block' });
    expect(placementOf({ shape: [30, 40] })).toEqual({ rows: 30, cols: 40, region: { y0: 0, x0: 0, y1: 30, x1: 40 }, stepY: 1, stepX: 1, resample: 'block' });
    expect(placementOf({ shape: [30] })).toBeUndefined();
    expect(placementOf({ shape: [0, 5] })).toBeUndefined();
  });

  it('places an area view (protocol 1.4) by its region over its shape, not by its whole-number step', () => {
    const area: FrameView = {
      request: { maxShape: [800, 800], dtype: 'float32', resample: 'area' },
      source: { shape: [1024, 1024], dtype: 'float32' },
      region: { y0: 0, x0: 0, y1: 1024, x1: 1000 },
      step: 2,
      resample: 'area',
    };
    expect(placementOf({ shape: [800, 781], view: area })).toEqual({ rows: 1024, cols: 1024, region: area.region, stepY: 1.28, stepX: 1000 / 781, resample: 'area' });
    // The last texel ends exactly at the region's end.
    const placed = placementOf({ shape: [800, 781], view: area })!;
    expect(placed.region.y0 + 800 * placed.stepY).toBe(1024);
    expect(placed.region.x0 + 781 * placed.stepX).toBeCloseTo(1000, 9);
  });
});
