/**
 * Where a received frame lies in the source array, from its view header (protocol 1.3/1.4 array views): a
 * view covers a region of the source at a step (blocks) or divided evenly (area); a whole frame covers
 * all of it at step 1.
 */
import type { DecodedFrame, FrameView, ViewRegion } from '@webmon/protocol';

/**
 * Where a frame's pixels lie in the source: texel (r, c) covers source rows y0 + r·stepY up to
 * y0 + (r+1)·stepY and columns x0 + c·stepX up to x0 + (c+1)·stepX (clipped to the region).
 */
export interface Placement {
  /** The source array's rows and columns. */
  rows: number;
  cols: number;
  region: ViewRegion;
  /** Source pixels per texel down the rows and across the columns: whole and equal for blocks, fractional for an area view. */
  stepY: number;
  stepX: number;
  /** How the server reduced the source (protocol 1.4 `view.resample`; `block` for 1.3 frames and whole frames). */
  resample: 'block' | 'area';
}

/**
 * The frame's place in the source: its view's, or — a whole frame — all of it at step 1. A block view
 * (1.3) is placed by its `step` (its last texels may reach past the region's end); an area view (1.4)
 * divides its region evenly among its texels, so its steps are the region over the frame's shape.
 */
export function placementOf(frame: Pick<DecodedFrame, 'shape'> & { view?: FrameView | undefined }): Placement | undefined {
  const source = frame.view?.source.shape ?? frame.shape;
  const rows = source[0];
  const cols = source[1];
  if (rows === undefined || cols === undefined || rows <= 0 || cols <= 0) return undefined;
  if (frame.view === undefined) return { rows, cols, region: { y0: 0, x0: 0, y1: rows, x1: cols }, stepY: 1, stepX: 1, resample: 'block' };
  const { region, step } = frame.view;
  const texelRows = frame.shape[0];
  const texelCols = frame.shape[1];
  if (frame.view.resample === 'area' && texelRows !== undefined && texelCols !== undefined && texelRows > 0 && texelCols > 0) {
    return { rows, cols, region, stepY: (region.y1 - region.y0) / texelRows, stepX: (region.x1 - region.x0) / texelCols, resample: 'area' };
  }
  return { rows, cols, region, stepY: step, stepX: step, resample: 'block' };
}
