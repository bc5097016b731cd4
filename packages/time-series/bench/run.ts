/**
 * `pnpm --filter @webmon/time-series bench`: 20 fields at 60 Hz in Debian's Chromium, all in one run:
 * this chart with a full 10-minute window (720,000 points) following the live edge, the same while zooming
 * and panning to a random part of the window every frame, and the loader page's Vega-Lite streaming chart
 * (`@webmon/loader-charts`) fed the same 20 fields at the same rate in its own 10 s window (it cannot hold
 * 720,000 rows). Prints ratios first, then the table.
 *
 * Env: TS_BENCH_SECONDS (measured seconds per case, default 5), TS_BENCH_REPEATS (runs per case, the best
 * kept: the machine is shared; default 2), TS_BENCH_VEGA_WINDOW_MS (default 10000).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CDPSession } from 'playwright-core';
import { bundleBrowserEntry, launchChromium, openPage, servePage } from '@webmon/test-chromium';
import type { Approach, BenchConfig, BenchResult } from './page.js';

const seconds = Number(process.env.TS_BENCH_SECONDS ?? 5);
const repeats = Math.max(1, Number(process.env.TS_BENCH_REPEATS ?? 2));
const vegaWindowMs = Number(process.env.TS_BENCH_VEGA_WINDOW_MS ?? 10_000);
const FIELDS = 20;
const WINDOW_MS = 600_000;
const WIDTH = 1000;
const GOAL_FPS = 30;

type Metrics = Record<string, number>;

async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((metric) => [metric.name, metric.value]));
}

interface CaseResult extends BenchResult {
  approach: Approach;
  /** Chromium's main-thread task time (script, style, layout, paint, raster) per animation frame. */
  taskMsPerFrame: number;
  fps: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;
}

const mean = (values: number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
const fmt = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

const script = await bundleBrowserEntry(fileURLToPath(new URL('./page.ts', import.meta.url)));
const server = await servePage(script, { title: 'time-series bench', bodyStyle: 'margin:16px;background:#fff', bodyHtml: '<div id="app"></div>' });
const browser = await launchChromium();

async function runCase(approach: Approach): Promise<CaseResult> {
  const page = await openPage(browser, server.url, 'bench', { width: WIDTH + 100, height: 800 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const marks: Partial<Record<'start' | 'end', Metrics>> = {};
  await page.exposeBinding('benchMark', async (_source, phase: 'start' | 'end') => {
    marks[phase] = await metrics(cdp);
  });
  const config: BenchConfig = { approach, seconds, fields: FIELDS, windowMs: WINDOW_MS, vegaWindowMs, width: WIDTH };
  const result = await page.evaluate((config) => window.bench.run(config), config);
  await page.close();
  const { start, end } = marks;
  if (!start || !end) throw new Error(`no metrics for ${approach}`);
  const delta = (name: string): number => ((end[name] ?? 0) - (start[name] ?? 0)) * 1000;
  return { ...result, approach, taskMsPerFrame: delta('TaskDuration') / result.frames, fps: result.frames / (result.elapsedMs / 1000) };
}

async function bestOf(approach: Approach): Promise<CaseResult> {
  let best: CaseResult | undefined;
  for (let i = 0; i < repeats; i += 1) {
    const result = await runCase(approach);
    if (!best || result.taskMsPerFrame < best.taskMsPerFrame) best = result;
  }
  return best as CaseResult;
}

const header =
  `time-series bench: ${FIELDS} fields at 60 Hz, one point per field per animation frame, plot ${WIDTH} px wide, ${seconds} s per case (best of ${repeats})\n` +
  `Chromium ${browser.version()} headless, software rendering; machine load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;

const idle = await bestOf('idle');
const follow = await bestOf('follow');
const zoomPan = await bestOf('zoom-pan');
const vega = await bestOf('vega');
await browser.close();
await server.close();

const chartMean = (r: CaseResult): number => mean(r.chartMs);
console.log(header);
console.log('\nratios (Vega-Lite ÷ ours, same run; > 1 means ours is cheaper):');
console.log(`  chart ms per frame, following:        ${fmt(chartMean(vega) / chartMean(follow), 1)}× (ours holds ${(follow.points / 1000).toFixed(0)}k points, Vega-Lite ${(vega.points / 1000).toFixed(0)}k)`);
console.log(`  main-thread ms per frame, following:  ${fmt(vega.taskMsPerFrame / follow.taskMsPerFrame, 1)}×`);
console.log(`  main-thread ms per frame, zoom/pan:   ${fmt(vega.taskMsPerFrame / zoomPan.taskMsPerFrame, 1)}× (Vega-Lite following; it has no zoom of its own)`);
console.log(`  points held per ms of chart work:     ${fmt(follow.points / chartMean(follow) / (vega.points / chartMean(vega)), 0)}×`);

console.log('\nchart ms = performance.now() around the chart\'s own work per drawn frame (ours: decimation + uPlot draw;');
console.log('Vega-Lite: changeset, dataflow, render); main ms/frame = Chromium main-thread TaskDuration per animation frame');
console.log('(script, style, layout, paint, raster); long tasks = tasks over 50 ms while measuring\n');
const rows: string[][] = [['case', 'window', 'points', 'fps', 'chart ms mean', 'p50', 'p95', 'max', 'main ms/frame', 'long tasks']];
const windowText = (r: CaseResult): string => (r.approach === 'vega' ? `${vegaWindowMs / 1000} s` : r.approach === 'idle' ? '–' : `${WINDOW_MS / 60_000} min`);
for (const r of [idle, follow, zoomPan, vega]) {
  rows.push([
    r.approach === 'vega' ? 'vega-lite (loader-charts)' : r.approach === 'idle' ? 'idle (harness)' : `ours ${r.approach}`,
    windowText(r),
    String(r.points),
    fmt(r.fps, 1),
    fmt(chartMean(r)),
    fmt(percentile(r.chartMs, 50)),
    fmt(percentile(r.chartMs, 95)),
    fmt(r.chartMs.length ? Math.max(...r.chartMs) : Number.NaN),
    fmt(r.taskMsPerFrame),
    `${r.longTasks} (${fmt(r.longTaskMs, 0)} ms)`,
  ]);
}
const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)) + 2);
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(''));

console.log(
  `\ngoal ≥ ${GOAL_FPS} fps zooming and panning a full 10-minute window of ${FIELDS} fields: ${fmt(zoomPan.fps, 1)} fps → ${zoomPan.fps >= GOAL_FPS ? 'met' : 'NOT met'}` +
    ` (following: ${fmt(follow.fps, 1)} fps, ${fmt(chartMean(follow))} ms chart work a frame)`,
);
