/**
 * Seek in a 1 GiB recording, timed to the first frame *shown*: Chromium's image page, `webmon replay`, a seek
 * through `POST /api/replay` (what the header's slider sends), until the page has drawn the image frame
 * at the cursor.
 *
 *   pnpm --filter webmon bench:seek
 *
 * The recording is made by webmon itself: the simulator (napari 0.4 at 60 Hz, the image stream at 60 Hz)
 * and `webmon record <file>` until the file holds BENCH_SEEK_BYTES (default 1 GiB; the image frames are
 * BENCH_SEEK_IMAGE² float32, default 512²). BENCH_SEEK_FILE=/path.mcap keeps it for the next run.
 * Then `webmon replay`, the image page open and paused, and BENCH_SEEKS (20) seeks to image frames spread
 * over the whole file (a low-discrepancy sequence: the same places each run). Each is timed in the page
 * from just before its request until the page's `data-drawn-time` is that frame's time.
 * Baselines in the same run: the page's round trip of a `POST /api/replay` that does nothing (pause while
 * paused), and the recorder's own read of the state at the cursor (`stateAt`, the index lookups and
 * reads a seek starts with).
 * Also: play at ×1 for BENCH_SEEK_PLAY_S (5) seconds — frames the page drew against frames recorded in the
 * span it played, and against the same page drawing the simulator's stream live (its own drawing rate is
 * the bound on a 2-core machine with software WebGL, live or replayed); and the values the replayer
 * published per second (every topic, `/api/status`) against the file's average rate.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRecording } from '@webmon/recorder';
import type { Browser } from 'playwright-core';
import { openBenchPage, type QuietPage as Page } from '@webmon/test-chromium';
import { CLI, PYTHON, SIMULATOR, launchChromium, startProcess, startWebmon, type Proc } from '../test/helpers.js';

const TARGET_BYTES = Number(process.env['BENCH_SEEK_BYTES'] ?? 2 ** 30);
const IMAGE = Number(process.env['BENCH_SEEK_IMAGE'] ?? 512);
const SEEKS = Number(process.env['BENCH_SEEKS'] ?? 20);
const PLAY_SECONDS = Number(process.env['BENCH_SEEK_PLAY_S'] ?? 5);
const IMAGE_TOPIC = 'napari.image';
const tempDir = process.env['BENCH_SEEK_FILE'] === undefined ? mkdtempSync(join(tmpdir(), 'webmon-bench-seek-')) : undefined;
const FILE = process.env['BENCH_SEEK_FILE'] ?? join(tempDir!, 'seek.mcap');

const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
};
const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const sizeOf = (file: string): number => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/**
 * Quiet pages (playwright's network instrumentation off, as in a user's browser: see `openQuietPage`);
 * BENCH_PLAYWRIGHT_PAGES=1 opens playwright's own pages, as this bench did before December 2026.
 */
const WATCHED_PAGES = process.env['BENCH_PLAYWRIGHT_PAGES'] === '1';

/** `webmon replay`'s own figures in `/api/status`: values published so far, and the file's span and message count. */
async function replayStatus(url: string): Promise<{ published: number; messages: number; start: number; end: number }> {
  const status = (await (await fetch(`${url}api/status`)).json()) as { replay?: { published: number; messages: number; start: number; end: number } };
  if (status.replay === undefined) throw new Error('/api/status has no replay');
  return status.replay;
}

/** Frames the image page draws per second live, on the same simulator stream: the baseline of replay at ×1. */
async function liveDrawnHz(browser: Browser): Promise<number> {
  const procs: Proc[] = [];
  try {
    const simulator = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--watch-stdin', '--napari', '0.4', '--image-hz', '60', '--image-size', String(IMAGE)]);
    procs.push(simulator);
    const port = Number((await simulator.waitFor(/napari simulator: manager port (\d+)/, 60_000))[1]);
    // A napari reached by --connect gets the image page only when asked (its plugins may publish no ring).
    const { proc, url } = await startWebmon(['--port', '0', '--connect', `127.0.0.1:${port}`, '--page', '@webmon/page-image']);
    procs.push(proc);
    const page = await openBenchPage(browser, `${url}image`, { viewport: { width: 900, height: 700 }, watched: WATCHED_PAGES });
    await page.waitFor(() => Number((document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset['drawn']) > 0, { timeoutMs: 120_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const drawn0 = await drawnCount(page);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, PLAY_SECONDS * 1000));
    const hz = ((await drawnCount(page)) - drawn0) / ((performance.now() - started) / 1000);
    await page.close();
    return hz;
  } finally {
    for (const proc of procs.reverse()) await proc.stop();
  }
}

/** The simulator recorded by `webmon record` until the file is big enough (reused when it already is). */
async function makeRecording(): Promise<void> {
  if (sizeOf(FILE) >= TARGET_BYTES * 0.9) {
    console.log(`recording: reusing ${FILE} (${fixed(sizeOf(FILE) / 2 ** 20, 0)} MiB)`);
    return;
  }
  const procs: Proc[] = [];
  try {
    const simulator = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--watch-stdin', '--napari', '0.4', '--image-hz', '60', '--image-size', String(IMAGE)]);
    procs.push(simulator);
    const port = Number((await simulator.waitFor(/napari simulator: manager port (\d+)/, 60_000))[1]);
    const recorder = startProcess(process.execPath, [CLI, 'record', FILE, '--connect', `127.0.0.1:${port}`]);
    procs.push(recorder);
    const started = performance.now();
    while (sizeOf(FILE) < TARGET_BYTES) {
      if (recorder.child.exitCode !== null) throw new Error(`webmon record exited: ${recorder.output().slice(-500)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await recorder.stop(30_000);
    console.log(`recording: ${fixed(sizeOf(FILE) / 2 ** 20, 0)} MiB in ${fixed((performance.now() - started) / 1000)} s (${FILE})`);
  } finally {
    for (const proc of procs.reverse()) await proc.stop();
  }
}

interface Frame {
  /** Log time, ms (the replay's clock). */
  logMs: number;
  /** The frame's own time stamp: what the image page puts in `data-drawn-time`. */
  time: number;
}

/** Every image frame of the file, in log-time order. */
async function imageFrames(): Promise<Frame[]> {
  const recording = await openRecording(FILE);
  try {
    const frames: Frame[] = [];
    for await (const message of recording.messages({ topics: [IMAGE_TOPIC] })) {
      if (message.kind === 'frame') frames.push({ logMs: Number(message.logTime) / 1e6, time: message.frame.time });
    }
    return frames;
  } finally {
    await recording.close();
  }
}

/** The recorder's own read of the state at each cursor: what a seek does before the pages hear of it. */
async function stateReadMs(cursors: readonly number[]): Promise<number[]> {
  const recording = await openRecording(FILE);
  try {
    const times: number[] = [];
    for (const cursor of cursors) {
      const start = performance.now();
      await recording.stateAt(BigInt(Math.round(cursor * 1e6)));
      times.push(performance.now() - start);
    }
    return times;
  } finally {
    await recording.close();
  }
}

/**
 * In the page: sends `body` to `/api/replay` and resolves with the ms until the image page shows
 * `time` (watched by a MutationObserver: the page host remounts the page on a new session, so the
 * element is looked up again on every change); `time` null: until the response.
 */
const timedAction = (page: Page, body: Record<string, unknown>, time: number | null): Promise<number> =>
  // Source text, not a function: tsx would wrap the named helpers inside in a `__name` the page lacks.
  page.evaluate(`(async () => {
    const body = ${JSON.stringify(body)};
    const time = ${JSON.stringify(time === null ? null : String(time))};
    const shown = () => document.querySelector('[data-role="image-page"]')?.dataset.drawnTime === time;
    const start = performance.now();
    const drawn = time === null ? Promise.resolve() : new Promise((resolve, reject) => {
      const observer = new MutationObserver(() => {
        if (!shown()) return;
        observer.disconnect();
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        observer.disconnect();
        reject(new Error('frame ' + time + ' not shown within 30 s'));
      }, 30000);
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-drawn-time'] });
    });
    const response = await fetch('/api/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error('POST /api/replay ' + JSON.stringify(body) + ': HTTP ' + response.status);
    await drawn;
    return performance.now() - start;
  })()`) as Promise<number>;

const drawnCount = async (page: Page): Promise<number> =>
  Number(await page.evaluate(() => (document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset['drawn']));

async function main(): Promise<void> {
  await makeRecording();
  const frames = await imageFrames();
  if (frames.length < SEEKS + 2) throw new Error(`only ${frames.length} image frames in ${FILE}`);
  // Spread over the file by the golden ratio's fractional parts: no two alike, the same each run.
  const targets: Frame[] = [];
  for (let k = 1; targets.length < SEEKS; k++) {
    const frame = frames[Math.floor(((k * 0.6180339887) % 1) * frames.length)]!;
    if (!targets.some((other) => other.time === frame.time)) targets.push(frame);
  }
  // The cursor just after the frame's log time (a seek includes what was logged at the cursor).
  const cursorOf = (frame: Frame): number => frame.logMs + 0.001;

  const browser = await launchChromium();
  const liveHz = await liveDrawnHz(browser);
  const { proc, url } = await startWebmon(['replay', FILE, '--port', '0']);
  try {
    const page = await openBenchPage(browser, `${url}image`, { viewport: { width: 900, height: 700 }, watched: WATCHED_PAGES });
    await page.waitFor(() => Number((document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset['drawn']) > 0, { timeoutMs: 120_000 });
    await timedAction(page, { action: 'pause' }, null);
    // One seek unmeasured (the first through each path warms caches and the JIT), then the measured ones.
    await timedAction(page, { action: 'seek', cursor: cursorOf(frames[1]!) }, frames[1]!.time);
    const seekMs: number[] = [];
    const roundTripMs: number[] = [];
    for (const target of targets) {
      roundTripMs.push(await timedAction(page, { action: 'pause' }, null));
      seekMs.push(await timedAction(page, { action: 'seek', cursor: cursorOf(target) }, target.time));
    }
    const readMs = await stateReadMs(targets.map(cursorOf));

    // Play at ×1 from a quarter in: frames drawn against frames recorded over the span played.
    const from = frames[Math.floor(frames.length / 4)]!;
    await timedAction(page, { action: 'seek', cursor: cursorOf(from) }, from.time);
    const drawn0 = await drawnCount(page);
    const published0 = (await replayStatus(url)).published;
    const played0 = performance.now();
    await timedAction(page, { action: 'play' }, null);
    await new Promise((resolve) => setTimeout(resolve, PLAY_SECONDS * 1000));
    await timedAction(page, { action: 'pause' }, null);
    const playedMs = performance.now() - played0;
    const drawn = (await drawnCount(page)) - drawn0;
    const replay = await replayStatus(url);
    // What the replayer itself kept up with: every topic's values published, against the file's average rate.
    const publishedHz = (replay.published - published0) / (playedMs / 1000);
    const fileHz = replay.messages / ((replay.end - replay.start) / 1000);
    const recorded = frames.filter((frame) => frame.logMs > cursorOf(from) && frame.logMs <= cursorOf(from) + playedMs).length;

    const recordedHz = frames.length / ((frames.at(-1)!.logMs - frames[0]!.logMs) / 1000);
    console.log(`\nrecording: ${fixed(sizeOf(FILE) / 2 ** 20, 0)} MiB, ${frames.length} image frames (${IMAGE}² float32, ${fixed(recordedHz)} Hz recorded)`);
    console.log(`seek → frame shown in Chromium (${SEEKS} seeks): p50 ${fixed(quantile(seekMs, 0.5))} ms, p95 ${fixed(quantile(seekMs, 0.95))} ms, max ${fixed(Math.max(...seekMs))} ms ` +
      `(goal ≤ 200 ms: ${Math.max(...seekMs) <= 200 ? 'met' : 'NOT met'} at the max, ${quantile(seekMs, 0.95) <= 200 ? 'met' : 'NOT met'} at p95)`);
    console.log(`baselines, same run: the page's POST /api/replay round trip p50 ${fixed(quantile(roundTripMs, 0.5), 2)} ms; ` +
      `the state read at the cursor (stateAt) p50 ${fixed(quantile(readMs, 0.5))} ms, max ${fixed(Math.max(...readMs))} ms; ` +
      `seek / state read (p50) ${fixed(quantile(seekMs, 0.5) / quantile(readMs, 0.5), 2)}×`);
    const replayHz = drawn / (playedMs / 1000);
    console.log(`play at ×1 for ${fixed(playedMs / 1000)} s: the page drew ${drawn} frames of ${recorded} recorded in that span, ${fixed(replayHz)} Hz; ` +
      `the same page live on the same stream (baseline, same run) ${fixed(liveHz)} Hz: replay / live ${fixed(replayHz / liveHz, 2)}×; ` +
      `the replayer published ${fixed(publishedHz)} values/s (every topic) against ${fixed(fileHz)} on average in the file: ${fixed(publishedHz / fileHz, 2)}×`);
    await page.close();
  } finally {
    await browser.close();
    await proc.stop();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

await main();
