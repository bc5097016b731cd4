/**
 * The widget in real Chromium (Debian's, through playwright-core, WebGL2 on SwiftShader): every check reads
 * real pixels back from the viewer's WebGL canvas or drives it with real input events.
 */
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './browser/harness.js';
import { CORNERS0, LAYER_ID, LEVEL0, LEVEL1, OTHER_LAYER_ID, SEEN0, block, layer, levelPoint, pollOf, tileCentre } from './fixtures.js';
import { openTestSite, type TestSite } from '@webmon/test-chromium';

declare global {
  interface Window {
    tv: Harness;
    tvReady: boolean;
  }
}

type Rgba = [number, number, number, number];
const isRed = ([r, g, b]: Rgba): boolean => r > 190 && g < 70 && b < 70;
/** A seen tile, possibly under the translucent yellow frustum (red stays dominant). */
const isSeenRed = ([r, g, b]: Rgba): boolean => r > 190 && g < 140 && b < 90 && r > 2 * g;
const isGray = ([r, g, b]: Rgba): boolean => Math.abs(r - 163) < 25 && Math.abs(g - 162) < 25 && Math.abs(b - 160) < 25;
const isBackground = ([r, g, b]: Rgba): boolean => r < 45 && g < 45 && b < 50;
/** Gray under the translucent yellow frustum: red and green up, blue down. */
const isYellowTinted = ([r, g, b]: Rgba): boolean => r > 170 && g > 150 && b < r - 40;

const POLL0 = pollOf({ [LAYER_ID]: layer(LEVEL0, SEEN0, CORNERS0) });

let site: TestSite;
let context: BrowserContext;
let page: Page;

async function newPage(options: { deviceScaleFactor?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const ctx = await site.browser.newContext({ viewport: { width: 1300, height: 700 }, deviceScaleFactor: options.deviceScaleFactor ?? 1 });
  const p = await ctx.newPage();
  await p.goto(site.url);
  await p.waitForFunction(() => window.tvReady === true);
  return { context: ctx, page: p };
}

const pixel = (id: string, point: [number, number]): Promise<Rgba> => page.evaluate(([i, x, y]) => window.tv.pixelAt(i, x, y), [id, point[0], point[1]] as const);

beforeAll(async () => {
  site = await openTestSite(fileURLToPath(new URL('./browser/harness.ts', import.meta.url)), { title: 'tile-viewer', sourcemap: true });
  ({ context, page } = await newPage());
});

afterAll(async () => {
  await context?.close();
  await site?.close();
});

afterEach(async () => {
  await page.evaluate(() => {
    for (const id of ['a', 'b', 'left', 'right']) window.tv.remove(id);
  });
});

describe.each(['merged', 'instanced'] as const)('the picture, tiles %s', (tileGeometry) => {
  beforeAll(async () => {
    await page.evaluate((g) => window.tv.setDefaults({ tileGeometry: g }), tileGeometry);
  });
  afterAll(async () => {
    await page.evaluate(() => window.tv.setDefaults({}));
  });

  it('draws seen tiles red, context tiles gray, nothing beyond the context border', async () => {
    await page.evaluate(() => window.tv.create('a'));
    expect(await page.evaluate((poll) => window.tv.update('a', poll), POLL0)).toEqual({ ok: true });
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    // Within 5 tiles of a seen tile: gray context.
    expect(isGray(await pixel('a', tileCentre(LEVEL0, 22, 20)))).toBe(true);
    expect(isGray(await pixel('a', tileCentre(LEVEL0, 29, 17)))).toBe(true);
    // 6 columns left of the leftmost seen tile, and far away: not drawn.
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 27, 16)))).toBe(true);
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 5, 5)))).toBe(true);
    const stats = await page.evaluate(() => window.tv.call('a', 'stats'));
    // Around (27, 22): rows 22–29 x columns 17–27; around the 2 x 2 block: rows 21–29 x columns 20–29.
    // Union: 9 x 10 (columns 20–29) + 8 x 3 (columns 17–19) = 114, the seen tiles included.
    expect(stats).toMatchObject({ ok: true, value: { tiles: 114, seenTiles: 5 } });
  });

  it('tints the frustum area yellow and leaves the rest untinted', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    // (26, 27) is a context tile inside the frustum (rows 25.5–28, columns 24.5–27.5).
    const inside = await pixel('a', tileCentre(LEVEL0, 26, 27));
    expect(isYellowTinted(inside), `inside ${inside}`).toBe(true);
    const outside = await pixel('a', tileCentre(LEVEL0, 23, 27));
    expect(isGray(outside) && !isYellowTinted(outside), `outside ${outside}`).toBe(true);
    // A seen tile under the frustum stays red-dominant (red blended with translucent yellow).
    const [r, g, b] = await pixel('a', tileCentre(LEVEL0, 26, 25));
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(140);
    expect(b).toBeLessThan(90);
  });

  it('clips the last row and column of tiles to the image', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    // Row 29 covers level pixels 2900–2950 (not 3000); column 29 covers 2900–2980.
    expect(isGray(await pixel('a', levelPoint(LEVEL0, 2935, 2250)))).toBe(true);
    expect(isBackground(await pixel('a', levelPoint(LEVEL0, 2975, 2250)))).toBe(true);
    expect(isGray(await pixel('a', levelPoint(LEVEL0, 2450, 2960)))).toBe(true);
    expect(isBackground(await pixel('a', levelPoint(LEVEL0, 2450, 2995)))).toBe(true);
  });

  it('draws a red X axis along the top and a green Y axis down the left', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    const scan = async (x: number, y: number, vertical: boolean): Promise<Rgba[]> => {
      const [px, py] = await page.evaluate(([cx, cy]) => window.tv.toCanvas('a', cx, cy), [x, y] as const);
      const found: Rgba[] = [];
      for (let d = -2; d <= 2; d++) {
        found.push(await page.evaluate(([qx, qy]) => window.tv.pixelAtCanvas('a', qx, qy), (vertical ? [px, py + d] : [px + d, py]) as [number, number]));
      }
      return found;
    };
    // A 1-px antialiased line may straddle two pixel rows: look for a clearly red (green) pixel near it.
    expect((await scan(0.5, 0, true)).some(([r, g, b]) => r > 110 && g < 60 && b < 60)).toBe(true);
    expect((await scan(0, 0.5, false)).some(([r, g, b]) => g > 110 && r < 60 && b < 60)).toBe(true);
    // The axes are where the level starts, not elsewhere.
    expect((await scan(0.5, 0.5, true)).some(([r, g, b]) => r > 110 && g < 60 && b < 60)).toBe(false);
  });

  it('starts a fresh grid when the level changes', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    await page.evaluate(() => window.tv.clearEvents('a'));
    const poll1 = pollOf({ [LAYER_ID]: layer(LEVEL1, [[3, 3]], [[250, 250], [450, 450]]) });
    expect(await page.evaluate((poll) => window.tv.update('a', poll), poll1)).toEqual({ ok: true });
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 22, 20)))).toBe(true);
    expect(isRed(await pixel('a', tileCentre(LEVEL1, 3, 3)))).toBe(true);
    expect(isGray(await pixel('a', tileCentre(LEVEL1, 8, 0)))).toBe(true);
    expect(await page.evaluate(() => window.tv.call('a', 'stats'))).toMatchObject({ value: { tiles: 81, seenTiles: 1 } });
    const levels = await page.evaluate(() => window.tv.events('a', 'levelchange'));
    expect(levels).toEqual([{ layerId: LAYER_ID, level: 1, rowsInTiles: 15, colsInTiles: 15, tileSize: 100, imageShape: [1475, 1490] }]);
    expect(await page.evaluate(() => window.tv.controlText('a', 'level'))).toMatch(/^Level 1 · 15×15 tiles/);
  });

  it('unions context over time within a level and recolours tiles napari stops drawing', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), pollOf({ [LAYER_ID]: layer(LEVEL0, [[10, 10]], [[1000, 1000], [1100, 1100]]) }));
    await page.evaluate((poll) => window.tv.update('a', poll), pollOf({ [LAYER_ID]: layer(LEVEL0, [[10, 11]], [[1000, 1100], [1100, 1200]]) }));
    expect(isGray(await pixel('a', tileCentre(LEVEL0, 10, 10)))).toBe(true);
    expect(isSeenRed(await pixel('a', tileCentre(LEVEL0, 10, 11)))).toBe(true);
    // Column 5 came from the first update's border, column 16 from the second's: both kept.
    expect(isGray(await pixel('a', tileCentre(LEVEL0, 10, 5)))).toBe(true);
    expect(isGray(await pixel('a', tileCentre(LEVEL0, 10, 16)))).toBe(true);
    expect(await page.evaluate(() => window.tv.call('a', 'stats'))).toMatchObject({ value: { tiles: 11 * 12, seenTiles: 1 } });
  });

  it('keeps one draw call for the tiles whatever their count', async () => {
    await page.evaluate(() => window.tv.create('a', { renderMode: 'manual' }));
    const big = { ...LEVEL0, image_shape: [20_000, 20_000], base_shape: [20_000, 20_000], shape_in_tiles: [200, 200] };
    await page.evaluate((poll) => window.tv.update('a', poll), pollOf({ [LAYER_ID]: layer(big, block(10, 10, 100), [[1000, 1000], [11000, 11000]]) }));
    await page.evaluate(() => window.tv.call('a', 'render'));
    const stats = (await page.evaluate(() => window.tv.call('a', 'stats'))) as { value: { drawCalls: number; tiles: number } };
    expect(stats.value.tiles).toBe(110 * 110);
    // Tiles (1) + axes (1) + frustum fill (1) + frustum outline (1).
    expect(stats.value.drawCalls).toBe(4);
    expect(stats.value).toMatchObject({ capacity: 16384 });
    // Tiles appended after the buffers grew are drawn, and the earlier ones kept.
    await page.evaluate((poll) => window.tv.update('a', poll), pollOf({ [LAYER_ID]: layer(big, [[150, 150]], [[14_500, 14_500], [15_500, 15_500]]) }));
    // Tiles are ~3 px at this zoom: look at each probe from close up.
    const closeUp = async (row: number, col: number): Promise<Rgba> => {
      const [x, y] = tileCentre(big, row, col);
      await page.evaluate(([cx, cy]) => window.tv.call('a', 'setView', { centerX: cx, centerY: cy, scale: 5000 }), [x, y] as const);
      return pixel('a', [x, y]);
    };
    expect(isSeenRed(await closeUp(150, 150))).toBe(true);
    expect(isGray(await closeUp(155, 150))).toBe(true);
    expect(isGray(await closeUp(50, 50))).toBe(true);
    expect(isBackground(await closeUp(130, 130))).toBe(true);
  });
});

describe('bad input', () => {
  it('rejects a tile outside the level with a typed error and keeps the picture', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    const bad = pollOf({ [LAYER_ID]: layer(LEVEL0, [[30, 2]], CORNERS0) });
    const result = await page.evaluate((poll) => window.tv.update('a', poll), bad);
    expect(result).toMatchObject({ ok: false, error: { name: 'TileViewerError', code: 'TILE_VIEWER_INVALID_TILE_STATE' } });
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    expect(await page.evaluate(() => window.tv.call('a', 'stats'))).toMatchObject({ value: { tiles: 114, seenTiles: 5 } });
  });

  it('names the problem for each kind of malformed poll', async () => {
    await page.evaluate(() => window.tv.create('a'));
    const codes = await page.evaluate(
      ([good]) => {
        const cases: unknown[] = [
          null,
          { layers: [] },
          { layers: { x: { tile_config: { ...good, tile_size: 0 } } } },
          { layers: { x: { tile_config: { ...good, image_shape: [10] } } } },
          { layers: { x: { tile_config: good, tile_state: { seen: [[1, 'a']], corners: [[0, 0], [1, 1]] } } } },
          { layers: { x: { tile_config: good, tile_state: { seen: [], corners: [[0, Number.NaN], [1, 1]] } } } },
          { layers: { x: { tile_config: { ...good, shape_in_tiles: [2 ** 30, 2 ** 30] } } } },
        ];
        return cases.map((poll) => {
          const r = window.tv.update('a', poll as never);
          return r.ok ? 'ok' : r.error.code;
        });
      },
      [LEVEL0] as const,
    );
    expect(codes).toEqual(['TILE_VIEWER_INVALID_POLL', 'TILE_VIEWER_INVALID_POLL', 'TILE_VIEWER_INVALID_TILE_CONFIG', 'TILE_VIEWER_INVALID_TILE_CONFIG', 'TILE_VIEWER_INVALID_TILE_STATE', 'TILE_VIEWER_INVALID_TILE_STATE', 'TILE_VIEWER_LEVEL_TOO_LARGE']);
  });

  it('rejects bad options and unknown colours at creation', async () => {
    const codes = await page.evaluate(() =>
      [{ contextRadius: -1 }, { tileGap: 2 }, { renderMode: 'sometimes' }, { colors: { tile: 'not-a-colour' } }, { fitOnLevelChange: 'yes' }].map((options, i) => {
        try {
          window.tv.create(`bad-${i}`, options as never);
          window.tv.remove(`bad-${i}`);
          return 'created';
        } catch (error) {
          return (error as { code?: string }).code;
        }
      }),
    );
    expect(codes).toEqual(['TILE_VIEWER_INVALID_OPTIONS', 'TILE_VIEWER_INVALID_OPTIONS', 'TILE_VIEWER_INVALID_OPTIONS', 'TILE_VIEWER_INVALID_OPTIONS', 'TILE_VIEWER_INVALID_OPTIONS']);
    // Nothing was left behind by the failed creations.
    expect(await page.evaluate(() => document.querySelectorAll('canvas').length)).toBe(0);
  });
});

describe('layers', () => {
  it('lists octree layers, shows the first, switches on selectLayer and through the built-in select', async () => {
    await page.evaluate(() => window.tv.create('a'));
    const poll = pollOf({
      '1': {},
      [LAYER_ID]: layer(LEVEL0, SEEN0, CORNERS0),
      [OTHER_LAYER_ID]: layer(LEVEL0, [[5, 5]], [[500, 500], [600, 600]]),
    });
    await page.evaluate((p) => window.tv.update('a', p), poll);
    expect(await page.evaluate(() => window.tv.call('a', 'layers'))).toEqual({ ok: true, value: [LAYER_ID, OTHER_LAYER_ID] });
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 5, 5)))).toBe(true);

    await page.selectOption('#a select', OTHER_LAYER_ID);
    expect(await page.evaluate(() => window.tv.call('a', 'selectedLayer'))).toEqual({ ok: true, value: OTHER_LAYER_ID });
    expect(isSeenRed(await pixel('a', tileCentre(LEVEL0, 5, 5)))).toBe(true);
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    const changes = await page.evaluate(() => window.tv.events('a', 'layerschange'));
    expect(changes.at(-1)).toEqual({ layers: [LAYER_ID, OTHER_LAYER_ID], selected: OTHER_LAYER_ID });

    // The choice sticks across polls.
    await page.evaluate((p) => window.tv.update('a', p), poll);
    expect(await page.evaluate(() => window.tv.call('a', 'selectedLayer'))).toEqual({ ok: true, value: OTHER_LAYER_ID });

    expect(await page.evaluate(() => window.tv.call('a', 'selectLayer', '1'))).toMatchObject({ ok: false, error: { code: 'TILE_VIEWER_UNKNOWN_LAYER' } });
    expect(await page.evaluate((id) => window.tv.call('a', 'selectLayer', id), LAYER_ID)).toEqual({ ok: true, value: null });
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
  });

  it('falls back to another layer when the shown one disappears, and clears when none is left', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((p) => window.tv.update('a', p), pollOf({ [LAYER_ID]: layer(LEVEL0, SEEN0, CORNERS0), [OTHER_LAYER_ID]: layer(LEVEL0, [[5, 5]], [[500, 500], [600, 600]]) }));
    await page.evaluate((p) => window.tv.update('a', p), pollOf({ [OTHER_LAYER_ID]: layer(LEVEL0, [[5, 5]], [[500, 500], [600, 600]]) }));
    expect(await page.evaluate(() => window.tv.call('a', 'selectedLayer'))).toEqual({ ok: true, value: OTHER_LAYER_ID });
    expect(isSeenRed(await pixel('a', tileCentre(LEVEL0, 5, 5)))).toBe(true);
    await page.evaluate((p) => window.tv.update('a', p), pollOf({ '7': {} }));
    expect(await page.evaluate(() => window.tv.call('a', 'selectedLayer'))).toEqual({ ok: true, value: null });
    expect(isBackground(await pixel('a', tileCentre(LEVEL0, 5, 5)))).toBe(true);
    expect(await page.evaluate(() => window.tv.controlText('a', 'level'))).toBe('no octree layer');
  });
});

describe('interaction', () => {
  it('pans with a mouse drag and zooms about the cursor with the wheel', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    const before = ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: { centerX: number; centerY: number; scale: number } }).value;
    await page.mouse.move(300, 300);
    await page.mouse.down();
    await page.mouse.move(340, 280, { steps: 4 });
    await page.mouse.up();
    const panned = ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: typeof before }).value;
    expect(panned.centerX).toBeCloseTo(before.centerX - 40 / before.scale, 6);
    expect(panned.centerY).toBeCloseTo(before.centerY + 20 / before.scale, 6);

    const [cx, cy] = await page.evaluate(([x, y]) => window.tv.toClient('a', x, y), tileCentre(LEVEL0, 27, 22));
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -300);
    await page.waitForFunction(([s]) => (window.tv.call('a', 'getView') as { value: { scale: number } }).value.scale > s * 1.5, [panned.scale] as const);
    const zoomed = ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: typeof before }).value;
    // The tile under the cursor stays under the cursor.
    const [ax, ay] = await page.evaluate(([x, y]) => window.tv.toClient('a', x, y), tileCentre(LEVEL0, 27, 22));
    expect(Math.abs(ax - cx)).toBeLessThan(1);
    expect(Math.abs(ay - cy)).toBeLessThan(1);
    expect(zoomed.scale).toBeGreaterThan(panned.scale);
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
  });

  it('pinch-zooms with two touch pointers', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    const before = ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: { scale: number } }).value;
    await page.evaluate(() => window.tv.pinch('a', 300, 300, 100, 200));
    const after = ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: { scale: number } }).value;
    expect(after.scale / before.scale).toBeCloseTo(2, 5);
  });

  it('fits the seen tiles and frustum, and resets to the whole level', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    type View = { centerX: number; centerY: number; scale: number };
    const getView = async (): Promise<View> => ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: View }).value;
    const initial = await getView();
    // The whole level is in view, below the built-in controls.
    const panelBottom = await page.evaluate(() => (document.querySelector('#a [data-role="tile-viewer-controls"]') as HTMLElement).getBoundingClientRect().bottom);
    const [x0, y0] = await page.evaluate(() => window.tv.toCanvas('a', 0, 0));
    const [x1, y1] = await page.evaluate(([x, y]) => window.tv.toCanvas('a', x, y), levelPoint(LEVEL0, 2950, 2980));
    expect(y0).toBeGreaterThan(panelBottom);
    expect(x0).toBeGreaterThan(0);
    expect(x1).toBeLessThan(600);
    expect(y1).toBeLessThan(600);

    await page.click('#a button:text("Fit")');
    const fitted = await getView();
    // Seen tiles and frustum span columns 22–27.5 (0.185 units): fitted, that is several times the whole-level zoom.
    expect(fitted.scale).toBeGreaterThan(initial.scale * 4);
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    const [fx0] = await page.evaluate(([x, y]) => window.tv.toCanvas('a', x, y), tileCentre(LEVEL0, 27, 22));
    expect(fx0).toBeGreaterThan(0);

    await page.click('#a button:text("Reset")');
    expect(await getView()).toEqual(initial);
  });

  describe('when the level changes', () => {
    type View = { centerX: number; centerY: number; scale: number };
    const getView = async (): Promise<View> => ((await page.evaluate(() => window.tv.call('a', 'getView'))) as { value: View }).value;
    /** Level 1, napari now drawing the top-left corner: tile (2, 2) and a frustum around it. */
    const POLL1 = pollOf({ [LAYER_ID]: layer(LEVEL1, [[2, 2]], [[400, 400], [600, 600]]) });
    const inCanvas = ([x, y]: [number, number]): boolean => x > 0 && x < 600 && y > 0 && y < 600;
    const canvasPoint = (point: [number, number]): Promise<[number, number]> => page.evaluate(([x, y]) => window.tv.toCanvas('a', x, y), point);

    it('fits the new level the way the view was last fitted (seen tiles after Fit, the whole level after Reset)', async () => {
      await page.evaluate(() => window.tv.create('a'));
      await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
      const whole0 = await getView();
      await page.click('#a button:text("Fit")');
      const fitted0 = await getView();
      expect(fitted0.scale).toBeGreaterThan(whole0.scale * 4);
      // At level 0's fit, level 1's seen tile (top-left of the image) is far off screen.
      expect(inCanvas(await canvasPoint(tileCentre(LEVEL1, 2, 2)))).toBe(false);

      await page.evaluate((poll) => window.tv.update('a', poll), POLL1);
      const fitted1 = await getView();
      expect(fitted1.scale).toBeGreaterThan(whole0.scale * 4);
      expect(inCanvas(await canvasPoint(tileCentre(LEVEL1, 2, 2)))).toBe(true);
      expect(isSeenRed(await pixel('a', tileCentre(LEVEL1, 2, 2)))).toBe(true);
      // Exactly what Fit gives on this level.
      await page.click('#a button:text("Fit")');
      expect(await getView()).toEqual(fitted1);

      // After Reset, a level change shows the (new) whole level.
      await page.click('#a button:text("Reset")');
      await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
      const whole = await getView();
      expect(whole.scale).toBeCloseTo(whole0.scale, 9);
      expect(whole.centerX).toBeCloseTo(whole0.centerX, 9);
      expect(whole.centerY).toBeCloseTo(whole0.centerY, 9);
    });

    it('never moves a view the user panned or zoomed since the last fit', async () => {
      await page.evaluate(() => window.tv.create('a'));
      await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
      await page.click('#a button:text("Fit")');
      // The user zooms in on the seen tile left of the block, then drags a little.
      const [cx, cy] = await page.evaluate(([x, y]) => window.tv.toClient('a', x, y), tileCentre(LEVEL0, 27, 22));
      const before = await getView();
      await page.mouse.move(cx, cy);
      await page.mouse.wheel(0, -200);
      await page.waitForFunction(([s]) => (window.tv.call('a', 'getView') as { value: { scale: number } }).value.scale > s * 1.2, [before.scale] as const);
      await page.mouse.down();
      await page.mouse.move(cx + 30, cy + 10, { steps: 3 });
      await page.mouse.up();
      const users = await getView();

      await page.evaluate((poll) => window.tv.update('a', poll), POLL1);
      expect(await getView()).toEqual(users);
      await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
      expect(await getView()).toEqual(users);
      expect(await page.evaluate(() => window.tv.events('a', 'levelchange').length)).toBeGreaterThanOrEqual(2);

      // A fit hands the view back to the viewer: the next level change fits again.
      await page.click('#a button:text("Fit")');
      await page.evaluate((poll) => window.tv.update('a', poll), POLL1);
      expect(inCanvas(await canvasPoint(tileCentre(LEVEL1, 2, 2)))).toBe(true);
    });

    it('leaves every view alone with fitOnLevelChange: false', async () => {
      await page.evaluate(() => window.tv.create('a', { fitOnLevelChange: false }));
      await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
      await page.click('#a button:text("Fit")');
      const fitted0 = await getView();
      await page.evaluate((poll) => window.tv.update('a', poll), POLL1);
      expect(await getView()).toEqual(fitted0);
      expect(inCanvas(await canvasPoint(tileCentre(LEVEL1, 2, 2)))).toBe(false);
    });
  });

  it('reads out level / row / col under the pointer and emits hover events', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    const [x, y] = await page.evaluate(([px, py]) => window.tv.toClient('a', px, py), tileCentre(LEVEL0, 27, 22));
    await page.mouse.move(x, y);
    expect(await page.evaluate(() => window.tv.controlText('a', 'hover'))).toBe('level 0 · row 27 · col 22 · seen');
    const [x2, y2] = await page.evaluate(([px, py]) => window.tv.toClient('a', px, py), tileCentre(LEVEL0, 3, 4));
    await page.mouse.move(x2, y2);
    expect(await page.evaluate(() => window.tv.controlText('a', 'hover'))).toBe('level 0 · row 3 · col 4 · not drawn');
    const hovers = await page.evaluate(() => window.tv.events('a', 'hover'));
    expect(hovers.slice(-2)).toEqual([
      { layerId: LAYER_ID, level: 0, row: 27, col: 22, seen: true, drawn: true },
      { layerId: LAYER_ID, level: 0, row: 3, col: 4, seen: false, drawn: false },
    ]);
    await page.mouse.move(1250, 650);
    expect((await page.evaluate(() => window.tv.events('a', 'hover'))).at(-1)).toBeNull();
  });

  it('turns the show-grid toggle into a command for the app to send', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.click('#a input[type=checkbox]');
    await page.evaluate(() => window.tv.call('a', 'setShowGrid', false));
    expect(await page.evaluate(() => window.tv.events('a', 'command'))).toEqual([
      { name: 'show_grid', args: true },
      { name: 'show_grid', args: false },
    ]);
    expect(await page.evaluate(() => (document.querySelector('#a input[type=checkbox]') as HTMLInputElement).checked)).toBe(false);
  });
});

describe('rendering and lifecycle', () => {
  it("renders once per animation frame on demand in 'auto' mode and never on its own in 'manual'", async () => {
    await page.evaluate(() => {
      window.tv.create('a');
      window.tv.create('b', { renderMode: 'manual' }, { left: 620 });
    });
    await page.evaluate(() => window.tv.frames(3));
    const rendersOf = async (id: string): Promise<number> => ((await page.evaluate((i) => window.tv.call(i, 'stats'), id)) as { value: { renders: number } }).value.renders;
    const [a0, b0] = [await rendersOf('a'), await rendersOf('b')];
    await page.evaluate(() => window.tv.frames(3));
    expect(await rendersOf('a')).toBe(a0);
    await page.evaluate((poll) => {
      for (let i = 0; i < 5; i++) {
        window.tv.update('a', poll);
        window.tv.update('b', poll);
      }
    }, POLL0);
    await page.evaluate(() => window.tv.frames(3));
    expect(await rendersOf('a')).toBe(a0 + 1);
    expect(await rendersOf('b')).toBe(b0);
    expect((await page.evaluate(() => window.tv.events('b', 'invalidate'))).length).toBeGreaterThan(0);
    expect(isRed(await pixel('b', tileCentre(LEVEL0, 27, 22)))).toBe(true);
  });

  it("renders every frame in 'continuous' mode until disposed", async () => {
    await page.evaluate(() => window.tv.create('a', { renderMode: 'continuous' }));
    const rendersOf = async (): Promise<number> => ((await page.evaluate(() => window.tv.call('a', 'stats'))) as { value: { renders: number } }).value.renders;
    const before = await rendersOf();
    await page.evaluate(() => window.tv.frames(5));
    const during = await rendersOf();
    expect(during - before).toBeGreaterThanOrEqual(3);
    await page.evaluate(() => window.tv.dispose('a'));
    const atDispose = await rendersOf();
    await page.evaluate(() => window.tv.frames(5));
    expect(await rendersOf()).toBe(atDispose);
  });

  it('follows its container when it resizes', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    await page.evaluate(() => window.tv.setContainerSize('a', 400, 300));
    await page.waitForFunction(() => window.tv.canvasInfo('a').width === 400);
    expect(await page.evaluate(() => window.tv.canvasInfo('a'))).toMatchObject({ width: 400, height: 300, clientWidth: 400, clientHeight: 300 });
    expect(isRed(await pixel('a', tileCentre(LEVEL0, 27, 22)))).toBe(true);
  });

  it('dispose releases the WebGL context and leaves the element clean', async () => {
    await page.evaluate(() => window.tv.create('a'));
    await page.evaluate((poll) => window.tv.update('a', poll), POLL0);
    const before = await page.evaluate(() => window.tv.containerInfo('a'));
    expect(before.children).toBe(1);
    await page.evaluate(() => window.tv.dispose('a'));
    const after = await page.evaluate(() => window.tv.containerInfo('a'));
    expect(after).toEqual({ children: 0, html: '', attributes: before.attributes, contextLost: true });
    expect(await page.evaluate((poll) => window.tv.update('a', poll), POLL0)).toMatchObject({ ok: false, error: { code: 'TILE_VIEWER_DISPOSED' } });
    expect(await page.evaluate(() => window.tv.call('a', 'dispose'))).toEqual({ ok: true, value: null });
  });

  it('can be created and disposed more times than Chromium allows live WebGL contexts', async () => {
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (/too many active webgl contexts/i.test(message.text())) warnings.push(message.text());
    });
    const drew = await page.evaluate(([poll, probe]) => window.tv.churn(24, poll, probe), [POLL0, tileCentre(LEVEL0, 27, 22)] as const);
    expect(drew).toBe(24);
    expect(warnings).toEqual([]);
  });

  it('runs two viewers side by side, each with its own data, input and events', async () => {
    await page.evaluate(() => {
      window.tv.create('left', {}, { left: 0, width: 600, height: 600 });
      window.tv.create('right', { colors: { seenTile: '#1060ff' } }, { left: 620, width: 600, height: 600 });
    });
    await page.evaluate((poll) => window.tv.update('left', poll), POLL0);
    await page.evaluate((poll) => window.tv.update('right', poll), pollOf({ [LAYER_ID]: layer(LEVEL1, [[3, 3]], [[250, 250], [450, 450]]) }));
    expect(isRed(await pixel('left', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    const [r, g, b] = await pixel('right', tileCentre(LEVEL1, 3, 3));
    expect(b).toBeGreaterThan(200);
    expect(r).toBeLessThan(60);
    expect(g).toBeLessThan(130);
    expect(isBackground(await pixel('right', tileCentre(LEVEL0, 27, 22)))).toBe(true);
    const [x, y] = await page.evaluate(([px, py]) => window.tv.toClient('right', px, py), tileCentre(LEVEL1, 3, 3));
    await page.mouse.move(x, y);
    expect((await page.evaluate(() => window.tv.events('right', 'hover'))).at(-1)).toMatchObject({ level: 1, row: 3, col: 3, seen: true });
    expect(await page.evaluate(() => window.tv.events('left', 'hover'))).toEqual([]);
    await page.evaluate(() => window.tv.dispose('left'));
    expect(await page.evaluate(() => window.tv.canvasInfo('right').contextLost)).toBe(false);
    expect((await pixel('right', tileCentre(LEVEL1, 3, 3)))[2]).toBeGreaterThan(200);
  });
});

describe('HiDPI', () => {
  let hidpi: { context: BrowserContext; page: Page };
  beforeAll(async () => {
    hidpi = await newPage({ deviceScaleFactor: 2 });
  });
  afterAll(async () => {
    await hidpi?.context.close();
  });

  it('renders at the device pixel ratio and still hits the right tiles', async () => {
    const p = hidpi.page;
    await p.evaluate(() => window.tv.create('a'));
    await p.evaluate((poll) => window.tv.update('a', poll), POLL0);
    expect(await p.evaluate(() => window.tv.canvasInfo('a'))).toMatchObject({ width: 1200, height: 1200, clientWidth: 600, clientHeight: 600 });
    const seen = await p.evaluate(([x, y]) => window.tv.pixelAt('a', x, y), tileCentre(LEVEL0, 27, 22));
    expect(isRed(seen)).toBe(true);
    const context = await p.evaluate(([x, y]) => window.tv.pixelAt('a', x, y), tileCentre(LEVEL0, 22, 20));
    expect(isGray(context)).toBe(true);
  });
});
