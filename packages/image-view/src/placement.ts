/**
 * Where a received frame lies in the source array, from its view header (protocol 1.3 array views): a
 * view covers a region of the source at a step; a whole frame covers all of it at step 1.
 */
import type { DecodedFrame, FrameView, ViewRegion } from '@webmon/protocol';

/** Where a frame's pixels lie in the source: texel (r, c) covers source rows y0 + r·step … and columns x0 + c·step …. */
export interface Placement {
  /** The source array's rows and columns. */
  rows: number;
  cols: number;
  region: ViewRegion;
  step: number;
}

/** The frame's place in the source: its view's, or — a whole frame — all of it at step 1. */
export function placementOf(frame: Pick<DecodedFrame, 'shape'> & { view?: FrameView | undefined }): Placement | undefined {
  const source = frame.view?.source.shape ?? frame.shape;
  const rows = source[0];
  const cols = source[1];
  if (rows === undefined || cols === undefined || rows <= 0 || cols <= 0) return undefined;
  if (frame.view === undefined) return { rows, cols, region: { y0: 0, x0: 0, y1: rows, x1: cols }, step: 1 };
  return { rows, cols, region: frame.view.region, step: frame.view.step };
}
