import { describe, expect, it } from 'vitest';
import { frustumRect, layoutLevel } from '../src/level-layout.js';
import {
  canvasToContent,
  clampScale,
  contentToCanvas,
  fitOnLevelChange,
  fitRect,
  levelView,
  panBy,
  resizedView,
  seenView,
  zoomAt,
  type ViewFit,
  type ViewState,
  type Viewport,
} from '../src/view-fit.js';
import { CORNERS0, LEVEL0 } from './fixtures.js';

const NO_INSETS = { top: 0, right: 0, bottom: 0, left: 0 };
const VIEWPORT: Viewport = { width: 800, height: 600, insets: NO_INSETS };

function expectView(actual: ViewState, wanted: ViewState): void {
  expect(actual.centerX, 'centerX').toBeCloseTo(wanted.centerX, 9);
  expect(actual.centerY, 'centerY').toBeCloseTo(wanted.centerY, 9);
  expect(actual.scale / wanted.scale, 'scale').toBeCloseTo(1, 12);
}

describe('view math', () => {
  it('round-trips canvas and content coordinates and zooms about a fixed point', () => {
    const view = fitRect({ x0: 0, y0: 0, x1: 1, y1: 0.5 }, 800, 400);
    const [x, y] = canvasToContent(view, 800, 400, 123, 321);
    expect(contentToCanvas(view, 800, 400, x, y).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([123, 321]);
    const zoomed = zoomAt(view, 800, 400, 3, 123, 321);
    expect(zoomed.scale).toBeCloseTo(view.scale * 3, 9);
    const [zx, zy] = contentToCanvas(zoomed, 800, 400, x, y);
    expect(zx).toBeCloseTo(123, 6);
    expect(zy).toBeCloseTo(321, 6);
  });

  it('fits a rectangle inside the insets', () => {
    const view = fitRect({ x0: 0, y0: 0, x1: 1, y1: 1 }, 600, 600, 0, { top: 100, right: 0, bottom: 0, left: 0 });
    expect(view.scale).toBe(500);
    expect(contentToCanvas(view, 600, 600, 0, 0)).toEqual([50, 100]);
    expect(contentToCanvas(view, 600, 600, 1, 1)).toEqual([550, 600]);
  });

  it('clamps the scale between 1/100 and 10^9 of the shorter canvas side', () => {
    expect(clampScale(300, 800, 600)).toBe(300);
    expect(clampScale(5, 800, 600)).toBe(6);
    expect(clampScale(1e12, 800, 600)).toBe(6e11);
    // A canvas not laid out yet (0 x 0) counts as one pixel, not as a zero range.
    expect(clampScale(0.001, 0, 0)).toBe(0.01);
  });

  it('pans by canvas pixels, and zooms about the pointer even where the scale is clamped', () => {
    expect(panBy({ centerX: 0.5, centerY: 0.5, scale: 100 }, 50, -20)).toEqual({ centerX: 0, centerY: 0.7, scale: 100 });
    const view = { centerX: 0.5, centerY: 0.5, scale: 600 };
    const [x, y] = canvasToContent(view, 800, 600, 100, 100);
    const zoomed = zoomAt(view, 800, 600, 1e15, 100, 100);
    expect(zoomed.scale).toBe(6e11);
    const [px, py] = contentToCanvas(zoomed, 800, 600, x, y);
    expect(px).toBeCloseTo(100, 3);
    expect(py).toBeCloseTo(100, 3);
    expect(zoomAt(view, 800, 600, 1e-9, 100, 100).scale).toBe(6);
  });
});

describe('view fit', () => {
  const layout = layoutLevel(LEVEL0); // 2950 x 2980 px: content 1 wide, 2950/2980 high

  it('fits the whole level with a 5 % margin, centred', () => {
    // 800 x 600, 30 px margin: 740 x 540 usable; the level (1 x 2950/2980) is height-bound: 540 px per 2950/2980 units.
    expectView(levelView(layout, VIEWPORT), { centerX: 0.5, centerY: 1475 / 2980, scale: (540 * 2980) / 2950 });
    // Before any level: the unit square, height-bound.
    expectView(levelView(null, VIEWPORT), { centerX: 0.5, centerY: 0.5, scale: 540 });
  });

  it('keeps the fitted level below the controls (top inset)', () => {
    const view = levelView(layout, { width: 800, height: 600, insets: { top: 100, right: 0, bottom: 0, left: 0 } });
    // Usable height 600 - 100 - 2 x 30 = 440 px for 2950/2980 units.
    expect(view.scale).toBeCloseTo((440 * 2980) / 2950, 9);
    const [left, top] = contentToCanvas(view, 800, 600, 0, 0);
    const [, bottom] = contentToCanvas(view, 800, 600, 1, 2950 / 2980);
    expect(top).toBeCloseTo(130, 9);
    expect(bottom).toBeCloseTo(570, 9);
    expect(left).toBeCloseTo(400 - view.scale / 2, 9);
  });

  it('fits the seen tiles and the frustum together', () => {
    // Seen rows 26-27, cols 22-26 (100 px tiles); frustum x 2450-2750, y 2550-2800 px.
    const seen = { minRow: 26, maxRow: 27, minCol: 22, maxCol: 26 };
    const frustum = frustumRect(layout, CORNERS0);
    // Union: x 2200-2750, y 2550-2800 px → 550 x 250 px, width-bound: 740 px per 550/2980 units.
    expectView(seenView(layout, seen, frustum, VIEWPORT), { centerX: 2475 / 2980, centerY: 2675 / 2980, scale: (740 * 2980) / 550 });
    // Seen tiles alone: x 2200-2700, y 2600-2800 px → 500 x 200 px, width-bound.
    expectView(seenView(layout, seen, null, VIEWPORT), { centerX: 2450 / 2980, centerY: 2700 / 2980, scale: (740 * 2980) / 500 });
    // Frustum alone: 300 x 250 px, height-bound: 540 px per 250/2980 units.
    expectView(seenView(layout, null, frustum, VIEWPORT), { centerX: 2600 / 2980, centerY: 2675 / 2980, scale: (540 * 2980) / 250 });
  });

  it('falls back to the whole level when nothing is seen and there is no frustum', () => {
    expect(seenView(layout, null, null, VIEWPORT)).toEqual(levelView(layout, VIEWPORT));
    expect(seenView(null, null, null, VIEWPORT)).toEqual(levelView(null, VIEWPORT));
  });

  it('on resize, re-fits a whole-level view but keeps a fitted or moved view, clamped', () => {
    const small: Viewport = { width: 400, height: 200, insets: NO_INSETS };
    const moved = { centerX: 0.25, centerY: 0.75, scale: 1e12 };
    // 400 x 200, 10 px margin: 380 x 180 usable; the level is height-bound at 180 / (2950/2980).
    expectView(resizedView(moved, 'level', layout, small), { centerX: 0.5, centerY: 1475 / 2980, scale: (180 * 2980) / 2950 });
    expect(resizedView(moved, 'seen', layout, small)).toEqual({ centerX: 0.25, centerY: 0.75, scale: 2e11 });
    expect(resizedView({ ...moved, scale: 50 }, null, layout, small)).toEqual({ centerX: 0.25, centerY: 0.75, scale: 50 });
  });

  it('decides what a level change fits', () => {
    const cases: [fit: ViewFit, option: boolean, first: boolean, wanted: 'level' | 'seen' | null][] = [
      // The first level replaces the placeholder view whatever the option says, as a whole level.
      ['level', true, true, 'level'],
      ['level', false, true, 'level'],
      ['seen', true, true, 'level'],
      ['seen', false, true, 'level'],
      // Later levels: fitted the way the view was last fitted, only with the option on.
      ['level', true, false, 'level'],
      ['seen', true, false, 'seen'],
      ['level', false, false, null],
      ['seen', false, false, null],
      // A view the user moved is never taken away.
      [null, true, true, null],
      [null, true, false, null],
      [null, false, false, null],
    ];
    for (const [fit, option, first, wanted] of cases) {
      expect(fitOnLevelChange(fit, option, first), `fit ${String(fit)}, option ${option}, first ${first}`).toBe(wanted);
    }
  });
});
