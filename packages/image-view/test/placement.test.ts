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
    expect(placementOf({ shape: [2, 2], view })).toEqual({ rows: 10, cols: 20, region: { y0: 2, x0: 4, y1: 6, x1: 8 }, step: 2 });
    expect(placementOf({ shape: [30, 40] })).toEqual({ rows: 30, cols: 40, region: { y0: 0, x0: 0, y1: 30, x1: 40 }, step: 1 });
    expect(placementOf({ shape: [30] })).toBeUndefined();
    expect(placementOf({ shape: [0, 5] })).toBeUndefined();
  });
});
