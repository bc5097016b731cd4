/**
 * `pnpm --filter @webmon/image-view bench`
 *
 * The view drawing on the main thread (baseline) against drawing in a worker (OffscreenCanvas), in one
 * Chromium page, same run, rounds alternating: 1024² float32 frames published at 60 Hz through a credit
 * window of one frame. Prints, per mode (medians over the rounds): frames drawn per second, main-thread ms
 * per drawn frame (frame handler + animation-frame callbacks; and Chromium's own main-thread task time,
 * CDP `Performance.getMetrics` TaskDuration), long tasks, ping delay p50 / p99, publish → drawn age; then
 * worker / main ratios. Env: IMAGE_VIEW_BENCH_SECONDS (per round, default 6), IMAGE_VIEW_BENCH_ROUNDS
 * (default 3), IMAGE_VIEW_BENCH_HZ (default 60), IMAGE_VIEW_BENCH_SIDE (default 1024).
 */
import { fileURLToPath } from 'node:url';
import { openTestSite } from '@webmon/test-chromium';
import { workerDefine } from '../scripts/worker-source.js';
import type { Bench, RunResult } from './page.js';

declare global {
  interface Window {
    bench: Bench;
    benchReady: boolean;
  }
}

const seconds = Number(process.env['IMAGE_VIEW_BENCH_SECONDS'] ?? 6);
const rounds = Number(process.env['IMAGE_VIEW_BENCH_ROUNDS'] ?? 3);
const hz = Number(process.env['IMAGE_VIEW_BENCH_HZ'] ?? 60);
const side = Number(process.env['IMAGE_VIEW_BENCH_SIDE'] ?? 1024);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (value: number): string => (Number.isNaN(value) ? '–' : value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

const site = await openTestSite(fileURLToPath(new URL('./page.ts', import.meta.url)), { title: 'image-view bench', define: await workerDefine() });
try {
  const context = await site.browser.newContext({ viewport: { width: side + 40, height: side + 40 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(site.url);
  await page.waitForFunction(() => window.benchReady === true);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async (): Promise<number> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'TaskDuration')?.value ?? Number.NaN;
  };
  console.log(`image-view bench: Chromium ${site.browser.version()}, software WebGL2 (SwiftShader), ${side}² float32 at ${hz} Hz, credit window 1, ${rounds} rounds × ${seconds} s per mode, alternating`);

  const results: Record<'main' | 'worker', (RunResult & { taskMs: number })[]> = { main: [], worker: [] };
  for (let round = 0; round < rounds; round++) {
    for (const mode of round % 2 === 0 ? (['main', 'worker'] as const) : (['worker', 'main'] as const)) {
      const before = await taskSeconds();
      const result = await page.evaluate(([m, s, h, n]) => window.bench.run(m, s, h, n), [mode, seconds, hz, side] as const);
      // Main-thread task time of the whole run (warm-up and the frame copies included), per drawn frame.
      const taskMs = ((await taskSeconds()) - before) * 1000 / Math.max(1, result.drawn);
      results[mode].push({ ...result, taskMs });
      console.log(
        `  round ${round + 1} ${mode.padEnd(6)} ${fmt(result.drawnPerSecond)} drawn/s of ${fmt(result.published / result.seconds)} published/s · main thread ${fmt(result.busyMs)} ms/frame ` +
          `(show ${fmt(result.handlerMs)}, rAF ${fmt(result.rafMs)}; Chromium tasks ${fmt(taskMs)}) · long tasks ${result.longTasks} (${fmt(result.longTaskMs)} ms) · ping p50/p99 ${fmt(result.pingP50)}/${fmt(result.pingP99)} ms · age p50/p99 ${fmt(result.ageP50)}/${fmt(result.ageP99)} ms · ${result.readout.renderer} ${result.readout.texture}${result.readout.worker ? ' in a worker' : ''}`,
      );
    }
  }
  const summary = (mode: 'main' | 'worker') => {
    const runs = results[mode];
    const pick = (key: keyof RunResult | 'taskMs'): number => median(runs.map((r) => r[key as keyof typeof r] as number));
    return { fps: pick('drawnPerSecond'), busy: pick('busyMs'), task: pick('taskMs'), longPerS: median(runs.map((r) => r.longTaskMs / r.seconds)), pingP99: pick('pingP99'), ageP99: pick('ageP99'), ageP50: pick('ageP50') };
  };
  const main = summary('main');
  const worker = summary('worker');
  console.log('\nmedians over the rounds         main thread (baseline)   worker   worker / main');
  const line = (label: string, a: number, b: number): void => console.log(`  ${label.padEnd(30)} ${fmt(a).padStart(10)} ${fmt(b).padStart(14)} ${(b / a).toFixed(2).padStart(10)}×`);
  line('frames drawn per second', main.fps, worker.fps);
  line('main thread ms per frame', main.busy, worker.busy);
  line('Chromium main-thread task ms/frame', main.task, worker.task);
  line('long-task ms per second', main.longPerS, worker.longPerS);
  line('ping delay p99, ms', main.pingP99, worker.pingP99);
  line('publish → drawn p50, ms', main.ageP50, worker.ageP50);
  line('publish → drawn p99, ms', main.ageP99, worker.ageP99);
} finally {
  await site.close();
}
