/**
 * Benchmark page (bundled by bench/run.ts). Twenty fields at 60 Hz, one point each per animation frame (data
 * time advances 1/60 s a frame), drawn by:
 * - `follow`: this package, a 10-minute window prefilled (720,000 points), following the live edge;
 * - `zoom-pan`: the same chart and stream, with the view set to a random part of the window every frame
 *   (random span from 1 s to the whole window, random position: the worst case, every column re-summed);
 * - `vega`: the loader page's Vega-Lite path, `@webmon/loader-charts`' `createStreamingChart` with a line per
 *   field (long rows `{t, field, v}`, colour by field), updating every frame. It keeps its rows as JS objects
 *   in a Vega dataflow, so it holds its own 10 s window (12,000 rows), not 10 minutes;
 * - `idle`: only the input driver, to show what the harness itself costs.
 */
import { createStreamingChart, slidingTimeWindow } from '@webmon/loader-charts';
import { createTimeSeriesChart } from '../src/index.js';

export type Approach = 'follow' | 'zoom-pan' | 'vega' | 'idle';

export interface BenchConfig {
  approach: Approach;
  seconds: number;
  fields: number;
  windowMs: number;
  vegaWindowMs: number;
  width: number;
}

export interface BenchResult {
  frames: number;
  elapsedMs: number;
  /** The chart's own main-thread ms per drawn frame (performance.now() around its work). */
  chartMs: number[];
  /** Points the chart held at the end. */
  points: number;
  longTasks: number;
  longTaskMs: number;
}

const BASE = 1_700_000_000_000;
const STEP_MS = 1000 / 60;

async function mark(phase: 'start' | 'end'): Promise<void> {
  const binding = (window as unknown as { benchMark?: (phase: string) => Promise<void> }).benchMark;
  if (binding) await binding(phase);
}

const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));

function container(width: number): HTMLElement {
  const app = document.getElementById('app') as HTMLElement;
  app.replaceChildren();
  const element = document.createElement('div');
  element.style.width = `${width}px`;
  app.append(element);
  return element;
}

/** Field i's value at sample n: a wave, noise and a spike now and then. */
function value(field: number, n: number): number {
  return 10 * Math.sin(n / (50 + field * 7)) + ((n * 2654435761 + field * 97) % 1000) / 500 + (n % (600 + field) === 0 ? 40 : 0);
}

/** Runs `step` once per animation frame for `seconds` between the two metric marks; counts long tasks. */
async function measure(seconds: number, step: (frame: number) => void): Promise<{ frames: number; elapsedMs: number; longTasks: number; longTaskMs: number }> {
  let longTasks = 0;
  let longTaskMs = 0;
  let counting = false;
  const observer = new PerformanceObserver((list) => {
    if (!counting) return;
    for (const entry of list.getEntries()) {
      longTasks += 1;
      longTaskMs += entry.duration;
    }
  });
  observer.observe({ type: 'longtask', buffered: false });
  await mark('start');
  counting = true;
  const started = performance.now();
  let frames = 0;
  while (performance.now() - started < seconds * 1000) {
    step(frames);
    await nextFrame();
    frames += 1;
  }
  const elapsedMs = performance.now() - started;
  await mark('end');
  await nextFrame();
  counting = false;
  observer.disconnect();
  return { frames, elapsedMs, longTasks, longTaskMs };
}

async function runOurs(config: BenchConfig): Promise<BenchResult> {
  const chartMs: number[] = [];
  let measuring = false;
  let points = 0;
  const chart = createTimeSeriesChart(container(config.width), {
    windowMs: config.windowMs,
    title: '20 fields at 60 Hz',
    onFrame: (info) => {
      points = info.points;
      if (measuring) chartMs.push(info.ms);
    },
  });
  const ids = Array.from({ length: config.fields }, (_, i) => `napari.field_${i}`);
  for (const id of ids) chart.addSeries({ id, label: id.slice(7) });
  // Prefill the whole window: 60 Hz × windowMs per field.
  const prefill = Math.round((config.windowMs / 1000) * 60);
  const times = new Float64Array(prefill);
  const values = new Float64Array(prefill);
  ids.forEach((id, field) => {
    for (let n = 0; n < prefill; n += 1) {
      times[n] = BASE + n * STEP_MS;
      values[n] = value(field, n);
    }
    chart.pushMany(id, times, values);
  });
  let n = prefill;
  const pushFrame = (): void => {
    ids.forEach((id, field) => chart.push(id, BASE + n * STEP_MS, value(field, n)));
    n += 1;
  };
  for (let i = 0; i < 30; i += 1) {
    pushFrame();
    await nextFrame();
  }
  // A fixed sequence of random views (seeded), the same in every run.
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  measuring = true;
  const result = await measure(config.seconds, () => {
    pushFrame();
    if (config.approach === 'zoom-pan') {
      const end = BASE + (n - 1) * STEP_MS;
      const span = Math.exp(Math.log(1000) + random() * (Math.log(config.windowMs) - Math.log(1000)));
      const fromMs = end - config.windowMs + random() * (config.windowMs - span);
      chart.setView({ fromMs, toMs: fromMs + span });
    }
  });
  measuring = false;
  chart.destroy();
  return { ...result, chartMs, points };
}

async function runVega(config: BenchConfig): Promise<BenchResult> {
  const chartMs: number[] = [];
  let measuring = false;
  let points = 0;
  const spec = {
    width: config.width - 160,
    height: 240,
    data: slidingTimeWindow.data(),
    params: slidingTimeWindow.params(),
    config: { aria: false },
    mark: { type: 'line' as const, clip: true, strokeWidth: 1.25 },
    encoding: {
      x: slidingTimeWindow.x(),
      y: { field: 'v', type: 'quantitative' as const },
      color: { field: 'field', type: 'nominal' as const },
    },
  };
  const rowsInWindow = Math.round((config.vegaWindowMs / 1000) * 60 * config.fields);
  const chart = createStreamingChart<{ t: number; field: string; v: number }>(container(config.width), spec, {
    windowMs: config.vegaWindowMs,
    maxPoints: rowsInWindow + config.fields * 4,
    frameBudgetMs: Infinity,
    onUpdate: (info) => {
      points = info.size;
      if (measuring) chartMs.push(info.durationMs);
    },
  });
  await chart.ready;
  const fields = Array.from({ length: config.fields }, (_, i) => `field_${i}`);
  const prefill = Math.round((config.vegaWindowMs / 1000) * 60);
  let n = 0;
  const rowsAt = (k: number) => fields.map((field, i) => ({ t: BASE + k * STEP_MS, field, v: value(i, k) }));
  for (; n < prefill; n += 1) chart.push(rowsAt(n));
  for (let i = 0; i < 30; i += 1) {
    chart.push(rowsAt(n));
    n += 1;
    await nextFrame();
  }
  measuring = true;
  const result = await measure(config.seconds, () => {
    chart.push(rowsAt(n));
    n += 1;
  });
  measuring = false;
  chart.dispose();
  return { ...result, chartMs, points };
}

async function runIdle(config: BenchConfig): Promise<BenchResult> {
  container(config.width);
  const result = await measure(config.seconds, () => undefined);
  return { ...result, chartMs: [], points: 0 };
}

const bench = {
  run(config: BenchConfig): Promise<BenchResult> {
    if (config.approach === 'vega') return runVega(config);
    if (config.approach === 'idle') return runIdle(config);
    return runOurs(config);
  },
};

declare global {
  interface Window {
    bench: typeof bench;
  }
}

window.bench = bench;
