import { describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import {
  LoaderChartsError,
  LoaderChartsErrorCode,
  createHeadlessChart,
  createHeadlessLoaderCharts,
  createLoaderCharts,
  createStreamingChart,
  frameTimeSpec,
  isLoaderChartsError,
  renderLoaderChartsSVG,
  slidingTimeWindow,
} from '../src/index.js';

const EPOCH = 1_700_000_000; // napari's `time`: seconds since the epoch

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof LoaderChartsError ? error.code : `not a LoaderChartsError: ${String(error)}`;
  }
  return undefined;
}

const pointSpec: TopLevelSpec = {
  data: slidingTimeWindow.data(),
  params: slidingTimeWindow.params(),
  mark: { type: 'point', clip: true },
  encoding: { x: slidingTimeWindow.x(), y: { field: 'v', type: 'quantitative' } },
};

describe('createHeadlessChart (real Vega, no DOM)', () => {
  it('holds exactly the in-window rows in the Vega data source and slides the x domain', async () => {
    const chart = createHeadlessChart<{ t: number; v: number }>(pointSpec, { windowMs: 1_000 });
    const rows = Array.from({ length: 50 }, (_, i) => ({ t: 10_000 + i * 100, v: i }));
    chart.push(rows);
    expect(await chart.flush()).toBe(true);
    const view = chart.view!;
    const shown = view.data('points') as { t: number }[];
    // Window end 14,900 → start 13,900 inclusive: rows 39..49.
    expect(shown.map((row) => row.t).sort((a, b) => a - b)).toEqual(rows.slice(39).map((row) => row.t));
    expect(view.signal('window_start')).toBe(13_900);
    expect(view.signal('window_end')).toBe(14_900);
    expect(await chart.flush()).toBe(false);
    chart.push({ t: 15_500, v: 1 });
    await chart.flush();
    expect((view.data('points') as { t: number }[]).map((row) => row.t).sort((a, b) => a - b)).toEqual([14_500, 14_600, 14_700, 14_800, 14_900, 15_500]);
    chart.dispose();
  });

  it('hands Vega exact changes: the same row object pushed twice, rows leaving unseen, a window that shrinks', async () => {
    // The view applies StreamBuffer's changes as they are (no lookup of every row Vega holds), so a row
    // inserted twice or removed while absent would corrupt its data source (or throw inside Vega).
    const chart = createHeadlessChart<{ t: number; v: number }>(pointSpec, { windowMs: 1_000 });
    const view = chart.view!;
    const shown = () => (view.data('points') as { t: number }[]).map((row) => row.t).sort((a, b) => a - b);
    const expected = () => chart.rows().map((row) => row.t).sort((a, b) => a - b);
    const twice = { t: 10_000, v: 1 };
    chart.push([twice, { t: 10_100, v: 2 }]);
    await chart.flush();
    chart.push(twice); // already shown: no second tuple
    await chart.flush();
    expect(shown()).toEqual([10_000, 10_100]);
    chart.push([{ t: 10_200, v: 3 }, twice]); // shown again while the first copy is still in the window
    chart.push({ t: 10_900, v: 4 });
    await chart.flush();
    expect(shown()).toEqual([10_000, 10_100, 10_200, 10_900]);
    chart.push({ t: 11_050, v: 5 }); // 10_000 leaves (both copies), 10_100 stays
    chart.push({ t: 11_060, v: 6 });
    await chart.flush();
    expect(shown()).toEqual(expected());
    chart.push({ t: 30_000, v: 7 }); // everything else leaves, and a row pushed and evicted unseen
    chart.push({ t: 1, v: 8 });
    await chart.flush();
    expect(shown()).toEqual([30_000]);
    chart.windowMs = 10; // shrinks: nothing left to remove twice
    for (let i = 1; i <= 40; i++) chart.push({ t: 30_000 + i * 7, v: i });
    await chart.flush();
    expect(shown()).toEqual(expected());
    expect(shown().length).toBeGreaterThan(0);
    chart.dispose();
  });

  it('after many updates draws the points exactly as a chart given the same window at once', async () => {
    const streamed = createHeadlessChart<{ t: number; v: number }>(pointSpec, { windowMs: 2_000 });
    for (let frame = 0; frame < 400; frame++) {
      streamed.push({ t: 10_000 + frame * 17, v: (frame * 7) % 23 });
      if (frame % 3 === 0) await streamed.flush();
    }
    await streamed.flush();
    const once = createHeadlessChart<{ t: number; v: number }>(pointSpec, { windowMs: 2_000 });
    once.push(streamed.rows().map((row) => ({ ...row })));
    await once.flush();
    // The points as drawn (the layout around them is fixed on a view's first run, so it may differ).
    const points = (svg: string) => svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s)?.[1]?.replace(/clip\d+/g, 'clip') ?? '';
    const drawn = points(await streamed.toSVG());
    expect(drawn.match(/<path /g)?.length).toBe(streamed.rows().length);
    expect(drawn).toBe(points(await once.toSVG()));
    streamed.dispose();
    once.dispose();
  });

  it('renders the streamed points to SVG', async () => {
    const chart = createHeadlessChart(pointSpec, { windowMs: 10_000 });
    chart.push(Array.from({ length: 7 }, (_, i) => ({ t: 1_000 + i, v: i })));
    await chart.flush();
    const svg = await chart.toSVG();
    expect(svg.startsWith('<svg')).toBe(true);
    // One symbol path per point inside the mark group.
    const marks = svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s)?.[1] ?? '';
    expect(marks.match(/<path /g)?.length).toBe(7);
    chart.dispose();
  });

  it('pause stops updates and resume shows what arrived meanwhile', async () => {
    const chart = createHeadlessChart(pointSpec);
    chart.push({ t: 1, v: 1 });
    await chart.flush();
    chart.pause();
    chart.push({ t: 2, v: 2 });
    expect(await chart.flush()).toBe(false);
    expect(chart.view!.data('points')).toHaveLength(1);
    chart.resume();
    expect(await chart.flush()).toBe(true);
    expect(chart.view!.data('points')).toHaveLength(2);
    chart.dispose();
    expect(chart.view).toBeUndefined();
    chart.push({ t: 3, v: 3 }); // ignored after dispose
    expect(await chart.flush()).toBe(false);
    await expect(chart.toSVG()).rejects.toMatchObject({ name: 'LoaderChartsError', code: 'LOADER_CHARTS_DISPOSED' });
  });

  it('rejects bad input with typed errors and adds nothing', async () => {
    expect(codeOf(() => createHeadlessChart({ mark: 'not-a-mark' } as unknown as TopLevelSpec))).toBe('LOADER_CHARTS_INVALID_SPEC');
    expect(codeOf(() => createHeadlessChart(pointSpec, { windowMs: 0 }))).toBe('LOADER_CHARTS_INVALID_OPTIONS');
    expect(codeOf(() => createHeadlessChart(pointSpec, { maxPoints: 1.5 }))).toBe('LOADER_CHARTS_INVALID_OPTIONS');
    const chart = createHeadlessChart(pointSpec);
    expect(codeOf(() => chart.push([{ t: 1, v: 1 }, { t: Number.NaN, v: 2 }]))).toBe('LOADER_CHARTS_INVALID_POINT');
    expect(codeOf(() => chart.push({ v: 2 } as never))).toBe('LOADER_CHARTS_INVALID_POINT');
    expect(chart.size).toBe(0);
    chart.dispose();
  });

  it('prefixes every code with LOADER_CHARTS_; isLoaderChartsError accepts only the class', () => {
    for (const code of Object.values(LoaderChartsErrorCode)) expect(code).toMatch(/^LOADER_CHARTS_[A-Z_]+$/);
    let caught: unknown;
    try {
      createHeadlessChart(pointSpec, { windowMs: -1 });
    } catch (error) {
      caught = error;
    }
    expect(isLoaderChartsError(caught)).toBe(true);
    expect(isLoaderChartsError(new Error('x'))).toBe(false);
    expect(isLoaderChartsError({ name: 'LoaderChartsError', code: 'LOADER_CHARTS_INVALID_OPTIONS' })).toBe(false);
  });

  it('says so when the spec has no data source of that name', () => {
    expect(codeOf(() => createHeadlessChart(frameTimeSpec, { dataName: 'missing' }))).toBe('LOADER_CHARTS_UNKNOWN_DATA_SOURCE');
  });
});

describe('headless loader charts', () => {
  it('keeps the Vega data sources bounded over a simulated 5 minutes of 60 Hz frame times', async () => {
    const charts = createHeadlessLoaderCharts();
    const frameView = charts.charts.frameTime.view!;
    let maxShown = 0;
    // One update per simulated second keeps the test quick; eviction is the same.
    for (let frame = 0; frame < 5 * 60 * 60; frame += 1) {
      charts.push({ time: EPOCH + frame / 60, delta_ms: 16 + (frame % 3) });
      if (frame % 60 === 59) {
        await charts.flush();
        maxShown = Math.max(maxShown, frameView.data('points').length);
      }
    }
    await charts.flush();
    expect(maxShown).toBeLessThanOrEqual(601);
    expect(frameView.data('points')).toHaveLength(601); // 10 s at 60 Hz, both ends inclusive
    const summary = charts.summary();
    expect(summary.frameTime.count).toBe(601);
    expect(summary.frameTime.meanMs).toBeCloseTo(17, 1);
    charts.dispose();
  });

  it('caps a burst of 2,000 chunk loads in one second but counts all of them in the rates', async () => {
    const charts = createHeadlessLoaderCharts({ maxPoints: 1_000 });
    const burst = Array.from({ length: 2_000 }, (_, i) => ({
      kind: 'load_chunk' as const,
      data: { time: EPOCH + i / 2_000, num_bytes: 262_144, load_ms: 1 + (i % 7) },
    }));
    expect(charts.push(burst)).toBe(2_000);
    await charts.flush();
    expect(charts.charts.loadTime.view!.data('points')).toHaveLength(1_000);
    expect(charts.charts.chunkSize.view!.data('points')).toHaveLength(1_000);
    const { loads } = charts.summary();
    expect(loads.count).toBe(2_000);
    // Watched for < 1 s, so rates are per the one-second minimum span.
    expect(loads.loadsPerSecond).toBe(2_000);
    expect(loads.megabytesPerSecond).toBeCloseTo((2_000 * 262_144) / 1e6, 6);
    charts.dispose();
  });

  it('rejects a malformed message in a batch without adding the rest', () => {
    const charts = createHeadlessLoaderCharts();
    expect(codeOf(() => charts.push([{ time: EPOCH, delta_ms: 16 }, { time: EPOCH, delta_ms: -1 }]))).toBe('LOADER_CHARTS_INVALID_MESSAGE');
    expect(charts.charts.frameTime.size).toBe(0);
    expect(charts.push({ kind: 'unknown', name: 'other', value: 1 })).toBe(0);
    charts.dispose();
  });

  it('renderLoaderChartsSVG renders the three charts', async () => {
    const messages = [
      ...Array.from({ length: 120 }, (_, i) => ({ time: EPOCH + i / 60, delta_ms: 15 + (i % 5) })),
      ...Array.from({ length: 30 }, (_, i) => ({ time: EPOCH + i / 15, num_bytes: 1_000 * (i + 1), load_ms: i % 9 })),
    ];
    const svg = await renderLoaderChartsSVG(messages);
    expect(Object.keys(svg).sort()).toEqual(['chunkSize', 'frameTime', 'loadTime']);
    expect(svg.frameTime).toContain('Frame time');
    expect(svg.frameTime).toMatch(/<g class="mark-line role-mark[^"]*"[^>]*><path [^>]*d="M[^"]{100,}/);
    const loadMarks = svg.loadTime.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s)?.[1] ?? '';
    expect(loadMarks.match(/<path /g)?.length).toBe(30);
    expect(svg.chunkSize).toContain('Chunk size');
  });
});

describe('in Node', () => {
  it('the DOM factories fail with INVALID_ELEMENT, and loading vega-embed is harmless', async () => {
    expect(codeOf(() => createStreamingChart({} as HTMLElement, frameTimeSpec))).toBe('LOADER_CHARTS_INVALID_ELEMENT');
    expect(codeOf(() => createLoaderCharts({} as HTMLElement))).toBe('LOADER_CHARTS_INVALID_ELEMENT');
    const embed = await import('vega-embed');
    expect(typeof embed.default).toBe('function');
  });
});
