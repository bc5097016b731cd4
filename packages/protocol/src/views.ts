/**
 * Array views (protocol 1.3): a page that draws an array at a few hundred device pixels asks for the
 * array at that size instead of the whole of it. It names the largest shape it will draw, optionally the
 * region of the source array it shows (zoomed in), and the dtype it can use. The server reduces each
 * published array to that view (mean of step × step blocks, cropped, converted) and says in the frame
 * header how the view maps back onto the source (`FrameViewSchema` in `frame.ts`).
 */
import { z } from 'zod';
import { VIEW_DTYPES, VIEW_RESAMPLES, ViewLimits } from './constants.js';

/** The dtypes a view can be sent in (`VIEW_DTYPES`, a subset of the one dtype table's names). */
export const ViewDTypeSchema = z.enum(VIEW_DTYPES);
export type ViewDType = z.infer<typeof ViewDTypeSchema>;

/** (1.4) How the source is reduced to the view (`VIEW_RESAMPLES`). */
export const ViewResampleSchema = z.enum(VIEW_RESAMPLES);
export type ViewResample = z.infer<typeof ViewResampleSchema>;

const coordinate = z.int().min(0).max(ViewLimits.maxCoordinate);

/** A rectangle of source pixels: rows `y0` to `y1` and columns `x0` to `x1`, end exclusive (numpy's `[y0:y1, x0:x1]`). */
export const ViewRegionSchema = z
  .object({ y0: coordinate, x0: coordinate, y1: coordinate, x1: coordinate })
  .refine((region) => region.y1 > region.y0 && region.x1 > region.x0, { message: 'a region needs y1 > y0 and x1 > x0' });
export type ViewRegion = z.infer<typeof ViewRegionSchema>;

const edge = z.int().min(1).max(ViewLimits.maxEdge);

/**
 * What a page asks of a binary array topic. `maxShape` `[rows, cols]`: the most it will draw (its
 * canvas in device pixels); the view is never larger. `region`: the part of the source it shows (absent:
 * all of it). `dtype`: how the values travel (default `float32`). `resample` (1.4): `block` (default) or
 * `area`, which fills `maxShape` when the region does not divide evenly. 2-D arrays, and 3-D ones whose
 * last axis is channels, are reduced; other arrays are sent whole.
 */
export const ArrayViewSchema = z.object({
  maxShape: z.tuple([edge, edge]),
  region: ViewRegionSchema.optional(),
  dtype: ViewDTypeSchema.optional(),
  resample: ViewResampleSchema.optional(),
});
export type ArrayView = z.infer<typeof ArrayViewSchema>;
