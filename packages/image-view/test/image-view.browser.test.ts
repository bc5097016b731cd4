/**
 * The widget in real Chromium (Debian's, through playwright-core, WebGL2 on SwiftShader): every check reads
 * the pixels the view drew back from its canvas, or drives it with real wheel and pointer events.
 */
import { fileURLToPath } from 'node:url';
import { float16Bits, type FrameView } from '@webmon/protocol';
import type { Page } from 'playwright-core';
import { openTestSite, type TestSite } from '@webmon/test-chromium';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { autoContrast, colormapLut, normalize, type ColormapName, type ContrastLimits } from '../src/colormap.js';
import { ImageViewErrorCode } from '../src/errors.js';
import { workerDefine } from '../scripts/worker-source.js';
import type { FrameSpec, Harness } from './browser/harness.js';

declare global {
  interface Window {
    iv: Harness;
    ivReady: boolean;
  }
}

type Rgba = [number, number, number, number];

let site: TestSite;
let page: Page;

beforeAll(async () => {
  site = await openTestSite(fileURLToPath(new URL('./browser/harness.ts', import.meta.url)), { title: 'image-view', sourcemap: true, define: await workerDefine() });
  page = await site.browser.newPage({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
  await page.goto(site.url);
  await page.waitForFunction(() => window.ivReady === true);
});

afterAll(async () => {
  await site?.close();
});

afterEach(async () => {
  await page.evaluate(() => {
    for (const id of ['a', 'b', 'c']) window.iv.remove(id);
  });
});

const ROWS = 48;
const COLS = 64;
/** A smooth 2-D pattern over [0, 1] with a NaN in the corner: every colour-map index is reached somewhere. */
const values = Array.from({ length: ROWS * COLS }, (_, i) => {
  const x = i % COLS;
  const y = Math.floor(i / COLS);
  return x === 0 && y === 0 ? Number.NaN : (x / (COLS - 1)) * 0.8 + (y / (ROWS - 1)) * 0.2;
});

async function create(id: string, options: Record<string, unknown> = {}, box: { left?: number; top?: number; width?: number; height?: number } = { width: COLS, height: ROWS }): Promise<void> {
  const result = await page.evaluate(([i, o, b]) => window.iv.create(i, o, b), [id, options, box] as const);
  expect(result).toEqual({ ok: true });
}

async function show(id: string, spec: FrameSpec): Promise<void> {
  expect(await page.evaluate(([i, s]) => window.iv.show(i, s), [id, spec] as const)).toEqual({ ok: true, outcome: 'drawn' });
}

async function pixels(id: string): Promise<{ width: number; height: number; at: (x: number, y: number) => Rgba }> {
  const { width, height, rgba } = await page.evaluate((i) => window.iv.pixels(i), id);
  const bytes = Buffer.from(rgba, 'base64');
  return { width, height, at: (x, y) => [...bytes.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)] as Rgba };
}

/** The colour of `value` by the one rule (colormap.ts), as the canvas shows it. */
function expected(value: number, limits: ContrastLimits, name: ColormapName): Rgba {
  const lut = colormapLut(name);
  const index = Math.floor(normalize(value, limits) * 255 + 0.5);
  return [lut[index * 4]!, lut[index * 4 + 1]!, lut[index * 4 + 2]!, 255];
}

/** Pixels (of a canvas the frame fills one texel per pixel) whose colour is off by more than `tolerance` per channel from the rule. */
async function mismatches(id: string, decoded: readonly number[], limits: ContrastLimits, name: ColormapName, tolerance = 0): Promise<string[]> {
  const image = await pixels(id);
  expect([image.width, image.height]).toEqual([COLS, ROWS]);
  const wrong: string[] = [];
  for (let y = 0; y < ROWS; y++) {
    for (let x = 0; x < COLS; x++) {
      const got = image.at(x, y);
      const want = expected(decoded[y * COLS + x]!, limits, name);
      if (got.some((c, k) => Math.abs(c - want[k]!) > tolerance)) wrong.push(`(${x}, ${y}) ${got.join(',')} ≠ ${want.join(',')}`);
    }
  }
  return wrong;
}

/** Switches view `id` to 'auto' limits and the viridis map, waits for the redraw, and returns the limits it took. */
async function autoViridis(id: string): Promise<ContrastLimits> {
  const draws = await page.evaluate((i) => window.iv.draws(i), id);
  await page.evaluate((i) => {
    window.iv.call(i, 'setContrastLimits', 'auto');
    window.iv.call(i, 'setColormap', 'viridis');
  }, id);
  await page.evaluate(([i, n]) => window.iv.drawn(i, n), [id, draws] as const);
  return (await page.evaluate((i) => window.iv.readOut(i), id)).limits;
}

const float32Frame: FrameSpec = { dtype: 'float32', shape: [ROWS, COLS], data: values, meta: { contrast_limits: [0.1, 0.9], colormap: 'magma' } };

/** A uint view of `values` as the relay codes it: value = code × scale + offset, the top code for NaN. */
function coded(dtype: 'uint8' | 'uint16'): { spec: FrameSpec; decoded: number[] } {
  const top = dtype === 'uint8' ? 255 : 65_535;
  const scale = 1 / (top - 1);
  const offset = 0;
  const codes = values.map((v) => (Number.isNaN(v) ? top : Math.round((v - offset) / scale)));
  const view: FrameView = {
    request: { maxShape: [ROWS, COLS], dtype },
    source: { shape: [ROWS, COLS], dtype: 'float32' },
    region: { y0: 0, x0: 0, y1: ROWS, x1: COLS },
    step: 1,
    scale,
    offset,
  };
  // The values the CPU path reads back: float32 of code × scale + offset.
  const decoded = codes.map((c) => (c === top ? Number.NaN : Math.fround(c * scale + offset)));
  return { spec: { dtype, shape: [ROWS, COLS], data: codes, view, meta: { contrast_limits: [0.1, 0.9], colormap: 'magma' } }, decoded };
}

describe('the picture', () => {
  it('colours a float32 frame texel by texel by the producer\'s limits and colour map (WebGL2, R32F), NaN as the lowest colour', async () => {
    await create('a');
    await show('a', float32Frame);
    const readout = await page.evaluate(() => window.iv.readOut('a'));
    expect(readout).toMatchObject({ renderer: 'webgl2', texture: 'R32F', worker: false, colormap: 'magma', limits: [0.1, 0.9], drawn: 1, canvas: { width: COLS, height: ROWS } });
    expect(await mismatches('a', values.map(Math.fround), [0.1, 0.9], 'magma')).toEqual([]);
    expect((await pixels('a')).at(0, 0)).toEqual(expected(Number.NaN, [0.1, 0.9], 'magma'));
  });

  it('draws the same picture with the canvas 2D fallback', async () => {
    await create('a', { renderer: 'canvas2d' });
    await show('a', float32Frame);
    expect(await page.evaluate(() => window.iv.readOut('a'))).toMatchObject({ renderer: 'canvas2d', texture: 'RGBA8 (CPU colouring)' });
    expect(await mismatches('a', values.map(Math.fround), [0.1, 0.9], 'magma')).toEqual([]);
  });

  it('takes fixed limits, auto limits and another colour map when set', async () => {
    await create('a', { contrastLimits: [0, 0.5], colormap: 'gray' });
    await show('a', float32Frame);
    expect(await mismatches('a', values.map(Math.fround), [0, 0.5], 'gray')).toEqual([]);
    const limits = await autoViridis('a');
    // 0.5–99.5 percentiles of the frame's values, as the rule computes them.
    expect(limits).toEqual(autoContrast(Float32Array.from(values)));
    expect(limits[0]).toBeLessThan(0.05);
    expect(limits[1]).toBeGreaterThan(0.95);
    // Limits that are not round numbers: the GPU's float32 division may put a value sitting on a colour-map
    // step one index over (a channel off by a few levels), as the CPU's double division does not.
    expect(await mismatches('a', values.map(Math.fround), limits, 'viridis', 4)).toEqual([]);
    expect((await mismatches('a', values.map(Math.fround), limits, 'viridis')).length).toBeLessThanOrEqual(ROWS * COLS * 0.01);
  });
});

describe('frames given back once shown', () => {
  it.each(['webgl2', 'canvas2d'])('%s: redraws with auto limits and another colour map after the frame\'s buffer was taken back', async (renderer) => {
    await create('a', { renderer });
    expect(await page.evaluate(([i, s]) => window.iv.showThenTakeBack(i, s), ['a', float32Frame] as const)).toEqual({ outcome: 'drawn', detached: true });
    expect(await mismatches('a', values.map(Math.fround), [0.1, 0.9], 'magma')).toEqual([]);
    const limits = await autoViridis('a');
    // The samples were taken before the buffer went: the same limits as from the frame itself.
    expect(limits).toEqual(autoContrast(Float32Array.from(values)));
    expect(await mismatches('a', values.map(Math.fround), limits, 'viridis', 4)).toEqual([]);
  });
});

describe('native texture formats, against the float32 path', () => {
  const half = values.map(float16Bits);
  const halfDecoded = (): number[] => {
    // float16 bits back to numbers (exact in float32), by the protocol's own read-back.
    const f = new Float32Array(half.length);
    const view = new DataView(new ArrayBuffer(2));
    for (let i = 0; i < half.length; i++) {
      const bits = half[i]!;
      view.setUint16(0, bits);
      const sign = bits & 0x8000 ? -1 : 1;
      const exponent = (bits >> 10) & 0x1f;
      const mantissa = bits & 0x3ff;
      f[i] = exponent === 0x1f ? (mantissa ? Number.NaN : sign * Infinity) : exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    }
    return [...f];
  };
  const cases: [string, () => { spec: FrameSpec; decoded: number[] }, string][] = [
    ['float16', () => ({ spec: { dtype: 'float16', shape: [ROWS, COLS], data: half, meta: { contrast_limits: [0.1, 0.9], colormap: 'magma' } }, decoded: halfDecoded() }), 'R16F (half float)'],
    ['uint8', () => coded('uint8'), 'R8UI (codes)'],
    ['uint16', () => coded('uint16'), 'R16UI (codes)'],
  ];

  it.each(cases)('%s: uploaded as it is and drawn as the float32 path draws the values it stands for', async (_dtype, make, texture) => {
    const { spec, decoded } = make();
    await create('a');
    await create('b', { nativeTextures: false }, { left: 100, width: COLS, height: ROWS });
    await show('a', spec);
    await show('b', spec);
    expect((await page.evaluate(() => window.iv.readOut('a'))).texture).toBe(texture);
    expect((await page.evaluate(() => window.iv.readOut('b'))).texture).toBe('R32F');
    // The CPU path is exact by the rule; the GPU's float32 arithmetic on codes may land a value that sits
    // on a colour-map step one index over, which moves a channel by at most a few levels.
    expect(await mismatches('b', decoded, [0.1, 0.9], 'magma')).toEqual([]);
    const native = await mismatches('a', decoded, [0.1, 0.9], 'magma');
    const nearly = await mismatches('a', decoded, [0.1, 0.9], 'magma', 4);
    expect(nearly).toEqual([]);
    expect(native.length).toBeLessThanOrEqual(ROWS * COLS * 0.01);
    expect((await pixels('a')).at(0, 0)).toEqual(expected(Number.NaN, [0.1, 0.9], 'magma'));
  });

  it('reads a whole uint8 frame\'s codes as values (255 is a value, not NaN)', async () => {
    await create('a', { contrastLimits: [0, 255], colormap: 'gray' });
    const data = values.map((_, i) => i % 256);
    await show('a', { dtype: 'uint8', shape: [ROWS, COLS], data });
    expect(await mismatches('a', data, [0, 255], 'gray')).toEqual([]);
  });
});

describe('zoom, pan and the view to ask for', () => {
  it('places a view frame where its header says and reports the zoomed region after a wheel', async () => {
    await create('a', { contrastLimits: [0, 1], colormap: 'gray' }, { width: 200, height: 200 });
    // A 100 × 100 source; this frame covers rows 50–100, cols 0–50 at step 2 (25 × 25 texels), all white.
    const view: FrameView = { request: { maxShape: [200, 200], dtype: 'float32' }, source: { shape: [100, 100], dtype: 'float32' }, region: { y0: 50, x0: 0, y1: 100, x1: 50 }, step: 2 };
    await show('a', { dtype: 'float32', shape: [25, 25], data: new Array(625).fill(1), view });
    const image = await pixels('a');
    // Scale 2 device px per source px: the frame lies in canvas x 0–100, y 100–200; elsewhere background.
    expect(image.at(50, 150)).toEqual([255, 255, 255, 255]);
    expect(image.at(150, 150)).toEqual([17, 17, 17, 255]);
    expect(image.at(50, 50)).toEqual([17, 17, 17, 255]);
    expect(await page.evaluate(() => window.iv.call('a', 'view'))).toEqual({ ok: true, value: { maxShape: [200, 200], dtype: 'float32', resample: 'area' } });

    // Two wheel notches in about the canvas's centre: × e^1.6 ≈ 5, the region shown is about 20 source px.
    await page.mouse.move(100, 100);
    await page.mouse.wheel(0, -400);
    await page.mouse.wheel(0, -400);
    // Settled: the last view reported is the one for what the canvas shows now (each notch may report one of its own).
    const settled = async (): Promise<boolean> =>
      page.evaluate(() => {
        const { x0, y0, x1, y1 } = window.iv.readOut('a').visible;
        const region = window.iv.views('a').at(-1)?.region;
        return region !== undefined && JSON.stringify(region) === JSON.stringify({ y0: Math.floor(y0), x0: Math.floor(x0), y1: Math.ceil(y1), x1: Math.ceil(x1) });
      });
    await expect.poll(settled, { timeout: 5_000 }).toBe(true);
    const readout = await page.evaluate(() => window.iv.readOut('a'));
    const asked = (await page.evaluate(() => window.iv.views('a').at(-1)))!;
    const { x0, y0, x1, y1 } = readout.visible;
    expect(asked).toMatchObject({ maxShape: [200, 200], dtype: 'float32' });
    expect(readout.scale).toBeGreaterThan(9);
    expect(readout.fitted).toBe(false);
    expect(asked.region).toEqual({ y0: Math.floor(y0), x0: Math.floor(x0), y1: Math.ceil(y1), x1: Math.ceil(x1) });
    // The white frame's corner (source 50, 50) was under the pointer: it stays at the canvas's centre.
    const zoomed = await pixels('a');
    expect(zoomed.at(90, 110)).toEqual([255, 255, 255, 255]);
    expect(zoomed.at(110, 90)).toEqual([17, 17, 17, 255]);

    // Drag 50 px right: the region moves 50 / scale source pixels left. Double-click: the whole image.
    await page.mouse.move(100, 100);
    await page.mouse.down();
    await page.mouse.move(150, 100, { steps: 3 });
    await page.mouse.up();
    await expect.poll(() => page.evaluate(() => window.iv.views('a').at(-1)?.region?.x0)).toBe(Math.floor(x0 - 50 / readout.scale));
    await page.mouse.dblclick(100, 100);
    await expect.poll(() => page.evaluate(() => window.iv.views('a').at(-1))).toEqual({ maxShape: [200, 200], dtype: 'float32', resample: 'area' });
    expect(await page.evaluate(() => window.iv.call('a', 'setViewDtype', 'uint8'))).toMatchObject({ ok: true });
    await expect.poll(() => page.evaluate(() => window.iv.views('a').at(-1))).toEqual({ maxShape: [200, 200], dtype: 'uint8', resample: 'area' });
  });
});

describe('in a worker (OffscreenCanvas)', () => {
  /** The picture as the page composites it (a worker's canvas is read from the screen, not the element). */
  async function screenPixels(box: { x: number; y: number; width: number; height: number }): Promise<(x: number, y: number) => Rgba> {
    const png = await page.screenshot({ clip: box });
    const { rgba, width } = await page.evaluate(async (base64) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
      let binary = '';
      for (let i = 0; i < data.length; i++) binary += String.fromCharCode(data[i]!);
      return { rgba: btoa(binary), width: bitmap.width };
    }, png.toString('base64'));
    const bytes = Buffer.from(rgba, 'base64');
    return (x, y) => [...bytes.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)] as Rgba;
  }

  it.each([['float32', () => ({ spec: float32Frame, decoded: values.map(Math.fround) })], ['uint8', () => coded('uint8')]] as const)(
    'draws a %s frame as the main thread does, the frame\'s buffer moved to the worker',
    async (_dtype, make) => {
      const { spec, decoded } = make();
      await create('a', { worker: true });
      const readout = await page.evaluate(() => window.iv.readOut('a'));
      expect(readout.worker).toBe(true);
      if (spec.dtype === 'float32') expect(await page.evaluate(([f]) => window.iv.showKeeps('a', f), [spec] as const)).toEqual({ outcome: 'drawn', kept: false });
      else await show('a', spec);
      expect(await page.evaluate(() => window.iv.readOut('a'))).toMatchObject({ renderer: 'webgl2', texture: spec.dtype === 'float32' ? 'R32F' : 'R8UI (codes)', drawn: 1 });
      // The screen catches up with the worker's commit within a frame or two.
      const want = (x: number, y: number): Rgba => expected(decoded[y * COLS + x]!, [0.1, 0.9], 'magma');
      const points: [number, number][] = [[1, 0], [10, 5], [33, 20], [63, 47], [50, 30], [5, 40]];
      await expect.poll(async () => {
        const at = await screenPixels({ x: 0, y: 0, width: COLS, height: ROWS });
        return points.every(([x, y]) => at(x, y).every((c, k) => Math.abs(c - want(x, y)[k]!) <= 4));
      }, { timeout: 10_000 }).toBe(true);
    },
  );

  it('copies frames instead with transferFrames: false; a zoom redraws in the worker', async () => {
    await create('a', { worker: true, transferFrames: false, contrastLimits: [0, 1], colormap: 'gray' }, { width: 200, height: 200 });
    const white = { dtype: 'float32', shape: [100, 100], data: Array.from({ length: 10_000 }, (_, i) => (i % 100 < 50 ? 1 : 0)) } as FrameSpec;
    expect(await page.evaluate(([f]) => window.iv.showKeeps('a', f), [white] as const)).toEqual({ outcome: 'drawn', kept: true });
    // Left half white, right half black; zoomed in about (150, 100), the canvas's centre is black.
    await expect.poll(async () => (await screenPixels({ x: 0, y: 0, width: 200, height: 200 }))(50, 100)).toEqual([255, 255, 255, 255]);
    const draws = await page.evaluate(() => window.iv.draws('a'));
    await page.mouse.move(150, 100);
    await page.mouse.wheel(0, -400);
    await page.evaluate(([i, n]) => window.iv.drawn(i, n), ['a', draws] as const);
    await expect.poll(async () => (await screenPixels({ x: 0, y: 0, width: 200, height: 200 }))(100, 100)).toEqual([0, 0, 0, 255]);
    expect((await page.evaluate(() => window.iv.readOut('a'))).scale).toBeGreaterThan(4);
  });
});

describe('frames, errors and the lifecycle', () => {
  it('resolves a frame replaced before its draw as replaced, the newer one as drawn', async () => {
    await create('a');
    expect(await page.evaluate(([f]) => window.iv.showTwo('a', f, f), [float32Frame] as const)).toEqual(['replaced', 'drawn']);
    expect((await page.evaluate(() => window.iv.readOut('a'))).drawn).toBe(1);
  });

  it('refuses frames it cannot draw and bad options with typed errors, and changes nothing', async () => {
    await create('a');
    await show('a', float32Frame);
    for (const bad of [
      { dtype: 'float32', shape: [2, 2, 3], data: new Array(12).fill(0) },
      { dtype: 'float32', shape: [4, 4], data: [1, 2, 3] },
      { dtype: 'complex64', shape: [2, 2], data: new Array(8).fill(0) },
    ] as FrameSpec[]) {
      expect(await page.evaluate(([s]) => window.iv.show('a', s), [bad] as const)).toMatchObject({ ok: false, error: { name: 'ImageViewError', code: ImageViewErrorCode.INVALID_FRAME } });
    }
    expect(await mismatches('a', values.map(Math.fround), [0.1, 0.9], 'magma')).toEqual([]);
    expect(await page.evaluate(() => window.iv.call('a', 'setContrastLimits', [0, Number.NaN]))).toMatchObject({ ok: false, error: { code: ImageViewErrorCode.INVALID_OPTIONS } });
    expect(await page.evaluate(() => window.iv.call('a', 'setColormap', 'jet'))).toMatchObject({ ok: false, error: { code: ImageViewErrorCode.INVALID_OPTIONS } });
    expect(await page.evaluate(() => window.iv.create('b', { viewDtype: 'int8' as never }))).toMatchObject({ ok: false, error: { code: ImageViewErrorCode.INVALID_OPTIONS } });
  });

  it('dispose removes the canvas; later calls throw IMAGE_VIEW_DISPOSED', async () => {
    await create('a');
    await show('a', float32Frame);
    expect(await page.evaluate(() => window.iv.call('a', 'dispose'))).toMatchObject({ ok: true });
    expect(await page.evaluate(() => window.iv.attached('a'))).toBe(false);
    expect(await page.evaluate(() => window.iv.call('a', 'readOut'))).toMatchObject({ ok: false, error: { code: ImageViewErrorCode.DISPOSED } });
    expect(await page.evaluate(([f]) => window.iv.show('a', f), [float32Frame] as const)).toMatchObject({ ok: false, error: { code: ImageViewErrorCode.DISPOSED } });
  });
});
