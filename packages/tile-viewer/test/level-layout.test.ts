import { describe, expect, it } from 'vitest';
import { TileViewerError, TileViewerErrorCode, isTileViewerError } from '../src/errors.js';
import { checkTileState, frustumRect, layoutLevel, levelRect, tileAt, tileRect } from '../src/level-layout.js';
import { LEVEL0, LEVEL1 } from './fixtures.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TileViewerError);
    expect(isTileViewerError(error)).toBe(true);
    return (error as TileViewerError).code;
  }
};

function expectRect(actual: { x0: number; y0: number; x1: number; y1: number }, wanted: typeof actual): void {
  for (const key of ['x0', 'y0', 'x1', 'y1'] as const) expect(actual[key], key).toBeCloseTo(wanted[key], 12);
}

describe('level layout', () => {
  it('lays the level out in the unit square by its longer side, clipping edge tiles', () => {
    const layout = layoutLevel(LEVEL0);
    const rect = { x0: 0, y0: 0, x1: 0, y1: 0 };
    expectRect(tileRect(layout, 0, 0, rect), { x0: 0, y0: 0, x1: 100 / 2980, y1: 100 / 2980 });
    expectRect(tileRect(layout, 29, 29, rect), { x0: 2900 / 2980, y0: 2900 / 2980, x1: 1, y1: 2950 / 2980 });
    expect(levelRect(layout)).toEqual({ x0: 0, y0: 0, x1: 1, y1: 2950 / 2980 });
  });

  it('maps the frustum from base-level coordinates, whatever the level', () => {
    // Corners given in any order: [[y0, x0], [y1, x1]].
    const corners = [[2800, 2750], [2550, 2450]];
    expectRect(frustumRect(layoutLevel(LEVEL0), corners), { x0: 2450 / 2980, y0: 2550 / 2980, x1: 2750 / 2980, y1: 2800 / 2980 });
    expectRect(frustumRect(layoutLevel(LEVEL1), corners), frustumRect(layoutLevel(LEVEL0), corners));
  });

  it('finds the tile under a point and nothing outside the image', () => {
    const layout = layoutLevel(LEVEL1);
    expect(tileAt(layout, 350 / 1490, 120 / 1490)).toEqual({ row: 1, col: 3 });
    expect(tileAt(layout, 1489 / 1490, 1474 / 1490)).toEqual({ row: 14, col: 14 });
    expect(tileAt(layout, 0.5, 1476 / 1490)).toBeNull();
    expect(tileAt(layout, -0.001, 0.5)).toBeNull();
  });

  it('rejects malformed configs and states with stable codes', () => {
    expect(codeOf(() => layoutLevel(undefined))).toBe('TILE_VIEWER_INVALID_TILE_CONFIG');
    expect(codeOf(() => layoutLevel({ ...LEVEL0, tile_size: 1.5 }))).toBe('TILE_VIEWER_INVALID_TILE_CONFIG');
    expect(codeOf(() => layoutLevel({ ...LEVEL0, base_shape: [0, 10] }))).toBe('TILE_VIEWER_INVALID_TILE_CONFIG');
    expect(codeOf(() => layoutLevel({ ...LEVEL0, level_index: -1 }))).toBe('TILE_VIEWER_INVALID_TILE_CONFIG');
    expect(codeOf(() => layoutLevel({ ...LEVEL0, shape_in_tiles: [2 ** 27, 2 ** 27] }))).toBe('TILE_VIEWER_LEVEL_TOO_LARGE');
    const layout = layoutLevel(LEVEL0);
    expect(codeOf(() => checkTileState(layout, { seen: [[0, 30]], corners: [[0, 0], [1, 1]] }))).toBe('TILE_VIEWER_INVALID_TILE_STATE');
    expect(codeOf(() => checkTileState(layout, { seen: [[0, 1.5]] as never, corners: [[0, 0], [1, 1]] }))).toBe('TILE_VIEWER_INVALID_TILE_STATE');
    expect(codeOf(() => checkTileState(layout, { seen: [], corners: [[0, 0]] as never }))).toBe('TILE_VIEWER_INVALID_TILE_STATE');
    expect(checkTileState(layout, { seen: [[1, 2], [29, 0]], corners: [[0, 0], [1, 1]] })).toMatchObject({ seenCount: 2, seen: Int32Array.from([1, 2, 29, 0]) });
  });
});

describe('TileViewerError', () => {
  it('codes carry the TILE_VIEWER_ prefix; isTileViewerError accepts only the class', () => {
    for (const code of Object.values(TileViewerErrorCode)) expect(code).toMatch(/^TILE_VIEWER_[A-Z_]+$/);
    expect(isTileViewerError(new TileViewerError(TileViewerErrorCode.DISPOSED, 'x'))).toBe(true);
    expect(isTileViewerError(new Error('x'))).toBe(false);
    expect(isTileViewerError({ name: 'TileViewerError', code: 'TILE_VIEWER_DISPOSED' })).toBe(false);
  });
});
