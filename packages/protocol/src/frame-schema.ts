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

/** Every numeric dtype, little-endian. `float16` decodes to raw `Uint16Array` bits; complex to interleaved floats. */
export const NumericDTypeSchema = z.enum(NUMERIC_DTYPE_NAMES);
export type NumericDType = z.infer<typeof NumericDTypeSchema>;

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
  })
  .superRefine((header, ctx) => {
    const count = elementCount(header.shape);
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
