/**
 * Zoom and pan over a source array, without the DOM (unit-tested): which rectangle of source pixels the
 * canvas shows, and the view to ask the server for — the canvas's device-pixel size as `maxShape` and the
 * shown rectangle, rounded out to whole source pixels, as `region`, resampled by area (protocol 1.4) so the
 * view fills the canvas whatever the ratio (a 1.3 server ignores that and sends whole-step blocks; the
 * frame's header says which). Zoomed in far enough that the region is no larger than the canvas, the
 * server sends the source's own pixels.
 */
import type { ArrayView, ViewDType, ViewRegion } from '@webmon/protocol';

/** Source pixels shown, as floats (a canvas edge may cut a source pixel). */
export interface VisibleRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Zoomed in at most this far: a source pixel covers 64 × 64 device pixels. */
export const MAX_SCALE = 64;

export class Viewport {
  /** Canvas size in device pixels. */
  width = 1;
  height = 1;
  /** Source array rows and columns (0 until the first frame says). */
  rows = 0;
  cols = 0;
  /** Device pixels per source pixel. */
  scale = 1;
  /** The source point at the canvas's centre. */
  centerX = 0;
  centerY = 0;
  /** True until the user zooms or pans: the whole image stays fitted as the canvas or source changes. */
  fitted = true;

  /** The canvas's device-pixel size changed (layout, window, device pixel ratio). */
  setCanvas(width: number, height: number): void {
    this.width = Math.max(1, Math.round(width));
    this.height = Math.max(1, Math.round(height));
    if (this.fitted) this.fit();
    else this.clamp();
  }

  /** The source array's shape; a new shape fits the image again. True when it changed. */
  setSource(rows: number, cols: number): boolean {
    if (rows === this.rows && cols === this.cols) return false;
    this.rows = rows;
    this.cols = cols;
    this.fit();
    return true;
  }

  /** The whole image, as large as the canvas allows, centred. */
  fit(): void {
    this.fitted = true;
    this.scale = this.fitScale();
    this.centerX = this.cols / 2;
    this.centerY = this.rows / 2;
  }

  /** Zooms by `factor` about a canvas point (device pixels from the top left), which stays where it is. */
  zoomAt(factor: number, x: number, y: number): void {
    if (this.rows === 0 || !(factor > 0)) return;
    const before = this.visible();
    const sourceX = before.x0 + x / this.scale;
    const sourceY = before.y0 + y / this.scale;
    const scale = Math.min(MAX_SCALE, Math.max(this.fitScale(), this.scale * factor));
    this.scale = scale;
    this.centerX = sourceX + (this.width / 2 - x) / scale;
    this.centerY = sourceY + (this.height / 2 - y) / scale;
    this.fitted = scale <= this.fitScale();
    this.clamp();
  }

  /** Moves the image by device pixels (a drag). */
  panBy(dx: number, dy: number): void {
    if (this.rows === 0) return;
    this.centerX -= dx / this.scale;
    this.centerY -= dy / this.scale;
    this.fitted = false;
    this.clamp();
  }

  /** The source rectangle the canvas shows (it may reach beyond the array when the image is smaller). */
  visible(): VisibleRect {
    const halfWidth = this.width / (2 * this.scale);
    const halfHeight = this.height / (2 * this.scale);
    return { x0: this.centerX - halfWidth, y0: this.centerY - halfHeight, x1: this.centerX + halfWidth, y1: this.centerY + halfHeight };
  }

  /**
   * The view to ask for: at most the canvas's device pixels, of the shown source rectangle rounded out to
   * whole pixels and clipped to the array (no region when that is the whole array, so every page showing
   * the whole image at one canvas size asks the same view and shares its computation).
   */
  request(dtype: ViewDType): ArrayView {
    const maxShape: [number, number] = [this.height, this.width];
    const region = this.region();
    return region === undefined ? { maxShape, dtype, resample: 'area' } : { maxShape, region, dtype, resample: 'area' };
  }

  /** The shown part of the array in whole source pixels, or undefined for all of it (or before the first frame). */
  region(): ViewRegion | undefined {
    if (this.rows === 0) return undefined;
    const { x0, y0, x1, y1 } = this.visible();
    const region = {
      y0: clampInt(Math.floor(y0), 0, this.rows - 1),
      x0: clampInt(Math.floor(x0), 0, this.cols - 1),
      y1: clampInt(Math.ceil(y1), 1, this.rows),
      x1: clampInt(Math.ceil(x1), 1, this.cols),
    };
    if (region.y1 <= region.y0) region.y1 = region.y0 + 1;
    if (region.x1 <= region.x0) region.x1 = region.x0 + 1;
    return region.y0 === 0 && region.x0 === 0 && region.y1 === this.rows && region.x1 === this.cols ? undefined : region;
  }

  private fitScale(): number {
    if (this.rows === 0 || this.cols === 0) return 1;
    return Math.min(this.width / this.cols, this.height / this.rows);
  }

  /** No empty canvas beyond the array's edges while the image is larger than the canvas; centred while smaller. */
  private clamp(): void {
    if (this.rows === 0) return;
    this.scale = Math.min(MAX_SCALE, Math.max(this.fitScale(), this.scale));
    const halfWidth = this.width / (2 * this.scale);
    const halfHeight = this.height / (2 * this.scale);
    this.centerX = this.cols <= 2 * halfWidth ? this.cols / 2 : Math.min(this.cols - halfWidth, Math.max(halfWidth, this.centerX));
    this.centerY = this.rows <= 2 * halfHeight ? this.rows / 2 : Math.min(this.rows - halfHeight, Math.max(halfHeight, this.centerY));
  }
}

function clampInt(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
