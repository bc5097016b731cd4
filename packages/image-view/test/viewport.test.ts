import { describe, expect, it } from 'vitest';
import { MAX_SCALE, Viewport } from '../src/viewport.js';

function viewport(width: number, height: number, rows: number, cols: number): Viewport {
  const view = new Viewport();
  view.setCanvas(width, height);
  view.setSource(rows, cols);
  return view;
}

describe('Viewport', () => {
  it('fits the whole image and asks for the canvas size without a region', () => {
    const view = viewport(800, 800, 1024, 1024);
    expect(view.scale).toBeCloseTo(800 / 1024);
    expect(view.visible()).toEqual({ x0: 0, y0: 0, x1: 1024, y1: 1024 });
    expect(view.request('float32')).toEqual({ maxShape: [800, 800], dtype: 'float32', resample: 'area' });
    // A wide image is letterboxed: the shown rectangle reaches beyond the rows, the request stays whole.
    const wide = viewport(800, 800, 200, 1000);
    expect(wide.visible()).toEqual({ x0: 0, y0: -400, x1: 1000, y1: 600 });
    expect(wide.request('uint8')).toEqual({ maxShape: [800, 800], dtype: 'uint8', resample: 'area' });
  });

  it('zooms about the pointer: the source point under it stays put, the region shrinks to whole pixels', () => {
    const view = viewport(800, 600, 1024, 1024);
    const before = view.visible();
    const pointer = { x: 200, y: 150 };
    const sourceX = before.x0 + pointer.x / view.scale;
    const sourceY = before.y0 + pointer.y / view.scale;
    view.zoomAt(4, pointer.x, pointer.y);
    const after = view.visible();
    expect(after.x0 + pointer.x / view.scale).toBeCloseTo(sourceX, 9);
    expect(after.y0 + pointer.y / view.scale).toBeCloseTo(sourceY, 9);
    const region = view.request('float32').region!;
    expect(region.x0).toBe(Math.floor(after.x0));
    expect(region.x1).toBe(Math.ceil(after.x1));
    expect(region.y0).toBe(Math.floor(after.y0));
    expect(region.y1).toBe(Math.ceil(after.y1));
    expect(view.fitted).toBe(false);
  });

  it('reaches step 1 — a region no larger than the canvas — once a source pixel covers a device pixel', () => {
    const view = viewport(800, 800, 1024, 1024);
    view.zoomAt(1.3, 400, 400); // ≈ 1.02 device px per source px
    const { maxShape, region } = view.request('float32');
    expect(region!.y1 - region!.y0).toBeLessThanOrEqual(maxShape[0]);
    expect(region!.x1 - region!.x0).toBeLessThanOrEqual(maxShape[1]);
  });

  it('pans by device pixels and never past the array’s edges; cannot zoom out beyond the whole image or in beyond MAX_SCALE', () => {
    const view = viewport(400, 400, 1000, 1000);
    view.zoomAt(10, 200, 200); // 4 device px per source px: 100 × 100 source pixels shown
    const start = view.visible();
    view.panBy(-40, 80); // content follows the pointer: left by 10 source px, down by 20
    const moved = view.visible();
    expect(moved.x0 - start.x0).toBeCloseTo(10, 9);
    expect(moved.y0 - start.y0).toBeCloseTo(-20, 9);
    view.panBy(1e6, 1e6);
    expect(view.visible()).toMatchObject({ x0: 0, y0: 0 });
    view.panBy(-1e7, -1e7);
    expect(view.visible().x1).toBeCloseTo(1000, 9);
    expect(view.visible().y1).toBeCloseTo(1000, 9);
    view.zoomAt(1e-6, 0, 0);
    expect(view.scale).toBeCloseTo(0.4);
    expect(view.request('float32').region).toBeUndefined();
    view.zoomAt(1e9, 0, 0);
    expect(view.scale).toBe(MAX_SCALE);
    expect(view.request('float32').region).toMatchObject({ y0: 0, x0: 0, y1: 7, x1: 7 }); // 400 / 64 = 6.25 → 7
  });

  it('keeps the zoom through a resize, and fits again when the source shape changes', () => {
    const view = viewport(400, 400, 1000, 1000);
    view.zoomAt(5, 200, 200);
    const scale = view.scale;
    view.setCanvas(600, 300);
    expect(view.scale).toBe(scale);
    expect(view.request('float32').maxShape).toEqual([300, 600]);
    expect(view.setSource(1000, 1000)).toBe(false);
    expect(view.setSource(512, 256)).toBe(true);
    expect(view.fitted).toBe(true);
    expect(view.request('float32').region).toBeUndefined();
  });
});
