/**
 * Record, then replay, in real Chromium: webmon records the simulator (napari 0.4: octree polls,
 * frame_time, an image ring, plugin data) with `--record` while a live page notes what it showed (the image
 * page's pixels and the time of the frame drawn); a copy of the file is cut in its last chunk, and a second
 * recording webmon is killed with SIGKILL. Then `webmon replay` serves each file, and after each seek — once
 * by a click on the header's slider, then through `POST /api/replay` to exact instants — the pages show what
 * was live then: the image's pixels equal the live capture of that frame, the explorer's charts hold the
 * recorded window before the cursor and its tree the value at the cursor (as `openRecording().stateAt()`
 * reads them here), the tile viewer the recorded poll at the cursor. Play, pause, speed, a refused command,
 * and cut files replayed to their cut. Writes docs/replay.png.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { McapIndexedReader } from '@mcap/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecording, type RecordedMessage } from '@webmon/recorder';
import { explorerValue } from './explorer-page.js';
import { APP_DIR, PYTHON, SIMULATOR, eventually, getJson, launchChromium, startProcess, startWebmon, type Proc } from './helpers.js';
import { changedShare, summarizePixels, type PixelSummary } from './pixels.js';

/** Two charts: a stream topic's field (10 s of history, `CHART_WINDOW_MS`) and a JSON latest topic's (60 s, `CHART_HISTORY_MS`). */
const CHART = '?chart=napari.frame_time~delta_ms&chart=napari.data.my_plugin~stats.mean';

interface LiveShot {
  /** The frame's source time (ms), as the image page says it drew it. */
  time: number;
  pixels: PixelSummary;
}

interface ReplayStatus {
  replay: {
    state: string;
    speed: number;
    cursor: number;
    start: number;
    end: number;
    seeks: number;
    problems: { truncated: boolean; cutAt?: number };
    messages: number;
  };
}

let dir: string;
let browser: Browser;
const procs: Proc[] = [];
let file: string;
let cutFile: string;
let killedFile: string;
const shots: LiveShot[] = [];

const imageData = (page: Page): Promise<Record<string, string | undefined>> =>
  page.evaluate(() => ({ ...(document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset }));

const imageShot = async (page: Page): Promise<LiveShot> => {
  // The frame drawn can change between reading its time and the screenshot: take both until they agree.
  for (let tries = 0; tries < 50; tries++) {
    const before = (await imageData(page))['drawnTime'];
    const pixels = await summarizePixels(page, await page.locator('canvas[data-role="canvas"]').screenshot());
    const after = (await imageData(page))['drawnTime'];
    if (before !== undefined && before === after) return { time: Number(before), pixels };
  }
  throw new Error('the image page kept drawing new frames during every screenshot');
};

const status = async (url: string): Promise<ReplayStatus> => (await getJson(`${url}api/status`)) as ReplayStatus;

/** `POST /api/replay` from the page (same origin, as the header's controls send it). */
const replayAction = (page: Page, action: Record<string, unknown>): Promise<number> =>
  page.evaluate(async (body) => (await fetch('/api/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status, action);

/** A recorded message's log time in ms, just after it (the cursor includes what was logged at it). */
const justAfter = (message: RecordedMessage): number => Number(message.logTime) / 1e6 + 0.001;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webmon-replay-e2e-'));
  file = join(dir, 'live.mcap');
  cutFile = join(dir, 'cut.mcap');
  killedFile = join(dir, 'killed.mcap');
  // The simulator on its own (as explorer.e2e does), with a slow image: a screenshot then shows one frame.
  const simulator = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--watch-stdin', '--napari', '0.4', '--image-hz', '2', '--image-size', '64', '--plugin-after', '2']);
  procs.push(simulator);
  const port = Number((await simulator.waitFor(/napari simulator: manager port (\d+)/, 60_000))[1]);
  // A second recording, of a simulator of its own, that ends with SIGKILL (a crash: no summary is written).
  const doomedSimulator = startProcess(PYTHON, [SIMULATOR, '--no-clients', '--watch-stdin', '--napari', '0.4', '--image-hz', '2', '--image-size', '64']);
  procs.push(doomedSimulator);
  const doomedPort = Number((await doomedSimulator.waitFor(/napari simulator: manager port (\d+)/, 60_000))[1]);
  const [live, doomed] = await Promise.all([
    startWebmon(['--port', '0', '--connect', `127.0.0.1:${port}`, '--record', file, '--page', '@webmon/page-image']),
    startWebmon(['--port', '0', '--connect', `127.0.0.1:${doomedPort}`, '--record', killedFile]),
  ]);
  procs.push(live.proc, doomed.proc);
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  await page.goto(`${live.url}image`);
  await page.waitForFunction(() => Number((document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset['drawn']) > 1, undefined, { timeout: 60_000 });
  for (let i = 0; i < 3; i++) {
    shots.push(await imageShot(page));
    await page.waitForTimeout(1_300);
  }
  await page.close();
  // Recorded until at least three chunks are on disk (each one grows the file), so one can be cut.
  const sizes = new Set<number>();
  const killedSizes = new Set<number>();
  await eventually(() => {
    sizes.add(statSync(file, { throwIfNoEntry: false })?.size ?? 0);
    killedSizes.add(statSync(killedFile, { throwIfNoEntry: false })?.size ?? 0);
    return sizes.size > 4 && killedSizes.size > 3 ? true : undefined;
  }, 60_000, 'chunks written');
  doomed.proc.child.kill('SIGKILL');
  expect(await doomed.proc.exited()).toBe('SIGKILL');
  await live.proc.stop();
  await simulator.stop();
  await doomedSimulator.stop();
  // A recording cut in its last chunk, as a crash leaves it: no summary, a torn chunk at the end.
  const bytes = readFileSync(file);
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(bytes.length), read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)) },
  });
  const chunks = [...reader.chunkIndexes].sort((a, b) => Number(a.chunkStartOffset - b.chunkStartOffset));
  expect(chunks.length).toBeGreaterThan(1);
  const lastChunk = chunks.at(-1)!;
  copyFileSync(file, cutFile);
  truncateSync(cutFile, Number(lastChunk.chunkStartOffset + lastChunk.chunkLength / 2n));
  expect(live.proc.output()).toMatch(/recording .* closed: \d+ messages/);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const proc of procs) await proc.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('webmon replay of a recording of the simulator, in Chromium', () => {
  let url: string;
  let page: Page;

  it('serves the recording with the timeline; a drag on the slider seeks, and the pages show the state there', async () => {
    const replay = await startWebmon(['replay', file, '--port', '0']);
    procs.push(replay.proc);
    url = replay.url;
    expect(replay.proc.output()).toMatch(/replay of .*live\.mcap: \d+ topics/);
    // No page yet: the replay waits at its start (replay-wait.test.ts checks this closely).
    expect((await status(url)).replay).toMatchObject({ state: 'paused', seeks: 0 });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}explorer${CHART}`);
    await page.locator('#webmon-timeline').waitFor({ state: 'visible' });
    // The timeline has a row of its own: the slider spans most of the page.
    const slider = page.getByRole('slider', { name: 'Replay position' });
    const box = (await slider.boundingBox())!;
    expect(box.width).toBeGreaterThan(800);
    // The nav is one row of links (it was a column once the timeline took the row), at 1280 px and at 900.
    const navRow = async (): Promise<number> => new Set(await page.locator('#webmon-nav a').evaluateAll((links) => links.map((link) => Math.round(link.getBoundingClientRect().top)))).size;
    expect(await navRow()).toBe(1);
    const clockBox = (await page.locator('.timeline-clock').boundingBox())!;
    expect(clockBox.x + clockBox.width).toBeLessThanOrEqual(1280);
    await page.setViewportSize({ width: 900, height: 800 });
    expect(await navRow()).toBe(1);
    expect((await slider.boundingBox())!.width).toBeGreaterThan(450);
    const narrowClock = (await page.locator('.timeline-clock').boundingBox())!;
    expect(narrowClock.x + narrowClock.width).toBeLessThanOrEqual(900);
    await page.setViewportSize({ width: 1280, height: 800 });

    // The first page started the replay from its beginning: pause it, so the state at the sought cursor stays.
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('.timeline-state').textContent(), { timeout: 10_000 }).toBe('paused');
    const seeksBefore = (await status(url)).replay.seeks;
    await slider.click({ position: { x: box.width * 0.6, y: box.height / 2 } });
    // The click lands at 60 % of the slider: the replay's cursor gets there (the seek counted as it starts,
    // the cursor moves once the state there is read), and stays paused.
    const share = (replay: ReplayStatus['replay']): number => (replay.cursor - replay.start) / (replay.end - replay.start);
    const sought = await eventually(async () => {
      const now = (await status(url)).replay;
      return now.seeks > seeksBefore && share(now) > 0.5 && share(now) < 0.7 ? now : undefined;
    }, 20_000, 'the seek from the slider to 50–70 % of the recording');
    expect(sought.state).toBe('paused');
    await page.waitForTimeout(300);
    expect((await status(url)).replay.cursor, 'no later seek').toBe(sought.cursor);

    const recording = await openRecording(file);
    try {
      const state = await recording.stateAt(BigInt(Math.round(sought.cursor * 1000)) * 1000n);
      const frameTimes = state.filter((message) => message.topic === 'napari.frame_time');
      expect(frameTimes.length).toBeGreaterThan(10);
      const newest = frameTimes.at(-1)!;
      if (newest.kind !== 'json') throw new Error('frame_time is JSON');
      const delta = (newest.payload as { delta_ms: number }).delta_ms;
      // The tree shows the value at the cursor; the chart the recorded window before it.
      await expect.poll(async () => Number(await explorerValue(page, 'napari.frame_time', 'delta_ms').textContent()), { timeout: 20_000 }).toBeCloseTo(delta, 3);
      const charts = page.locator('[data-role="charts"] .wx-chart');
      await expect.poll(async () => Number(await charts.nth(0).getAttribute('data-points')), { timeout: 20_000 }).toBe(frameTimes.length);
      // The plugin's data: every value of the minute before the cursor (here the whole recording up to it).
      const plugin = state.filter((message) => message.topic === 'napari.data.my_plugin');
      expect(plugin.length).toBeGreaterThan(20);
      expect(Number(plugin[0]!.logTime) / 1e6).toBeGreaterThan(sought.cursor - 60_000);
      await expect.poll(async () => Number(await charts.nth(1).getAttribute('data-points')), { timeout: 20_000 }).toBe(plugin.length);
      // The stream's window is its 10 s (CHART_WINDOW_MS) before the cursor.
      expect(Number(frameTimes[0]!.logTime) / 1e6).toBeGreaterThanOrEqual(sought.cursor - 10_000);
    } finally {
      await recording.close();
    }
  });

  it('the image at a sought frame is the one that was live then, pixel for pixel', async () => {
    const image = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await image.goto(`${url}image`);
    await image.waitForFunction(() => Number((document.querySelector('[data-role="image-page"]') as HTMLElement | null)?.dataset['drawn']) > 0, undefined, { timeout: 60_000 });
    const recording = await openRecording(file);
    try {
      const frames: RecordedMessage[] = [];
      for await (const message of recording.messages({ topics: ['napari.image'] })) frames.push(message);
      for (const shot of shots) {
        const frame = frames.find((message) => message.kind === 'frame' && message.frame.time === shot.time);
        expect(frame, `the live frame of ${shot.time} is in the recording`).toBeDefined();
        expect(await replayAction(image, { action: 'seek', cursor: justAfter(frame!) })).toBe(204);
        await expect.poll(async () => Number((await imageData(image))['drawnTime']), { timeout: 20_000 }).toBe(shot.time);
        const replayed = await imageShot(image);
        expect(replayed.time).toBe(shot.time);
        // Equal but for about 1 % of the pixels: with the timeline row the header is taller, the canvas sits at
        // another sub-pixel offset, and the screenshot resamples the boundaries between image rows (a diff
        // shows only thin horizontal lines there and the top and bottom edges). A different frame: > 10 %.
        expect(changedShare(shot.pixels, replayed.pixels)).toBeLessThan(0.03);
      }
      // …and a different frame looks different (the comparison can fail).
      const other = changedShare(shots[0]!.pixels, shots[2]!.pixels);
      console.log(`pixels changed between two live frames: ${(other * 100).toFixed(1)} %`);
      expect(other).toBeGreaterThan(0.1);
    } finally {
      await recording.close();
      await image.close();
    }
  });

  it('the tile viewer shows the recorded poll at the cursor', async () => {
    const viewer = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await viewer.goto(`${url}viewer`);
    const recording = await openRecording(file);
    try {
      const polls: RecordedMessage[] = [];
      for await (const message of recording.messages({ topics: ['napari.layers'] })) polls.push(message);
      const levels = new Set<number>();
      for (const at of [0.3, 0.8]) {
        const poll = polls[Math.floor(at * polls.length)]!;
        if (poll.kind !== 'json') throw new Error('polls are JSON');
        const layer = Object.values((poll.payload as { layers: Record<string, { tile_config: { level_index: number; shape_in_tiles: number[]; tile_size: number } }> }).layers)[0]!;
        const { level_index: level, shape_in_tiles: [rows, cols], tile_size: size } = layer.tile_config;
        levels.add(level);
        expect(await replayAction(viewer, { action: 'seek', cursor: justAfter(poll) })).toBe(204);
        await expect.poll(async () => viewer.locator('[data-role="level"]').textContent(), { timeout: 20_000 }).toMatch(new RegExp(`^Level ${level} · ${rows}×${cols} tiles of ${size}px · \\d+ seen`));
      }
    } finally {
      await recording.close();
    }
    // A command from the page is refused, and the page says so.
    await viewer.getByLabel('Show grid in napari').click();
    await expect.poll(() => viewer.locator('[data-role="viewer-notice"]').textContent(), { timeout: 20_000 }).toMatch(/did not take show_grid: .*commands are not run.*NOT_LIVE/);
    expect(await viewer.locator('[data-tiles]').getAttribute('data-command-error')).toBe('NOT_LIVE');
    await viewer.close();
  });

  it('plays (the clock moves and values change), pauses (they stop), and ×4 moves the clock about four times as fast', async () => {
    const recording = await openRecording(file);
    const start = recording.startTime;
    await recording.close();
    expect(await replayAction(page, { action: 'seek', cursor: Number(start) / 1e6 + 1_000 })).toBe(204);
    const count = (): Promise<number> => page.locator('[data-topic="napari.frame_time"]').getAttribute('data-count').then(Number);
    const clock = (): Promise<string | null> => page.locator('.timeline-clock').textContent();
    const c0 = await clock();
    const n0 = await count();
    await page.getByRole('button', { name: 'Play' }).click();
    await expect.poll(() => page.locator('.timeline-state').textContent(), { timeout: 10_000 }).toBe('playing');
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(n0 + 5);
    expect(await clock()).not.toBe(c0);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('.timeline-state').textContent(), { timeout: 10_000 }).toBe('paused');
    // A value sent just before the pause may still be on its way (and the page counts once per animation
    // frame): wait until the count holds still, then it must stay so.
    let n1 = await count();
    await expect
      .poll(
        async () => {
          const before = n1;
          await page.waitForTimeout(300);
          n1 = await count();
          return n1 === before;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    const c1 = await clock();
    await page.waitForTimeout(800);
    expect(await count()).toBe(n1);
    expect(await clock()).toBe(c1);

    // Speed ×4 (loose bounds: the machine is shared).
    await page.getByRole('combobox', { name: 'Replay speed' }).selectOption('4');
    await expect.poll(async () => (await status(url)).replay.speed, { timeout: 10_000 }).toBe(4);
    await page.getByRole('button', { name: 'Play' }).click();
    const first = await status(url);
    const wall0 = Date.now();
    await page.waitForTimeout(1_000);
    const second = await status(url);
    const wall = Date.now() - wall0;
    await page.getByRole('button', { name: 'Pause' }).click();
    if (second.replay.state === 'playing') {
      const ratio = (second.replay.cursor - first.replay.cursor) / wall;
      expect(ratio).toBeGreaterThan(2);
      expect(ratio).toBeLessThan(6);
    } else expect(second.replay.state).toBe('ended'); // ran off the end: still moved faster than ×1 would
    // For the README: paused late in the recording, the chart holding the minute before the cursor.
    const late = await status(url);
    expect(await replayAction(page, { action: 'seek', cursor: late.replay.start + 0.9 * (late.replay.end - late.replay.start) })).toBe(204);
    await expect.poll(async () => Number(await page.locator('[data-role="charts"] .wx-chart').nth(1).getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThan(20); // (a minute of history: its exact count is checked against the file above)
    await page.locator('body').click({ position: { x: 5, y: 780 } }); // no focus ring on a control
    mkdirSync(join(APP_DIR, 'docs'), { recursive: true });
    await page.screenshot({ path: join(APP_DIR, 'docs', 'replay.png') });
    await page.close();
  });

  it.each([
    ['cut in its last chunk', () => cutFile],
    ['of a webmon killed with SIGKILL', () => killedFile],
  ])('a recording %s replays up to its cut, with a warning and the last values before it', async (_, name) => {
    const cutFile = name();
    const replay = await startWebmon(['replay', cutFile, '--port', '0']);
    procs.push(replay.proc);
    expect(replay.proc.output()).toMatch(/was cut off.*replaying up to there/);
    const now = await status(replay.url);
    expect(now.replay.problems.truncated).toBe(true);
    expect(now.replay.messages).toBeGreaterThan(10);
    const recording = await openRecording(cutFile);
    let last: RecordedMessage | undefined;
    try {
      expect(recording.problems.truncated).toBe(true);
      for await (const message of recording.messages({ topics: ['napari.frame_time'], reverse: true })) {
        last = message;
        break;
      }
    } finally {
      await recording.close();
    }
    if (last?.kind !== 'json') throw new Error('a frame_time before the cut');
    const cut = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await cut.goto(`${replay.url}explorer`);
    await cut.locator('#webmon-timeline').waitFor({ state: 'visible' });
    // To the end of what could be read: the page shows the newest frame_time before the cut.
    expect(await replayAction(cut, { action: 'seek', cursor: now.replay.end })).toBe(204);
    await expect.poll(async () => Number(await explorerValue(cut, 'napari.frame_time', 'delta_ms').textContent()), { timeout: 20_000 }).toBeCloseTo((last.payload as { delta_ms: number }).delta_ms, 3);
    await cut.close();
  });
});
