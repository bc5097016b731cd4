/**
 * `webmon run -- python run_explorer.py` and /explorer in real Chromium: a program that uses only the
 * `webmon` module publishes a latest value, a stream and a known image, and a new key a minute in; the page
 * shows the tree with its values, charts a clicked number (kept in the URL), draws the image as it was sent,
 * and shows the late key without a reload. CPython 3.9 and 3.13 without numpy (the image goes as `bytes`)
 * and 3.11 with numpy (a float32 array): the three runs go at once, so the file waits for its minute once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explorerCount, explorerTopic, explorerValue } from './explorer-page.js';
import { PYTHON_SCRIPTS, eventually, launchChromium, startWebmonRun, type Proc } from './helpers.js';
import { sampleColours } from './pixels.js';
import { interpreterFor, type Interpreter } from './pythons.js';

/** What run_explorer.py sends: its topic prefix (the script's name), image size, and when the late key comes. */
const PREFIX = 'run_explorer';
const COLUMNS = 128;
const LATE_AFTER_S = 60;
const LATE_LINE = /run_explorer: late key added after ([\d.]+) s/;

const CASES: { label: string; python: () => Interpreter }[] = [
  { label: '3.9 without numpy', python: () => interpreterFor(9, false) },
  { label: '3.11 with numpy', python: () => interpreterFor(11, true) },
  { label: '3.13 without numpy', python: () => interpreterFor(13, false) },
];

interface Run {
  label: string;
  python: Interpreter;
  proc: Proc;
  page: Page;
  done: string;
  /** The page was open, without the late key, before the program added it. */
  openBeforeLateKey: boolean;
}

const work = mkdtempSync(join(tmpdir(), 'webmon-run-explorer-'));
let browser: Browser;
const runs = new Map<string, Run>();
/** Every run started, even when another failed to start: the programs stop when their file exists. */
const starting: { proc: Proc; done: string }[] = [];

async function startRun(label: string, python: Interpreter): Promise<Run> {
  const done = join(work, `done-${label.replace(/\W/g, '')}`);
  const proc = startWebmonRun(['--', python.command, join(PYTHON_SCRIPTS, 'run_explorer.py'), done], { cwd: work });
  starting.push({ proc, done });
  const url = (await proc.waitFor(/webmon: serving (http:\/\/\S+)/, 90_000))[1]!;
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${url}explorer`);
  // Marks this document: a reload would drop it.
  await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
  await eventually(async () => ((await explorerCount(page, `${PREFIX}.data.training`)) > 0 ? true : undefined), 60_000, `${label}: the latest value on the page`);
  const openBeforeLateKey = !LATE_LINE.test(proc.output()) && (await explorerTopic(page, `${PREFIX}.data.late`).count()) === 0;
  return { label, python, proc, page, done, openBeforeLateKey };
}

beforeAll(async () => {
  browser = await launchChromium();
  // All at once: each program's minute starts now.
  const started = await Promise.all(CASES.map(({ label, python }) => startRun(label, python())));
  for (const run of started) runs.set(run.label, run);
}, 120_000);

afterAll(async () => {
  for (const { done } of starting) writeFileSync(done, '');
  await Promise.all(starting.map(({ proc }) => proc.exited(30_000).catch(() => proc.stop())));
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('webmon run and /explorer, a program using only the module, in Chromium', () => {
  for (const { label } of CASES) {
    it(`${label}: the tree of the latest value, the stream's messages, a clicked number's chart in the URL, the image as sent`, async () => {
      const { page, python } = runs.get(label)!;
      const training = `${PREFIX}.data.training`;
      expect(await explorerTopic(page, training).getAttribute('data-mode')).toBe('latest');
      expect(await explorerValue(page, training, 'epoch').textContent()).toBe('3');
      expect(await explorerValue(page, training, 'numpy').textContent()).toBe(String(python.hasNumpy));
      expect(await explorerValue(page, training, 'python').textContent()).toBe(`"3.${python.version[1]}"`);
      expect(await explorerValue(page, training, 'image').textContent()).toBe(python.hasNumpy ? '"numpy float32"' : '"bytes uint8"');

      // The stream: its messages listed newest first, each the value the program computed for its step.
      const loss = `${PREFIX}.message.loss`;
      expect(await explorerTopic(page, loss).getAttribute('data-mode')).toBe('stream');
      const rows = explorerTopic(page, loss).locator('[data-role="messages"] li[data-kind="message"]');
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBeGreaterThan(5);
      const listed = (await rows.allTextContents()).map((text) => JSON.parse(text.replace(/^#\d+ /, '')) as { step: number; value: number });
      expect(listed.length).toBeGreaterThan(5);
      for (const message of listed) expect(message.value).toBeCloseTo(1 / (message.step + 1), 12);
      const steps = listed.map((message) => message.step);
      expect(steps).toEqual([...steps].sort((a, b) => b - a));

      // A click on the newest message's `value` charts it; the chart fills with points and the URL holds it.
      await explorerValue(page, loss, 'value').click();
      const chart = page.locator('[data-role="charts"] .wx-chart').first();
      await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(20);
      expect(new URL(page.url()).search).toBe(`?chart=${PREFIX}.message.loss~value`);
      expect(await chart.locator('[data-field]').first().getAttribute('data-field')).toBe(`${PREFIX}.message.loss~value`);

      // The image: two opposite grey ramps (top: 0 → 254 left to right, bottom: 254 → 0), colour map and
      // contrast limits [0, 255] from the program's meta, so a pixel's grey level is the value sent there.
      const image = explorerTopic(page, `${PREFIX}.gradient`);
      expect(await image.getAttribute('data-binary')).toBe('true');
      await expect.poll(async () => Number(await image.locator('[data-role="image"]').getAttribute('data-drawn')), { timeout: 60_000 }).toBeGreaterThan(0);
      const xs = [0.1, 0.3, 0.5, 0.7, 0.9];
      const points = [...xs.map((x) => [x, 0.25] as const), ...xs.map((x) => [x, 0.75] as const)];
      const colours = await sampleColours(page, `[data-topic="${PREFIX}.gradient"] [data-role="image-canvas"]`, points);
      for (const [r, g, b] of colours) expect(Math.max(Math.abs(r - g), Math.abs(g - b)), 'grey').toBeLessThan(8);
      const greys = colours.map(([, g]) => g);
      const sent = points.map(([x, y]) => {
        const column = Math.floor(x * COLUMNS);
        return y < 0.5 ? 2 * column : 254 - 2 * column;
      });
      for (const [i, grey] of greys.entries()) expect(Math.abs(grey - sent[i]!), `sample ${i}: ${grey} vs ${sent[i]}`).toBeLessThan(20);
      const top = greys.slice(0, xs.length);
      const bottom = greys.slice(xs.length);
      expect(top).toEqual([...top].sort((a, b) => a - b));
      expect(bottom).toEqual([...bottom].sort((a, b) => b - a));
      expect(top[top.length - 1]! - top[0]!).toBeGreaterThan(150);
    });
  }

  it('shows a key the program adds a minute in, without a reload, for every interpreter', async () => {
    await Promise.all(
      [...runs.values()].map(async ({ label, proc, page, openBeforeLateKey }) => {
        expect(openBeforeLateKey, `${label}: the page was open before the late key`).toBe(true);
        const after = Number((await proc.waitFor(LATE_LINE, 90_000))[1]);
        expect(after).toBeGreaterThanOrEqual(LATE_AFTER_S);
        const late = `${PREFIX}.data.late`;
        await expect.poll(() => explorerCount(page, late), { timeout: 30_000, message: label }).toBeGreaterThan(0);
        expect(await explorerValue(page, late, 'answer').textContent()).toBe('42');
        expect(await explorerValue(page, late, 'after_s').textContent()).toBe(String(after));
        expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce), label).toBe(true);
      }),
    );
  }, 150_000);
});
