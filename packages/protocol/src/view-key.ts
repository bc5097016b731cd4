/**
 * Array views without zod (a page or a relay client may use these and bundle no schema): a view with its
 * defaults filled in, and one key per distinct view.
 */
import type { ArrayView, ViewDType, ViewRegion } from './views.js';

/** A view with its defaults filled in: what a frame header echoes (`view.request`), and what `viewKey` reads. */
export interface CanonicalArrayView {
  maxShape: [number, number];
  region?: ViewRegion;
  dtype: ViewDType;
  /** (1.4) Present only as `'area'`: a `block` view (the default) echoes as in 1.3, so 1.3 pages read it unchanged. */
  resample?: 'area';
}

export function canonicalView(view: ArrayView): CanonicalArrayView {
  const { maxShape, region, dtype = 'float32', resample } = view;
  const canonical: CanonicalArrayView = region === undefined
    ? { maxShape: [maxShape[0], maxShape[1]], dtype }
    : { maxShape: [maxShape[0], maxShape[1]], region: { y0: region.y0, x0: region.x0, y1: region.y1, x1: region.x1 }, dtype };
  if (resample === 'area') canonical.resample = 'area';
  return canonical;
}

/**
 * One string per distinct view: equal views (defaults filled in, key order ignored) give equal keys. A
 * server computes each view of a value once and shares it between pages by this key.
 */
export function viewKey(view: ArrayView): string {
  const { maxShape, region, dtype = 'float32', resample } = view;
  const where = region === undefined ? 'all' : `${region.y0},${region.x0},${region.y1},${region.x1}`;
  // Block views keep their 1.3 keys; area views differ from them by a suffix.
  return `${maxShape[0]}x${maxShape[1]}/${where}/${dtype}${resample === 'area' ? '/area' : ''}`;
}
