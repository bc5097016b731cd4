import { describe, expect, it } from 'vitest';
import { clampView, panView, zoomView } from '../src/view.js';

describe('view arithmetic', () => {
  it('zooms around the anchor, which keeps its place', () => {
    const next = zoomView({ fromMs: 0, toMs: 1000 }, 250, 0.5, 1, 10_000);
    expect(next).toEqual({ fromMs: 125, toMs: 625 });
    expect((250 - next.fromMs) / (next.toMs - next.fromMs)).toBe(0.25);
  });

  it('keeps the span within its limits', () => {
    expect(zoomView({ fromMs: 0, toMs: 1000 }, 500, 0.001, 100, 10_000)).toEqual({ fromMs: 450, toMs: 550 });
    expect(zoomView({ fromMs: 0, toMs: 1000 }, 0, 100, 1, 2000)).toEqual({ fromMs: 0, toMs: 2000 });
  });

  it('pans by a time offset', () => {
    expect(panView({ fromMs: 10, toMs: 20 }, -5)).toEqual({ fromMs: 5, toMs: 15 });
  });

  it('shifts a view back inside the bounds, keeping its span, and caps the span to the bounds', () => {
    expect(clampView({ fromMs: -50, toMs: 50 }, 0, 1000)).toEqual({ fromMs: 0, toMs: 100 });
    expect(clampView({ fromMs: 950, toMs: 1050 }, 0, 1000)).toEqual({ fromMs: 900, toMs: 1000 });
    expect(clampView({ fromMs: -10, toMs: 5000 }, 0, 1000)).toEqual({ fromMs: 0, toMs: 1000 });
    expect(clampView({ fromMs: 200, toMs: 300 }, 0, 1000)).toEqual({ fromMs: 200, toMs: 300 });
  });
});
