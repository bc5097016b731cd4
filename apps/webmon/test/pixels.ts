/** Reads a screenshot's pixels inside the browser (no PNG decoder needed in Node). */
import type { Page } from 'playwright-core';

export interface PixelSummary {
  width: number;
  height: number;
  /** Seen tiles: napari-red (#e11313), alone or under the translucent frustum. */
  red: number;
  /** The frustum: its yellow (#f5c542) outline, its tint over gray tiles, and over red tiles (orange). */
  yellow: number;
  /** Centre of the red pixels, or null. */
  redCentroid: [number, number] | null;
  /** The raw RGBA bytes, base64, to compare two screenshots. */
  rgba: string;
}

export async function summarizePixels(page: Page, png: Buffer): Promise<PixelSummary> {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    context.drawImage(image, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, image.naturalWidth, image.naturalHeight);
    let red = 0;
    let yellow = 0;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i] ?? 0;
      const g = data[i + 1] ?? 0;
      const b = data[i + 2] ?? 0;
      // Seen tiles are red; where the translucent yellow frustum lies over them they turn orange, which
      // counts for both (a seen tile, and the frustum).
      const pureRed = r > 180 && g < 50 && b < 60;
      const orange = r > 190 && g >= 50 && g < 130 && b < 80;
      const yellowish = r > 170 && g > 150 && b < 140 && r - b > 50;
      if (pureRed || orange) {
        red++;
        const p = i / 4;
        sx += p % width;
        sy += Math.floor(p / width);
      }
      if (orange || yellowish) yellow++;
    }
    let binary = '';
    const bytes = new Uint8Array(data.buffer);
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { width, height, red, yellow, redCentroid: red ? ([sx / red, sy / red] as [number, number]) : null, rgba: btoa(binary) };
  }, png.toString('base64'));
}

/** Share of pixels whose colour differs noticeably between two same-sized summaries. */
export function changedShare(a: PixelSummary, b: PixelSummary): number {
  const x = Buffer.from(a.rgba, 'base64');
  const y = Buffer.from(b.rgba, 'base64');
  if (x.length !== y.length) return 1;
  let changed = 0;
  for (let i = 0; i < x.length; i += 4) {
    const d = Math.abs((x[i] ?? 0) - (y[i] ?? 0)) + Math.abs((x[i + 1] ?? 0) - (y[i + 1] ?? 0)) + Math.abs((x[i + 2] ?? 0) - (y[i + 2] ?? 0));
    if (d > 60) changed++;
  }
  return changed / (x.length / 4);
}

/** Share of an element's pixels that differ from its top-left pixel, and how many distinct colours it has. */
export async function canvasPixels(page: Page, selector: string): Promise<{ lit: number; colours: number }> {
  const png = await page.locator(selector).first().screenshot();
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.naturalWidth, image.naturalHeight);
    const [r0, g0, b0] = [data[0], data[1], data[2]];
    let lit = 0;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
      if (Math.abs(r - (r0 ?? 0)) + Math.abs(g - (g0 ?? 0)) + Math.abs(b - (b0 ?? 0)) > 30) lit++;
      colours.add((r << 16) | (g << 8) | b);
    }
    return { lit: lit / (data.length / 4), colours: colours.size };
  }, png.toString('base64'));
}

/** The RGB colours of an element's screenshot at `points`, each `[x, y]` as fractions of its width and height. */
export async function sampleColours(page: Page, selector: string, points: readonly (readonly [number, number])[]): Promise<[number, number, number][]> {
  const png = await page.locator(selector).first().screenshot();
  return page.evaluate(
    async ([base64, at]) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      context.drawImage(image, 0, 0);
      return at.map(([fx, fy]) => {
        const x = Math.min(image.naturalWidth - 1, Math.floor(fx * image.naturalWidth));
        const y = Math.min(image.naturalHeight - 1, Math.floor(fy * image.naturalHeight));
        const [r, g, b] = context.getImageData(x, y, 1, 1).data;
        return [r ?? 0, g ?? 0, b ?? 0] as [number, number, number];
      });
    },
    [png.toString('base64'), points] as const,
  );
}
