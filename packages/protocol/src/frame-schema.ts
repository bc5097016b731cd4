/**
 * The zod definition of a binary frame's header (layout in `frame.ts`): the source of its type, its JSON
 * Schema file and of what `encodeFrameHeader` accepts. Decoding checks headers by hand (`fast-check.ts`,
 * held to this schema's verdict by a property test) so that browser bundles need no zod.
 */
import { z } from 'zod';
import { TopicNameSchema } from './browser.js';
import { FrameLimits } from './constants.js';
import { DTYPE_ITEM_SIZE, NUMERIC_DTYPE_NAMES, elementCount } from './dtypes.js';
import { JsonValueSchema } from './json.js';
import { ArrayViewSchema, ViewRegionSchema } from './views.js';

/** Every numeric dtype, little-endian. `float16` decodes to raw `Uint16Array` bits; complex to interleaved floats. */
export const NumericDTypeSchema = z.enum(NUMERIC_DTYPE_NAMES);
export type { NumericDType } from './dtypes.js';

/** `record` = a structured dtype: each element is `itemSize` bytes holding the named `fields`. */
export const FrameDTypeSchema = z.union([NumericDTypeSchema, z.literal('record')]);
export type FrameDType = z.infer<typeof FrameDTypeSchema>;

export const RecordFieldSchema = z.object({
  name: z.string().min(1).max(256),
  dtype: NumericDTypeSchema,
  /** Byte offset of the field inside one record. */
  offset: z.int().min(0),
  /** Sub-array shape of the field (`[]` or absent for a scalar field). */
  shape: z.array(z.int().min(1)).max(8).optional(),
});
export type RecordField = z.infer<typeof RecordFieldSchema>;

/**
 * (1.3) How a frame sent for an array view maps onto the array that was published: a page places and
 * labels it from this (which part of the source, at which step) and reads integer codes back as values.
 */
export const FrameViewSchema = z.object({
  /** The view this frame answers, defaults filled in (as the page asked it, so it can tell answers apart). */
  request: ArrayViewSchema,
  /** The published array: its shape and dtype. */
  source: z.object({ shape: z.array(z.int().min(0)).max(FrameLimits.maxNdim), dtype: NumericDTypeSchema }),
  /** The part of the source this frame covers: the request's region clipped to the array, or all of it. */
  region: ViewRegionSchema,
  /**
   * Source pixels per view pixel, the same along both axes (pixels stay square): view pixel (r, c) is the
   * mean of source rows y0 + r·step up to y0 + (r+1)·step and the same columns (fewer at the far edges,
   * where the region ends inside a block). 1: the source's own values. With `resample` (1.4), a whole-number
   * bound only: the smallest integer at least as large as the pixel size along either axis.
   */
  step: z.int().min(1),
  /**
   * (1.4) `'area'`: the frame was resampled by area to fill the asked `maxShape`, and `step` does not place
   * it. Its pixels divide the region evenly: with `shape` [rows, cols], view pixel (r, c) covers source rows
   * y0 + r·(y1 − y0)/rows up to y0 + (r+1)·(y1 − y0)/rows and columns likewise, and holds the mean of the
   * source pixels there, each weighted by the area of it that is covered (NaN if any of them is NaN).
   * Absent: a 1.3 frame, placed by `step` (also when an area view came out as whole blocks).
   */
  resample: z.literal('area').optional(),
  /** uint8 / uint16 views: value = code × scale + offset; the largest code (255, 65535) stands for NaN. */
  scale: z.number().min(0).optional(),
  offset: z.number().optional(),
});
export type FrameView = z.infer<typeof FrameViewSchema>;

export const FrameHeaderSchema = z
  .object({
    topic: TopicNameSchema,
    seq: z.int().min(0),
    /** Milliseconds since the epoch. */
    time: z.number().min(0),
    dtype: FrameDTypeSchema,
    shape: z.array(z.int().min(0)).max(FrameLimits.maxNdim),
    byteLength: z.int().min(0),
    order: z.enum(['C', 'F']).optional(),
    /** Bytes per element for `record` frames. */
    itemSize: z.int().min(1).optional(),
    fields: z.array(RecordFieldSchema).max(FrameLimits.maxFields).optional(),
    /** Free-form metadata from the producer (e.g. contrast limits). */
    meta: JsonValueSchema.optional(),
    /** (1.3) Present when the frame is an array view of the published value rather than the value itself. */
    view: FrameViewSchema.optional(),
  })
  .superRefine((header, ctx) => {
    const count = elementCount(header.shape);
    if (header.view !== undefined) {
      const wanted = header.view.request.dtype ?? 'float32';
      if (header.dtype !== wanted) ctx.addIssue({ code: 'custom', path: ['dtype'], message: `a view frame's dtype is its view's (${wanted})` });
      if ((wanted === 'uint8' || wanted === 'uint16') && (header.view.scale === undefined || header.view.offset === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['view'], message: 'an integer view needs scale and offset' });
      }
    }
    if (header.dtype === 'record') {
      if (header.itemSize === undefined || header.fields === undefined) {
        ctx.addIssue({ code: 'custom', message: 'record frames need itemSize and fields' });
        return;
      }
      for (const field of header.fields) {
        const size = DTYPE_ITEM_SIZE[field.dtype] * elementCount(field.shape ?? []);
        if (field.offset + size > header.itemSize) {
          ctx.addIssue({ code: 'custom', path: ['fields'], message: `field ${field.name} lies outside the record` });
        }
      }
      if (count * header.itemSize !== header.byteLength) {
        ctx.addIssue({ code: 'custom', path: ['byteLength'], message: 'byteLength does not match shape × itemSize' });
      }
    } else if (count * DTYPE_ITEM_SIZE[header.dtype] !== header.byteLength) {
      ctx.addIssue({ code: 'custom', path: ['byteLength'], message: 'byteLength does not match shape × dtype size' });
    }
  });
export type FrameHeader = z.infer<typeof FrameHeaderSchema>;
