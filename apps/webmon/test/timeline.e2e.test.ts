/**
 * The header timeline in Chromium, against the real webmon HTTP server (built shell) and its relay on port
 * 0. The replay behind it is a small `ReplayControl` written here that does what a replay does to the
 * relay — `setTimeline` — so every control goes the whole way: click or drag → `POST /api/replay` → the
 * control → the relay's `timeline` message → what the header shows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '@webmon/relay';
import { startWebmonServer, type WebmonServer } from '../src/http/server.js';
import type { ReplayControl } from '../src/http/replay.js';
import { APP_DIR, eventually, launchChromium } from './helpers.js';

/** A recording of one minute, on its own clock. */
const START = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
const END = START + 60_000;

/** Moves the relay's timeline as a replay would, and notes every request. */
class TimelineControl implements ReplayControl {
  readonly calls: unknown[][] = [];
  cursor = START + 10_000;
  speed = 1;
  playing = false;
  constructor(private readonly relay: Relay) {}
  publish(): void {
    this.relay.setTimeline({ state: this.playing ? 'playing' : 'paused', cursor: this.cursor, start: START, end: END, speed: this.speed });
  }
  /** Where the cursor is now (it moves while playing). */
  private now(): number {
    const timeline = this.relay.timeline;
    if (timeline === undefined || timeline.state !== 'playing') return this.cursor;
    return Math.min(END, timeline.cursor + (Date.now() - timeline.time) * timeline.speed);
  }
  play(): void {
    this.calls.push(['play']);
    this.playing = true;
    this.publish();
  }
  pause(): void {
    this.calls.push(['pause']);
    this.cursor = this.now();
    this.playing = false;
    this.publish();
  }
  async seek(cursorMs: number): Promise<void> {
    this.calls.push(['seek', cursorMs]);
    this.cursor = cursorMs;
    this.relay.restartSession();
    this.publish();
  }
  setSpeed(speed: number): void {
    this.calls.push(['speed', speed]);
    this.cursor = this.now();
    this.speed = speed;
    this.publish();
  }
  async step(direction: 1 | -1): Promise<void> {
    this.calls.push(['step', direction]);
    this.cursor = this.now() + direction * 100;
    this.playing = false;
    this.publish();
  }
}

let server: WebmonServer;
let control: TimelineControl;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webmon-timeline-'));
  let made: TimelineControl | undefined;
  const replay: ReplayControl = {
    play: () => made?.play(),
    pause: () => made?.pause(),
    seek: async (cursor) => made?.seek(cursor),
    setSpeed: (speed) => made?.setSpeed(speed),
    step: async (direction) => made?.step(direction),
  };
  server = await startWebmonServer({
    host: '127.0.0.1',
    port: 0,
    pages: [],
    assetsDir: join(APP_DIR, 'dist', 'public'),
    sourceLabel: 'the recording',
    status: () => ({}),
    flightRecorderBytes: 0,
    relay: {},
    replay,
  });
  made = new TimelineControl(server.relay);
  control = made;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 600 }, timezoneId: 'UTC' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rangeValue = (): Promise<number> => page.locator('#webmon-timeline input[type=range]').evaluate((input) => Number((input as HTMLInputElement).value));

describe('the header timeline, in Chromium', () => {
  it('is not there while the server is live', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('webmon-timeline') !== null);
    // Connected (the relay counts the page), and still no timeline.
    await eventually(() => (server.relay.stats().connections === 1 ? true : undefined), 10_000, 'the page connected');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await page.locator('#webmon-timeline').isHidden()).toBe(true);
  });

  it('shows the timeline the relay sets: labelled controls, the cursor as wall-clock time with ms, the state', async () => {
    control.publish();
    const timeline = page.locator('#webmon-timeline');
    await timeline.waitFor({ state: 'visible' });
    expect(await page.getByRole('button', { name: 'Play' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Step back' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Step forward' }).count()).toBe(1);
    expect(await page.getByRole('combobox', { name: 'Replay speed' }).inputValue()).toBe('1');
    expect(await page.getByRole('slider', { name: 'Replay position' }).count()).toBe(1);
    await eventually(async () => ((await page.locator('.timeline-clock').textContent()) === '03:04:15.000' ? true : undefined), 10_000, 'the clock');
    expect(await page.locator('.timeline-clock').getAttribute('title')).toContain('2026');
    expect(await page.locator('.timeline-state').textContent()).toBe('paused');
    expect(await rangeValue()).toBe(10_000);
  });

  it('plays: the cursor moves on its own; the button pauses', async () => {
    await page.getByRole('button', { name: 'Play' }).click();
    await eventually(async () => ((await page.locator('.timeline-state').textContent()) === 'playing' ? true : undefined), 10_000, 'playing');
    const first = await rangeValue();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await rangeValue();
    expect(second).toBeGreaterThan(first + 100);
    expect(await page.locator('.timeline-clock').textContent()).toMatch(/^03:04:\d\d\.\d{3}$/);
    await page.getByRole('button', { name: 'Pause' }).click();
    await eventually(async () => ((await page.locator('.timeline-state').textContent()) === 'paused' ? true : undefined), 10_000, 'paused');
    expect(control.calls.slice(-2)).toEqual([['play'], ['pause']]);
  });

  it('changes speed and steps through the server', async () => {
    await page.getByRole('combobox', { name: 'Replay speed' }).selectOption('4');
    await eventually(() => (control.calls.some(([action, value]) => action === 'speed' && value === 4) ? true : undefined), 10_000, 'the speed request');
    const before = control.cursor;
    await page.getByRole('button', { name: 'Step forward' }).click();
    await eventually(() => (control.calls.at(-1)?.[0] === 'step' ? true : undefined), 10_000, 'the step');
    expect(control.calls.at(-1)).toEqual(['step', 1]);
    await eventually(async () => ((await rangeValue()) === before + 100 - START ? true : undefined), 10_000, 'the stepped cursor');
    // Keyboard: the play button takes Enter.
    await page.getByRole('button', { name: 'Play' }).focus();
    await page.keyboard.press('Enter');
    await eventually(() => (control.calls.at(-1)?.[0] === 'play' ? true : undefined), 10_000, 'play from the keyboard');
    await page.getByRole('button', { name: 'Pause' }).click();
    await eventually(() => (control.calls.at(-1)?.[0] === 'pause' ? true : undefined), 10_000, 'paused again');
  });

  it('a drag seeks: at most every 250 ms while dragged, and once more where it is released', async () => {
    const slider = page.getByRole('slider', { name: 'Replay position' });
    const box = (await slider.boundingBox())!;
    const seeksBefore = control.calls.filter(([action]) => action === 'seek').length;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.2, y);
    await page.mouse.down();
    const started = Date.now();
    for (let step = 0; step <= 20; step += 1) {
      await page.mouse.move(box.x + box.width * (0.2 + (0.55 * step) / 20), y);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await page.mouse.up();
    const dragMs = Date.now() - started;
    await eventually(async () => ((await page.locator('.timeline-state').textContent()) === 'paused' ? true : undefined), 10_000, 'the state after the seek');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const seeks = control.calls.filter(([action]) => action === 'seek').slice(seeksBefore).map(([, cursor]) => cursor as number);
    expect(seeks.length).toBeGreaterThanOrEqual(2);
    // Throttled while dragged: no more than one per 250 ms of dragging, plus the first and the release.
    expect(seeks.length).toBeLessThanOrEqual(Math.ceil(dragMs / 250) + 2);
    const last = seeks.at(-1)!;
    expect(last).toBeGreaterThan(START + 0.7 * 60_000);
    expect(last).toBeLessThan(START + 0.8 * 60_000);
    expect(control.cursor).toBe(last);
    // The page shows the sought cursor once the server says so (the seek restarted the relay's session).
    await eventually(async () => ((await rangeValue()) === last - START ? true : undefined), 10_000, 'the slider at the sought cursor');
  });

  it('goes when the relay drops the timeline (protocol 1.6 notimeline), on the open connection', async () => {
    const sessionId = server.relay.sessionId;
    server.relay.setTimeline(undefined);
    await page.locator('#webmon-timeline').waitFor({ state: 'hidden', timeout: 10_000 });
    // Not by a reconnect or a new session: the page is still the relay's one connection.
    expect(server.relay.sessionId).toBe(sessionId);
    expect(server.relay.stats().connections).toBe(1);
    control.publish();
    await page.locator('#webmon-timeline').waitFor({ state: 'visible', timeout: 10_000 });
  });
});
