/**
 * `pnpm --filter @webmon/tile-viewer bench [-- --screenshot]`
 *
 * The viewer (both tile geometries) against the original per-tile-mesh approach, in one Chromium page, same
 * run, at 1k / 10k / 100k drawn tiles: time per frame (update + render + GPU sync), level build time, draw
 * calls, ratios. Env: TILE_VIEWER_BENCH_SIZES (default "1000,10000,100000"), TILE_VIEWER_BENCH_FRAMES
 * (default 40), TILE_VIEWER_BENCH_BUDGET_MS (time cap on the frames of one implementation at one size, at least
 * 3 frames run; default 10000).
 * `--screenshot` also writes docs/screenshot.png (the README's picture).
 */
import { fileURLToPath } from 'node:url';
import type { Bench, RunResult } from './page.js';
import { openTestSite } from '@webmon/test-chromium';

declare global {
  interface Window {
    bench: Bench;
    benchReady: boolean;
  }
}

const sizes = (process.env['TILE_VIEWER_BENCH_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
const frames = Number(process.env['TILE_VIEWER_BENCH_FRAMES'] ?? 40);
const budgetMs = Number(process.env['TILE_VIEWER_BENCH_BUDGET_MS'] ?? 10_000);
const wantScreenshot = process.argv.includes('--screenshot');

const fmt = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

const site = await openTestSite(fileURLToPath(new URL('./page.ts', import.meta.url)), { title: 'tile-viewer bench' });
try {
  const context = await site.browser.newContext({ viewport: { width: 1000, height: 700 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(site.url);
  await page.waitForFunction(() => window.benchReady === true);
  const version = site.browser.version();
  console.log(`tile-viewer bench: Chromium ${version}, software WebGL2 (SwiftShader), 800x600 canvas, up to ${frames} frames per size`);
  console.log('frame = update(poll) + render + 1-px readPixels (waits for the GPU); an S x S seen block (S <= 40) pans one column per frame over N drawn tiles\n');

  // Warm-up (JIT, shader compilation) so the first measured size is not penalised.
  await page.evaluate(() => {
    window.bench.runViewer(400, 5, 'merged', 1000);
    window.bench.runViewer(400, 5, 'instanced', 1000);
    window.bench.runBaseline(400, 5, 1000);
  });

  const rows: { n: number; merged: RunResult; instanced: RunResult; baseline: RunResult }[] = [];
  for (const n of sizes) {
    const merged = await page.evaluate(([size, count, budget]) => window.bench.runViewer(size, count, 'merged', budget), [n, frames, budgetMs] as const);
    const instanced = await page.evaluate(([size, count, budget]) => window.bench.runViewer(size, count, 'instanced', budget), [n, frames, budgetMs] as const);
    const baseline = await page.evaluate(([size, count, budget]) => window.bench.runBaseline(size, count, budget), [n, frames, budgetMs] as const);
    rows.push({ n, merged, instanced, baseline });
    console.log(
      `${String(n).padStart(7)} tiles: merged ${fmt(merged.frameMsMedian)} ms (main thread ${fmt(merged.cpuMsMedian)}), instanced ${fmt(instanced.frameMsMedian)} ms (${fmt(instanced.cpuMsMedian)}), ` +
        `baseline ${fmt(baseline.frameMsMedian)} ms (${fmt(baseline.cpuMsMedian)}) per frame, medians` +
        [merged, instanced, baseline]
          .filter((r) => r.capped)
          .map((r) => `; ${r.impl} capped at ${r.frames} frames by the ${budgetMs} ms budget`)
          .join(''),
    );
  }

  const ratio = (base: number, ours: number): string => `${fmt(base / ours)}x`;
  console.log('\nFrame = update + render + GPU sync (SwiftShader renders on the CPU, in the GPU process):');
  console.log('| drawn tiles | seen / frame | merged ms | instanced ms | baseline ms | speed-up merged (instanced) | draw calls merged / instanced / baseline | level build ms merged / instanced / baseline |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { n, merged, instanced, baseline } of rows) {
    console.log(
      `| ${n.toLocaleString('en-US')} | ${merged.seenPerFrame} | ${fmt(merged.frameMsMedian)} | ${fmt(instanced.frameMsMedian)}${instanced.capped ? ` (${instanced.frames} frames)` : ''} | ${fmt(baseline.frameMsMedian)}${baseline.capped ? ` (${baseline.frames} frames)` : ''}` +
        ` | ${ratio(baseline.frameMsMedian, merged.frameMsMedian)} (${ratio(baseline.frameMsMedian, instanced.frameMsMedian)})` +
        ` | ${merged.drawCalls} / ${instanced.drawCalls} / ${baseline.drawCalls} | ${fmt(merged.buildMs)} / ${fmt(instanced.buildMs)} / ${fmt(baseline.buildMs)} |`,
    );
  }
  console.log('\nMain-thread part of a frame = update + render call (what blocks the page; GPU work excluded):');
  console.log('| drawn tiles | merged ms | instanced ms | baseline ms | speed-up merged (instanced) |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const { n, merged, instanced, baseline } of rows) {
    console.log(
      `| ${n.toLocaleString('en-US')} | ${fmt(merged.cpuMsMedian)} | ${fmt(instanced.cpuMsMedian)} | ${fmt(baseline.cpuMsMedian)} | ${ratio(baseline.cpuMsMedian, merged.cpuMsMedian)} (${ratio(baseline.cpuMsMedian, instanced.cpuMsMedian)}) |`,
    );
  }
  const tenK = rows.find((r) => r.n === 10_000);
  if (tenK) {
    const frame = tenK.baseline.frameMsMedian / tenK.merged.frameMsMedian;
    const main = tenK.baseline.cpuMsMedian / tenK.merged.cpuMsMedian;
    console.log(`\ngoal: >= 20x faster at 10k tiles: whole frame ${fmt(frame)}x (${frame >= 20 ? 'met' : 'not met'}), main thread ${fmt(main)}x (${main >= 20 ? 'met' : 'not met'})`);
  }
  const hundredK = rows.find((r) => r.n === 100_000);
  if (hundredK) {
    console.log(`100k tiles: ${fmt(hundredK.merged.frameMsMedian)} ms per frame (${fmt(hundredK.merged.cpuMsMedian)} ms main thread), ${fmt(hundredK.merged.buildMs)} ms to build the level (merged)`);
  }
  console.log(JSON.stringify({ bench: 'tile-viewer', chromium: version, frames, rows }));

  if (wantScreenshot) {
    const shot = await context.newPage();
    await shot.setViewportSize({ width: 900, height: 560 });
    await shot.goto(site.url);
    await shot.waitForFunction(() => window.benchReady === true);
    await shot.evaluate(() => window.bench.screenshotScene());
    // Hover a seen tile so the read-out shows in the picture.
    await shot.mouse.move(560, 172);
    await shot.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const out = fileURLToPath(new URL('../docs/screenshot.png', import.meta.url));
    await shot.locator('[data-role="tile-viewer"]').screenshot({ path: out });
    console.log(`screenshot written to ${out}`);
  }
  await context.close();
} finally {
  await site.close();
}
