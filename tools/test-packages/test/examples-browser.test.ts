// The browser packages' README examples, as a user meets them: the tarballs installed with plain npm into
// one empty folder (with the peers and esbuild from the registry), each example copied out of its installed
// package, bundled there by the installed esbuild exactly as its README says, served and opened in Debian's
// Chromium, and checked for what it is for: tiles drawn on the canvas, chart marks, page text made from
// data that crossed a real relay (the installed `@webmon/relay`, attached to the page's own server).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { launchChromium, servePage } from '@webmon/test-chromium';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bareImports, blockFile, codeBlocks, fileBlocks, installedPackages, installTarballs, plainNpmEnv, readmeExampleFile, repoRoot, withPublishedDependencies } from '../src/index.js';

const packed = inject('packed');
const run = promisify(execFile);

/** The browser packages and the README example a test opens (a page module alone runs nothing: its host does). */
const EXAMPLES = {
  '@webmon/tile-viewer': 'viewer.js',
  '@webmon/image-view': 'image.js',
  '@webmon/loader-charts': 'charts.js',
  '@webmon/time-series': 'chart.js',
  '@webmon/page-kit': 'host.js',
  '@webmon/page-explorer': 'host.js',
  '@webmon/page-image': 'host.js',
  '@webmon/page-stats': 'host.js',
} as const;
type BrowserPackage = keyof typeof EXAMPLES;
const PACKAGES = Object.keys(EXAMPLES) as BrowserPackage[];

/** The workspace's own ranges (pnpm catalog, this package's esbuild), so the consumer gets what the packages are tested with. */
function registryPackages(): string[] {
  const workspace = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
  const catalog = (name: string): string => {
    const range = new RegExp(`^\\s+"?${name}"?:\\s*(\\S+)\\s*$`, 'm').exec(workspace)?.[1];
    if (range === undefined) throw new Error(`${name} is not in the pnpm catalog`);
    return `${name}@${range}`;
  };
  const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
  return [...['three', 'vega', 'vega-lite', 'vega-embed'].map(catalog), `esbuild@${own.devDependencies['esbuild']}`];
}

const shipped = (name: string): string => join(packed[name]!.unpacked, 'package');
const short = (name: string): string => name.replace('@webmon/', '');

function elapsed(step: string, started: number): void {
  console.log(`examples-browser: ${step} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// ---- the README promises, read from the tarballs (what the registry page shows)

describe('browser READMEs, as packed', () => {
  it.each(PACKAGES)('%s: the first example is a shipped file; every example file is shown in the README verbatim', (name) => {
    const { example, readme } = readmeExampleFile(shipped(name));
    expect(example.file).toMatch(/^examples\/[\w-]+\.m?js$/);
    const shown = fileBlocks(readme);
    // None ships unseen (every file is a README block), none drifts (each block is its file).
    const files = readdirSync(join(shipped(name), 'examples')).map((file) => `examples/${file}`);
    expect(shown.map((block) => block.file).sort()).toEqual(files.sort());
    expect(files).toContain(`examples/${EXAMPLES[name]}`);
    for (const block of shown) {
      expect(readFileSync(join(shipped(name), block.file), 'utf8').replace(/^[^\n]*\n/, '').trim(), block.file).toBe(block.text.trim());
    }
  });

  it.each(PACKAGES)('%s: the install lines name every package a code block imports, with npm', (name) => {
    const readme = readFileSync(join(shipped(name), 'README.md'), 'utf8');
    const imported = new Set(codeBlocks(readme).filter((b) => ['js', 'ts'].includes(b.lang)).flatMap((b) => bareImports(b.text)));
    expect(installedPackages(readme)).toEqual(expect.arrayContaining([...imported]));
    // npm users are the audience; pnpm users read the same names (a pnpm line would not be run as written).
    expect(readme).not.toMatch(/^\s*(pnpm add|yarn add)\b/m);
  });
});

// ---- installed with plain npm, bundled with the installed esbuild, opened in Chromium

type Browser = Awaited<ReturnType<typeof launchChromium>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;

/** The part of the installed `@webmon/relay` the tests use (typed here: this package does not depend on it). */
interface InstalledRelay {
  publish(topic: string, payload: unknown): number;
  publishFrame(topic: string, frame: { dtype: string; shape: number[]; meta?: unknown; time?: number }, data: ArrayBufferView): number;
  declareTopic(options: object): void;
  retireTopic(name: string): boolean;
  setStatus(code: string, details?: { source?: string; message?: string }): void;
  onCommand(handler: (name: string, args: unknown, context: { topic?: string }) => unknown): void;
  close(): Promise<void>;
}
interface RelayModule {
  createRelay(options: { server: Server; path: string; topics: readonly object[] }): InstalledRelay;
}
interface NapariModule {
  NapariTopics: Record<'layers' | 'frameTime' | 'loadChunk', { name: string; mode: string; schema: string }>;
}

let consumer = '';
let browser: Browser;
let decoder: Page;
let relayModule: RelayModule;
let napariModule: NapariModule;

/** The README's own `npx esbuild examples/<file> …` line (a shell block), as words. */
function bundleCommand(readme: string, file: string): string[] {
  for (const block of codeBlocks(readme).filter((b) => b.lang === 'sh')) {
    for (const line of block.text.split('\n')) {
      const words = line.replace(/\s+#.*$/, '').trim().split(/\s+/);
      if (words[0] === 'npx' && words[1] === 'esbuild' && words[2] === `examples/${file}`) return words;
    }
  }
  throw new Error(`the README has no "npx esbuild examples/${file} …" line`);
}

/**
 * Copies the installed package's examples into a folder of the consumer (as a user copies a README
 * example) and bundles one there with the README's own `npx esbuild` line; returns the folder and the bundle.
 */
const bundles = new Map<string, Promise<{ dir: string; script: string }>>();
function bundleExample(name: BrowserPackage, file: string = EXAMPLES[name]): Promise<{ dir: string; script: string }> {
  let bundle = bundles.get(`${name}/${file}`);
  if (bundle === undefined) bundles.set(`${name}/${file}`, (bundle = bundleOnce(name, file)));
  return bundle;
}

async function bundleOnce(name: BrowserPackage, file: string): Promise<{ dir: string; script: string }> {
  const started = performance.now();
  const dir = join(consumer, short(name));
  cpSync(join(consumer, 'node_modules', name, 'examples'), join(dir, 'examples'), { recursive: true });
  const [, ...args] = bundleCommand(readFileSync(join(consumer, 'node_modules', name, 'README.md'), 'utf8'), file);
  const outfile = args.find((arg) => arg.startsWith('--outfile='))?.slice('--outfile='.length);
  if (outfile === undefined) throw new Error(`the README's esbuild line for ${name} writes no --outfile`);
  // `--no`: esbuild must come from the install; npx would otherwise fetch it when it is missing.
  await run('npx', ['--no', ...args, '--log-level=warning'], { cwd: dir, env: plainNpmEnv() });
  const bytes = statSync(join(dir, outfile)).size;
  elapsed(`npx ${args.join(' ')} for ${name} (${(bytes / 1024).toFixed(0)} kB, not minified)`, started);
  return { dir, script: readFileSync(join(dir, outfile), 'utf8') };
}

/**
 * The loader charts' worker from the installed tarball, served beside the bundle as the README says to copy
 * it (`public/charts-worker.js`). A worker that fails to load would fall back to the main thread with a
 * console error, which fails the example.
 */
function chartsWorker(): Record<string, string> {
  return { '/charts-worker.js': readFileSync(join(consumer, 'node_modules', '@webmon/loader-charts', 'dist', 'charts-worker.js'), 'utf8') };
}

interface Site {
  url: string;
  relay: InstalledRelay | undefined;
  close(): Promise<void>;
}

/** Serves the page (`/`) and the bundle on 127.0.0.1, port 0; with `topics`, the installed relay on the same origin at `/ws`. */
async function serve(script: string, body: string, topics?: readonly object[], scripts?: Record<string, string>): Promise<Site> {
  const page = await servePage(script, { title: 'example', bodyStyle: 'margin:0;font:14px sans-serif', bodyHtml: body, ...(scripts ? { scripts } : {}) });
  const relay = topics === undefined ? undefined : relayModule.createRelay({ server: page.server, path: '/ws', topics });
  return {
    url: page.url,
    relay,
    async close() {
      await relay?.close();
      await page.close();
    },
  };
}

/** Opens the page and records every page error and console error (an example that logs one has failed). */
async function open(url: string): Promise<{ page: Page; errors: string[]; logs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const errors: string[] = [];
  const logs: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
    else logs.push(message.text());
  });
  await page.goto(url);
  return { page, errors, logs };
}

type Rgb = [number, number, number];

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The pixels of a screenshot, or of a box of it (every `stride`-th in each direction, row by row), decoded by Chromium. */
async function pixels(png: Buffer, stride = 2, box?: Box): Promise<Rgb[] & { columns: number }> {
  const { columns, rgb } = await decoder.evaluate(
    async ({ base64, stride, box }) => {
      const blob = await (await fetch(`data:image/png;base64,${base64}`)).blob();
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      const [x, y, w, h] = box ? [box.x, box.y, box.width, box.height].map(Math.round) : [0, 0, bitmap.width, bitmap.height];
      const { data } = context.getImageData(x!, y!, w!, h!);
      // Back as one base64 string: playwright serialises an array element by element (a second per 100k).
      let binary = '';
      for (let row = 0; row < h!; row += stride) {
        for (let col = 0; col < w!; col += stride) {
          const i = (row * w! + col) * 4;
          binary += String.fromCharCode(data[i]!, data[i + 1]!, data[i + 2]!);
        }
      }
      return { columns: Math.ceil(w! / stride), rgb: btoa(binary) };
    },
    { base64: png.toString('base64'), stride, box },
  );
  const bytes = Buffer.from(rgb, 'base64');
  const result = Object.assign([] as Rgb[], { columns });
  for (let i = 0; i < bytes.length; i += 3) result.push([bytes[i]!, bytes[i + 1]!, bytes[i + 2]!]);
  return result;
}

const near = ([r, g, b]: Rgb, [R, G, B]: Rgb, tolerance: number): boolean =>
  Math.abs(r - R) <= tolerance && Math.abs(g - G) <= tolerance && Math.abs(b - B) <= tolerance;
/** A colour rather than white, gray or black: what chart marks are drawn in, and axes are not. */
const saturated = ([r, g, b]: Rgb): boolean => Math.max(r, g, b) - Math.min(r, g, b) > 60;

/** A value unique to this run, so text showing it can only have come through this run's relay. */
const unique = (low: number, span: number): number => Math.round((low + Math.random() * span) * 10) / 10;

describe('browser examples, installed with npm and opened in Chromium', () => {
  beforeAll(async () => {
    consumer = mkdtempSync(join(tmpdir(), 'webmon-browser-examples-'));
    let started = performance.now();
    // One install for all five: their webmon dependencies overlap and the peers do not clash.
    installTarballs(packed, consumer, PACKAGES, { from_registry: registryPackages() });
    elapsed(`npm install of ${withPublishedDependencies(PACKAGES).length} tarballs + ${registryPackages().join(' ')}`, started);
    // The Node side of the page tests imports the relay and napari's topic table from the install, not the workspace.
    const require = createRequire(join(consumer, 'package.json'));
    relayModule = (await import(pathToFileURL(require.resolve('@webmon/relay')).href)) as RelayModule;
    napariModule = (await import(pathToFileURL(require.resolve('@webmon/napari')).href)) as NapariModule;
    started = performance.now();
    browser = await launchChromium();
    // Screenshots are decoded by Chromium itself, in a page of their own (no PNG decoder in Node).
    decoder = await browser.newPage();
    elapsed('Chromium start', started);
  });

  afterAll(async () => {
    await browser?.close();
    if (consumer !== '') rmSync(consumer, { recursive: true, force: true });
  });

  it('every other code block of these READMEs type-checks against the installed packages', () => {
    const started = performance.now();
    const dir = join(consumer, 'typecheck');
    mkdirSync(dir);
    const files: string[] = [];
    for (const name of PACKAGES) {
      codeBlocks(readFileSync(join(shipped(name), 'README.md'), 'utf8'))
        .filter((b) => ['ts', 'js'].includes(b.lang) && blockFile(b) === null)
        .forEach((block, index) => {
          // Each block is a module of its own (two may both export `page`).
          const file = `${short(name)}-${index + 1}.ts`;
          writeFileSync(join(dir, file), `${block.text}\nexport {};\n`);
          files.push(file);
        });
    }
    expect(files.length).toBeGreaterThanOrEqual(6); // loader-charts 2 (Node SVG, streaming chart), page-kit 3 (typed page, pattern page, host), image-view 1 (relay client)
    // As a bundling user compiles browser code. skipLibCheck (tsc --init's default): vega-embed's own
    // declarations import an untyped module; ours are checked by attw and the Node packages' test.
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] },
        files,
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(result.stdout.split('\n').filter((line) => line.includes('error TS'))).toEqual([]);
    expect(result.status).toBe(0);
    elapsed(`type-check of ${files.length} README blocks`, started);
  });

  it('@webmon/tile-viewer: the viewer draws the layer it is fed (seen tiles red, context tiles gray) and hands on its command', async () => {
    const site = await serve((await bundleExample('@webmon/tile-viewer')).script, '<div id="tiles" style="width:640px;height:480px"></div>');
    const { page, errors, logs } = await open(site.url);
    try {
      // The controls' level read-out is made from the fed layer: level, tiles per axis, tile size, seen count.
      await expect.poll(() => page.locator('[data-role="level"]').textContent(), { timeout: 30_000 }).toMatch(/^Level 1 · 12×16 tiles of 256px · 20 seen \/ \d+ drawn$/);
      const canvas = page.locator('#tiles canvas');
      await expect.poll(async () => {
        const shot = await pixels(await canvas.screenshot());
        return {
          // #e11313 napari's drawn tiles (also under the translucent yellow view), #a3a2a0 context tiles, #1b1d21 background.
          seen: shot.filter(([r, g, b]) => r > 150 && g < 110 && b < 90).length > 1000,
          context: shot.filter((p) => near(p, [163, 162, 160], 20)).length > 1000,
          background: shot.filter((p) => near(p, [27, 29, 33], 6)).length > 5000,
        };
      }, { timeout: 30_000 }).toEqual({ seen: true, context: true, background: true });
      // The example's command listener: toggling show-grid reaches it as a command for napari.
      await page.getByRole('checkbox').check();
      await expect.poll(() => logs).toContain('for napari: show_grid true');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/image-view: the example draws its moving float32 pattern through magma and reports the view to ask for', async () => {
    const site = await serve((await bundleExample('@webmon/image-view')).script, '<div id="image" style="width:640px"></div><pre id="asked"></pre>');
    const { page, errors } = await open(site.url);
    try {
      // The canvas takes the 384 × 512 image's proportions at the element's 640 px: 640 × 480 device pixels.
      await expect.poll(() => page.locator('#asked').textContent(), { timeout: 30_000 }).toBe(JSON.stringify({ maxShape: [480, 640], dtype: 'float32', resample: 'area' }));
      const canvas = page.locator('#image canvas');
      const shot = async (): Promise<Buffer> => canvas.screenshot();
      // magma over [-1, 1]: the pattern has near-black troughs and pale-yellow crests, and it moves.
      const first = await pixels(await shot());
      expect(first.filter(([r, g, b]) => r + g + b < 60).length).toBeGreaterThan(first.length / 200);
      expect(first.filter(([r, g, b]) => r > 230 && g > 200 && b > 140).length).toBeGreaterThan(first.length / 200);
      await expect.poll(async () => (await shot()).equals(await shot()), { timeout: 10_000 }).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/loader-charts: the three charts draw their marks, the summary is computed from the frames, and pause freezes them', async () => {
    const site = await serve((await bundleExample('@webmon/loader-charts')).script, '<button id="pause">Pause</button><div id="loader" style="width:800px"></div>', undefined, chartsWorker());
    const { page, errors } = await open(site.url);
    try {
      const stat = async (key: string): Promise<number> => Number.parseFloat((await page.locator(`[data-stat="${key}"]`).textContent()) ?? '');
      // The example's frame times are 16 ± 4 ms: their mean is about 16 ms and 1000 / mean about 62 fps.
      await expect.poll(() => stat('frame-mean'), { timeout: 30_000 }).toBeGreaterThan(13);
      expect(await stat('frame-mean')).toBeLessThan(19);
      expect(await stat('fps')).toBeGreaterThan(50);
      expect(await stat('loads-per-second')).toBeGreaterThan(0);
      const canvases = page.locator('.webmon-loader-charts canvas');
      await expect.poll(() => canvases.count(), { timeout: 30_000 }).toBe(3);
      // Line (blue), load time and chunk size points (orange, green): coloured pixels in each chart, from
      // one screenshot (each one waits for a frame of a page that is busy drawing).
      const boxes = await Promise.all([0, 1, 2].map(async (i) => (await canvases.nth(i).boundingBox())!));
      await expect
        .poll(async () => {
          const shot = await page.screenshot();
          return Promise.all(boxes.map(async (box) => (await pixels(shot, 1, box)).filter(saturated).length > 50));
        }, { timeout: 30_000 })
        .toEqual([true, true, true]);
      // Pause: the charts stop moving although the example keeps pushing; resume: they move again.
      await page.locator('#pause').click();
      await expect.poll(() => page.locator('#pause').textContent()).toBe('Resume');
      await page.waitForTimeout(300); // a frame already requested may still land
      const frozen = await canvases.nth(0).screenshot();
      await page.waitForTimeout(700);
      expect((await canvases.nth(0).screenshot()).equals(frozen)).toBe(true);
      await page.locator('#pause').click();
      await expect.poll(async () => (await canvases.nth(0).screenshot()).equals(frozen), { timeout: 10_000 }).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/time-series: the chart draws both lines as points arrive, pause freezes it, the wheel zooms the paused picture, resume moves it again', async () => {
    const site = await serve(
      (await bundleExample('@webmon/time-series')).script,
      '<button id="pause">Pause</button> <button id="follow">Follow</button><div id="chart" style="width:800px"></div>',
    );
    const { page, errors } = await open(site.url);
    try {
      const canvas = page.locator('.webmon-time-series canvas');
      await expect.poll(() => canvas.count(), { timeout: 30_000 }).toBe(1);
      // The two built-in colours of the first two series (#1f6fd1 blue, #e4572e red): pixels of each line.
      await expect
        .poll(async () => {
          const shot = await pixels(await canvas.screenshot(), 1);
          return { blue: shot.filter((p) => near(p, [0x1f, 0x6f, 0xd1], 50)).length > 30, red: shot.filter((p) => near(p, [0xe4, 0x57, 0x2e], 50)).length > 30 };
        }, { timeout: 30_000 })
        .toEqual({ blue: true, red: true });
      // The legend names the series by their labels.
      expect(await page.locator('.webmon-time-series .u-legend').innerText()).toContain('frame_time.delta_ms');
      // Pause: the picture stops although the example keeps pushing; resume: it moves again.
      await page.locator('#pause').click();
      await expect.poll(() => page.locator('#pause').textContent()).toBe('Resume');
      await page.mouse.move(0, 0); // the cursor's cross-hair off the plot
      await page.waitForTimeout(300);
      const frozen = await canvas.screenshot();
      await page.waitForTimeout(700);
      expect((await canvas.screenshot()).equals(frozen)).toBe(true);
      // Paused, the wheel still zooms: the picture changes (around the pointer, near the live edge).
      const box = (await page.locator('.webmon-time-series .u-over').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
      await page.mouse.wheel(0, -2000);
      await expect.poll(async () => (await canvas.screenshot()).equals(frozen), { timeout: 10_000 }).toBe(false);
      // Follow and resume: it moves with the arriving points again.
      await page.locator('#follow').click();
      await page.locator('#pause').click();
      await page.mouse.move(0, 0);
      await page.waitForTimeout(300);
      const live = await canvas.screenshot();
      await expect.poll(async () => (await canvas.screenshot()).equals(live), { timeout: 10_000 }).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/tile-viewer: examples/live.js draws the polls of the relay\'s napari.layers topic and sends show-grid back to it', async () => {
    const { NapariTopics } = napariModule;
    const site = await serve((await bundleExample('@webmon/tile-viewer', 'live.js')).script, '<div id="tiles" style="width:640px;height:480px"></div>', [NapariTopics.layers]);
    const commands: unknown[] = [];
    site.relay!.onCommand((name, args, { topic }) => {
      commands.push({ name, args, topic });
      return true;
    });
    // Level 0 of a 2950 × 2980 image in 100-px tiles; a seen block whose size is unique to this run.
    const side = 2 + Math.floor(Math.random() * 4);
    const seen: [number, number][] = [];
    for (let row = 10; row < 10 + side; row++) for (let col = 12; col < 12 + side; col++) seen.push([row, col]);
    site.relay!.publish(NapariTopics.layers.name, {
      layers: {
        '140234567890123': {
          tile_config: { base_shape: [2950, 2980], image_shape: [2950, 2980], shape_in_tiles: [30, 30], tile_size: 100, level_index: 0 },
          tile_state: { seen, corners: [[1000, 1200], [1000 + side * 100, 1200 + side * 100]] },
        },
      },
    });
    const { page, errors } = await open(site.url);
    try {
      await expect.poll(() => page.locator('[data-role="level"]').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Level 0 · 30×30 tiles of 100px · ${side * side} seen / \\d+ drawn$`));
      await expect.poll(async () => (await pixels(await page.locator('#tiles canvas').screenshot())).filter(([r, g, b]) => r > 150 && g < 110 && b < 90).length, { timeout: 30_000 }).toBeGreaterThan(50);
      await page.getByRole('checkbox').check();
      await expect.poll(() => commands).toEqual([{ name: 'show_grid', args: true, topic: NapariTopics.layers.name }]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/loader-charts: examples/live.js charts the frames and loads of the relay\'s topics (a late page gets the replay)', async () => {
    const { NapariTopics } = napariModule;
    const site = await serve((await bundleExample('@webmon/loader-charts', 'live.js')).script, '<div id="loader" style="width:800px"></div>', [
      { ...NapariTopics.frameTime, replayMs: 60_000 },
      { ...NapariTopics.loadChunk, replayMs: 60_000 },
    ], chartsWorker());
    // Two seconds of frames at a frame time unique to this run, and loads, all before the page opens.
    const deltaMs = unique(20, 20);
    const end = Date.now() / 1000;
    for (let i = 0; i < 60; i++) {
      const time = end - 2 + i / 30;
      site.relay!.publish(NapariTopics.frameTime.name, { time, delta_ms: deltaMs });
      if (i % 6 === 0) site.relay!.publish(NapariTopics.loadChunk.name, { time, num_bytes: 1_000_000, load_ms: 8 });
    }
    const { page, errors } = await open(site.url);
    try {
      const stat = (key: string) => page.locator(`[data-stat="${key}"]`).textContent();
      await expect.poll(() => stat('frame-mean'), { timeout: 30_000 }).toBe(`${deltaMs.toFixed(1)} ms`);
      expect(await stat('fps')).toBe((1000 / deltaMs).toFixed(1));
      const canvas = page.locator('.webmon-loader-charts canvas').first();
      await expect.poll(async () => (await pixels(await canvas.screenshot(), 1)).filter(saturated).length, { timeout: 30_000 }).toBeGreaterThan(50);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/page-kit: the page defined with definePage, hosted with a relay client, shows frames from the relay and the source state', async () => {
    const before = unique(20, 30);
    const live = unique(60, 30);
    const site = await serve((await bundleExample('@webmon/page-kit')).script, '<header id="status"></header><main></main>', [
      { name: 'napari.frame_time', mode: 'stream', replayMs: 60_000 },
    ]);
    // Published before the page opens: it arrives as the replayed snapshot.
    site.relay!.publish('napari.frame_time', { time: Date.now() / 1000, delta_ms: before });
    const { page, errors } = await open(site.url);
    try {
      const text = page.locator('main p');
      await expect.poll(() => text.textContent(), { timeout: 30_000 }).toBe(`${before.toFixed(1)} ms per frame (from before this page opened)`);
      expect(await page.locator('#status').getAttribute('data-state')).toBe('waiting');
      site.relay!.setStatus('source.connected', { source: 'napari' });
      await expect.poll(() => page.locator('#status').getAttribute('data-state')).toBe('connected');
      await expect.poll(() => text.getAttribute('data-source')).toBe('connected');
      site.relay!.publish('napari.frame_time', { time: Date.now() / 1000, delta_ms: live });
      await expect.poll(() => text.textContent()).toBe(`${live.toFixed(1)} ms per frame`);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/page-kit: examples/serve.mjs, run with node as the README says, serves the bundled host and a relay with a stand-in source', async () => {
    const { dir } = await bundleExample('@webmon/page-kit');
    const server = spawn(process.execPath, ['examples/serve.mjs'], { cwd: dir, env: { ...plainNpmEnv(), PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await expect.poll(() => output, { timeout: 15_000 }).toMatch(/open http:\/\/127\.0\.0\.1:\d+\//);
      const url = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
      const { page, errors } = await open(url);
      try {
        // The stand-in publishes 15–20 ms frame times at 10 Hz; live ones carry no "from before" note.
        const text = page.locator('main p');
        await expect.poll(() => text.textContent(), { timeout: 30_000 }).toMatch(/^\d+\.\d ms per frame$/);
        const ms = Number.parseFloat((await text.textContent())!);
        expect(ms).toBeGreaterThanOrEqual(15);
        expect(ms).toBeLessThanOrEqual(20);
        expect(await page.locator('#status').getAttribute('data-state')).toBe('connected');
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      const exited = once(server, 'exit');
      server.kill();
      await exited;
    }
    expect(output).not.toMatch(/Error/);
  });

  it('@webmon/page-stats: the published page, hosted with napari payload checks, tabulates the layers and counts the messages that came through the relay', async () => {
    const { NapariTopics } = napariModule;
    const site = await serve((await bundleExample('@webmon/page-stats')).script, '<header id="status"></header><main></main>', [
      NapariTopics.layers,
      // With a replay window the totals are exact however the page's subscriptions and our publishing interleave.
      { ...NapariTopics.frameTime, replayMs: 60_000 },
      { ...NapariTopics.loadChunk, replayMs: 60_000 },
    ]);
    const layerId = String(140_000_000_000_000 + Math.floor(Math.random() * 1e6));
    const seen: [number, number][] = [];
    for (let row = 2; row < 5; row++) for (let col = 3; col < 7; col++) seen.push([row, col]);
    // Level 1 of a 6000 × 8000 image in 256-px tiles: 12 × 16 = 192 tiles, 12 of them seen (6.3 %).
    site.relay!.publish(NapariTopics.layers.name, {
      layers: {
        [layerId]: {
          tile_config: { base_shape: [6000, 8000], image_shape: [3000, 4000], shape_in_tiles: [12, 16], tile_size: 256, level_index: 1 },
          tile_state: { seen, corners: [[2048, 3072], [5120, 7168]] },
        },
      },
    });
    const { page, errors } = await open(site.url);
    try {
      const row = page.locator(`[data-role="layer"]`).filter({ hasText: layerId });
      await expect.poll(() => row.locator('td').allTextContents(), { timeout: 30_000 }).toEqual([layerId, '1', '3000×4000', '192', '12', expect.stringMatching(/^6\.3\s?%$/), '4096×3072']);
      // Frames and loads published while the page is open, then their totals as the page counted them.
      const frames = 25 + Math.floor(Math.random() * 20);
      for (let i = 0; i < frames; i++) {
        site.relay!.publish(NapariTopics.frameTime.name, { time: Date.now() / 1000, delta_ms: 16.7 });
        if (i % 5 === 0) site.relay!.publish(NapariTopics.loadChunk.name, { time: Date.now() / 1000, num_bytes: 262_144, load_ms: 4 });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const total = (topic: string) => page.locator(`[data-role="rate"][data-topic="${topic}"] td`).nth(2).textContent();
      await expect.poll(() => total(NapariTopics.frameTime.name), { timeout: 10_000 }).toBe(String(frames));
      await expect.poll(() => total(NapariTopics.loadChunk.name)).toBe(String(Math.ceil(frames / 5)));
      site.relay!.setStatus('source.connected', { source: 'napari' });
      await expect.poll(() => page.locator('#status').getAttribute('data-state')).toBe('connected');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/page-explorer: the published page, hosted with a relay client, shows a value as a tree, a stream newest first, an image, a topic declared later, and charts a clicked number', async () => {
    const site = await serve((await bundleExample('@webmon/page-explorer')).script, '<header id="status"></header><main style="display:flex;height:800px"></main>', [
      { name: 'demo.state', mode: 'latest', schema: 'demo' },
      { name: 'demo.events', mode: 'stream', schema: 'demo', replayMs: 60_000 },
      { name: 'demo.frame', mode: 'latest', schema: 'webmon.v1/frame', binary: true },
    ]);
    const epoch = unique(100, 900);
    site.relay!.publish('demo.state', { training: { epoch, loss: 0.25 } });
    for (let step = 1; step <= 3; step++) site.relay!.publish('demo.events', { step, value: step * 10 });
    const [rows, cols] = [32, 48];
    site.relay!.publishFrame('demo.frame', { dtype: 'float32', shape: [rows, cols], meta: { contrast_limits: [0, 1] } }, new Float32Array(rows * cols).map((_, i) => (i % cols) / (cols - 1)));
    const { page, errors } = await open(site.url);
    try {
      const topic = (name: string) => page.locator(`[data-topic="${name}"]`);
      await expect.poll(() => topic('demo.state').locator('[data-path="training.epoch"] .json-value').textContent(), { timeout: 30_000 }).toBe(String(epoch));
      await expect.poll(() => topic('demo.events').locator('[data-role="messages"] li').evaluateAll((items) => items.map((item) => item.textContent))).toEqual([
        '#2 {"step":3,"value":30}',
        '#1 {"step":2,"value":20}',
        '#0 {"step":1,"value":10}',
      ]);
      // Drawn (again once the canvas has its size and the server sends the frame in that view).
      await expect.poll(async () => Number(await topic('demo.frame').locator('[data-role="image"]').getAttribute('data-drawn')), { timeout: 30_000 }).toBeGreaterThan(0);
      const image = await pixels(await topic('demo.frame').locator('canvas').screenshot());
      expect(new Set(image.map(([r, g, b]) => (r << 16) | (g << 8) | b)).size).toBeGreaterThan(20);
      // Declared while the page is open: shown without a reload.
      site.relay!.declareTopic({ name: 'demo.late', mode: 'latest', schema: 'demo' });
      site.relay!.publish('demo.late', { answer: 42 });
      await expect.poll(() => topic('demo.late').locator('[data-path="answer"] .json-value').textContent(), { timeout: 30_000 }).toBe('42');
      // A clicked number is charted, and the choice is written into the URL.
      await topic('demo.state').locator('[data-path="training.loss"] .json-value').click();
      await expect.poll(() => page.locator('[data-role="charts"]').getAttribute('data-charts')).toBe('1');
      expect(new URL(page.url()).search).toBe('?chart=demo.state~training.loss');
      // Retired: greyed, its values kept.
      site.relay!.retireTopic('demo.late');
      await expect.poll(() => topic('demo.late').getAttribute('data-state')).toBe('retired');
      expect(await topic('demo.late').locator('[data-path="answer"] .json-value').textContent()).toBe('42');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });

  it('@webmon/page-image: the published page, hosted with a relay client, draws a binary float32 frame through its colour map', async () => {
    const site = await serve((await bundleExample('@webmon/page-image')).script, '<header id="status"></header><main></main>', [
      { name: 'napari.image', mode: 'latest', schema: 'webmon.v1/frame', binary: true },
    ]);
    // A 48 × 64 float32 ramp, 0 at the left to 1 at the right, with the producer's limits and colour map.
    const [rows, cols] = [48, 64];
    const ramp = new Float32Array(rows * cols).map((_, i) => (i % cols) / (cols - 1));
    const publish = (): number =>
      site.relay!.publishFrame('napari.image', { dtype: 'float32', shape: [rows, cols], meta: { contrast_limits: [0, 1], colormap: 'magma' }, time: Date.now() }, ramp);
    publish();
    const { page, errors } = await open(site.url);
    try {
      const root = page.locator('[data-role="image-page"]');
      await expect.poll(() => root.getAttribute('data-drawn'), { timeout: 30_000 }).toBe('1');
      expect(await root.getAttribute('data-shape')).toBe(`${rows}x${cols}`);
      expect(await page.locator('[data-role="size"]').textContent()).toBe(`${rows} × ${cols} float32`);
      expect(await page.locator('[data-role="colormap"]').inputValue()).toBe('magma');
      // magma runs from near black (low) to pale yellow (high): the ramp is dark on the left, bright on the right.
      const image = await pixels(await page.locator('[data-role="canvas"]').screenshot());
      const side = image.columns;
      const luminance = (column: (x: number) => boolean): number => {
        const chosen = image.filter((_, i) => column(i % side));
        return chosen.reduce((sum, [r, g, b]) => sum + 0.2126 * r + 0.7152 * g + 0.0722 * b, 0) / chosen.length;
      };
      const left = luminance((x) => x < side * 0.1);
      const right = luminance((x) => x > side * 0.9);
      expect(left).toBeLessThan(40);
      expect(right).toBeGreaterThan(180);
      // Live frames are counted in the frame rate read-out, beside the first (snapshot) one. One at a time:
      // the page acknowledges a frame once drawn and the relay keeps only the newest unacknowledged one.
      for (let i = 1; i <= 3; i++) {
        publish();
        await expect.poll(() => root.getAttribute('data-frames')).toBe(String(i));
      }
      await expect.poll(() => root.getAttribute('data-drawn')).toBe('4');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await site.close();
    }
  });
});
